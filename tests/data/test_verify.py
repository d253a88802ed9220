"""verify: canonical choice, the APPS list quirk, disputed outputs, runtimes, sandbox failures."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from appsplus.curate.cache import CachedRunner, ResultCache, job_key
from appsplus.curate.verify import (
    Verified,
    VerifyConfig,
    time_limit_for,
    verify_problems,
)
from appsplus.execution import CallTest, Job, Limits, SandboxError, StdioTest, WorkerPool
from appsplus.schema import Problem, Rejection, RejectReason

FAST = VerifyConfig(limits=Limits(time_s=2.0))
DOUBLE = "print(int(input()) * 2)\n"


def stdio_problem(outputs: list[str], solutions: list[str], pid: str = "t/train/1") -> Problem:
    inputs = [f"{i + 1}\n" for i in range(len(outputs))]
    return Problem(
        problem_id=pid,
        source_id=1,
        split="train",
        difficulty="interview",
        question="Print twice n.",
        kind="stdio",
        tests=[StdioTest(input=i, output=o) for i, o in zip(inputs, outputs)],
        solutions=solutions,
        provenance={"source": "test", "locator": f"{pid}:1"},
    )


def call_problem(
    args: list[list], expected: list, solutions: list[str], quirk: bool = True
) -> Problem:
    return Problem(
        problem_id="t/train/2",
        source_id=2,
        split="train",
        difficulty="introductory",
        question="f",
        kind="call",
        fn_name="f",
        tests=[
            CallTest(fn_name="f", args=a, expected=e, apps_list_quirk=quirk)
            for a, e in zip(args, expected)
        ],
        solutions=solutions,
        provenance={"source": "test", "locator": "t:2"},
    )


@pytest.fixture(scope="module")
def run(pool):
    return CachedRunner(pool)


def verify_one(problem: Problem, run, config: VerifyConfig = FAST) -> Verified | Rejection:
    return verify_problems([problem], config, run)[0]


# ---------------------------------------------------------------- canonical and passing


def test_canonical_first_and_shortest(run):
    long_pass = "n = int(input())\nresult = n + n\nprint(result)\n"
    problem = stdio_problem(["2\n", "4\n", "6\n"], ["print(1)\n", long_pass, DOUBLE])
    first = verify_one(problem, run)
    assert isinstance(first, Verified)
    assert first.passing == [1, 2] and first.canonical_index == 1
    shortest = verify_one(problem, run, FAST.model_copy(update={"canonical": "shortest"}))
    assert shortest.canonical_index == 2 and shortest.passing == [1, 2]
    assert first.problem.tests == problem.tests and first.corrections == []


def test_no_passing_solution_says_why(run):
    problem = stdio_problem(["2\n", "4\n"], ["print(0)\n", "raise ValueError('boom')\n"])
    result = verify_one(problem, run)
    assert isinstance(result, Rejection) and result.reason is RejectReason.NO_PASSING_SOLUTION
    assert result.stage == "verify" and "wrong_answer" in result.detail
    assert "ValueError: boom" in result.detail


def test_batch_keeps_problem_order(run):
    good = stdio_problem(["2\n"], [DOUBLE], pid="t/train/10")
    bad = stdio_problem(["3\n"], [DOUBLE], pid="t/train/11")
    results = verify_problems([good, bad, good], FAST, run)
    assert [type(r).__name__ for r in results] == ["Verified", "Rejection", "Verified"]


# ---------------------------------------------------------------- the APPS list quirk


def test_quirk_unwrapped_reading(run):
    solution = "def f(a, b):\n    return a + b\n"
    result = verify_one(call_problem([[1, 2], [3, 4]], [[3], [7]], [solution]), run)
    assert isinstance(result, Verified) and result.call_outputs == "unwrapped"
    assert [t.expected for t in result.problem.tests] == [3, 7]
    assert not any(t.apps_list_quirk for t in result.problem.tests)


def test_quirk_wrapped_reading_when_the_list_is_the_value(run):
    solution = "def f(a):\n    return [a * 2]\n"
    result = verify_one(call_problem([[1], [5]], [[2], [10]], [solution]), run)
    assert isinstance(result, Verified) and result.call_outputs == "wrapped"
    assert [t.expected for t in result.problem.tests] == [[2], [10]]


def test_quirk_majority_reading_drops_the_other(run):
    bare = "def f(a):\n    return a * 2\n"
    listed = "def f(a):\n    return [a * 2]\n"
    result = verify_one(call_problem([[1], [5]], [[2], [10]], [listed, bare, bare]), run)
    assert result.call_outputs == "unwrapped" and result.passing == [1, 2]
    assert result.canonical_index == 1


def test_quirk_with_a_truncated_preview_is_confirmed(run):
    big = "x" * 5000
    unwrapped = verify_one(call_problem([[1]], [[big]], [f"def f(a):\n    return {big!r}\n"]), run)
    assert isinstance(unwrapped, Verified) and unwrapped.call_outputs == "unwrapped"
    assert unwrapped.problem.tests[0].expected == big
    wrapped = verify_one(call_problem([[1]], [[big]], [f"def f(a):\n    return [{big!r}]\n"]), run)
    assert isinstance(wrapped, Verified) and wrapped.call_outputs == "wrapped"
    assert wrapped.problem.tests[0].expected == [big]


# ---------------------------------------------------------------- disputed expected outputs


def disputed() -> Problem:
    other = "n = int(input())\nprint(n + n)\n"
    return stdio_problem(["2\n", "5\n", "6\n"], [DOUBLE, other, "print(7)\n"])


def test_disputed_output_is_rejected_by_default(run):
    result = verify_one(disputed(), run)
    assert isinstance(result, Rejection)
    assert result.reason is RejectReason.DISPUTED_EXPECTED_OUTPUT
    assert "test 1" in result.detail and "'4\\n'" in result.detail and "[0, 1]" in result.detail


def test_disputed_output_is_repaired_on_request(run):
    config = FAST.model_copy(update={"repair_outputs": True})
    result = verify_one(disputed(), run, config)
    assert isinstance(result, Verified)
    assert [t.output for t in result.problem.tests] == ["2\n", "4\n", "6\n"]
    assert result.passing == [0, 1] and result.canonical_index == 0
    (correction,) = result.corrections
    assert correction.test_index == 1 and correction.stored == "5\n"
    assert correction.replaced_with == "4\n" and correction.agreeing_solutions == [0, 1]


def test_one_solution_is_no_consensus(run):
    result = verify_one(stdio_problem(["2\n", "5\n"], [DOUBLE]), run)
    assert result.reason is RejectReason.NO_PASSING_SOLUTION
    assert "only 1 solution(s) pass all other tests" in result.detail
    config = FAST.model_copy(update={"min_agreeing_solutions": 1})
    assert verify_one(stdio_problem(["2\n", "5\n"], [DOUBLE]), run, config).reason is (
        RejectReason.DISPUTED_EXPECTED_OUTPUT
    )


def test_disagreeing_solutions_are_no_consensus(run):
    plus_one = "n = int(input())\nprint(n * 2 + 2 * (n == 2))\n"
    result = verify_one(stdio_problem(["2\n", "5\n", "6\n"], [DOUBLE, plus_one]), run)
    assert result.reason is RejectReason.NO_PASSING_SOLUTION and "disagree" in result.detail


def test_call_based_dispute_is_repaired_with_the_bare_value(run):
    solutions = ["def f(a):\n    return a * 2\n", "def f(a):\n    return a + a\n"]
    problem = call_problem([[1], [2], [3]], [[2], [5], [6]], solutions)
    config = FAST.model_copy(update={"repair_outputs": True})
    result = verify_one(problem, run, config)
    assert isinstance(result, Verified) and result.call_outputs == "unwrapped"
    assert [t.expected for t in result.problem.tests] == [2, 4, 6]
    assert result.corrections[0].stored == [5] and result.corrections[0].replaced_with == 4


# ---------------------------------------------------------------- runtimes and limits


def test_time_limit_rule():
    config = VerifyConfig()
    assert time_limit_for([0.001, 0.1], config) == 1.0  # floor
    assert time_limit_for([0.1, 0.5], config) == 2.5  # 5 x slowest
    assert time_limit_for([0.1, 0.42], config) == 2.1  # rounded up to 0.1 s
    assert time_limit_for([5.0], config) == 10.0  # cap
    wide = VerifyConfig(limits=Limits(time_s=20.0))
    assert time_limit_for([20.0], wide) == 20.0  # never below the verification limit


def test_runtimes_come_from_the_canonical(run):
    problem = stdio_problem(
        ["2\n", "4\n"], ["import time\nn = int(input())\ntime.sleep(0.15 * n)\nprint(2 * n)\n"]
    )
    result = verify_one(problem, run)
    fast, slow = result.reference_runtimes_s
    assert 0.15 <= fast < 0.3 and 0.3 <= slow < 0.6
    assert result.time_limit_s == time_limit_for([fast, slow], FAST) >= 5 * slow


# ---------------------------------------------------------------- cache and failures


def test_cache_answers_repeated_jobs(tmp_path, pool):
    cache = ResultCache(tmp_path / "c.sqlite")
    runner = CachedRunner(pool, cache)
    problem = stdio_problem(["2\n", "4\n"], [DOUBLE, DOUBLE + "\n"])
    first = verify_one(problem, runner)
    assert runner.executed == 2 and runner.hits == 0 and len(cache) == 2
    again = verify_one(problem, runner)
    assert runner.executed == 2 and runner.hits == 2
    assert again == first
    job = Job(program=DOUBLE, tests=problem.tests, limits=FAST.limits, stop_on_first_failure=True)
    other = job.model_copy(update={"limits": Limits(time_s=3.0)})
    assert job_key(job) != job_key(other)
    cache.close()


def test_unsendable_arguments_are_rejected(run):
    problem = call_problem([[10**5000]], [[1]], ["def f(a):\n    return 1\n"], quirk=False)
    result = verify_one(problem, run)
    assert result.reason is RejectReason.MALFORMED_INPUT_OUTPUT and "executor" in result.detail


def test_sandbox_failure_propagates():
    """A worker that dies mid-job is a SandboxError out of verify, never a rejection."""
    problem = stdio_problem(["2\n"], ["import time\ntime.sleep(3)\nprint(2)\n"])
    outcome: dict[str, object] = {}
    with WorkerPool(1) as own:

        def target() -> None:
            try:
                outcome["result"] = verify_problems([problem], FAST, CachedRunner(own))
            except BaseException as e:
                outcome["error"] = e

        thread = threading.Thread(target=target)
        thread.start()
        deadline = time.monotonic() + 20
        while not own._all and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        for worker in list(own._all):
            os.killpg(worker.proc.pid, signal.SIGKILL)
        thread.join(30)
    assert isinstance(outcome.get("error"), SandboxError), outcome
