"""pass_at_k.png: grouped bars of pass@k per difficulty (and overall) with bootstrap intervals.

Needs matplotlib (`pip install -e '.[bench]'`); without it `plot_report` returns None and
logs why, so reports still work on a minimal install.
"""

from __future__ import annotations

import logging
from pathlib import Path

from appsplus.bench.report import Report, groups

logger = logging.getLogger(__name__)


def plot_report(report: Report, path: Path) -> Path | None:
    """Write the plot to `path`; None (and a warning) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed (pip install -e '.[bench]'): no plot written")
        return None
    rows = groups(report)
    labels = [label for label, _ in rows]
    width = 0.8 / max(1, len(report.ks))
    fig, ax = plt.subplots(figsize=(2.4 + 1.5 * len(labels), 4.0))
    for i, k in enumerate(report.ks):
        estimates = [g.pass_at_k[f"pass@{k}"] for _, g in rows]
        values = [100 * e.value for e in estimates]
        errors = [
            [100 * (e.value - e.ci_low) for e in estimates],
            [100 * (e.ci_high - e.value) for e in estimates],
        ]
        xs = [j + (i - (len(report.ks) - 1) / 2) * width for j in range(len(labels))]
        ax.bar(xs, values, width, yerr=errors, capsize=3, label=f"pass@{k}")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([f"{label}\n({g.n_problems})" for label, g in rows])
    ax.set_ylabel("%")
    ax.set_ylim(0, 105)
    ci = int(round(report.bootstrap.confidence * 100))
    ax.set_title(f"{report.suite.name}: {Path(report.model.model).name} ({ci}% bootstrap CI)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
