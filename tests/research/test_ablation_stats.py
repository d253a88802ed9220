"""scripts/ablation_stats.py: its bootstrap equals a naive computation on the same draws."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ablation_stats.py"
_spec = importlib.util.spec_from_file_location("ablation_stats", SCRIPT)
stats = importlib.util.module_from_spec(_spec)
sys.modules["ablation_stats"] = stats
_spec.loader.exec_module(stats)


def _matrix(rng, seeds, problems):
    return [[float(rng.random() < 0.4) for _ in range(problems)] for _ in range(seeds)]


def _naive(a, b, n_boot, seed, level):
    """Literally: draw seeds and problems, list every resampled cell's difference, average."""
    rng = random.Random(seed)
    reps = []
    for _ in range(n_boot):
        seeds = [rng.randrange(len(a)) for _ in range(len(a))]
        problems = [rng.randrange(len(a[0])) for _ in range(len(a[0]))]
        cells = [a[s][p] - (b[s][p] if b else 0.0) for s in seeds for p in problems]
        reps.append(sum(cells) / len(cells))
    tail = (1 - level) / 2
    mean = float(np.mean(np.array(a) - (np.array(b) if b else 0.0)))
    return (
        mean,
        float(np.percentile(reps, 100 * tail)),
        float(np.percentile(reps, 100 - 100 * tail)),
    )


@pytest.mark.parametrize("shape", [(3, 17), (1, 9), (5, 4)])
@pytest.mark.parametrize("paired", [False, True])
def test_bootstrap_equals_naive_computation(shape, paired):
    rng = random.Random(hash(shape) % 1000 + paired)
    a = _matrix(rng, *shape)
    b = _matrix(rng, *shape) if paired else None
    got = stats.bootstrap(a, b, n_boot=300, seed=11, level=0.9)
    mean, low, high = _naive(a, b, n_boot=300, seed=11, level=0.9)
    assert got.mean == pytest.approx(mean, abs=1e-12)
    assert got.low == pytest.approx(low, abs=1e-12)
    assert got.high == pytest.approx(high, abs=1e-12)
    assert (got.n_seeds, got.n_problems) == shape
    assert got.low <= got.mean + 1e-12 and got.mean - 1e-12 <= got.high


def test_identical_methods_give_a_zero_interval_and_a_real_gap_excludes_zero():
    rng = random.Random(0)
    a = _matrix(rng, 3, 40)
    same = stats.bootstrap(a, a, n_boot=200)
    assert (same.mean, same.low, same.high) == (0.0, 0.0, 0.0)
    assert not same.excludes_zero()
    better = [[1.0] * 40 for _ in range(3)]
    gap = stats.bootstrap(better, a, n_boot=200)
    assert gap.excludes_zero() and gap.low > 0


@pytest.mark.parametrize("bad", [[], [[]], [[1.0, 0.0], [1.0]]])
def test_malformed_matrices_are_rejected(bad):
    with pytest.raises(ValueError):
        stats.bootstrap(bad)


def test_percentile_matches_numpy():
    values = [random.Random(3).random() for _ in range(7)] + [0.5, 0.25]
    for q in (0.0, 0.025, 0.5, 0.975, 1.0):
        assert stats.percentile(values, q) == pytest.approx(np.percentile(values, 100 * q))
