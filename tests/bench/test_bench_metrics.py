"""pass@k against brute-force enumeration, k > n errors, bootstrap intervals, APPS metrics."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appsplus.bench.metrics import (
    MetricError,
    bootstrap_interval,
    pass_at_k,
    per_problem_pass_at_k,
    strict_accuracy,
    test_case_average,
)


def brute_force(n: int, c: int, k: int) -> float:
    """Share of the k-subsets of n samples (c correct) that hold at least one correct sample."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_pass_at_k_matches_enumeration_over_all_k_subsets(data):
    n = data.draw(st.integers(1, 12))
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    assert pass_at_k(n, c, k) == pytest.approx(brute_force(n, c, k), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 400), data=st.data())
def test_pass_at_k_matches_exact_binomials(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    exact = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-9)


def test_pass_at_k_edge_cases_and_stability():
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 6, 5) == 1.0  # n - c < k: every subset holds a pass
    assert pass_at_k(20, 1, 1) == pytest.approx(0.05)
    # huge n: the binomials have thousands of digits, the product form stays exact enough
    assert pass_at_k(10_000, 1, 1000) == pytest.approx(0.1)
    assert 0.0 <= pass_at_k(100_000, 3, 7) <= 1.0


@pytest.mark.parametrize(("n", "c", "k"), [(3, 1, 5), (0, 0, 1), (5, 6, 1), (5, 1, 0)])
def test_invalid_arguments_raise(n, c, k):
    with pytest.raises(MetricError):
        pass_at_k(n, c, k)


def test_k_greater_than_n_is_an_error_not_a_silent_drop():
    with pytest.raises(MetricError, match="1 problem"):
        per_problem_pass_at_k([(10, 3), (4, 1), (10, 0)], k=5)
    values = per_problem_pass_at_k([(10, 3), (10, 0)], k=5)
    assert len(values) == 2


def test_bootstrap_is_seeded_and_brackets_the_mean():
    rng = np.random.default_rng(1)
    values = rng.random(200)
    a = bootstrap_interval(values, resamples=500, seed=3)
    b = bootstrap_interval(values, resamples=500, seed=3)
    c = bootstrap_interval(values, resamples=500, seed=4)
    assert a == b and a != c
    assert a[0] < values.mean() < a[1]
    wide = bootstrap_interval(values, resamples=500, confidence=0.99, seed=3)
    assert wide[0] <= a[0] and wide[1] >= a[1]
    assert bootstrap_interval(np.ones(5), resamples=200) == (1.0, 1.0)
    with pytest.raises(MetricError):
        bootstrap_interval(np.array([]))


def test_apps_metrics():
    assert strict_accuracy([[True, False], [False, False]]) == pytest.approx(0.25)
    assert test_case_average([[1.0, 0.5], [0.0, 0.25]]) == pytest.approx(0.4375)
    with pytest.raises(MetricError):
        strict_accuracy([])
