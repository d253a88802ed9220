"""Timeouts confirmed under a generous limit (appsplus.quality.timeouts), through the real executor.

A slow machine is a short limit: a program that needs 0.3 s is, against a 0.1 s limit, what
a 0.03 s program is on a machine ten times slower. So these tests shrink the limits instead
of loading the machine (tests/quality/test_load_independence.py loads it for real).
"""

from __future__ import annotations

from appsplus.curate.cache import CachedRunner
from appsplus.curate.verify import Verified, VerifyConfig, verify_problems
from appsplus.execution import Job, Limits, StdioTest, Verdict, run_many
from appsplus.quality.assess import assess
from appsplus.quality.models import QualityConfig
from appsplus.quality.timeouts import confirm_timeouts
from appsplus.schema import Problem

# busy for 0.3 s of wall-clock time on input "slow" (so the same on any machine), else fast
ECHO = """import time
s = input()
if s == "slow":
    t = time.perf_counter()
    while time.perf_counter() - t < 0.3:
        pass
print(s)
"""
LOOP = "while True:\n    pass\n"


def io(text: str, out: str | None = None) -> StdioTest:
    return StdioTest(input=text + "\n", output=(text if out is None else out) + "\n")


class Recorder:
    """A runner on the real pool that keeps every job it was given."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self.jobs: list[Job] = []

    def __call__(self, jobs):
        self.jobs += jobs
        return run_many(jobs, pool=self.pool)


def test_timeouts_are_confirmed_under_the_generous_limit(pool):
    short = Limits(time_s=0.1)
    gated = Job(
        program=ECHO,
        tests=[io("a"), io("slow"), io("b", "wrong"), io("c")],
        limits=short,
        stop_on_first_failure=True,
    )
    every = Job(
        program=ECHO, tests=[io("slow"), io("a"), io("slow"), io("b", "wrong")], limits=short
    )
    looping = Job(program=LOOP, tests=[io("a")], limits=short)
    fast = Job(program=ECHO, tests=[io("a")], limits=short)
    jobs = [gated, every, looping, fast]

    raw = run_many(jobs, pool=pool)  # what a build decided from before
    assert raw[0].verdicts[:2] == [Verdict.PASSED, Verdict.TIMEOUT]
    assert raw[1].verdicts[0] is Verdict.TIMEOUT

    runner = Recorder(pool)
    got = confirm_timeouts(runner, verification_limit_s=2.0)(jobs)
    P, W, T, S = Verdict.PASSED, Verdict.WRONG_ANSWER, Verdict.TIMEOUT, Verdict.SKIPPED
    assert got[0].verdicts == [P, P, W, S]  # the gate goes on from the confirmed test
    assert got[1].verdicts == [P, P, P, W]
    assert got[2].verdicts == [T] and got[2].tests[0].duration_s >= 2.0
    assert got[2].tests[0].error == "exceeded 2 s (confirmed)"  # whatever the load factor
    assert got[3].verdicts == [P]
    # only the timed-out tests ran again (the gated job: from its first timeout on), under
    # 2 s times the machine's load factor
    reruns = runner.jobs[len(jobs) :]
    assert [len(j.tests) for j in reruns] == [3, 2, 1]
    assert len({j.limits.time_s for j in reruns}) == 1 and reruns[0].limits.time_s >= 2.0
    assert [j.stop_on_first_failure for j in reruns] == [True, False, False]


WORK = """n = int(input())
w = sum(range(300000)) > 0
if n % 2 == 0:
    print(n // 2)
else:
    print(3 * n + 1)
"""


def collatz(pid: str) -> Problem:
    def step(n: int) -> int:
        return n // 2 if n % 2 == 0 else 3 * n + 1

    return Problem(
        problem_id=pid,
        source_id=1,
        split="train",
        difficulty="introductory",
        question="Print the next Collatz number after n.",
        kind="stdio",
        tests=[StdioTest(input=f"{n}\n", output=f"{step(n)}\n") for n in (2, 3, 7, 10)],
        solutions=[WORK],
    )


def test_a_slow_machine_measures_the_same_quality(pool):
    """Every quality run timing out (a 1 ms limit: the slowest machine) changes nothing."""
    runner = CachedRunner(pool)
    verify = VerifyConfig(limits=Limits(time_s=2.0))
    (v,) = verify_problems([collatz("apps/train/0001")], verify, runner)
    assert isinstance(v, Verified)
    config = QualityConfig(max_mutants=8, probe_inputs=4)
    idle = assess([v], config, verify, runner)[0].quality
    slow = config.model_copy(update={"quality_time_s": 0.001})
    loaded = assess([v], slow, verify, runner)[0].quality
    assert idle.mutants_uncounted < 8 and idle.mutants_killed > 0  # the runs mostly finished
    assert loaded == idle


def test_a_solution_that_finishes_keeps_passing_on_a_slow_machine(pool):
    """Verification confirms a timeout under twice its limit before a solution stops passing."""
    slow = ECHO.replace("0.3", "1.3")
    problem = Problem(
        problem_id="apps/train/0002",
        source_id=2,
        split="train",
        difficulty="introductory",
        question="Echo the line.",
        kind="stdio",
        tests=[io("a"), io("slow")],
        solutions=[LOOP, slow, ECHO],
    )
    (v,) = verify_problems([problem], VerifyConfig(limits=Limits(time_s=1.0)), CachedRunner(pool))
    assert isinstance(v, Verified)
    assert v.passing == [1, 2] and v.canonical_index == 1  # before: [2], canonical 2


def test_a_confirmation_is_cached_under_its_unscaled_limit(pool, tmp_path, monkeypatch):
    """The confirm limit is scaled by the machine's load when the reruns start; the build's
    cache stores the confirmation under the unscaled limit, so a build resumed under another
    load re-runs nothing (a resume after a change of load ran every confirmation again)."""
    from appsplus.curate.cache import ResultCache
    from appsplus.quality import timeouts

    cache = ResultCache(tmp_path / "verify.sqlite")
    looping = Job(program=LOOP, tests=[io("a")], limits=Limits(time_s=0.1))
    seen = []
    for load in (1.0, 1.5):  # two loads: two scaled limits, one stored confirmation
        monkeypatch.setattr(timeouts, "load_factor", lambda load=load: load)
        runner = CachedRunner(pool, cache)
        (result,) = confirm_timeouts(runner, verification_limit_s=0.2)([looping])
        assert result.tests[0].verdict is Verdict.TIMEOUT
        assert result.tests[0].error == "exceeded 0.2 s (confirmed)"
        seen.append(runner.executed)
    assert seen == [2, 0]  # the first run and its confirmation; then both from the cache
