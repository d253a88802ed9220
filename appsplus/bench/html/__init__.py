"""`bench report --html`: one self-contained HTML page per run, opened from file://.

OUT/report.html holds everything but the samples: inline CSS, JS and SVG (no network
request, no CDN), the pass@k chart by difficulty with the bootstrap intervals, the outcomes
per difficulty, and the per-problem table (sortable, filterable by verdict and difficulty,
paged so that 5,000 rows open fast). Each problem's statement, samples (code, verdicts,
first failure) live in OUT/report_files/NNNNNN.js, loaded by a <script> tag when the problem
is opened (file:// forbids fetch(), not scripts), so the page's size does not grow with
the samples.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import quote

from appsplus.bench.html import assets
from appsplus.bench.paired import PairedComparison
from appsplus.bench.report import OUTCOMES, SHORT_OUTCOMES, Report, groups
from appsplus.bench.show import SampleRecord
from appsplus.errors import AppsplusError

HTML_FILE = "report.html"
GENERATOR = '<meta name="generator" content="appsplus-bench">'
FILES_DIR = "report_files"
APPS_RULE_SUITES = ("apps", "apps+", "sample")  # judged by compare.py's APPS rules
COLOURS = ("#4878cf", "#6acc65", "#d65f5f", "#b47cc7", "#c4ad66", "#77bedb")
OUTCOME_COLOURS = {
    "passed": "#3a923a",
    "wrong_answer": "#c03d3e",
    "runtime_error": "#e1812c",
    "timeout": "#9372b2",
    "memory_exceeded": "#845b53",
    "output_limit_exceeded": "#d684bd",
    "compile_error": "#7f7f7f",
}


def script_json(value) -> str:
    """JSON safe inside a <script> element (no '</script>' or '<!--' can close it)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def pass_at_k_svg(report: Report) -> str:
    """Grouped bars: one group per difficulty (and overall), one bar per k, CI whiskers."""
    rows = groups(report)
    ks = report.ks
    bar, gap, left, top, height = 22, 26, 44, 24, 220
    group_w = bar * len(ks) + gap
    width = left + group_w * len(rows) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart" width="{width}" '
        f'height="{top + height + 44}" role="img" aria-label="pass@k by difficulty">'
    ]
    for tick in range(0, 101, 25):
        y = top + height * (1 - tick / 100)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{tick}%</text>'
        )
    for gi, (label, metrics) in enumerate(rows):
        x0 = left + gi * group_w + gap / 2
        parts.append(f'<g class="group" data-difficulty="{html.escape(label)}">')
        for ki, k in enumerate(ks):
            e = metrics.pass_at_k[f"pass@{k}"]
            x = x0 + ki * bar
            y = top + height * (1 - e.value)
            lo, hi = top + height * (1 - e.ci_low), top + height * (1 - e.ci_high)
            cx = x + bar / 2 - 1
            title = (
                f"{label} pass@{k}: {100 * e.value:.1f}% "
                f"[{100 * e.ci_low:.1f}, {100 * e.ci_high:.1f}]"
            )
            parts.append(
                f'<rect class="bar" data-k="{k}" data-value="{e.value:.6f}" '
                f'data-ci-low="{e.ci_low:.6f}" data-ci-high="{e.ci_high:.6f}" x="{x:.1f}" '
                f'y="{y:.1f}" width="{bar - 2}" height="{top + height - y:.1f}" '
                f'fill="{COLOURS[ki % len(COLOURS)]}"><title>{html.escape(title)}</title></rect>'
                f'<line class="ci" x1="{cx:.1f}" x2="{cx:.1f}" y1="{lo:.1f}" y2="{hi:.1f}"/>'
            )
        label_x = x0 + bar * len(ks) / 2
        parts.append(
            f'<text x="{label_x:.1f}" y="{top + height + 16}" text-anchor="middle" '
            f'class="label">{html.escape(label)}</text></g>'
        )
    for ki, k in enumerate(ks):
        x = left + ki * 70
        parts.append(
            f'<rect x="{x}" y="{top + height + 28}" width="10" height="10" '
            f'fill="{COLOURS[ki % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{top + height + 37}" class="tick">pass@{k}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def outcome_table(report: Report) -> str:
    """Samples by outcome per difficulty, with a stacked bar per row."""
    head = "".join(f"<th>{SHORT_OUTCOMES[v]}</th>" for v in OUTCOMES)
    rows = []
    for label, g in groups(report):
        total = sum(g.verdicts.values()) or 1
        stack = "".join(
            f'<span style="width:{100 * g.verdicts.get(v, 0) / total:.2f}%;'
            f'background:{OUTCOME_COLOURS[v]}" title="{v}: {g.verdicts.get(v, 0)}"></span>'
            for v in OUTCOMES
            if g.verdicts.get(v, 0)
        )
        cells = "".join(f"<td>{g.verdicts.get(v, 0)}</td>" for v in OUTCOMES)
        rows.append(
            f'<tr data-difficulty="{html.escape(label)}"><th>{html.escape(label)}</th>{cells}'
            f'<td class="stackcell"><div class="stack">{stack}</div></td></tr>'
        )
    legend = ", ".join(f"{s} {v.replace('_', ' ')}" for v, s in SHORT_OUTCOMES.items())
    return (
        f'<table id="outcomes"><thead><tr><th>difficulty</th>{head}<th></th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table><p class="note">{legend}</p>'
    )


def metrics_table(report: Report) -> str:
    ci = int(round(report.bootstrap.confidence * 100))
    head = "".join(f"<th>pass@{k}</th>" for k in report.ks)
    rows = []
    for label, g in groups(report):
        cells = "".join(
            f"<td>{100 * e.value:.1f} <small>[{100 * e.ci_low:.1f}, {100 * e.ci_high:.1f}]</small></td>"
            for e in (g.pass_at_k[f"pass@{k}"] for k in report.ks)
        )
        rows.append(f"<tr><th>{html.escape(label)}</th><td>{g.n_problems}</td>{cells}</tr>")
    return (
        f'<table id="metrics"><thead><tr><th>difficulty</th><th>problems</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p class="note">% with {ci}% bootstrap intervals '
        f"({report.bootstrap.resamples} resamples of the problems)</p>"
    )


def _problem_payload(problem_id: str, statement: str, records: list[SampleRecord]) -> dict:
    return {
        "id": problem_id,
        "statement": statement,
        "samples": [
            {
                "index": r.index,
                "verdict": r.verdict,
                "n_passed": r.n_passed,
                "n_tests": r.n_tests,
                "tests": r.test_verdicts,
                "times": r.test_durations_s,
                "error": r.error,
                "failure": r.failure.model_dump() if r.failure else None,
                "program": r.program,
            }
            for r in records
        ],
    }


class HtmlError(AppsplusError, ValueError):
    """OUT holds a report.html or report_files/ that this tool did not write."""


def _check_ours(page: Path, files: Path) -> None:
    """Refuse to replace a report.html or report_files/ that an earlier call did not write."""
    if page.exists() and GENERATOR not in page.read_text(encoding="utf-8", errors="replace")[:600]:
        raise HtmlError(
            f"{page}: not written by `bench report --html`; left as it is (move it away)"
        )
    if files.exists() and (
        not files.is_dir() or any(not re.fullmatch(r"\d{6}\.js", f.name) for f in files.iterdir())
    ):
        raise HtmlError(f"{files}: holds files `bench report --html` did not write; left as it is")


def write_html(out: Path, report: Report) -> Path:
    """Write OUT/report.html and OUT/report_files/ (replacing the ones an earlier call wrote)."""
    from appsplus.bench.run import RunFolder
    from appsplus.bench.show import sample_records

    out = Path(out)
    statements = {p.problem_id: p.prompt for p in RunFolder(out).problems()}
    by_problem: dict[str, list[SampleRecord]] = {}
    for record in sample_records(out):
        by_problem.setdefault(record.problem_id, []).append(record)
    files = out / FILES_DIR
    target = out / HTML_FILE
    _check_ours(target, files)
    staging = out / (FILES_DIR + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    rows = []
    for i, p in enumerate(report.problems):
        name = f"{i:06d}.js"
        payload = _problem_payload(
            p.problem_id, statements.get(p.problem_id, ""), by_problem.get(p.problem_id, [])
        )
        (staging / name).write_text(f"APPSPLUS.loaded({script_json(payload)});\n", encoding="utf-8")
        rows.append([p.problem_id, p.difficulty or "", p.n, p.c, p.verdicts, name])
    shutil.rmtree(files, ignore_errors=True)
    staging.rename(files)
    title = f"{report.suite.name}: {report.model.model}"
    data = {
        "title": title,
        "files": FILES_DIR,
        "outcomes": list(OUTCOMES),
        "short": SHORT_OUTCOMES,
        "colours": OUTCOME_COLOURS,
        "problems": rows,
        # the diff's "near" marks apply the APPS comparator's tolerance: only for the suites
        # judged by those rules (LiveCodeBench compares decimals exactly, EvalPlus by value)
        "near": report.suite.name in APPS_RULE_SUITES,
    }
    page = assets.PAGE
    sampling = report.sampling
    subtitle = (
        f"{report.overall.n_problems} problems, {report.overall.n_samples} samples"
        + (f", temperature {sampling.temperature}, n={sampling.n}" if sampling else "")
        + f"; appsplus {report.tool.version}"
    )
    replacements = {
        "{{TITLE}}": html.escape(title),
        "{{SUBTITLE}}": html.escape(subtitle),
        "{{STYLE}}": assets.STYLE,
        "{{SCRIPT}}": assets.SCRIPT,
        "{{CHART}}": pass_at_k_svg(report),
        "{{METRICS}}": metrics_table(report),
        "{{OUTCOMES}}": outcome_table(report),
        "{{DATA}}": script_json(data),
    }
    page = re.sub(r"\{\{[A-Z]+\}\}", lambda m: replacements[m.group(0)], page)  # one pass
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target


# ---------------------------------------------------------------- bench compare --html


def paired_svg(paired: PairedComparison) -> str:
    """B - A of each (difficulty, pass@k) as a dot with its paired interval, around zero."""
    rows = paired.deltas
    spread = max([0.05, *(abs(v) for d in rows for v in (d.ci_low, d.ci_high))])
    left, width, row_h, top = 190, 420, 22, 24
    height = top + row_h * len(rows) + 20

    def x(value: float) -> float:
        return left + width / 2 + value / spread * (width / 2 - 10)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="paired-chart" width="{left + width + 20}" '
        f'height="{height}" role="img" aria-label="paired difference B - A">',
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 8}" y2="{height - 16}" class="zero"/>',
        f'<text x="{x(0):.1f}" y="{top - 10}" class="tick" text-anchor="middle">0</text>',
        f'<text x="{x(spread):.1f}" y="{top - 10}" class="tick" text-anchor="end">'
        f"+{100 * spread:.1f}</text>",
    ]
    for i, d in enumerate(rows):
        y = top + i * row_h + row_h / 2
        colour = "#3a923a" if d.ci_low > 0 else "#c03d3e" if d.ci_high < 0 else "#555"
        title = (
            f"{d.group} {d.metric}: B - A = {100 * d.difference:+.1f} "
            f"[{100 * d.ci_low:+.1f}, {100 * d.ci_high:+.1f}]"
        )
        parts.append(
            f'<g class="delta" data-group="{html.escape(d.group)}" data-metric="{d.metric}" '
            f'data-difference="{d.difference:.6f}"><title>{html.escape(title)}</title>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="label">'
            f"{html.escape(d.group)} {d.metric}</text>"
            f'<line x1="{x(d.ci_low):.1f}" x2="{x(d.ci_high):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{x(d.difference):.1f}" cy="{y:.1f}" r="4" fill="{colour}"/></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def write_compare_html(
    target: Path, paired: PairedComparison, links: tuple[Path | None, Path | None]
) -> Path:
    """Write the paired comparison page to `target` (a new file, or one this function wrote).

    `links`: each run's report.html, if it has one, so that a problem solved by only one
    run links to its page there.
    """
    target = Path(target)
    if target.exists() and GENERATOR not in target.read_text(errors="replace")[:600]:
        raise HtmlError(f"{target}: not written by `bench compare --html`; left as it is")
    ci = int(round(paired.confidence * 100))
    rows = "".join(
        f'<tr data-group="{html.escape(d.group)}" data-metric="{d.metric}">'
        f"<th>{html.escape(d.group)}</th><td>{d.metric}</td><td>{d.n_problems}</td>"
        f"<td>{100 * d.a:.1f}</td><td>{100 * d.b:.1f}</td>"
        f"<td><b>{100 * d.difference:+.1f}</b></td>"
        f"<td>[{100 * d.ci_low:+.1f}, {100 * d.ci_high:+.1f}]</td></tr>"
        for d in paired.deltas
    )
    table = (
        '<table id="paired"><thead><tr><th>difficulty</th><th>metric</th><th>problems</th>'
        f"<th>A</th><th>B</th><th>B - A</th><th>{ci}% CI</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )

    def solved(name: str, ids: list[str], link: Path | None, element_id: str) -> str:
        items = []
        for pid in ids:
            label = html.escape(pid)
            if link is not None:
                href = html.escape(link.resolve().as_uri() + "#problem=" + quote(pid, safe=""))
                label = f'<a href="{href}">{label}</a>'
            items.append(f"<li>{label}</li>")
        return (
            f"<h3>solved only by {html.escape(name)} ({len(ids)})</h3>"
            f'<ul id="{element_id}">{"".join(items)}</ul>'
        )

    body = (
        f"<section><h2>paired difference B - A ({ci}% paired bootstrap interval, "
        f"{paired.resamples} resamples of the {paired.n_paired} paired problems)</h2>"
        f"{paired_svg(paired)}{table}</section><section><h2>problems</h2>"
        f"{solved(paired.a, paired.solved_only_by_a, links[0], 'only-a')}"
        f"{solved(paired.b, paired.solved_only_by_b, links[1], 'only-b')}</section>"
    )
    title = f"{paired.b} vs {paired.a}"
    unpaired = ", ".join(f"{n}: {c}" for n, c in paired.unpaired.items() if c)
    subtitle = f"A = {paired.a}, B = {paired.b}" + (
        f"; problems in one report only, not paired: {unpaired}" if unpaired else ""
    )
    page = assets.COMPARE_PAGE
    replacements = {
        "{{TITLE}}": html.escape(title),
        "{{SUBTITLE}}": html.escape(subtitle),
        "{{STYLE}}": assets.STYLE,
        "{{BODY}}": body,
    }
    page = re.sub(r"\{\{[A-Z]+\}\}", lambda m: replacements[m.group(0)], page)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target
