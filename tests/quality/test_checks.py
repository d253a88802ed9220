"""Static quality checks on hand-made rows: each must trigger where it should and only there."""

from __future__ import annotations

import gzip
import json

import pytest

from appsplus.execution import CallTest, StdioTest
from appsplus.quality.checks import (
    loose_expected,
    min_tests_filter,
    needs_checker,
    quoted_string_args,
)
from appsplus.quality.decontam import (
    BenchmarkError,
    DecontaminationFilter,
    load_benchmarks,
)
from appsplus.quality.dedup import Deduplicator
from appsplus.schema import Problem, RejectReason

STATEMENT = (
    "Vasya has a row of n boxes, the i-th of which holds a_i candies. In one move he may take "
    "all candies from two neighbouring boxes and put them into the left one. What is the "
    "largest number of candies a single box can hold after any number of moves? The first "
    "line holds n, the second line the n numbers a_i. Print one integer."
)


def problem(pid="apps/train/0001", question=STATEMENT, tests=None, solutions=None, split="train"):
    tests = tests if tests is not None else [StdioTest(input="1\n", output="1\n")]
    return Problem(
        problem_id=pid,
        source_id=1,
        split=split,
        difficulty="interview",
        question=question,
        kind="stdio",
        tests=tests,
        solutions=solutions or ["print(input())"],
    )


def test_min_tests_rejects_fewer_and_keeps_enough():
    check = min_tests_filter(3)
    two = problem(tests=[StdioTest(input=f"{i}\n", output=f"{i}\n") for i in range(2)])
    three = problem(tests=[StdioTest(input=f"{i}\n", output=f"{i}\n") for i in range(3)])
    reason, detail = check(two)
    assert reason is RejectReason.TOO_FEW_TESTS and "2 test(s)" in detail
    assert check(three) is None


@pytest.mark.parametrize(
    "text",
    [
        "If there are multiple answers, print any of them.",
        "If there are several possible solutions, output any.",
        "Print any such permutation.",
        "You may print the indices in any order.",
        "If there is more than one optimal answer, you can output any valid answer.",
    ],
)
def test_needs_checker_finds_any_answer_wordings(text):
    assert needs_checker(STATEMENT + " " + text)


@pytest.mark.parametrize(
    "text",
    [
        "Return how many of them start with a vowel.",  # 'many of them' is not 'any of them'
        "The edges are given in any order.",  # the input's order, not the answer's
        "Print the answer modulo 10^9 + 7.",
        "If there is no answer, print -1.",
    ],
)
def test_needs_checker_ignores_single_answer_statements(text):
    assert needs_checker(text) is None


def test_quoted_string_args():
    quoted = CallTest(fn_name="f", args=['"abc"', 3], expected=1)  # StepCoder item 267's shape
    nested = CallTest(fn_name="f", args=[['"x"', "y"]], expected=1)
    assert "test 1" in quoted_string_args([CallTest(fn_name="f", args=["abc"], expected=1), quoted])
    assert quoted_string_args([nested])
    plain = [
        CallTest(fn_name="f", args=["abc", '"', 'say "hi"', '"a" + "b"'], expected='"q"'),
        StdioTest(input='"abc"\n', output="1\n"),  # stdin text may hold quotes
    ]
    assert quoted_string_args(plain) is None


def test_loose_expected_output():
    tests = [StdioTest(input="", output="0.500000\n"), StdioTest(input="", output="3")]
    assert "test 0" in loose_expected(tests, [["0.5\n", "3\n"], ["0.50\n", "3\n"]])
    # one solution prints the stored text exactly: the expected output is what it prints
    assert loose_expected(tests, [["0.5\n", "3\n"], ["0.500000\n", "3\n"]]) is None
    # a missing final newline is not a formatting difference; unknown outputs say nothing
    assert loose_expected(tests, [["0.500000", "3\n"], [None, None]]) is None
    spaces = [StdioTest(input="", output="1 2 \n")]
    assert loose_expected(spaces, [["1 2\n"]])


def test_dedup_keeps_the_test_split_and_names_it():
    d = Deduplicator(0.8)
    d.add("apps/train/0005", "train", STATEMENT)
    d.add("apps/test/0100", "test", STATEMENT.upper())  # same words: an exact duplicate
    d.add("apps/train/0007", "train", STATEMENT.replace("Vasya", "Petya"))  # near
    d.add("apps/train/0009", "train", "Read two integers and print their sum. " * 3)
    found = {x.problem_id: x for x in d.duplicates()}
    assert set(found) == {"apps/train/0005", "apps/train/0007"}
    assert found["apps/train/0005"].kept_id == "apps/test/0100" and found["apps/train/0005"].exact
    near = found["apps/train/0007"]
    assert near.kept_id == "apps/test/0100" and not near.exact and 0.8 <= near.similarity < 1
    assert "apps/test/0100" in near.detail()


def test_dedup_does_not_depend_on_order_and_ignores_different_statements():
    items = [
        ("apps/test/0001", "test", STATEMENT),
        ("apps/test/0002", "test", STATEMENT + " Note: n is at most 100."),
        ("apps/train/0003", "train", "Given a string, print it reversed, then print its length."),
    ]
    results = []
    for order in (items, items[::-1]):
        d = Deduplicator(0.8)
        for item in order:
            d.add(*item)
        results.append(d.duplicates())
    assert results[0] == results[1]
    assert [x.problem_id for x in results[0]] == ["apps/test/0002"]  # within test: first id kept


def write_benchmarks(tmp_path):
    """Hand-written rows in the HumanEval, MBPP and plain-text layouts."""
    humaneval = tmp_path / "HumanEval.jsonl.gz"
    rows = [
        {
            "task_id": "HumanEval/7",
            "prompt": 'def spread(xs):\n    """Return the difference between the largest and '
            'the smallest element of the non-empty list xs of integers."""\n',
            "canonical_solution": "    return max(xs) - min(xs)\n",
            "entry_point": "spread",
        }
    ]
    humaneval.write_bytes(gzip.compress("\n".join(map(json.dumps, rows)).encode()))
    mbpp = tmp_path / "mbpp.jsonl"
    code = (
        "def pal(s):\n    t = ''.join(c for c in s.lower() if c.isalnum())\n    return t == t[::-1]"
    )
    mbpp.write_text(
        json.dumps(
            {
                "task_id": 42,
                "text": "Write a function to check whether a given sentence reads the same "
                "forwards and backwards ignoring case and punctuation.",
                "code": code,
                "test_list": [],
            }
        )
        + "\n"
    )
    text = tmp_path / "statements.txt"
    text.write_text("\n" + STATEMENT + "\n")
    return humaneval, mbpp, text, code


def test_decontamination_statement_and_code(tmp_path):
    humaneval, mbpp, text, code = write_benchmarks(tmp_path)
    index = load_benchmarks([str(humaneval), str(mbpp)], n=8)
    assert len(index.items) == 2 and set(index.files) == {"HumanEval.jsonl.gz", "mbpp.jsonl"}
    check = DecontaminationFilter(index, 0.5)
    copied = problem(
        question="Return the difference between the largest and the smallest element of the "
        "non-empty list xs of integers. Read the list from the input."
    )
    reason, detail = check(copied)
    assert reason is RejectReason.CONTAMINATED and "HumanEval/7" in detail and "79%" in detail
    same_code = problem(question="Check palindromes.", solutions=["import sys\n" + code])
    reason, detail = check(same_code)
    assert "mbpp 42" in detail and detail.startswith("code")
    assert check(problem()) is None  # an unrelated statement
    txt = DecontaminationFilter(load_benchmarks([str(text)], n=8), 0.5)
    assert txt(problem())[0] is RejectReason.CONTAMINATED


def test_decontamination_bad_files(tmp_path):
    with pytest.raises(BenchmarkError, match="no such"):
        load_benchmarks([str(tmp_path / "missing.jsonl")])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(BenchmarkError, match="not JSON"):
        load_benchmarks([str(bad)])
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"x": 1}\n')
    with pytest.raises(BenchmarkError, match="no row has a statement"):
        load_benchmarks([str(empty)])
