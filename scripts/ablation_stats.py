"""Paired bootstrap intervals over seeds and problems (stdlib only; used by scripts/ablation.py).

    from ablation_stats import bootstrap
    ci = bootstrap(a)            # a[seed][problem]: pass@1 of one method -> mean and 95% CI
    ci = bootstrap(a, b)         # paired: the mean of a - b over the same (seed, problem) cells

Each replicate resamples seeds with replacement and, independently, problems with
replacement (a two-way bootstrap: both the training seed and the problem sample vary),
and takes the mean over the resampled (seed, problem) cells. Paired: the same draws are
applied to a and b, so the interval is the one of their per-cell differences. The
interval is the percentile interval (linear interpolation between order statistics, as
numpy's default percentile).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

Matrix = Sequence[Sequence[float]]


@dataclass(frozen=True)
class Interval:
    """A point estimate (the plain mean over every cell) and its bootstrap interval."""

    mean: float
    low: float
    high: float
    n_seeds: int
    n_problems: int

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict:
        return asdict(self)


def differences(a: Matrix, b: Matrix | None) -> list[list[float]]:
    """a - b cell by cell (a itself without b); rejects ragged or mismatched shapes."""
    if not a or not a[0]:
        raise ValueError("need at least one seed and one problem")
    width = len(a[0])
    if any(len(row) != width for row in a) or (
        b is not None and (len(b) != len(a) or any(len(row) != width for row in b))
    ):
        raise ValueError("a and b must be [seeds][problems] matrices of one shape")
    if b is None:
        return [list(map(float, row)) for row in a]
    return [[x - y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def draws(rng: random.Random, n_seeds: int, n_problems: int) -> tuple[list[int], list[int]]:
    """One replicate's resampled seed indices and problem indices (seeds drawn first)."""
    seeds = [rng.randrange(n_seeds) for _ in range(n_seeds)]
    problems = [rng.randrange(n_problems) for _ in range(n_problems)]
    return seeds, problems


def replicate_mean(d: Matrix, seeds: list[int], problems: list[int]) -> float:
    """Mean over the resampled cells, from the draws' multiplicities (O(S x P) per replicate)."""
    seed_count = [0] * len(d)
    for s in seeds:
        seed_count[s] += 1
    problem_count = [0] * len(d[0])
    for p in problems:
        problem_count[p] += 1
    total = 0.0
    for s, u in enumerate(seed_count):
        if u:
            total += u * sum(w * x for w, x in zip(problem_count, d[s]) if w)
    return total / (len(seeds) * len(problems))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) with linear interpolation between order statistics."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    lo = int(position)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)


def bootstrap(
    a: Matrix, b: Matrix | None = None, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Mean of a (or of a - b, paired) over seeds x problems, with its bootstrap interval."""
    d = differences(a, b)
    rng = random.Random(seed)
    reps = [replicate_mean(d, *draws(rng, len(d), len(d[0]))) for _ in range(n_boot)]
    tail = (1 - level) / 2
    mean = sum(map(sum, d)) / (len(d) * len(d[0]))
    return Interval(mean, percentile(reps, tail), percentile(reps, 1 - tail), len(d), len(d[0]))
