"""What a person reads of one execution: per-test verdicts and times, and the first failure.

    from appsplus.execution.record import first_failure, test_record
    first_failure(tests, result)   # {"test_index", "verdict", "input", "expected", "actual", "error"}

The one place that builds it: `bench`'s per-sample records (results.jsonl, `bench show`),
`appsplus exec --json` and the reward adapters' extra info all call these functions, so
the shape and the cutting rules are the same everywhere. Input, expected and actual output
are cut to DETAIL_CHARS characters, the error (exception or compile error, then stderr)
keeps its last ERROR_TAIL_CHARS characters (the cause is at the end of a traceback); each
cut is marked with how many characters were left out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from appsplus.execution.models import CallTest, ExecutionResult, StdioTest, Verdict
from appsplus.execution.pool import PREVIEW_CHARS

ERROR_CHARS = 300  # the short error of a record (one line in a table)
DETAIL_CHARS = 1500  # input, expected and actual output of a first failure (< PREVIEW_CHARS)
ERROR_TAIL_CHARS = 1500  # the last characters of its error and stderr


def cut(text: str, limit: int = DETAIL_CHARS, *, tail: bool = False, preview: bool = False) -> str:
    """`text` cut to `limit` characters, the cut marked with how many were left out.

    tail=True keeps the end (a traceback's or stderr's last lines hold the cause).
    preview=True: `text` is the executor's preview of an output, itself cut at
    PREVIEW_CHARS, so a text of that length may have been longer: the count reads "N+".
    """
    if len(text) <= limit:
        return text
    left_out = f"{len(text) - limit}" + ("+" if preview and len(text) >= PREVIEW_CHARS else "")
    if tail:
        return f"[... {left_out} characters cut]\n" + text[-limit:]
    return text[:limit] + f"\n[... {left_out} characters cut]"


def test_texts(test: StdioTest | CallTest) -> tuple[str, str]:
    """(input, expected) of a test as text: stdio as is, call tests as JSON."""
    if isinstance(test, StdioTest):
        return test.input, test.output
    return json.dumps(test.args, default=repr), json.dumps(test.expected, default=repr)


def first_failing_index(result: ExecutionResult) -> int | None:
    """Index of the first test that did not pass, or None when all passed."""
    return next((i for i, t in enumerate(result.tests) if t.verdict is not Verdict.PASSED), None)


def outcome(result: ExecutionResult) -> str:
    """'passed', or the verdict of the first failing test."""
    index = first_failing_index(result)
    return "passed" if index is None else result.tests[index].verdict.value


def short_error(result: ExecutionResult) -> str | None:
    """The first failing test's error (or the compile error), cut to ERROR_CHARS."""
    index = first_failing_index(result)
    if index is None:
        return None
    error = result.tests[index].error or result.compile_error or ""
    return error[:ERROR_CHARS] or None


def first_failure(
    tests: Sequence[StdioTest | CallTest] | None, result: ExecutionResult
) -> dict[str, Any] | None:
    """The first failing test: index, verdict, input, expected, actual output, error (cut).

    None when every test passed, or when `tests` (the tests the result was run on) are not
    given or do not reach the failing index.
    """
    index = first_failing_index(result)
    if index is None or tests is None or index >= len(tests):
        return None
    failure = result.tests[index]
    error = failure.error or result.compile_error or ""
    given, expected = test_texts(tests[index])
    stderr = failure.stderr.strip()
    full_error = "\n".join(part for part in (error.strip(), stderr) if part)  # stderr: a preview
    return {
        "test_index": index,
        "verdict": failure.verdict.value,
        "input": cut(given),
        "expected": cut(expected),
        "actual": cut(failure.output, preview=True),
        "error": cut(full_error, ERROR_TAIL_CHARS, tail=True) or None,
    }


def test_record(result: ExecutionResult) -> dict[str, Any]:
    """Per-test verdicts and times (seconds, rounded to the microsecond) and their counts."""
    verdicts = result.verdicts
    return {
        "passed": result.passed,
        "outcome": outcome(result),
        "n_tests": len(verdicts),
        "n_passed": sum(v is Verdict.PASSED for v in verdicts),
        "n_skipped": sum(v is Verdict.SKIPPED for v in verdicts),
        "error": short_error(result),
        "duration_s": round(sum(t.duration_s for t in result.tests), 6),
        "test_verdicts": [v.value for v in verdicts],
        "test_durations_s": [round(t.duration_s, 6) for t in result.tests],
    }


test_texts.__test__ = False  # not pytest tests, despite their names
test_record.__test__ = False
