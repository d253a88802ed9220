"""Issue 24.5: a weaker test set never scores higher. Real APPS+ problems (the StepCoder
release sample in ../shared/data): each scored on its first test alone, with its full test
set known, never gets a higher mutation score than with all of its tests. Before the fix,
stepcoder/train/0004 scored 1.0 on one test and 0.9 on six (mutants that the removed tests
killed were classed equivalent)."""

from __future__ import annotations

from appsplus.curate.cache import CachedRunner
from appsplus.curate.normalize import normalize
from appsplus.curate.verify import Verified, VerifyConfig, verify_problems
from appsplus.execution import Limits
from appsplus.quality.assess import assess
from appsplus.quality.models import QualityConfig
from appsplus.schema import Problem
from appsplus.sources import open_source

VERIFY = VerifyConfig(limits=Limits(time_s=2.0))


def real_problems(shared_data, n: int) -> list[Problem]:
    path = shared_data / "apps-plus" / "stepcoder_apps_plus_sample.json"
    found = []
    for row in open_source(f"stepcoder:{path}").iter_rows():
        p = normalize(row)
        if isinstance(p, Problem) and len(p.tests) >= 3 and p.solutions:
            found.append(p.model_copy(update={"tests": p.tests[:6]}))
        if len(found) == n:
            break
    return found


def test_a_subset_of_the_tests_never_scores_higher(shared_data, pool):
    run = CachedRunner(pool)
    full = [v for v in verify_problems(real_problems(shared_data, 6), VERIFY, run)]
    full = [v for v in full if isinstance(v, Verified)]
    assert len(full) >= 5
    for keep in (1, 2):
        subsets = [v.problem.model_copy(update={"tests": v.problem.tests[:keep]}) for v in full]
        pairs = [(a, b) for a, b in zip(full, verify_problems(subsets, VERIFY, run), strict=True)]
        assert all(isinstance(b, Verified) for _, b in pairs)
        scored = assess([a for a, _ in pairs], QualityConfig(), VERIFY, run)
        known = {a.problem.problem_id: a.problem.tests for a, _ in pairs}
        weak = assess([b for _, b in pairs], QualityConfig(), VERIFY, run, known_tests=known)
        compared = 0
        for (a, _), all_tests, subset in zip(pairs, scored, weak, strict=True):
            x, y = all_tests.quality, subset.quality
            if x.mutation_score is None or y.mutation_score is None:
                continue
            compared += 1
            assert y.mutation_score <= x.mutation_score, (a.problem.problem_id, keep, x, y)
            # possibly-equivalent mutants are reported apart from killed and survived
            assert y.mutants_killed + len(y.surviving_mutants) == y.mutants_counted
        assert compared >= 5


# the fixed problems of tests/quality/test_format_probes.py (one is in the embedded sample)
FORMAT_PROBE_IDS = {"stepcoder/train/0004", "stepcoder/train/0010", "apps/train/4801"}


def fixed_problems(shared_data) -> list[Problem]:
    """The problems of the test above and of test_format_probes.py, first 6 tests each."""
    found = real_problems(shared_data, 6)
    path = shared_data / "apps-plus" / "stepcoder_apps_plus_sample.json"
    for spec in (f"stepcoder:{path}", "sample"):
        for row in open_source(spec).iter_rows():
            p = normalize(row)
            if isinstance(p, Problem) and p.problem_id in FORMAT_PROBE_IDS - {
                f.problem_id for f in found
            }:
                found.append(p.model_copy(update={"tests": p.tests[:6]}))
    return found


def prefix(v: Verified, k: int) -> Verified:
    """The verified problem scored on its first k tests (the same canonical solution, so
    the same mutants)."""
    problem = v.problem.model_copy(update={"tests": v.problem.tests[:k]})
    return v.model_copy(
        update={"problem": problem, "reference_runtimes_s": v.reference_runtimes_s[:k]}
    )


def test_the_conservative_score_never_rises_on_a_prefix_of_the_tests(shared_data, pool):
    """`mutation_score_min` ((killed + timed out) / compiled) on the first 1, 2, ... tests,
    with nothing else known, is never above the full set's, for every fixed problem; while
    plain `mutation_score` does rise on some prefix (its possibly equivalent mutants depend
    on the probes, which depend on the tests), so a min score made optimistic fails here."""
    run = CachedRunner(pool)
    problems = fixed_problems(shared_data)
    assert {p.problem_id for p in problems} >= FORMAT_PROBE_IDS and len(problems) >= 8
    full = [v for v in verify_problems(problems, VERIFY, run)]
    assert len(full) == len(problems) and all(isinstance(v, Verified) for v in full)
    assert all(len(v.problem.tests) >= 2 for v in full)
    # probes mutated from the scored tests only (format_probes=0): stepcoder/train/0004's
    # plain score rises from 0.9 on six tests to 1.0 on the first one
    config = QualityConfig(format_probes=0, nondeterminism=False, probe_solutions=1)
    cut = [(v, k) for v in full for k in range(1, len(v.problem.tests))]
    # one batch, so both workers stay busy
    scored = assess(full + [prefix(v, k) for v, k in cut], config, VERIFY, run)
    whole = {v.problem.problem_id: a.quality for v, a in zip(full, scored)}
    rose, fell = [], 0
    for (v, k), a in zip(cut, scored[len(full) :], strict=True):
        pid = v.problem.problem_id
        x, y = whole[pid], a.quality
        assert x.mutation_score_min is not None and y.mutation_score_min is not None, pid
        assert y.mutation_score_min <= x.mutation_score_min, (pid, k, x, y)
        fell += y.mutation_score_min < x.mutation_score_min
        if None not in (x.mutation_score, y.mutation_score) and (
            y.mutation_score > x.mutation_score  # type: ignore[operator]
        ):
            rose.append((pid, k, x.mutation_score, y.mutation_score))
    assert rose, "plain mutation_score rose on no prefix: the check above shows nothing"
    assert ("stepcoder/train/0004", 1) in [r[:2] for r in rose], rose
    assert fell, "the conservative score fell on no prefix: it does not measure the tests"
