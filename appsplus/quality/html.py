"""`appsplus quality DATASET --html [OUT.html]`: the dataset report as one self-contained page.

OUT.html holds everything but the per-problem details: inline CSS, JS and SVG in the style of
`bench report --html` (the shared pieces come from `appsplus.bench.html.assets`), no network
request, opened from file://. It shows the manifest's facts (dataset hash, tool version,
source and revision, config), kept and rejected counts per split (and per source in a mixed
build), the rejections by reason with examples, the mutation-score histogram and the mutant
counts, every kept problem in a table (weakest first; paged, filterable), duplicate and
contamination pairs side by side, and the tests added by augmentation.

Each problem's statement, canonical solution, surviving mutants and generated tests live in
OUT_files/NNNNNN.js (CHUNK problems a file), loaded by a <script> tag when a problem is
opened, so the page stays small for a full APPS+ build.

Surviving mutants: a build keeps only their ids (`Quality.surviving_mutants`). The page
regenerates their source with the build's own seeded mutation code
(`mutate.mutants(canonical, k=max_mutants, seed="SEED:PROBLEM_ID")`, deterministic) and
shows each as a diff against `ast.unparse` of the canonical solution (mutants are unparsed
ASTs, so the diff shows only the mutated lines). An id that does not come back (the
mutation code changed since the build) is listed as not regenerated.

The rejected side of a duplicate or contamination pair is not stored in the build: its
statement is read back from the source when the source is local (the embedded sample, a
file or folder) at the revision the manifest names; the benchmark item from the benchmark
file the config names, when its sha256 still matches.
"""

from __future__ import annotations

import ast
import html
import itertools
import json
import random
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from appsplus.bench.html import assets, script_json
from appsplus.errors import AppsplusError, shorten
from appsplus.execution.record import cut, test_texts

GENERATOR = '<meta name="generator" content="appsplus-quality">'
CHUNK = 50  # problems per lazily loaded file
EXAMPLES = 20  # rejection examples per reason on the page
MAX_PAIRS = 200  # duplicate / contamination pairs on the page
AUGMENTED_EXAMPLES = 20  # problems with generated tests listed on the summary
STATEMENT_CHARS = 6000
TEST_CHARS = 400
DETAIL_CHARS = 400
FILE_RE = re.compile(r"\d{6}\.js")
STATEMENT_FIELDS = ("question", "prompt", "description", "question_content", "text")


class QualityHtmlError(AppsplusError, ValueError):
    """The report cannot be written (a file there that this tool did not write, bad data)."""


def files_dir(target: Path) -> Path:
    """OUT.html -> OUT_files/ (where the problem details go)."""
    return target.with_name(target.name.removesuffix(".html") + "_files")


def default_target(dataset: Path) -> Path:
    """DATASET.quality.html beside the dataset folder (never inside: the build hashes it)."""
    dataset = Path(dataset).resolve()
    return dataset.with_name(dataset.name + ".quality.html")


# ---------------------------------------------------------------- data


def _hunk(base: list[str], other: list[str]) -> list[Any]:
    """[start, removed, added lines]: `other` is `base` with lines start..start+removed
    replaced by the added ones (the common head and tail trimmed)."""
    head = 0
    while head < min(len(base), len(other)) and base[head] == other[head]:
        head += 1
    tail = 0
    while tail < min(len(base), len(other)) - head and base[-1 - tail] == other[-1 - tail]:
        tail += 1
    return [head, len(base) - head - tail, other[head : len(other) - tail]]


def survivors(
    canonical: str, ids: list[str], max_mutants: int, seed: str
) -> tuple[dict[str, str], list[str], str]:
    """Regenerate the surviving mutants of `canonical` by id: ({id: program}, [ids not
    found], `ast.unparse` of the canonical: what the programs are diffed against).

    The same seeded sample of mutation points as `mutate.mutants(canonical, k=max_mutants,
    seed=seed)`, but only the points whose `operator@line:column` is wanted are built (a
    problem keeps a few survivors of up to max_mutants mutants). Numbering of repeated ids
    (`#k`) counts the same-point mutants that differ from the original and from each other,
    as `mutants` does; it could differ only where two different points gave the same text.
    """
    from appsplus.quality import mutate

    try:
        tree = ast.parse(canonical)
        original = ast.unparse(tree)
    except (SyntaxError, ValueError, RecursionError):
        return {}, list(ids), canonical
    if not ids:
        return {}, [], original
    points = [(name, node) for name, node, _ in mutate._points(tree)]
    chosen: range | list[int] = range(len(points))
    if len(points) > max_mutants:
        chosen = sorted(random.Random(seed).sample(range(len(points)), max_mutants))
    bases = {i.split("#", 1)[0] for i in ids}
    texts: dict[str, list[str]] = {}
    found: dict[str, str] = {}
    for index in chosen:
        name, node = points[index]
        base = f"{name}@{getattr(node, 'lineno', 0)}:{getattr(node, 'col_offset', 0)}"
        if base not in bases:
            continue
        mutated = ast.parse(canonical)  # a fresh tree (faster than a deep copy)
        _, target, edit = next(itertools.islice(mutate._points(mutated), index, None))
        edit(target)
        try:  # as `mutants` does; _Replace only matters where the edit replaced a node, and
            # unparse reads no locations (so no fix_missing_locations)
            if hasattr(target, "_to") or hasattr(target, "_to_expr"):
                mutated = mutate._Replace().visit(mutated)
            text = ast.unparse(mutated)
        except (ValueError, RecursionError, AttributeError, TypeError):
            continue
        seen = texts.setdefault(base, [original])
        if text in seen:
            continue
        seen.append(text)
        found[base if len(seen) == 2 else f"{base}#{len(seen) - 1}"] = text
    found = {i: found[i] for i in ids if i in found}
    return found, [i for i in ids if i not in found], original


def _test_view(test: Any) -> dict[str, str]:
    given, expected = test_texts(test)
    return {"input": cut(given, TEST_CHARS), "output": cut(expected, TEST_CHARS)}


def _split_of(problem_id: str | None) -> str:
    parts = (problem_id or "").split("/")
    return parts[1] if len(parts) >= 3 and parts[1] in ("train", "test") else "unknown"


def _records(folder: Path):
    from appsplus.dataset import DatasetError, data_files, iter_rows
    from appsplus.record import Record

    for path in data_files(folder).values():
        for n, row in enumerate(iter_rows(Path(path))):
            try:
                yield Record.from_row(row)
            except ValueError as e:
                raise DatasetError(
                    f"{path}: row {n} is not a record: {shorten(str(e), 200)}"
                ) from None


def _source_statements(manifest: dict, wanted: set[tuple[str, str]]) -> tuple[dict, str | None]:
    """{(source name, locator): statement} read back from local sources, and a note on why
    some could not be (None when all could)."""
    if not wanted:
        return {}, None
    from appsplus.sources import SourceError, open_source

    specs = [s["spec"] for s in manifest.get("sources") or []] or [manifest["source"]["spec"]]
    revisions = {s["name"]: s["revision"] for s in manifest.get("sources") or []}
    revisions.setdefault(manifest["source"]["name"], manifest["source"]["revision"])
    found: dict[tuple[str, str], str] = {}
    notes = []
    for spec in specs:
        path = spec.split(":", 1)[-1].split(",", 1)[0]
        if spec != "sample" and not Path(path).exists():
            notes.append(f"{spec}: not a local source here")
            continue
        try:
            source = open_source(spec)
            if revisions.get(source.name, source.revision) != source.revision:
                notes.append(f"{spec}: changed since the build (revision differs)")
                continue
            for row in source.iter_rows():
                key = (row.source, row.locator)
                if key in wanted and row.raw is not None:
                    text = next(
                        (row.raw[f] for f in STATEMENT_FIELDS if isinstance(row.raw.get(f), str)),
                        None,
                    )
                    if text is not None:
                        found[key] = text
        except (SourceError, OSError, ValueError) as e:
            notes.append(f"{spec}: {shorten(str(e), 160)}")
    missing = len(wanted - found.keys())
    note = None
    if missing:
        note = (
            f"{missing} rejected statement(s) not shown: a build stores only the kept "
            "problems, and the source could not be read back here"
            + (f" ({'; '.join(notes)})" if notes else "")
        )
    return found, note


def _benchmark_items(manifest: dict, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(benchmark, item id): text} from the config's benchmark files (sha256 unchanged)."""
    if not wanted:
        return {}
    import hashlib

    from appsplus.quality.decontam import CODE_FIELDS, ID_FIELDS, TEXT_FIELDS, _rows

    quality = (manifest.get("config") or {}).get("quality") or {}
    hashes = ((manifest.get("quality") or {}).get("contamination") or {}).get("benchmarks", {})
    found = {}
    for spec in quality.get("decontaminate", []):
        path = Path(spec)
        try:
            if hashes.get(path.name) != hashlib.sha256(path.read_bytes()).hexdigest():
                continue
            rows = _rows(path)
        except (OSError, ValueError):
            continue
        bench = path.name.split(".", 1)[0]
        for line, row in rows:
            item_id = next((str(row[f]) for f in ID_FIELDS if row.get(f) is not None), line)
            if isinstance(row.get("split"), str):
                item_id = f"{row['split']}/{item_id}"
            if (bench, item_id) in wanted:
                text = next((row[f] for f in TEXT_FIELDS if isinstance(row.get(f), str)), "")
                code = next((row[f] for f in CODE_FIELDS if isinstance(row.get(f), str)), "")
                found[(bench, item_id)] = text + ("\n\n" + code if code else "")
    return found


DUPLICATE_RE = re.compile(r"statement of (\S+) \(")
CONTAMINATED_RE = re.compile(r"with (\S+) (\S+) \(")


def collect(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the page's data, the per-problem payloads in table order) of a build folder.

    Raises DatasetError when `folder` is not a finished build."""
    from appsplus.curate.manifest import dataset_hash
    from appsplus.curate.pipeline import read_rejections
    from appsplus.dataset import DatasetError
    from appsplus.quality.report import quality_report

    folder = Path(folder)
    report = quality_report(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    qconfig = (manifest.get("config") or {}).get("quality") or {}
    max_mutants, seed = qconfig.get("max_mutants", 24), qconfig.get("seed", 0)
    try:
        rejections = read_rejections(folder)
    except (OSError, ValueError) as e:
        raise DatasetError(
            f"{folder}: rejections.jsonl unreadable: {shorten(str(e), 200)}"
        ) from None

    by_reason: dict[str, dict[str, Any]] = {}
    rejected_split: Counter[str] = Counter()
    for r in rejections:
        reason = r.reason.value
        entry = by_reason.setdefault(reason, {"count": 0, "stage": r.stage, "examples": []})
        entry["count"] += 1
        rejected_split[_split_of(r.problem_id)] += 1
        if len(entry["examples"]) < EXAMPLES:
            entry["examples"].append([r.problem_id or "", r.locator, cut(r.detail, DETAIL_CHARS)])

    # one pass over the records (a full build's tests do not fit in memory): each one's
    # table row and payload, small, and the statements a duplicate pair may need
    questions: dict[str, str] = {}
    entries = []
    missing_total = 0
    for record in _records(folder):
        q = record.quality
        pid = record.problem_id
        questions[pid] = cut(record.question, STATEMENT_CHARS // 2)
        found, missing, base = ({}, [], "")  # base: the diffs' left side
        if q and q.surviving_mutants:
            found, missing, base = survivors(
                record.canonical_solution, q.surviving_mutants, max_mutants, f"{seed}:{pid}"
            )
            missing_total += len(missing)
        base_lines = base.split("\n")
        generated = []
        if q:
            for g in q.generated_tests:
                if g.test_index < len(record.tests):
                    generated.append(
                        {"index": g.test_index, "parent": g.parent_test}
                        | _test_view(record.tests[g.test_index])
                    )
        score = q.mutation_score if q else None
        row = [
            pid,
            record.split,
            record.difficulty,
            score,
            q.mutants_killed if q else 0,
            q.mutants_counted if q else 0,
            len(q.surviving_mutants) if q else 0,
            q.mutants_equivalent if q else 0,
            list(q.flags) if q else [],
            len(q.generated_tests) if q else 0,
            0,  # the chunk, once sorted
            len(record.tests),
        ]
        payload = {
            "id": pid,
            "statement": cut(record.question, STATEMENT_CHARS),
            "canonical": record.canonical_solution,
            "unparsed": base,
            "survivors": [
                {"id": m, "hunk": _hunk(base_lines, found[m].split("\n"))}
                for m in (q.surviving_mutants if q else [])
                if m in found
            ],
            "missing": missing,
            "flags": list(q.flags) if q else [],
            "why": dict(q.detail) if q else {},
            "equivalence_checked": q.equivalence_checked if q else False,
            "score_augmented": q.mutation_score_augmented if q else None,
            "score_min": q.mutation_score_min if q else None,
            "generated": generated,
        }
        entries.append(((score is None, score or 0, pid), row, payload))
    entries.sort(key=lambda e: e[0])  # weakest tests first, unscored last
    rows, payloads, augmented = [], [], []
    for i, (_, row, payload) in enumerate(entries):
        row[10] = i // CHUNK
        rows.append(row)
        payloads.append(payload)
        if row[9] and len(augmented) < AUGMENTED_EXAMPLES:
            augmented.append([row[0], row[9], row[11]])
    del entries

    dup_wanted, bench_wanted, pairs_raw = set(), set(), []
    for r in rejections:
        if len(pairs_raw) >= MAX_PAIRS:
            break
        if r.reason.value == "duplicate_problem":
            m = DUPLICATE_RE.search(r.detail)
            other = m.group(1) if m else ""
            pairs_raw.append(("duplicate", r, other, None))
            dup_wanted.add((r.source, r.locator))
        elif r.reason.value == "contaminated":
            m = CONTAMINATED_RE.search(r.detail)
            item = (m.group(1), m.group(2)) if m else None
            pairs_raw.append(("contaminated", r, f"{item[0]} {item[1]}" if item else "", item))
            dup_wanted.add((r.source, r.locator))
            if item:
                bench_wanted.add(item)
    statements, source_note = _source_statements(manifest, dup_wanted)
    bench_texts = _benchmark_items(manifest, bench_wanted)
    pairs = []
    for kind, r, other, item in pairs_raw:
        left = statements.get((r.source, r.locator))
        if kind == "duplicate":
            right = questions.get(other)
        else:
            right = bench_texts.get(item) if item else None
        pairs.append(
            {
                "kind": kind,
                "id": r.problem_id or r.locator,
                "detail": cut(r.detail, DETAIL_CHARS),
                "other": other,
                "left": cut(left, STATEMENT_CHARS // 2) if left is not None else None,
                "right": cut(right, STATEMENT_CHARS // 2) if right is not None else None,
            }
        )
    n_pairs = sum(
        by_reason.get(k, {}).get("count", 0) for k in ("duplicate_problem", "contaminated")
    )

    kept_split = {
        split: sum(d.values())
        for split, d in (manifest.get("kept_by_split_difficulty") or {}).items()
    }
    data = {
        "name": report["name"],
        "files": None,  # set by write_quality_html
        "counts": report["counts"],
        "kept_percent": report["kept_percent"],
        "dataset_hash": dataset_hash(folder),
        "tool_version": manifest.get("tool_version"),
        "executor_version": manifest.get("executor_version"),
        "comparator_version": manifest.get("comparator_version"),
        "source": manifest.get("source"),
        "sources": manifest.get("sources"),
        "config": manifest.get("config"),
        "kept_by_split_difficulty": manifest.get("kept_by_split_difficulty") or {},
        "kept_by_split": kept_split,
        "rejected_by_split": dict(sorted(rejected_split.items())),
        "rejected_by_reason": report["rejected_by_reason"],
        "rejections": by_reason,
        "quality": report["quality"],
        "near_time_limit": report.get("near_time_limit"),
        "pairs": pairs,
        "pairs_total": n_pairs,
        "pairs_note": source_note,
        "augmented": augmented,
        "mutants_not_regenerated": missing_total,
        "problems": rows,
    }
    return data, payloads


# ---------------------------------------------------------------- page pieces


def histogram_svg(histogram: dict[str, int]) -> str:
    """One bar per mutation-score bin, its count as data-count, in the title and on top."""
    bins = list(histogram.items())
    top_count = max([1, *histogram.values()])
    bar, gap, left, top, height = 40, 8, 44, 20, 180
    width = left + (bar + gap) * len(bins) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="histogram" width="{width}" '
        f'height="{top + height + 40}" role="img" aria-label="mutation scores">'
    ]
    for frac in (0, 0.5, 1):
        y = top + height * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{round(top_count * frac)}</text>"
        )
    for i, (label, count) in enumerate(bins):
        x = left + i * (bar + gap) + gap / 2
        h = height * count / top_count
        y = top + height - h
        parts.append(
            f'<g class="bin" data-bin="{html.escape(label)}" data-count="{count}">'
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar}" height="{h:.1f}" '
            f'fill="{"#c03d3e" if i < 8 else "#4878cf"}"><title>mutation score {label}: '
            f"{count} problems</title></rect>"
            f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" class="tick" text-anchor="middle">'
            f"{count}</text>"
            f'<text x="{x + bar / 2:.1f}" y="{top + height + 14}" class="tick" '
            f'text-anchor="middle">{html.escape(label)}</text></g>'
        )
    parts.append(
        f'<text x="{left + (width - left) / 2:.1f}" y="{top + height + 32}" class="label" '
        'text-anchor="middle">mutation score (killed / counted mutants)</text></svg>'
    )
    return "".join(parts)


def _table(element_id: str, head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table id="{element_id}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _facts(data: dict[str, Any]) -> str:
    src = data["source"] or {}
    rows = [
        ["dataset hash", data["dataset_hash"]],
        ["appsplus version", data["tool_version"]],
        [
            "executor / comparator version",
            f"{data['executor_version']} / {data['comparator_version']}",
        ],
        ["source", f"{src.get('spec', '')} ({src.get('name', '')})"],
        ["source revision", src.get("revision", "")],
    ]
    config = json.dumps(data["config"], indent=2, sort_keys=True)
    return (
        _table("facts", ["", ""], rows).replace("<thead><tr><th></th><th></th></tr></thead>", "")
        + f'<details><summary>build config</summary><pre id="config">{html.escape(config)}'
        "</pre></details>"
    )


def _counts(data: dict[str, Any]) -> str:
    c = data["counts"]
    kept = data["kept_by_split_difficulty"]
    difficulties = sorted({d for v in kept.values() for d in v})
    splits = sorted(set(kept) | set(data["rejected_by_split"]))
    rows = []
    for s in splits:
        rows.append(
            [
                s,
                *(kept.get(s, {}).get(d, 0) for d in difficulties),
                data["kept_by_split"].get(s, 0),
                data["rejected_by_split"].get(s, 0),
            ]  # fmt: skip
        )
    rows.append(["all", *(sum(kept.get(s, {}).get(d, 0) for s in kept) for d in difficulties),
                 c["kept"], c["rejected"]])  # fmt: skip
    out = (
        f'<p id="totals">read <b>{c["read"]}</b>, kept <b>{c["kept"]}</b> '
        f"({data['kept_percent']}%), rejected <b>{c['rejected']}</b></p>"
        + _table(
            "counts", ["split", *(f"kept {d}" for d in difficulties), "kept", "rejected"], rows
        )
        + '<p class="note">a rejected row\'s split is read from its problem id '
        "(unknown when the row had none)</p>"
    )
    if data["sources"]:
        out += "<h3>per source</h3>" + _table(
            "per-source",
            ["source", "licence", "read", "kept", "rejected", "rejected by reason"],
            [
                [
                    s["spec"],
                    s.get("licence", ""),
                    s["read"],
                    s["kept"],
                    s["rejected"],
                    ", ".join(f"{k} {v}" for k, v in sorted(s["rejected_by_reason"].items())),
                ]  # fmt: skip
                for s in data["sources"]
            ],
        )
    return out


def _rejections(data: dict[str, Any]) -> str:
    rows = []
    for reason, n in sorted(data["rejected_by_reason"].items(), key=lambda kv: (-kv[1], kv[0])):
        entry = data["rejections"].get(reason, {"examples": [], "stage": ""})
        examples = "".join(
            f"<li><b>{html.escape(pid or locator)}</b>"
            + (f" <small>{html.escape(locator)}</small>" if pid else "")
            + f": {html.escape(detail)}</li>"
            for pid, locator, detail in entry["examples"]
        )
        more = n - len(entry["examples"])
        more_line = f"<li><small>{more} more in rejections.jsonl</small></li>" if more > 0 else ""
        rows.append(
            f'<tr data-reason="{html.escape(reason)}" data-count="{n}"><td>{html.escape(reason)}'
            f"</td><td>{html.escape(str(entry['stage']))}</td><td>{n}</td>"
            f'<td class="examples"><details><summary>{len(entry["examples"])} example(s)'
            f"</summary><ul>{examples}{more_line}</ul></details></td></tr>"
        )
    total = data["counts"]["rejected"]
    return (
        '<table id="rejections"><thead><tr><th>reason</th><th>stage</th><th>rows</th>'
        f"<th>examples (problem id, where, detail)</th></tr></thead><tbody>{''.join(rows)}"
        f"</tbody><tfoot><tr><th>total</th><td></td><td>{total}</td><td></td></tr></tfoot></table>"
    )


def _mutation(data: dict[str, Any]) -> str:
    q = data["quality"] or {}
    m = q.get("mutation") or {}
    if not m:
        return "<p>mutation analysis was not run in this build (--no-mutation)</p>"
    mutants = m["mutants"]
    head = ["counted", "killed", "survived", "possibly equivalent", "uncounted"]
    cells = [mutants["counted"], mutants["killed"], mutants["survivors"], mutants["equivalent"],
             mutants["uncounted"]]  # fmt: skip
    table = (
        '<table id="mutants"><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr></thead><tbody><tr>"
        + "".join(f'<td data-kind="{h}">{v}</td>' for h, v in zip(head, cells, strict=True))
        + "</tr></tbody></table>"
    )
    note = (
        f"<p>{m['problems_scored']} problems scored ({m['problems_unscored']} unscored), "
        f"mean score {m['mean_score']}; {m['weak_tests']} below {m['weak_threshold']} "
        "(<code>weak_tests</code>)"
        + (
            f'; <span id="score-min">conservative score (killed or timed out / compiled, '
            f"never higher with fewer tests): mean {m['mean_score_min']}</span>"
            if m.get("mean_score_min") is not None
            else ""
        )
        + "</p>"
        '<p class="note">survived: passed every test but differed from the solutions on a '
        "probe input; possibly equivalent: passed every test and agreed on every probe (not "
        "counted in the score); uncounted: did not compile or timed out</p>"
    )
    if data["mutants_not_regenerated"]:
        note += (
            f'<p class="note">{data["mutants_not_regenerated"]} surviving mutant(s) could not be '
            "regenerated (the mutation code changed since the build)</p>"
        )
    return histogram_svg(m["histogram"]) + table + note


def _flags(data: dict[str, Any]) -> str:
    flags = (data["quality"] or {}).get("flags") or {}
    if not flags:
        return ""
    return _table("flags", ["flag", "kept problems"], [[k, v] for k, v in flags.items()])


def _pairs(data: dict[str, Any]) -> str:
    if not data["pairs"]:
        return "<p>no duplicate or contaminated problem was rejected</p>"
    parts = []
    for p in data["pairs"]:
        right_title = "kept problem " if p["kind"] == "duplicate" else "benchmark item "

        def side(title: str, text: str | None) -> str:
            body = html.escape(text) if text is not None else "<i>(not available)</i>"
            return f'<div><h4>{html.escape(title)}</h4><pre class="statement">{body}</pre></div>'

        parts.append(
            f'<div class="pair" data-kind="{p["kind"]}" data-id="{html.escape(p["id"])}">'
            f"<p><b>{html.escape(p['kind'])}</b>: {html.escape(p['detail'])}</p>"
            f'<div class="side">{side("rejected " + p["id"], p["left"])}'
            f"{side(right_title + p['other'], p['right'])}</div></div>"
        )
    shown = len(data["pairs"])
    more = (
        f'<p class="note">{shown} of {data["pairs_total"]} pairs shown</p>'
        if data["pairs_total"] > shown
        else ""
    )
    note = f'<p class="note">{html.escape(data["pairs_note"])}</p>' if data["pairs_note"] else ""
    return note + "".join(parts) + more


def _augmentation(data: dict[str, Any]) -> str:
    a = (data["quality"] or {}).get("augmentation") or {}
    if not a:
        return "<p>no tests were added (the build ran without --augment-tests)</p>"
    items = "".join(
        f'<li><a href="#problem={html.escape(pid)}">{html.escape(pid)}</a>: {n} added '
        f"({total} tests now)</li>"
        for pid, n, total in data["augmented"]
    )
    return (
        f'<p id="augmentation">{a["tests_added"]} tests added to {a["problems_augmented"]} '
        f"problems (up to {a['per_problem']} each); mean mutation score "
        f"{a['mean_score_before']} &rarr; {a['mean_score_after']} "
        f"({a['problems_compared']} problems compared)</p>"
        f'<ul id="augmented">{items}</ul>'
        '<p class="note">open a problem to see its generated tests (input, expected output, '
        "the test they were mutated from)</p>"
    )


# ---------------------------------------------------------------- writing


def _check_ours(target: Path, files: Path, overwrite: bool) -> None:
    ours = (
        target.is_file() and GENERATOR in target.read_text(encoding="utf-8", errors="replace")[:600]
    )
    if target.exists() and not overwrite and not ours:
        raise QualityHtmlError(
            f"{target}: not written by `appsplus quality --html`; left as it is "
            "(pass --overwrite to replace it)"
        )
    if files.exists() and not files.is_dir():
        raise QualityHtmlError(f"{files}: exists and is not a folder; left as it is")
    if files.is_dir() and not overwrite:
        other = [f.name for f in files.iterdir() if not FILE_RE.fullmatch(f.name)]
        if other:
            raise QualityHtmlError(
                f"{files}: holds files `appsplus quality --html` did not write "
                f"({', '.join(sorted(other)[:3])}); left as it is (pass --overwrite)"
            )


def write_quality_html(dataset: Path, target: Path | None = None, overwrite: bool = False) -> Path:
    """Write the dataset report of build folder `dataset` to `target` (default
    DATASET.quality.html beside it) and its problem files to TARGET_files/.

    Replaces a page and files an earlier call wrote; anything else only with `overwrite`
    (which replaces the page and our NNNNNN.js files, and leaves other files alone).
    Raises QualityHtmlError or DatasetError with a one-line message."""
    dataset = Path(dataset)
    target = Path(target) if target is not None else default_target(dataset)
    if (
        target.resolve().parent == dataset.resolve()
        or dataset.resolve() in target.resolve().parents
    ):
        raise QualityHtmlError(
            f"{target}: inside the dataset folder, whose files the manifest hashes; "
            "write the page elsewhere"
        )
    if target.is_dir():
        raise QualityHtmlError(f"{target}: a folder; give a file name for the page")
    files = files_dir(target)
    _check_ours(target, files, overwrite)
    data, payloads = collect(dataset)
    data["files"] = files.name
    staging = files.with_name(files.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for start in range(0, len(payloads), CHUNK):
        chunk = {p["id"]: p for p in payloads[start : start + CHUNK]}
        (staging / f"{start // CHUNK:06d}.js").write_text(
            f"APPSPLUS_QUALITY.loaded({start // CHUNK},{script_json(chunk)});\n", encoding="utf-8"
        )
    if files.is_dir():
        for f in files.iterdir():
            if FILE_RE.fullmatch(f.name):
                f.unlink()
        for f in staging.iterdir():
            f.replace(files / f.name)
        staging.rmdir()
    else:
        staging.rename(files)
    c = data["counts"]
    title = f"{data['name']}: dataset quality"
    subtitle = (
        f"kept {c['kept']} of {c['read']} rows ({data['kept_percent']}%), rejected "
        f"{c['rejected']}; {data['dataset_hash'][:19]}…; appsplus {data['tool_version']}"
    )
    near = data["near_time_limit"]
    near_line = (
        f'<p class="note">near the time limit (reference runtime at least half of it): '
        f"{near['tests']} tests in {near['problems']} problems</p>"
        if near
        else ""
    )
    page_data = {k: data[k] for k in ("name", "files", "problems")}
    page_data["flags"] = list(((data["quality"] or {}).get("flags") or {}).keys())
    replacements = {
        "{{TITLE}}": html.escape(title),
        "{{SUBTITLE}}": html.escape(subtitle),
        "{{STYLE}}": assets.STYLE + STYLE,
        "{{SCRIPT}}": assets.HELPERS + SCRIPT,
        "{{FACTS}}": _facts(data),
        "{{COUNTS}}": _counts(data) + near_line,
        "{{REJECTIONS}}": _rejections(data),
        "{{MUTATION}}": _mutation(data) + _flags(data),
        "{{PAIRS}}": _pairs(data),
        "{{AUGMENTATION}}": _augmentation(data),
        "{{DATA}}": script_json(page_data),
    }
    page = re.sub(r"\{\{[A-Z]+\}\}", lambda m: replacements[m.group(0)], PAGE)  # one pass
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target


PAGE = (
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
"""
    + GENERATOR
    + """
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline' file: 'self'; img-src data:">
<title>{{TITLE}}</title>
<style>{{STYLE}}</style>
</head>
<body>
<header><h1>{{TITLE}}</h1><p class="sub">{{SUBTITLE}}</p></header>
<main id="summary">
<section><h2>dataset</h2>{{FACTS}}</section>
<section><h2>kept and rejected</h2>{{COUNTS}}</section>
<section><h2>rejections by reason</h2>{{REJECTIONS}}</section>
<section><h2>mutation scores</h2>{{MUTATION}}</section>
<section><h2>problems, weakest tests first</h2>
<div class="filters">
<label>split <select id="f-split"><option value="">all</option></select></label>
<label>difficulty <select id="f-difficulty"><option value="">all</option></select></label>
<label>flag <select id="f-flag"><option value="">any</option>\
<option value="survivors">has surviving mutants</option>\
<option value="augmented">has generated tests</option></select></label>
<label>id <input id="f-text" type="search" placeholder="problem id contains"></label>
<span id="count"></span>
</div>
<table id="problems"><thead><tr>
<th data-sort="0">problem</th><th data-sort="1">split</th><th data-sort="2">difficulty</th>
<th data-sort="3">mutation score</th><th data-sort="4">killed</th><th data-sort="5">counted</th>
<th data-sort="6">survived</th><th data-sort="7">equivalent</th><th data-sort="9">tests added</th>
<th>flags</th></tr></thead><tbody></tbody></table>
<div class="pager"><button id="prev">&larr; previous</button><span id="page"></span>\
<button id="next">next &rarr;</button></div>
</section>
<section><h2>duplicates and contamination</h2>{{PAIRS}}</section>
<section><h2>tests added by augmentation</h2>{{AUGMENTATION}}</section>
</main>
<main id="problem" hidden></main>
<script id="data" type="application/json">{{DATA}}</script>
<script>{{SCRIPT}}</script>
</body>
</html>
"""
)

STYLE = """
#histogram .grid{stroke:#e3e3e3}#histogram .tick{font-size:11px;fill:#555}#histogram .label{font-size:12px;fill:#222}
#facts td{text-align:left}#facts td:first-child{color:#555}#rejections th:last-child{text-align:left}#per-source td:last-child,#per-source th:last-child{text-align:left}#rejections td.examples{text-align:left;max-width:760px}
#rejections ul{margin:4px 0;padding-left:18px}.pair{background:#fff;border:1px solid #ddd;padding:4px 10px;margin:8px 0}
.side{display:grid;grid-template-columns:1fr 1fr;gap:12px}.side h4{margin:4px 0}
.flag{display:inline-block;border-radius:3px;background:#b47cc7;color:#fff;padding:0 5px;margin-left:3px;font-size:11px}
details.mutant{background:#fff;border:1px solid #ddd;margin:8px 0;padding:4px 10px}details.mutant summary{cursor:pointer;font-weight:600}
table.tests td{text-align:left;vertical-align:top}table.tests pre{max-height:160px;margin:0}
"""

SCRIPT = r"""
const DATA = JSON.parse(document.getElementById("data").textContent);
const PAGE_ROWS = 100;
const state = {sort: 3, desc: false, page: 0};
// row: [id, split, difficulty, score, killed, counted, survived, equivalent, flags, added, chunk, tests]
for (const [id, i] of [["f-split", 1], ["f-difficulty", 2]])
  for (const v of [...new Set(DATA.problems.map((p) => p[i]))].sort()) $(id).append(el("option", {value: v}, v));
for (const f of DATA.flags) $("f-flag").append(el("option", {value: f}, f));
function filtered() {
  const s = $("f-split").value, d = $("f-difficulty").value, f = $("f-flag").value;
  const t = $("f-text").value.trim();
  return DATA.problems.filter((p) => (!s || p[1] === s) && (!d || p[2] === d) &&
    (!t || p[0].includes(t)) && (!f || (f === "survivors" ? p[6] > 0 :
      f === "augmented" ? p[9] > 0 : p[8].includes(f))));
}
function key(p, i) { return i === 3 && p[3] === null ? Infinity : p[i]; }
function renderTable() {
  const rows = filtered();
  const i = state.sort, sign = state.desc ? -1 : 1;
  rows.sort((a, b) => (key(a, i) < key(b, i) ? -sign : key(a, i) > key(b, i) ? sign : 0));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  state.page = Math.min(state.page, pages - 1);
  const out = document.createDocumentFragment();
  for (const p of rows.slice(state.page * PAGE_ROWS, (state.page + 1) * PAGE_ROWS)) {
    const flags = el("span");
    for (const f of p[8]) flags.append(el("span", {class: "flag"}, f));
    const tr = el("tr", {"data-id": p[0]},
      el("td", null, el("a", {href: "#problem=" + encodeURIComponent(p[0])}, p[0])),
      el("td", null, p[1]), el("td", null, p[2]),
      el("td", null, p[3] === null ? "-" : p[3].toFixed(2)), el("td", null, p[4]),
      el("td", null, p[5]), el("td", null, p[6]), el("td", null, p[7]), el("td", null, p[9]),
      el("td", null, flags));
    tr.addEventListener("click", () => { location.hash = "#problem=" + encodeURIComponent(p[0]); });
    out.append(tr);
  }
  document.querySelector("#problems tbody").replaceChildren(out);
  $("count").textContent = rows.length + " of " + DATA.problems.length + " problems";
  $("page").textContent = "page " + (state.page + 1) + " of " + pages;
}
for (const th of document.querySelectorAll("th[data-sort]")) th.addEventListener("click", () => {
  const i = Number(th.dataset.sort);
  state.desc = state.sort === i ? !state.desc : false; state.sort = i; renderTable();
});
for (const id of ["f-split", "f-difficulty", "f-flag", "f-text"])
  $(id).addEventListener("input", () => { state.page = 0; renderTable(); });
$("prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); renderTable(); });
$("next").addEventListener("click", () => { state.page += 1; renderTable(); });

function mutantView(p, s) {
  const lines = p.unparsed.split("\n");
  const [start, removed, added] = s.hunk;
  const mutant = [...lines.slice(0, start), ...added, ...lines.slice(start + removed)].join("\n");
  const where = "unparsed line " + (start + 1) + (removed > 1 ? "-" + (start + removed) : "");
  return el("details", {class: "mutant", "data-mutant": s.id},
    el("summary", null, s.id + " (" + where + ")"),
    diffTable(p.unparsed, mutant, ["canonical (ast.unparse)", "mutant " + s.id]));
}
function testsView(p) {
  const t = el("table", {class: "tests"}, el("thead", null, el("tr", null,
    el("th", null, "test"), el("th", null, "from test"), el("th", null, "input"), el("th", null, "expected output"))));
  const body = el("tbody");
  for (const g of p.generated) body.append(el("tr", {"data-test": g.index},
    el("td", null, g.index), el("td", null, g.parent < 0 ? "drawn" : g.parent),
    el("td", null, el("pre", null, g.input)), el("td", null, el("pre", null, g.output))));
  t.append(body);
  return t;
}
const chunks = new Map();
window.APPSPLUS_QUALITY = {
  loaded(chunk, problems) {
    chunks.set(chunk, problems);
    const view = $("problem");
    if (problems[view.dataset.want]) show(problems[view.dataset.want]);
  },
};
function show(p) {
  const view = $("problem");
  const row = DATA.problems.find((r) => r[0] === p.id);
  const score = row[3] === null ? "not scored" : row[3].toFixed(2) + " (" + row[4] + " of " + row[5] + " mutants killed)";
  view.replaceChildren(
    el("p", null, el("a", {href: "#"}, "← all problems")),
    el("h2", null, p.id),
    el("p", null, row[1] + ", " + row[2] + ", " + row[11] + " tests; mutation score " + score +
      (p.score_augmented === null ? "" : "; with the generated tests " + p.score_augmented.toFixed(2)) +
      (p.score_min === null || p.score_min === undefined ? "" : "; conservative score " + p.score_min.toFixed(2))),
  );
  if (p.flags.length) {
    const ul = el("ul", {class: "flags"});
    for (const f of p.flags) ul.append(el("li", null, el("span", {class: "flag"}, f), " " + (p.why[f] || "")));
    view.append(ul);
  }
  view.append(el("details", {open: ""}, el("summary", null, "statement"), el("pre", {class: "statement"}, p.statement)));
  view.append(el("h3", null, p.survivors.length + " surviving mutant(s)" +
    (p.equivalence_checked ? "" : " (probe inputs could not be generated: some may be equivalent)")));
  p.survivors.forEach((s, i) => { const v = mutantView(p, s); if (i === 0) v.open = true; view.append(v); });
  if (p.missing.length) view.append(el("p", {class: "note"}, "not regenerated: " + p.missing.join(", ")));
  if (p.generated.length) view.append(el("h3", null, p.generated.length + " generated test(s)"), testsView(p));
  view.append(el("h3", null, "canonical solution"), highlight(p.canonical));
}
function route() {
  const m = /^#problem=(.+)$/.exec(location.hash);
  const view = $("problem"), summary = $("summary");
  if (!m) { view.hidden = true; summary.hidden = false; renderTable(); return; }
  const id = decodeURIComponent(m[1]);
  const row = DATA.problems.find((p) => p[0] === id);
  summary.hidden = true; view.hidden = false; window.scrollTo(0, 0);
  if (!row) { view.replaceChildren(el("p", null, "no problem " + id)); return; }
  view.dataset.want = id;
  if (chunks.has(row[10])) { show(chunks.get(row[10])[id]); return; }
  view.replaceChildren(el("p", null, "loading " + id + " ..."));
  const s = document.createElement("script");
  s.src = encodeURIComponent(DATA.files) + "/" + String(row[10]).padStart(6, "0") + ".js";
  s.onload = () => s.remove();
  document.head.append(s);
}
window.addEventListener("hashchange", route);
route();
"""
