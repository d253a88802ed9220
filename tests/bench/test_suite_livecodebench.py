"""The livecodebench suite: the code_generation_lite format (encoded private tests), the safe
decoder, the inclusive date window, prompts, verdicts next to LiveCodeBench's own grader,
and `bench evaluate` / `bench run` end to end."""

from __future__ import annotations

import base64
import json
import os
import pickle
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from appsplus.bench.cli import main as bench
from appsplus.bench.report import Report
from appsplus.bench.suites import SuiteError, load_suite
from appsplus.bench.suites.lcb_tests import (
    LcbTestsError,
    decode_tests,
    encode_private_tests,
    pickled_text,
)
from appsplus.bench.suites.livecodebench import (
    LCB_TIME_LIMIT_S,
    SYSTEM_MESSAGE,
    chat_prompt,
    question_prompt,
)
from appsplus.errors import AppsplusError
from appsplus.execution import Limits, run_tests

LCB_MIRROR = Path("/work/.mirror/LiveCodeBench+LiveCodeBench/repo")


def stdin_test(i: str, o: str) -> dict:
    return {"input": i, "output": o, "testtype": "stdin"}


def call_test(args: list, out) -> dict:
    return {
        "input": "\n".join(json.dumps(a) for a in args),
        "output": json.dumps(out),
        "testtype": "functional",
    }


def row(qid, date, difficulty, content, public, private, starter="", func=None, platform="atcoder"):
    """One problem exactly as code_generation_lite publishes it (strings for the JSON fields)."""
    return {
        "question_title": f"title {qid}",
        "question_content": content,
        "platform": platform,
        "question_id": qid,
        "contest_id": f"contest-{qid}",
        "contest_date": date,
        "starter_code": starter,
        "difficulty": difficulty,
        "public_test_cases": json.dumps(public),
        "private_test_cases": encode_private_tests(private),
        "metadata": json.dumps({"func_name": func} if func else {}),
    }


# Each fixture problem: the row, a right program and wrong programs (with what is wrong).
PROBLEMS = {
    "abc100_a": (
        row(
            "abc100_a",
            "2024-03-02T00:00:00",
            "easy",
            "Given A and B, print A+B, then their mean with 6 decimals.",
            [stdin_test("3 4\n", "7\n3.500000\n")],
            [stdin_test("10 15\n", "25\n12.500000\n"), stdin_test("1 1\n", "2\n1.000000\n")],
        ),
        # prints 12.5 where 12.500000 is expected: equal as decimals, token by token
        "a, b = map(int, input().split())\nprint(a + b)\nprint((a + b) / 2)\n",
        {
            "difference": "a, b = map(int, input().split())\nprint(a - b)\nprint((a + b) / 2)\n",
            "one line": "a, b = map(int, input().split())\nprint(a + b, (a + b) / 2)\n",
            "crash": "a, b = map(int, input().split())\nprint(a + b)\nprint(1 / 0)\n",
        },
    ),
    "3000": (
        row(
            "3000",
            "2024-03-16T00:00:00",
            "medium",
            "Return nums with k added to every element.",
            [call_test([[1, 2], 3], [4, 5])],
            [call_test([[0, -1, 7], 1], [1, 0, 8]), call_test([[], 5], [])],
            starter="class Solution:\n    def shift(self, nums: List[int], k: int) -> List[int]:\n        ",
            func="shift",
            platform="leetcode",
        ),
        # returns a tuple: compares as a list
        "class Solution:\n    def shift(self, nums: List[int], k: int) -> List[int]:\n"
        "        return tuple(x + k for x in nums)\n",
        {
            "off by one": "class Solution:\n    def shift(self, nums, k):\n"
            "        return [x + k + 1 for x in nums]\n",
            "drops the last": "class Solution:\n    def shift(self, nums, k):\n"
            "        return [x + k for x in nums[:-1]]\n",
            "infinite loop": "class Solution:\n    def shift(self, nums, k):\n"
            "        while True:\n            pass\n",
        },
    ),
    "1900E": (
        row(
            "1900E",
            "2024-04-01T00:00:00",
            "hard",
            "Given n pairs, print the gcd of each pair on its own line.",
            [stdin_test("2\n4 6\n9 3\n", "2\n3\n")],
            [stdin_test("3\n5 7\n12 18\n100 75\n", "1\n6\n25\n")],
            platform="codeforces",
        ),
        # gcd without an import: both preambles provide it (from math import *)
        "n = int(input())\nfor _ in range(n):\n    a, b = map(int, input().split())\n"
        "    print(gcd(a, b))\n",
        {
            "lcm": "import math\nn = int(input())\nfor _ in range(n):\n"
            "    a, b = map(int, input().split())\n    print(math.lcm(a, b))\n",
            "first only": "n = int(input())\na, b = map(int, input().split())\nprint(gcd(a, b))\n",
        },
    ),
}
# dated on the --until day after midnight: LiveCodeBench's loader leaves it out
LATE = row(
    "abc101_b",
    "2024-03-16T12:00:00",
    "easy",
    "Print the input.",
    [stdin_test("1\n", "1\n")],
    [stdin_test("2\n", "2\n")],
)


@pytest.fixture
def lcb_file(tmp_path) -> Path:
    path = tmp_path / "test.jsonl"
    rows = [p[0] for p in PROBLEMS.values()] + [LATE]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_private_tests_decode_as_published_without_unpickling():
    tests = [stdin_test("1 2\n", "3\n"), call_test([[1], 2], [3])]
    encoded = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()
    assert decode_tests(encoded) == tests
    for protocol in range(6):  # every pickle protocol of a plain string
        assert pickled_text(pickle.dumps("[1, 2]", protocol=protocol)) == "[1, 2]"
    assert decode_tests(json.dumps(tests)) == tests  # plain JSON text, as public tests are


class Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_pickle_is_refused_with_one_line_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    crafted = base64.b64encode(zlib.compress(pickle.dumps(Exploit(marker)))).decode()
    with pytest.raises(LcbTestsError) as info:
        decode_tests(crafted)
    message = str(info.value)
    assert "refused pickle" in message and "\n" not in message
    assert isinstance(info.value, AppsplusError)
    assert not marker.exists()
    # the same bytes through pickle.loads would run the command: the test can fail
    pickle.loads(zlib.decompress(base64.b64decode(crafted)))
    assert marker.exists()
    # other pickles that are not one string: a list, two strings, a truncated pickle
    for data in (pickle.dumps(["a"]), pickle.dumps(("a", "b")), pickle.dumps("abc")[:-3]):
        with pytest.raises(LcbTestsError):
            pickled_text(data)
    for bad in ("not base64 !!", base64.b64encode(b"not zlib").decode()):
        with pytest.raises(LcbTestsError):
            decode_tests(bad)
    with pytest.raises(LcbTestsError, match="test 0 is not"):
        decode_tests(json.dumps([{"input": "1", "output": 2, "testtype": "stdin"}]))


def test_a_crafted_row_fails_the_suite_with_one_line(tmp_path):
    bad = dict(PROBLEMS["abc100_a"][0])
    bad["private_test_cases"] = base64.b64encode(
        zlib.compress(pickle.dumps(Exploit(tmp_path / "pwned")))
    ).decode()
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(bad) + "\n")
    with pytest.raises(SuiteError, match="abc100_a.*refused pickle") as info:
        load_suite("livecodebench", str(path))
    assert "\n" not in str(info.value) and not (tmp_path / "pwned").exists()


def test_problems_prompts_and_tests(lcb_file):
    suite = load_suite("livecodebench", str(lcb_file))
    by_id = {p.problem_id: p for p in suite.problems}
    assert list(by_id) == ["abc100_a", "3000", "1900E", "abc101_b"]
    assert [p.difficulty for p in suite.problems] == ["easy", "medium", "hard", "easy"]
    stdin, functional = by_id["abc100_a"], by_id["3000"]
    assert [t.kind for t in stdin.tests] == ["stdio"] * 3  # public, then private
    assert stdin.tests[1].input == "10 15\n" and stdin.entry_point is None
    assert [t.args for t in functional.tests] == [[[1, 2], 3], [[0, -1, 7], 1], [[], 5]]
    assert functional.tests[0].fn_name == "shift" == functional.entry_point
    assert {p.time_limit_s for p in suite.problems} == {LCB_TIME_LIMIT_S}
    # LiveCodeBench's system message (a system turn) and generic prompt, with or without
    # starter code
    assert stdin.system_prompt == SYSTEM_MESSAGE == functional.system_prompt
    assert stdin.chat_prompt == (
        "### Question:\nGiven A and B, print A+B, then their mean with 6 decimals.\n\n"
        "### Format: Read the inputs from stdin solve the problem and write the answer to "
        "stdout (do not directly test on the sample inputs). Enclose your code within "
        "delimiters as follows. Ensure that when the python program runs, it reads the "
        "inputs, runs the algorithm and writes output to STDOUT.\n```python\n# YOUR CODE "
        "HERE\n```\n\n### Answer: (use the provided format with backticks)\n\n"
    )
    assert "```python\nclass Solution:\n    def shift(" in functional.chat_prompt
    assert functional.chat_prompt == question_prompt(
        PROBLEMS["3000"][0]["question_content"], PROBLEMS["3000"][0]["starter_code"]
    )
    assert functional.prompt == chat_prompt(functional.chat_prompt) + "```python\n"
    assert suite.info.dataset_hash.startswith("sha256:")


def test_date_window_is_inclusive_as_in_livecodebench(lcb_file):
    def ids(**window):
        return [p.problem_id for p in load_suite("livecodebench", str(lcb_file), **window).problems]

    assert ids(since="2024-03-02", until="2024-03-16") == ["abc100_a", "3000"]
    assert ids(since="2024-03-03") == ["3000", "1900E", "abc101_b"]
    assert ids(until="2024-03-17") == ["abc100_a", "3000", "abc101_b"]
    assert ids(since="2024-04-01", until="2024-04-01") == ["1900E"]
    suite = load_suite("livecodebench", str(lcb_file), since="2024-03-02", until="2024-03-16")
    assert "2024-03-02..2024-03-16" in suite.info.description
    assert suite.info.skipped == {"after --until": 2}
    with pytest.raises(SuiteError, match="YYYY-MM-DD"):
        load_suite("livecodebench", str(lcb_file), since="March")
    with pytest.raises(SuiteError, match="after --until"):
        load_suite("livecodebench", str(lcb_file), since="2024-05-01", until="2024-04-01")
    with pytest.raises(SuiteError, match="no problems"):
        load_suite("livecodebench", str(lcb_file), since="2030-01-01")


def test_parquet_and_folder_inputs(lcb_file, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    folder = tmp_path / "release"
    folder.mkdir()
    rows = [json.loads(line) for line in lcb_file.read_text().splitlines()]
    pq.write_table(pa.Table.from_pylist(rows[:2]), folder / "test.parquet")
    (folder / "test2.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[2:]))
    suite = load_suite("livecodebench", str(folder))
    assert [p.problem_id for p in suite.problems] == ["abc100_a", "3000", "1900E", "abc101_b"]
    assert suite.problems == load_suite("livecodebench", str(lcb_file)).problems


def _lcb_grader(tmp_path: Path) -> Path | None:
    """LiveCodeBench's testing_util.py from its repository (fetched mirror), or None."""
    if not (LCB_MIRROR / "HEAD").exists():
        return None
    source = subprocess.run(
        ["git", "-C", str(LCB_MIRROR), "show", "HEAD:lcb_runner/evaluation/testing_util.py"],
        capture_output=True,
        text=True,
    )
    if source.returncode != 0:
        return None
    path = tmp_path / "lcb_testing_util.py"
    path.write_text(source.stdout)
    return path


GRADE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import lcb_testing_util as t
sample, code = json.loads(sys.stdin.read())
results, meta = t.run_test(sample, test=code, timeout=2)
print(json.dumps(all(r is True for r in results) and len(results) > 0))
"""


def lcb_verdict(grader: Path, problem_row: dict, code: str) -> bool:
    """LiveCodeBench's own verdict (run_test, as its evaluator calls it) in a fresh process."""
    tests = decode_tests(problem_row["public_test_cases"]) + decode_tests(
        problem_row["private_test_cases"]
    )
    func = json.loads(problem_row["metadata"]).get("func_name")
    sample = {
        "input_output": json.dumps(
            {
                "inputs": [t["input"] for t in tests],
                "outputs": [t["output"] for t in tests],
                "fn_name": func,
            }
        )
    }
    out = subprocess.run(
        [sys.executable, "-c", GRADE, str(grader.parent)],
        input=json.dumps([sample, code]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_verdicts_equal_livecodebench_grader(lcb_file, tmp_path, pool):
    suite = load_suite("livecodebench", str(lcb_file), until="2024-04-01")
    by_id = {p.problem_id: p for p in suite.problems}
    grader = _lcb_grader(tmp_path)
    checked = 0
    for qid, (problem_row, right, wrongs) in PROBLEMS.items():
        problem = by_id[qid]
        limits = Limits(time_s=2.0)
        for label, code, expected in [("right", right, True)] + [
            (name, code, False) for name, code in wrongs.items()
        ]:
            ours = run_tests(code, problem.tests, limits, stop_on_first_failure=True, pool=pool)
            assert ours.passed is expected, (qid, label, ours.verdicts)
            if grader is not None:
                assert lcb_verdict(grader, problem_row, code) is expected, (qid, label)
                checked += 1
    if grader is None:
        pytest.skip("LiveCodeBench's repository is not fetched here: only our verdicts checked")
    assert checked == sum(1 + len(w) for _, _, w in PROBLEMS.values())


def invoke(*args: str, ok: bool = True):
    result = CliRunner().invoke(bench, list(args))
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_bench_evaluate_by_difficulty_in_a_window(lcb_file, tmp_path, bench_cache):
    samples = tmp_path / "samples.jsonl"
    with samples.open("w") as f:
        for qid, (_, right, wrongs) in PROBLEMS.items():
            for program in [right, *list(wrongs.values())[:1]]:
                f.write(json.dumps({"problem_id": qid, "program": program}) + "\n")
        for program in ("print(input())\n", "print(0)\n"):  # abc101_b: 12:00 on 03-16
            f.write(json.dumps({"problem_id": "abc101_b", "program": program}) + "\n")
    out = tmp_path / "eval"
    window = ["--since", "2024-03-02", "--until", "2024-04-01"]
    args = ["evaluate", "--suite", "livecodebench", "--dataset", str(lcb_file), *window]
    invoke(*args, "--samples", str(samples), "--out", str(out))
    result = invoke("report", "--out", str(out), "--k", "1,2", "--html")
    report = Report.model_validate_json((out / "report.json").read_text())
    assert list(report.by_difficulty) == ["easy", "medium", "hard"]
    # the page's diff marks no line "near" by the APPS tolerance: LiveCodeBench compares
    # decimals exactly, so such a line was a difference in this run
    page = (out / "report.html").read_text(encoding="utf-8")
    data = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    assert data and json.loads(data.group(1))["near"] is False
    assert list(report.by_month) == ["2024-03", "2024-04"]  # by contest month
    assert report.by_month["2024-03"].n_problems == 3
    assert report.by_month["2024-04"].pass_at_k["pass@1"].value == pytest.approx(0.5)
    assert [o.month for o in report.problems] == ["2024-03", "2024-03", "2024-04", "2024-03"]
    assert report.overall.n_problems == 4 and report.overall.n_samples == 8
    assert report.overall.pass_at_k["pass@1"].value == pytest.approx(0.5)
    assert report.overall.pass_at_k["pass@2"].value == pytest.approx(1.0)
    assert "2024-03-02..2024-04-01" in report.suite.description
    assert "easy" in result.stdout and "hard" in result.stdout and "2024-04" in result.stdout
    assert report.suite.split == "2024-03-02..2024-04-01"
    assert "contests2024-03-02..2024-04-01" in "".join(result.stdout.split())  # the table title
    # another window is another benchmark: compare refuses it
    other = tmp_path / "other"
    wider = ["evaluate", "--suite", "livecodebench", "--dataset", str(lcb_file), "--since"]
    invoke(*wider, "2024-03-01", "--samples", str(samples), "--out", str(other))
    invoke("report", "--out", str(other))
    refused = invoke("compare", str(out), str(other), ok=False)
    assert refused.exit_code != 0 and "2024-03-01..any" in refused.output
    # the window belongs to livecodebench only
    he = ["evaluate", "--suite", "humaneval", "--since", "2024-01-01", "--samples", str(samples)]
    refused = invoke(*he, "--out", str(tmp_path / "he"), ok=False)
    assert "only the livecodebench suite" in refused.output
    bad = invoke(
        *args[:-4],
        "--since",
        "soon",
        "--samples",
        str(samples),
        "--out",
        str(tmp_path / "x"),
        ok=False,
    )
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_tiny_model_run_end_to_end(tiny_model, lcb_file, tmp_path, bench_cache):
    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--suite", "livecodebench"]
    args += ["--dataset", str(lcb_file), "--until", "2024-03-16", "--n", "2", "--k", "1"]
    args += ["--max-new-tokens", "8", "--workers", "2", "--device", "cpu", "--out", str(out)]
    result = invoke(*args)
    assert "pass@1" in result.stdout
    report = Report.model_validate_json((out / "report.json").read_text())
    assert report.overall.n_problems == 2 and report.overall.n_samples == 4
    assert report.overall.pass_at_k["pass@1"].value == 0.0  # random weights
    assert set(report.by_difficulty) == {"easy", "medium"}
    assert "..2024-03-16" in report.suite.description


# Where the executor's APPS rules and LiveCodeBench's grader differ, the suite judges by
# LiveCodeBench's rules (more cases, and the differences that remain: test_lcb_rules.py).
# (label, program, tests as (input, output), func_name, our verdict, LiveCodeBench's)
DIFFERENCES = [
    ("float within 1e-6", "print(0.3333333)", [("x\n", "0.33333333\n")], None, False, False),
    ("leading blank line", "print()\nprint(5)", [("x\n", "5\n")], None, True, True),
    (
        "recursion deeper than 1000",
        "def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(5000))",
        [("x\n", "5000\n")],
        None,
        True,
        True,
    ),
    (
        "returned float within 1e-6",
        "class Solution:\n    def f(self, x):\n        return 0.1 + 0.2",
        [("1", "0.3")],
        "f",
        False,
        False,
    ),
    (
        "one Solution instance for all tests",
        "class Solution:\n    def __init__(self):\n        self.n = 0\n"
        "    def f(self, x):\n        self.n += 1\n        return self.n",
        [("1", "1"), ("1", "2")],
        "f",
        True,
        True,
    ),
    # and where they agree although the texts differ
    ("12.5 for 12.500000", "print(12.5)", [("x\n", "12.500000\n")], None, True, True),
    ("1e3 for 1000", "print('1e3')", [("x\n", "1000\n")], None, True, True),
    ("leading spaces", "print('  5')", [("x\n", "5\n")], None, True, True),
]


@pytest.mark.parametrize("label,code,pairs,func,ours,theirs", DIFFERENCES, ids=lambda v: v)
def test_known_differences_from_livecodebench(
    tmp_path, pool, label, code, pairs, func, ours, theirs
):
    kind = "stdin" if func is None else "functional"
    tests = [{"input": i, "output": o, "testtype": kind} for i, o in pairs]
    problem_row = row("diff", "2024-01-01T00:00:00", "easy", "x", tests[:1], tests[1:], func=func)
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(problem_row) + "\n")
    problem = load_suite("livecodebench", str(path)).problems[0]
    assert run_tests(code, problem.tests, Limits(time_s=2.0), pool=pool).passed is ours
    grader = _lcb_grader(tmp_path)
    if grader is None:
        pytest.skip("LiveCodeBench's repository is not fetched here: only our verdict checked")
    assert lcb_verdict(grader, problem_row, code) is theirs
