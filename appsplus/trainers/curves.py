"""Training curves from a trainer's metrics.jsonl: one PNG and one self-contained HTML page.

    python -m appsplus.trainers.curves runs/stepcoder          # -> curves.png, curves.html
    python -m appsplus.trainers.curves runs/sft/metrics.jsonl --out plots/sft

Each panel is one metric against the iteration (or step) of the log: reward, pass rate, KL,
losses and the curriculum stage, where the log has them (StepCoder, CodeRL, SFT and TRL
logs use different names; every known name present gets its panel). The HTML page draws
the same panels as inline SVG (no script, no network request; opens from file://), with
each point's value in its tooltip.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import sys
from pathlib import Path

from appsplus.errors import AppsplusError

# (panel title, metric names in the order they are looked up); a panel shows every name
# the log has
PANELS = (
    ("reward", ("charts/reward_mean", "reward", "train/reward", "rewards/mean")),
    ("pass rate", ("charts/pass_rate", "charts/pass_rate_full", "pass_rate", "eval/pass_rate")),
    ("KL", ("losses/approx_kl", "charts/kl_ref", "kl", "train/kl")),
    ("loss", ("losses/policy", "losses/value", "loss", "train/loss", "eval/loss")),
    ("curriculum stage", ("charts/stage_mean", "charts/curriculum_progress", "stage")),
)
X_NAMES = ("iteration", "step", "global_step", "epoch")
COLOURS = ("#4878cf", "#d65f5f", "#6acc65", "#b47cc7")
PNG_FILE = "curves.png"
HTML_FILE = "curves.html"
GENERATOR = '<meta name="generator" content="appsplus-curves">'


class CurvesError(AppsplusError, ValueError):
    """A metrics file that cannot be plotted, or an output this tool did not write."""


def read_metrics(path: Path) -> list[dict]:
    """The rows of metrics.jsonl (blank and torn last lines skipped); CurvesError if none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise CurvesError(f"{path}: cannot read it ({e.strerror or e})") from e
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                continue  # a line torn by a kill while it was written
            raise CurvesError(f"{path}:{number}: not JSON") from None
        if isinstance(row, dict):
            rows.append(row)
    if not rows:
        raise CurvesError(f"{path}: no metrics rows")
    return rows


def series(rows: list[dict]) -> tuple[str, list[tuple[str, list[tuple[str, list]]]]]:
    """(x name, [(panel title, [(metric, [(x, y), ...]), ...]), ...]) of the panels present."""
    x_name = next((x for x in X_NAMES if any(x in r for r in rows)), None)
    panels = []
    for title, names in PANELS:
        lines = []
        for name in names:
            points = [
                (r.get(x_name, i + 1) if x_name else i + 1, r[name])
                for i, r in enumerate(rows)
                if isinstance(r.get(name), int | float) and math.isfinite(r[name])
            ]
            if points:
                lines.append((name, points))
        if lines:
            panels.append((title, lines))
    if not panels:
        known = ", ".join(n for _, names in PANELS for n in names)
        raise CurvesError(f"no known metric in the log (looked for {known})")
    return x_name or "row", panels


def write_png(path: Path, x_name: str, panels) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.2 * len(panels)), sharex=True)
    axes = [axes] if len(panels) == 1 else list(axes)
    for ax, (title, lines) in zip(axes, panels):
        for i, (name, points) in enumerate(lines):
            xs, ys = zip(*points)
            ax.plot(xs, ys, label=name, color=COLOURS[i % len(COLOURS)], linewidth=1.4)
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    axes[-1].set_xlabel(x_name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def panel_svg(title: str, lines, x_name: str) -> str:
    width, height, left, right, top, bottom = 640, 170, 56, 14, 22, 28
    xs = [x for _, pts in lines for x, _ in pts]
    ys = [y for _, pts in lines for _, y in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def px(x):
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def py(y):
        return top + (1 - (y - y0) / (y1 - y0)) * (height - top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="panel" data-title="{html.escape(title)}" '
        f'width="{width}" height="{height}"><text x="{left}" y="14" class="title">'
        f"{html.escape(title)}</text>",
        f'<text x="{left - 6}" y="{py(y1) + 4:.1f}" text-anchor="end" class="tick">{y1:.4g}</text>'
        f'<text x="{left - 6}" y="{py(y0) + 4:.1f}" text-anchor="end" class="tick">{y0:.4g}</text>'
        f'<text x="{width - right}" y="{height - 8}" text-anchor="end" class="tick">'
        f"{html.escape(x_name)} {x1:g}</text>"
        f'<line x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}" '
        f'class="axis"/>',
    ]
    for i, (name, points) in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        dots = "".join(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2" fill="{colour}">'
            f"<title>{html.escape(name)} at {html.escape(x_name)} {x:g}: {y:.6g}</title></circle>"
            for x, y in points
        )
        parts.append(
            f'<g class="line" data-metric="{html.escape(name)}" data-points="{len(points)}">'
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            f'{dots}<text x="{left + 8 + 150 * i}" y="{height - 8}" fill="{colour}" '
            f'class="tick">{html.escape(name)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def write_html(path: Path, source: Path, x_name: str, panels) -> Path:
    body = "".join(panel_svg(title, lines, x_name) for title, lines in panels)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"{GENERATOR}"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>training curves: {html.escape(str(source))}</title><style>"
        "body{font:14px system-ui,sans-serif;margin:0;background:#fafafa;color:#1d1d1f}"
        "header{background:#23395d;color:#fff;padding:12px 24px}h1{margin:0;font-size:20px}"
        "main{padding:12px 24px}.panel{display:block;background:#fff;border:1px solid #e3e3e3;"
        "margin:8px 0}.title{font-size:13px;font-weight:600}.tick{font-size:11px;fill:#555}"
        ".axis{stroke:#bbb}</style></head><body><header><h1>training curves</h1>"
        f"<p>{html.escape(str(source))}</p></header><main>{body}</main></body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_curves(metrics: Path, out: Path | None = None) -> tuple[Path, Path]:
    """Write curves.png and curves.html for `metrics` (a metrics.jsonl or its run folder)."""
    metrics = Path(metrics)
    if metrics.is_dir():
        metrics = metrics / "metrics.jsonl"
    out = Path(out) if out is not None else metrics.parent
    out.mkdir(parents=True, exist_ok=True)
    png, page = out / PNG_FILE, out / HTML_FILE
    if page.exists() and GENERATOR not in page.read_text(errors="replace")[:400]:
        raise CurvesError(f"{page}: not written by this tool; left as it is (use --out)")
    if png.exists() and not page.exists():
        raise CurvesError(f"{png}: not written by this tool; left as it is (use --out)")
    x_name, panels = series(read_metrics(metrics))
    return write_png(png, x_name, panels), write_html(page, metrics, x_name, panels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m appsplus.trainers.curves", description=__doc__.split("\n")[0]
    )
    parser.add_argument("metrics", type=Path, help="metrics.jsonl, or the run folder holding it")
    parser.add_argument("--out", type=Path, help="folder for curves.png and curves.html")
    args = parser.parse_args(argv)
    try:
        png, page = write_curves(args.metrics, args.out)
    except AppsplusError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"curves: {png}\ncurves: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
