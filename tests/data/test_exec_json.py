"""`appsplus exec`: the first failing test as bench records it (input, expected, actual, error)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from appsplus.bench.execute import summarize
from appsplus.bench.files import Failure
from appsplus.cli.app import main as appsplus_main
from appsplus.execution import Limits, run_tests, tests_from_apps
from appsplus.execution.record import DETAIL_CHARS, ERROR_TAIL_CHARS


def _exec(tmp_path, program: str, io: dict, *args: str):
    (tmp_path / "sol.py").write_text(program)
    (tmp_path / "io.json").write_text(json.dumps(io))
    argv = ["exec", str(tmp_path / "sol.py"), "--tests", str(tmp_path / "io.json"), *args]
    return CliRunner().invoke(appsplus_main, argv)


def test_exec_json_has_the_first_failure_cut_and_marked(tmp_path):
    long_input = "7\n" + "a" * 2500 + "\n"
    io = {"inputs": ["2\n", long_input, "3\n"], "outputs": ["4\n", "b" * 1800 + "\n", "6\n"]}
    program = "n = int(input())\nprint(n * 2 if n != 7 else 'c' * 4000)\n"
    result = _exec(tmp_path, program, io, "--json")
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert payload["passed"] is False and payload["outcome"] == "wrong_answer"
    assert payload["test_verdicts"] == ["passed", "wrong_answer", "passed"]
    assert len(payload["test_durations_s"]) == 3 and all(
        0 < t < 4 for t in payload["test_durations_s"]
    )
    assert (payload["n_tests"], payload["n_passed"]) == (3, 2)
    f = payload["failure"]
    assert set(f) == set(Failure.model_fields)  # the shape of bench's per-sample record
    assert f["test_index"] == 1 and f["verdict"] == "wrong_answer"
    assert (
        f["input"]
        == long_input[:DETAIL_CHARS] + f"\n[... {len(long_input) - DETAIL_CHARS} characters cut]"
    )
    assert f["expected"].startswith("b" * DETAIL_CHARS)
    assert f["expected"].endswith(f"[... {1801 - DETAIL_CHARS} characters cut]")
    # the executor keeps a 2000-character preview of the output: the count says "at least"
    assert f["actual"] == "c" * DETAIL_CHARS + f"\n[... {2000 - DETAIL_CHARS}+ characters cut]"
    assert f["error"] is None
    # the per-test list keeps its old keys
    assert payload["tests"][1]["expected"] == "b" * 1800 + "\n"

    # one function builds the record: bench's summarize of the same execution agrees
    tests = tests_from_apps(json.dumps(io))
    again = summarize("k", "p", run_tests(program, tests, limits=Limits()), tests)
    assert again.failure.model_dump() == f
    assert again.test_verdicts == payload["test_verdicts"]


def test_exec_json_runtime_error_keeps_the_tail_of_stderr(tmp_path):
    program = (
        "import sys\nn = int(input())\nsys.stderr.write('noise ' * 300)\nprint(10 // (n - 2))\n"
    )
    io = {"inputs": ["3\n", "2\n"], "outputs": ["10\n", "0\n"]}
    result = _exec(tmp_path, program, io, "--json", "--stop-on-first-failure")
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert payload["outcome"] == "runtime_error"
    f = payload["failure"]
    assert (f["test_index"], f["verdict"], f["input"], f["expected"]) == (
        1, "runtime_error", "2\n", "0\n"
    )  # fmt: skip
    assert f["error"].startswith("[... ") and " characters cut]\n" in f["error"]
    assert len(f["error"]) < ERROR_TAIL_CHARS + 40
    assert f["error"].rstrip().endswith("noise")  # the end of stderr is kept
    assert "ZeroDivisionError" in payload["error"]


def test_exec_json_all_passed_has_no_failure(tmp_path):
    io = {"fn_name": "add", "inputs": [[[1, 2]], [[5]]], "outputs": [[3], [5]]}
    program = "class Solution:\n    def add(self, a):\n        return sum(a)\n"
    result = _exec(tmp_path, program, io, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["failure"] is None and payload["outcome"] == "passed"
    assert payload["test_verdicts"] == ["passed", "passed"]


def test_exec_terminal_shows_the_first_failure(tmp_path):
    io = {"fn_name": "add", "inputs": [[[1, 2]], [[5, 6]]], "outputs": [[3], [11]]}
    program = (
        "class Solution:\n    def add(self, a):\n        return 3 if a == [1, 2] else a[0] + 1\n"
    )
    result = _exec(tmp_path, program, io)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "first failure: test 1 (wrong answer)" in out
    # the panel's rows: the call's arguments, the expected and the actual value, as JSON
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│ ")}
    assert "[[5, 6]]" in rows["input"]
    assert "11" in rows["expected"] and "6" in rows["actual"]
