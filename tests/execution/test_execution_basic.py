"""The executor's contract on ordinary programs: verdicts, conventions, tracing, batching."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from pydantic import ValidationError

from appsplus.execution import (
    CallTest,
    ExecutionResult,
    Job,
    Limits,
    StdioTest,
    Verdict,
    WorkerPool,
    run_many,
    run_tests,
)
from appsplus.execution import tests_from_apps as apps_tests  # not collected as a test

P, WA, RE, TLE, CE, SKIP = (
    Verdict.PASSED,
    Verdict.WRONG_ANSWER,
    Verdict.RUNTIME_ERROR,
    Verdict.TIMEOUT,
    Verdict.COMPILE_ERROR,
    Verdict.SKIPPED,
)


def stdio(inp: str = "", out: str = "") -> StdioTest:
    return StdioTest(input=inp, output=out)


def call(fn_name: str, args: list, expected, quirk: bool = False) -> CallTest:
    return CallTest(fn_name=fn_name, args=args, expected=expected, apps_list_quirk=quirk)


# --------------------------------------------------------------------------- stdio
def test_stdio_pass_and_wrong_answer(pool):
    program = "a, b = map(int, input().split())\nprint(a + b)\n"
    result = run_tests(program, [stdio("1 2\n", "3\n"), stdio("5 5\n", "11\n")], pool=pool)
    assert result.verdicts == [P, WA]
    assert [t.output for t in result.tests] == ["3\n", "10\n"]
    assert not result.passed
    assert result.pass_fraction == 0.5
    assert result.compile_error is None
    assert result.executed_lines is None


def test_stdio_reads_all_of_stdin_in_different_ways(pool):
    programs = [
        "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n",
        "import sys\nprint(sum(int(x) for line in sys.stdin for x in line.split()))\n",
        "import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))\n",
        "print(sum(map(int, open(0).read().split())))\n",
    ]
    tests = [stdio("1 2\n3\n", "6"), stdio("10\n20 30 40\n", "100")]
    for program in programs:
        assert run_tests(program, tests, pool=pool).verdicts == [P, P], program


def test_runtime_error_reports_exception_and_line(pool):
    program = "x = int(input())\ny = [1, 2]\nprint(y[x])\n"
    result = run_tests(program, [stdio("1\n", "2"), stdio("5\n", "0")], pool=pool)
    assert result.verdicts == [P, RE]
    assert result.tests[1].error == "IndexError: list index out of range (line 3)"


def test_stderr_is_captured_and_does_not_count(pool):
    program = "import sys\nprint('to stderr', file=sys.stderr)\nprint(1)\n"
    result = run_tests(program, [stdio(out="1")], pool=pool)
    assert result.verdicts == [P]
    assert result.tests[0].stderr == "to stderr\n"


def test_output_preview_is_truncated(pool):
    result = run_tests("print('x' * 5000)\n", [stdio(out="x" * 5000)], pool=pool)
    assert result.verdicts == [P]  # judged on the full output
    assert result.tests[0].output == "x" * 2000


def test_durations_are_measured(pool):
    result = run_tests("import time\ntime.sleep(0.2)\nprint(1)\n", [stdio(out="1")], pool=pool)
    assert result.verdicts == [P]
    assert 0.15 < result.tests[0].duration_s < 2


def test_module_state_is_fresh_for_every_test(pool):
    program = "try:\n    seen += 1\nexcept NameError:\n    seen = 0\nprint(seen)\n"
    assert run_tests(program, [stdio(out="0")] * 3, pool=pool).verdicts == [P] * 3


def test_isolation_is_reported(pool):
    result = run_tests("print(1)\n", [stdio(out="1")], pool=pool)
    assert result.isolation == pool.isolation()


def test_default_pool_is_used_without_a_pool():
    result = run_tests("print(int(input()) * 2)", [stdio("2\n", "4\n")])
    assert result.passed


# --------------------------------------------------------------------------- call-based
def test_call_plain_function(pool):
    program = "def add(a, b):\n    return a + b\n"
    tests = [call("add", [1, 2], 3), call("add", [[1], [2]], [1, 2]), call("add", ["a", "b"], "ab")]
    result = run_tests(program, tests, pool=pool)
    assert result.verdicts == [P, P, P]
    assert [t.output for t in result.tests] == ["3", "[1, 2]", '"ab"']


def test_call_solution_method(pool):
    program = "class Solution:\n    def twice(self, x):\n        return x * 2\n"
    result = run_tests(program, [call("twice", [3], 6), call("twice", [4], 9)], pool=pool)
    assert result.verdicts == [P, WA]


def test_call_uses_list_without_import(pool):
    # LeetCode-style code annotates with `List` and never imports it (APPS convention).
    program = (
        "class Solution:\n"
        "    def kth(self, arr: List[int], k: int) -> int:\n"
        "        return sorted(arr)[k]\n"
        "def helper(x: Optional[Dict[str, int]] = None) -> Tuple[int, ...]:\n"
        "    return (1,)\n"
    )
    result = run_tests(program, [call("kth", [[3, 1, 2], 0], 1)], pool=pool)
    assert result.verdicts == [P]


def test_call_return_values_are_json_round_tripped(pool):
    program = "def f(kind):\n    return {'tuple': (1, 2), 'bool': True, 'float': 0.1 + 0.2, 'none': None}[kind]\n"
    tests = [
        call("f", ["tuple"], [1, 2]),
        call("f", ["bool"], True),
        call("f", ["float"], 0.3),
        call("f", ["none"], None),
    ]
    assert run_tests(program, tests, pool=pool).verdicts == [P, P, P, P]
    # booleans are integers (True == 1), as in Python and the APPS harness; 2 is not True
    assert run_tests(program, [call("f", ["bool"], 1)], pool=pool).verdicts == [P]
    assert run_tests(program, [call("f", ["bool"], 2)], pool=pool).verdicts == [WA]


def test_call_numpy_values_are_converted(pool):
    pytest.importorskip("numpy")
    program = "import numpy as np\ndef f(n):\n    return np.arange(n)\ndef g(n):\n    return np.int64(n)\n"
    assert run_tests(program, [call("f", [3], [0, 1, 2])], pool=pool).verdicts == [P]
    assert run_tests(program, [call("g", [7], 7)], pool=pool).verdicts == [P]


def test_call_missing_function_is_runtime_error(pool):
    result = run_tests("def other():\n    pass\n", [call("f", [], 1)], pool=pool)
    assert result.verdicts == [RE]
    assert "NameError" in result.tests[0].error


def test_call_unserializable_return_is_wrong_answer(pool):
    result = run_tests("def f():\n    return object()\n", [call("f", [], 1)], pool=pool)
    assert result.verdicts == [WA]
    assert "not JSON-serializable" in result.tests[0].error


def test_call_arguments_are_fresh_for_every_test(pool):
    program = "def f(xs):\n    xs.append(1)\n    return len(xs)\n"
    assert run_tests(program, [call("f", [[]], 1)] * 3, pool=pool).verdicts == [P] * 3


@pytest.mark.parametrize(
    ("returned", "expected", "quirk", "verdict"),
    [
        ("[1, 2]", [[1, 2]], True, P),  # raw APPS: the value wrapped in a one-element list
        ("[[1, 2]]", [[1, 2]], True, P),  # ... or the wrapped value itself
        ("[1, 2]", [[1, 2]], False, WA),
        ("[[1, 2]]", [[1, 2]], False, P),
        ("5", [5], True, P),
        ("5", [5], False, WA),
        ("[5]", [5], True, P),
        ("5", [5, 5], True, WA),  # only one-element lists are unwrapped
        ("True", [1], True, P),  # booleans are integers
        ("True", [2], True, WA),
    ],
)
def test_apps_list_quirk(pool, returned, expected, quirk, verdict):
    program = f"def f():\n    return {returned}\n"
    assert run_tests(program, [call("f", [], expected, quirk)], pool=pool).verdicts == [verdict]


# --------------------------------------------------------------------------- contract
def test_zero_tests_is_not_a_pass(pool):
    result = run_tests("print(1)\n", [], pool=pool)
    assert result.tests == []
    assert not result.passed
    assert result.pass_fraction == 0.0


def test_mixed_test_kinds_are_rejected(pool):
    with pytest.raises(ValueError, match="all stdio or all call-based"):
        run_tests("print(1)\n", [stdio(out="1"), call("f", [], 1)], pool=pool)
    with pytest.raises(ValueError, match="same function"):
        run_tests("def f(): pass\n", [call("f", [], 1), call("g", [], 1)], pool=pool)
    # the pool still works after a rejected job
    assert run_tests("print(1)\n", [stdio(out="1")], pool=pool).passed


def test_limits_are_validated():
    with pytest.raises(ValidationError):
        Limits(time_s=0)
    with pytest.raises(ValidationError):
        Limits(memory_mb=1)
    with pytest.raises(ValidationError):
        Limits(output_bytes=10)
    with pytest.raises(ValidationError):
        Limits(bogus=1)


def test_stop_on_first_failure_skips_later_tests(pool):
    program = "x = int(input())\nprint(x if x != 2 else -1)\n"
    tests = [stdio(f"{i}\n", f"{i}\n") for i in range(1, 5)]
    assert run_tests(program, tests, pool=pool).verdicts == [P, WA, P, P]
    gated = run_tests(program, tests, stop_on_first_failure=True, pool=pool)
    assert gated.verdicts == [P, WA, SKIP, SKIP]
    assert not gated.passed
    all_pass = run_tests("print(input())\n", tests, stop_on_first_failure=True, pool=pool)
    assert all_pass.verdicts == [P] * 4


def test_stop_on_first_failure_after_a_timeout(pool):
    # Only the first test runs: a 3-test timeout program costs one time limit, not three.
    result = run_tests(
        "while True:\n    pass\n",
        [stdio(out="1")] * 3,
        Limits(time_s=0.5),
        stop_on_first_failure=True,
        pool=pool,
    )
    assert result.verdicts == [TLE, SKIP, SKIP]


def test_stop_on_first_failure_after_a_crash(pool):
    program = "import os\nif input() == 'crash':\n    os._exit(7)\nprint('ok')\n"
    tests = [stdio("fine\n", "ok"), stdio("crash\n", "ok"), stdio("fine\n", "ok")]
    assert run_tests(program, tests, stop_on_first_failure=True, pool=pool).verdicts == [
        P,
        RE,
        SKIP,
    ]
    assert run_tests(program, tests, pool=pool).verdicts == [P, RE, P]


def test_compile_error_with_stop_on_first_failure(pool):
    result = run_tests("print(\n", [stdio(out="1")] * 2, stop_on_first_failure=True, pool=pool)
    assert result.verdicts == [CE, CE]


# --------------------------------------------------------------------------- tracing
STDIO_TRACED = """\
n = int(input())
if n > 100:
    print("big")
    return
if n < 0:
    print("neg")
else:
    print(n * 2)


def unused():
    return 1
"""


def test_trace_lines_stdio_with_top_level_return(pool):
    tests = [stdio("3\n", "6"), stdio("500\n", "big")]
    result = run_tests(STDIO_TRACED, tests, trace_lines=True, pool=pool)
    assert result.verdicts == [P, P]
    # union over tests; line 6 (untaken branch) and line 12 (never called) are absent
    assert result.executed_lines == frozenset({1, 2, 3, 4, 5, 8, 11})
    one = run_tests(STDIO_TRACED, tests[:1], trace_lines=True, pool=pool)
    assert one.executed_lines == frozenset({1, 2, 5, 8, 11})


def test_trace_lines_call_based_solution_class(pool):
    program = (
        "class Solution:\n"  # 1
        "    def twice(self, x):\n"  # 2
        "        if x > 10:\n"  # 3
        "            return -1\n"  # 4
        "        y = x * 2\n"  # 5
        "        return y\n"  # 6
        "\n"
        "def helper():\n"  # 8
        "    return 0\n"  # 9
    )
    result = run_tests(
        program, [call("twice", [3], 6), call("twice", [4], 8)], trace_lines=True, pool=pool
    )
    assert result.verdicts == [P, P]
    assert result.executed_lines == frozenset({1, 2, 3, 5, 6, 8})
    both = run_tests(
        program, [call("twice", [3], 6), call("twice", [11], -1)], trace_lines=True, pool=pool
    )
    assert both.executed_lines == frozenset({1, 2, 3, 4, 5, 6, 8})


def test_trace_lines_includes_lines_before_an_error(pool):
    program = "a = 1\nb = 0\nc = a / b\nprint(c)\n"
    result = run_tests(program, [stdio(out="1")], trace_lines=True, pool=pool)
    assert result.verdicts == [RE]
    assert result.executed_lines == frozenset({1, 2, 3})


def test_trace_lines_off_or_compile_error_gives_none(pool):
    assert run_tests(STDIO_TRACED, [stdio("3\n", "6")], pool=pool).executed_lines is None
    assert (
        run_tests("def f(:\n", [stdio(out="1")], trace_lines=True, pool=pool).executed_lines is None
    )


def test_trace_lines_do_not_change_verdicts(pool):
    tests = [stdio("3\n", "6"), stdio("-1\n", "neg"), stdio("500\n", "wrong")]
    plain = run_tests(STDIO_TRACED, tests, pool=pool)
    traced = run_tests(STDIO_TRACED, tests, trace_lines=True, pool=pool)
    assert plain.verdicts == traced.verdicts == [P, P, WA]


# --------------------------------------------------------------------------- determinism
DETERMINISM = """\
import random
words = {"apple", "banana", "cherry", "date", "elderberry", "fig", "grape", "kiwi"}
print(list(words))
print(random.random(), random.randint(1, 10**9))
print(hash("appsplus"))
"""


def test_a_large_job_reaches_its_child_whole(pool):
    big = "".join(f"{i}\n" for i in range(1_000_000))  # ~6.9 MB of input
    program = "import sys\ndata = sys.stdin.read().split()\nprint(len(data), data[-1])\n"
    result = run_tests(program, [stdio(big, "1000000 999999"), stdio("1\n", "1 1")], pool=pool)
    assert result.verdicts == [Verdict.PASSED, Verdict.PASSED]


SPARE_CASES = [
    ("print(int(input()) * 2)\n", [stdio("1\n", "2"), stdio("2\n", "4"), stdio("3\n", "5")], {}),
    ("import os\nif input() == '2':\n    os._exit(3)\nprint(1)\n", [stdio("1\n", "1"), stdio("2\n", "1"), stdio("3\n", "1")], {}),
    ("import threading, time\nthreading.Thread(target=time.sleep, args=(0.05,), daemon=True).start()\nprint(1)\n", [stdio("", "1")] * 3, {}),
    ("while input() == '2':\n    pass\nprint(1)\n", [stdio("1\n", "1"), stdio("2\n", "1"), stdio("3\n", "1")], {"limits": Limits(time_s=0.5)}),
    ("print(int(input()) - 1)\n", [stdio("1\n", "0"), stdio("2\n", "9"), stdio("3\n", "2")], {"stop_on_first_failure": True}),
    ("import os\nif os.fork() == 0:\n    os._exit(0)\nos.wait()\nprint(input())\n", [stdio("a\n", "a"), stdio("b\n", "b")], {}),
    ("def f(:\n", [stdio("", "1")], {}),
]  # fmt: skip


def test_forking_ahead_or_not_gives_the_same_verdicts(pool):
    """A worker forks the next job's child ahead only when a core is idle; both ways must
    judge alike (crashes, timeouts, restarts after threads, a gate, forks, compile errors)."""
    from appsplus.execution.pool import Worker

    worker = Worker()
    try:
        for program, tests, opts in SPARE_CASES:
            job = Job(program=program, tests=tests, **opts)
            runs = [worker.run(job, spare=spare) for spare in (True, False, True, True, False)]
            verdicts = [[t.verdict for t in r.tests] for r in runs]
            outputs = [[t.output for t in r.tests] for r in runs]
            assert all(v == verdicts[0] for v in verdicts), (program, verdicts)
            assert all(o == outputs[0] for o in outputs), (program, outputs)
            assert run_tests(program, tests, pool=pool, **opts).verdicts == verdicts[0]
    finally:
        worker.close()


def test_runs_are_deterministic(pool):
    first = run_tests(DETERMINISM, [stdio(out="")] * 2, pool=pool)
    with WorkerPool(1) as fresh:
        second = run_tests(DETERMINISM, [stdio(out="")], pool=fresh)
    outputs = [t.output for t in first.tests] + [second.tests[0].output]
    assert outputs[0].count("\n") == 3
    assert len(set(outputs)) == 1, outputs


# --------------------------------------------------------------------------- run_many
def _mixed_jobs() -> list[Job]:
    add = "a, b = map(int, input().split())\nprint(a + b)\n"
    jobs = []
    for i in range(6):
        jobs.append(Job(program=add, tests=[stdio(f"{i} {i}\n", f"{2 * i}"), stdio("1 1\n", "3")]))
    for i in range(4):
        jobs.append(
            Job(
                program=f"def f(x):\n    return x * {i}\n",
                tests=[call("f", [2], 2 * i), call("f", [3], 3)],
            )
        )
    jobs += [
        Job(
            program="class Solution:\n    def g(self, s: List[str]):\n        return s[::-1]\n",
            tests=[call("g", [["a", "b"]], ["b", "a"])],
        ),
        Job(program="print(1/0)\n", tests=[stdio(out="1")]),
        Job(program="def f(:\n", tests=[stdio(out="1")] * 2),
        Job(
            program="while True:\n    pass\n",
            tests=[stdio(out="1")] * 2,
            limits=Limits(time_s=0.3),
            stop_on_first_failure=True,
        ),
        Job(
            program="print(input())\n",
            tests=[stdio("x\n", "x"), stdio("y\n", "z"), stdio("w\n", "w")],
            stop_on_first_failure=True,
        ),
        Job(
            program=STDIO_TRACED, tests=[stdio("3\n", "6"), stdio("-2\n", "neg")], trace_lines=True
        ),
        Job(
            program="while True:\n    print('x' * 100)\n",
            tests=[stdio(out="1")],
            limits=Limits(output_bytes=2048),
        ),
        Job(program="x = bytearray(40 * 2**30)\n", tests=[stdio(out="1")]),
        Job(program="import sys\nprint(1)\nsys.exit(3)\n", tests=[stdio(out="1")]),
        Job(program="print(1)\n", tests=[]),
        Job(program=DETERMINISM, tests=[stdio(out="")]),
    ]
    for i in range(9):
        jobs.append(
            Job(
                program=f"print(sum(range({i * 1000})))\n",
                tests=[stdio(out=str(sum(range(i * 1000))))],
            )
        )
    return jobs


def _summary(result: ExecutionResult) -> tuple:
    return (
        result.verdicts,
        [t.output for t in result.tests],
        [t.error for t in result.tests],
        result.compile_error,
        result.executed_lines,
    )


def test_run_many_matches_serial_runs(pool):
    jobs = _mixed_jobs()
    assert len(jobs) >= 30
    serial = [
        run_tests(j.program, j.tests, j.limits, j.stop_on_first_failure, j.trace_lines, pool=pool)
        for j in jobs
    ]
    calls: list[int] = []
    lock = threading.Lock()

    def progress(index: int, result: ExecutionResult) -> None:
        with lock:
            calls.append(index)
        assert isinstance(result, ExecutionResult)

    parallel = run_many(jobs, workers=2, progress=progress)
    assert [_summary(r) for r in parallel] == [_summary(r) for r in serial]
    assert sorted(calls) == list(range(len(jobs)))  # once per job
    # spot-check that the batch really is mixed
    verdicts = {v for r in serial for v in r.verdicts}
    assert {
        P,
        WA,
        RE,
        TLE,
        CE,
        SKIP,
        Verdict.OUTPUT_LIMIT_EXCEEDED,
        Verdict.MEMORY_EXCEEDED,
    } <= verdicts


def test_run_many_on_a_given_pool_and_empty_batch(pool):
    assert run_many([], pool=pool) == []
    jobs = [Job(program="print(input())\n", tests=[stdio(f"{i}\n", f"{i}")]) for i in range(5)]
    results = run_many(jobs, pool=pool)
    assert [r.tests[0].output for r in results] == [f"{i}\n" for i in range(5)]
    # a caller's pool stays open
    assert run_tests("print(1)\n", [stdio(out="1")], pool=pool).passed


# --------------------------------------------------------------------------- tests_from_apps
def test_tests_from_apps_stdio():
    io = {"inputs": ["1 2\n", ["3 4", "5"]], "outputs": ["3\n", ["7", "5"]]}
    tests = apps_tests(io)
    assert tests == [
        StdioTest(input="1 2\n", output="3\n"),
        StdioTest(input="3 4\n5", output="7\n5"),
    ]
    assert apps_tests(json.dumps(io)) == tests


def test_tests_from_apps_call_based():
    io = {"fn_name": "f", "inputs": [[1, 2], [[3]]], "outputs": [[3], [[3]]]}
    tests = apps_tests(json.dumps(io))
    assert tests == [
        CallTest(fn_name="f", args=[1, 2], expected=[3], apps_list_quirk=True),
        CallTest(fn_name="f", args=[[3]], expected=[[3]], apps_list_quirk=True),
    ]


def test_tests_from_apps_empty():
    assert apps_tests({"inputs": [], "outputs": []}) == []


@pytest.mark.parametrize(
    ("io", "message"),
    [
        ("not json", "Expecting value"),
        ([], "must be a JSON object"),
        ("[1, 2]", "must be a JSON object"),
        ({"inputs": ["1"]}, "needs lists 'inputs' and 'outputs'"),
        ({"inputs": "1", "outputs": "1"}, "needs lists 'inputs' and 'outputs'"),
        ({"inputs": ["1", "2"], "outputs": ["1"]}, "2 inputs but 1 outputs"),
        ({"inputs": [1], "outputs": ["1"]}, "expected a string or a list of strings, got int"),
        (
            {"inputs": ["1"], "outputs": [["a", 2]]},
            "expected a string or a list of strings, got list",
        ),
        (
            {"fn_name": "not valid", "inputs": [[1]], "outputs": [1]},
            "fn_name must be an identifier",
        ),
        ({"fn_name": 5, "inputs": [[1]], "outputs": [1]}, "fn_name must be an identifier"),
        (
            {"fn_name": "f", "inputs": [1], "outputs": [1]},
            "call-based inputs must be lists of arguments",
        ),
    ],
)
def test_tests_from_apps_malformed(io, message):
    with pytest.raises(ValueError, match=message):
        apps_tests(io)


def test_workers_of_a_checkout_under_tmp_share_it_safely(tmp_path):
    """Code that lives under /tmp is bound back, read-only, into each worker's private /tmp:
    two workers (both pid 1 of their own pid namespace) must not collide on their work
    folders, and no folder reaches the host's /tmp."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import appsplus

    checkout = tmp_path / "checkout"
    shutil.copytree(Path(appsplus.__file__).parent, checkout / "appsplus")
    before = {p.name for p in Path("/tmp").glob("appsplus-run-*")}
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(checkout)!r})\n"
        "from appsplus.execution import Job, StdioTest, WorkerPool, run_many\n"
        'prog = \'import os\\nopen("f", "w").write("x")\\nprint(int(input()) * 2)\\n\'\n'
        "jobs = [Job(program=prog, tests=[StdioTest(input=f'{i}\\n', output=f'{2 * i}\\n')]) for i in range(40)]\n"
        "with WorkerPool(2) as pool:\n"
        "    assert all(r.passed for r in run_many(jobs, pool=pool)), 'a job failed'\n"
        "    print(pool.isolation().private_tmp)\n"
        # the folders above the checkout are on the private tmpfs: what a program leaves
        # there (where it may write: rootless mode) must be gone for the next program
        f"above = {[str(p) for p in checkout.parents if str(p).startswith('/tmp/')]!r}\n"
        'leave = \'import os\\nfor d in %r:\\n    try:\\n        open(d + "/left", "w").close()\\n    except OSError:\\n        pass\\nprint(1)\\n\' % above\n'
        "look = 'import os\\nprint(any(os.path.exists(d + \"/left\") for d in %r))\\n' % above\n"
        "with WorkerPool(1) as pool:\n"
        "    assert run_many([Job(program=leave, tests=[StdioTest(input='', output='1')])], pool=pool)[0].passed\n"
        "    print(run_many([Job(program=look, tests=[StdioTest(input='', output='False')])], pool=pool)[0].passed)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "True"]  # /tmp private although the code lives there
    assert {p.name for p in Path("/tmp").glob("appsplus-run-*")} <= before


def test_a_program_starting_with_a_utf8_bom_runs_like_plain_python(pool):
    program = "\ufeffimport sys\nprint(int(input()) + 1)\n"
    result = run_tests(program, [StdioTest(input="1\n", output="2\n")], pool=pool)
    assert result.verdicts == [Verdict.PASSED], result.compile_error
    call = "\ufeffdef f(x):\n    return x * 2\n"
    result = run_tests(call, [CallTest(fn_name="f", args=[2], expected=4)], pool=pool)
    assert result.passed


def test_preamble_names_are_public_and_in_builtins_of_programs(pool):
    from appsplus.execution import preamble_names

    names = preamble_names()
    assert {"Counter", "List", "defaultdict", "gcd", "heappush"} <= set(names)
    program = f"print(all(n in dir(__builtins__) or hasattr(__builtins__, n) for n in {names!r}))\n"
    result = run_tests(program, [StdioTest(input="", output="True")], pool=pool)
    assert result.passed, result.tests[0]


def test_hash_seed_of_a_job_is_the_programs_pythonhashseed(pool):
    from appsplus.execution import Job, run_many

    program = "print(hash('appsplus'))"
    jobs = [Job(program=program, tests=[StdioTest(input="", output="")], hash_seed=seed)
            for seed in (0, 1, 0, 7)]  # fmt: skip
    outs = [r.tests[0].output for r in run_many(jobs, pool=pool)]
    assert outs[0] == outs[2]  # the same seed gives the same hashes
    assert len({outs[0], outs[1], outs[3]}) == 3  # other seeds give other ones
    assert run_tests(program, [StdioTest(input="", output=outs[0])], pool=pool).passed


# --------------------------------------------------------------------------- worker code
def _sandbox_copy(tmp_path, monkeypatch):
    """The worker's three modules copied to tmp_path, and the pool pointed at them."""
    import shutil
    from pathlib import Path

    from appsplus.execution import pool as pool_module

    folder = tmp_path / "sandbox"
    folder.mkdir()
    for name in pool_module._SANDBOX_MODULES:
        shutil.copy2(Path(pool_module.SANDBOX_SCRIPT).with_name(name), folder / name)
    monkeypatch.setattr(pool_module, "SANDBOX_SCRIPT", folder / "_sandbox.py")
    monkeypatch.setattr(pool_module, "_bytecode_checked", False)
    return folder


MARK = "print(APPSPLUS_TEST_MARK)\n"


def test_workers_run_their_code_from_an_up_to_date_bytecode_cache(tmp_path, monkeypatch):
    import importlib.util
    import os

    from appsplus.execution import pool as pool_module

    folder = _sandbox_copy(tmp_path, monkeypatch)
    with WorkerPool(1) as p:  # the first worker writes the cache of all three modules
        assert run_tests(MARK, [stdio("", "41\n")], pool=p).verdicts == [RE]

    def source_mtime_in_cache(name: str) -> int:  # the PEP 552 header of the .pyc
        pyc = importlib.util.cache_from_source(str(folder / name), optimization="")
        with open(pyc, "rb") as f:
            head = f.read(16)
        assert int.from_bytes(head[4:8], "little") == 0  # validated by the source's mtime
        return int.from_bytes(head[8:12], "little")

    for name in pool_module._SANDBOX_MODULES:
        assert source_mtime_in_cache(name) == int(os.path.getmtime(folder / name))
    # a source edited after its cache was written is what runs (the stale cache is not used)
    preamble = folder / "preamble.py"
    first = source_mtime_in_cache("preamble.py")
    preamble.write_text(preamble.read_text() + '\nPREAMBLE += "APPSPLUS_TEST_MARK = 41\\n"\n')
    later = int(os.path.getmtime(preamble)) + 10
    os.utime(preamble, (later, later))
    monkeypatch.setattr(pool_module, "_bytecode_checked", True)  # as if it could not be rewritten
    with WorkerPool(1) as p:
        assert run_tests(MARK, [stdio("", "41\n")], pool=p).passed
    assert source_mtime_in_cache("preamble.py") == first  # workers never write it (-B)
    monkeypatch.setattr(pool_module, "_bytecode_checked", False)  # the next pool rewrites it
    with WorkerPool(1) as p:
        assert run_tests(MARK, [stdio("", "41\n")], pool=p).passed
    assert source_mtime_in_cache("preamble.py") == later
    # and the cache is what workers run: a source of the same size and mtime without the mark
    # (a cache that matches it by its header) still gives the marked preamble
    text = preamble.read_text()
    plain = text.replace("PREAMBLE += ", "#" + " " * 11)  # the mark line, commented out
    assert len(plain) == len(text) and "PREAMBLE +=" not in plain
    preamble.write_text(plain)
    os.utime(preamble, (later, later))
    monkeypatch.setattr(pool_module, "_bytecode_checked", True)
    with WorkerPool(1) as p:
        assert run_tests(MARK, [stdio("", "41\n")], pool=p).passed


def test_workers_run_without_a_bytecode_cache(tmp_path, monkeypatch):
    from appsplus.execution import pool as pool_module

    folder = _sandbox_copy(tmp_path, monkeypatch)
    monkeypatch.setattr(pool_module, "_bytecode_checked", True)  # e.g. a read-only install
    with WorkerPool(1) as p:
        assert run_tests("print(input())\n", [stdio("7\n", "7\n")], pool=p).passed
        assert p.isolation().in_force  # the same worker, compiled from source
    assert not (folder / "__pycache__").exists()


def test_modules_in_the_callers_folder_do_not_shadow_the_workers(tmp_path, monkeypatch):
    for name in ("json", "ast", "random", "select"):
        (tmp_path / f"{name}.py").write_text(f"raise SystemExit('the caller\\'s {name}.py ran')\n")
    monkeypatch.chdir(tmp_path)
    with WorkerPool(1) as p:
        result = run_tests("import json\nprint(json.dumps(1))\n", [stdio("", "1\n")], pool=p)
        assert result.passed, result.tests[0]
        # a top-level `return` makes the child import `ast` (not the caller's ast.py)
        result = run_tests("print(1)\nif True:\n    return\n", [stdio("", "1\n")], pool=p)
        assert result.passed, result.tests[0]


def test_the_worker_holds_no_module_only_rare_programs_need(pool):
    """`ast` (a top-level `return`) is imported in the child that needs it and the loopback
    is brought up without `socket`: modules the worker holds are in every child's address
    space, whose page tables each fork copies. A program that imports them still can."""
    program = (
        "import sys\n"
        "print(sorted(m for m in ('ast', 'socket') if m in sys.modules))\n"
        "import ast, socket\n"
        "print(type(ast.parse('x')).__name__, socket.AF_INET.name)\n"
    )
    result = run_tests(program, [stdio("", "[]\nModule AF_INET\n")], pool=pool)
    assert result.passed, result.tests[0]


def test_default_pool_size_follows_the_cpus_this_process_may_use():
    """On a Slurm node or under taskset a job gets some of the machine's cores: the default
    pool (and the trainers' executors) size to those, not to the machine."""
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity on this platform")
    script = (
        "import os\n"
        "from appsplus.execution import WorkerPool, usable_cpus\n"
        "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "print(usable_cpus(), WorkerPool().size, WorkerPool(3).size)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "1", "3"]
