"""pass@k (the unbiased estimator), bootstrap intervals, and the APPS metrics.

    pass_at_k(n=20, c=3, k=5)        # 1 - C(n-c, k) / C(n, k), in a stable product form

For one problem with n samples of which c pass, pass@k = 1 - C(n-c, k)/C(n, k) (Chen et
al. 2021): the probability that a random k-subset of the n samples holds a passing one.
Computed as 1 - prod_{i=n-c+1..n} (1 - k/i), which never forms huge binomials. A suite's
pass@k is the mean over problems; k > n is an error, never a silently dropped problem.

Bootstrap: problems are resampled with replacement (seeded), the mean recomputed each
time; the interval is the percentile interval of those means.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from appsplus.errors import AppsplusError


class MetricError(AppsplusError, ValueError):
    """A metric cannot be computed as asked (k > n, no problems)."""


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem with `n` samples, `c` of them passing."""
    if not 0 <= c <= n:
        raise MetricError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1:
        raise MetricError(f"k must be at least 1, got {k}")
    if k > n:
        raise MetricError(f"pass@{k} needs at least {k} samples per problem, got n={n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def per_problem_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> np.ndarray:
    """pass@k of each (n, c); raises MetricError naming how many problems have n < k."""
    short = [n for n, _ in counts if n < k]
    if short:
        raise MetricError(
            f"pass@{k} needs at least {k} samples per problem: {len(short)} problem(s) have "
            f"fewer (smallest n = {min(short)}); lower k or generate more samples"
        )
    return np.array([pass_at_k(n, c, k) for n, c in counts], dtype=float)


def bootstrap_interval(
    values: np.ndarray, *, resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (problems resampled, seeded)."""
    if len(values) == 0:
        raise MetricError("no problems to bootstrap over")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 256):  # bounded memory for large suites
        stop = min(resamples, start + 256)
        idx = rng.integers(0, len(values), size=(stop - start, len(values)))
        means[start:stop] = values[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def strict_accuracy(passed: Sequence[Sequence[bool]]) -> float:
    """APPS strict accuracy: share of samples passing every test, averaged per problem, then over problems."""
    if not passed:
        raise MetricError("no problems")
    return float(np.mean([np.mean(p) if len(p) else 0.0 for p in passed]))


def test_case_average(fractions: Sequence[Sequence[float]]) -> float:
    """APPS test-case average: mean share of tests passed per sample, averaged per problem, then over problems."""
    if not fractions:
        raise MetricError("no problems")
    return float(np.mean([np.mean(f) if len(f) else 0.0 for f in fractions]))


test_case_average.__test__ = False  # not a pytest test, despite its name
