"""Paired comparison of two reports: per-problem differences of pass@k with a paired bootstrap.

Two runs on the same problems are paired: for each problem the difference
pass@k(B) - pass@k(A) is computed from the report's per-problem (n, c), and the mean
difference gets a percentile bootstrap interval over problems (the same resampling as the
report's own intervals, `appsplus.bench.metrics.bootstrap_interval`), which is much tighter
than comparing two unpaired intervals. The problems solved (c > 0) by one run and not the
other are listed.

Only problems present in both reports are paired; the datasets must be the same (as for
`bench compare`, checked by `appsplus.bench.report.check_comparable`).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from appsplus.bench.metrics import bootstrap_interval, per_problem_pass_at_k
from appsplus.bench.report import CompareError, Report, difficulty_key
from appsplus.schema import StrictModel


class PairedDelta(StrictModel):
    """pass@k of A and B on the paired problems of one group, and B - A with its interval."""

    group: str = Field(description="a difficulty, or 'overall'")
    metric: str
    n_problems: int
    a: float
    b: float
    difference: float = Field(description="mean over problems of pass@k(B) - pass@k(A)")
    ci_low: float
    ci_high: float


class PairedComparison(StrictModel):
    """`bench compare A B`: paired differences and the problems solved by only one run."""

    a: str
    b: str
    n_paired: int = Field(description="problems in both reports")
    unpaired: dict[str, int] = Field(description="problems in only one report, by name")
    resamples: int
    confidence: float
    seed: int
    deltas: list[PairedDelta]
    solved_only_by_a: list[str]
    solved_only_by_b: list[str]


def paired_comparison(
    a: Report,
    b: Report,
    names: tuple[str, str] = ("A", "B"),
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedComparison:
    """Paired differences B - A of pass@k for every k both reports can estimate.

    CompareError when the reports share no problem or no k.
    """
    pa = {p.problem_id: p for p in a.problems}
    pb = {p.problem_id: p for p in b.problems}
    common = [pid for pid in pa if pid in pb]
    if not common:
        raise CompareError(f"{names[0]} and {names[1]} have no problem in common: nothing to pair")
    ks = [k for k in a.ks if k in b.ks]
    if not ks:
        raise CompareError(
            f"{names[0]} (k={a.ks}) and {names[1]} (k={b.ks}) share no k: nothing to compare"
        )
    difficulties = sorted(
        {pa[p].difficulty for p in common if pa[p].difficulty}, key=difficulty_key
    )
    groups = [(d, [p for p in common if pa[p].difficulty == d]) for d in difficulties]
    groups.append(("overall", common))
    deltas = []
    for k in ks:
        for label, ids in groups:
            va = per_problem_pass_at_k([(pa[p].n, pa[p].c) for p in ids], k)
            vb = per_problem_pass_at_k([(pb[p].n, pb[p].c) for p in ids], k)
            diff = vb - va
            low, high = bootstrap_interval(
                diff, resamples=resamples, confidence=confidence, seed=seed + k
            )
            deltas.append(
                PairedDelta(
                    group=label,
                    metric=f"pass@{k}",
                    n_problems=len(ids),
                    a=float(va.mean()),
                    b=float(vb.mean()),
                    difference=float(np.mean(diff)),
                    ci_low=low,
                    ci_high=high,
                )
            )
    return PairedComparison(
        a=names[0],
        b=names[1],
        n_paired=len(common),
        unpaired={names[0]: len(pa) - len(common), names[1]: len(pb) - len(common)},
        resamples=resamples,
        confidence=confidence,
        seed=seed,
        deltas=deltas,
        solved_only_by_a=[p for p in common if pa[p].c > 0 and pb[p].c == 0],
        solved_only_by_b=[p for p in common if pb[p].c > 0 and pa[p].c == 0],
    )


def paired_table(comparison: PairedComparison):
    """A rich Table: A, B and B - A with its paired interval, per (difficulty, metric)."""
    from rich.table import Table

    ci = int(round(comparison.confidence * 100))
    table = Table(
        title=f"paired difference B - A on {comparison.n_paired} problems (%)",
        caption=f"A = {comparison.a}, B = {comparison.b}; {ci}% paired bootstrap interval "
        f"({comparison.resamples} resamples of the problems)",
    )
    for name in ("difficulty", "metric", "problems", "A", "B", "B - A", f"{ci}% CI"):
        table.add_column(name, justify="left" if name in ("difficulty", "metric") else "right")
    order = list(dict.fromkeys(d.group for d in comparison.deltas))
    rows = sorted(comparison.deltas, key=lambda d: (order.index(d.group), int(d.metric[5:])))
    for d in rows:
        significant = d.ci_low > 0 or d.ci_high < 0
        table.add_row(
            d.group,
            d.metric,
            str(d.n_problems),
            f"{100 * d.a:.1f}",
            f"{100 * d.b:.1f}",
            f"{100 * d.difference:+.1f}",
            f"[{100 * d.ci_low:+.1f}, {100 * d.ci_high:+.1f}]",
            style=("bold" if d.group == "overall" else None),
        )
        if significant:
            table.rows[-1].style = "bold green" if d.difference > 0 else "bold red"
    return table


def solved_lines(comparison: PairedComparison, limit: int = 20) -> list[str]:
    """'solved only by A (n): id, id, ...' and the same for B (the first `limit` ids)."""
    lines = []
    for name, ids in (
        (comparison.a, comparison.solved_only_by_a),
        (comparison.b, comparison.solved_only_by_b),
    ):
        shown = ", ".join(ids[:limit]) + (
            f", ... ({len(ids) - limit} more)" if len(ids) > limit else ""
        )
        lines.append(f"solved only by {name} ({len(ids)}): {shown or '-'}")
    return lines
