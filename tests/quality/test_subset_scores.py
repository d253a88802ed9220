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
