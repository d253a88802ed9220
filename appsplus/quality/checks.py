"""Static quality checks: too few tests, any-valid-answer statements, quoted string arguments.

min_tests_filter(5)(problem)        # (too_few_tests, detail) or None: a `filters.Filter`
needs_checker(question)             # the phrase saying any valid answer is accepted, or None
quoted_string_args(tests)           # the first test whose string argument still has quotes
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from appsplus.execution import CallTest, StdioTest, stdout_matches
from appsplus.schema import Problem, RejectReason

# Wordings of APPS/Codeforces/LeetCode statements that accept more than one answer.
_ANY_ANSWER = re.compile(
    r"\b(?:print|output|return|find|show)\s+any(?:\s+(?:one|of))?\b"
    r"|\bif\s+there\s+(?:are|is|exist)\s+(?:several|multiple|many|more\s+than\s+one)\s+"
    r"(?:possible\s+|valid\s+|correct\s+|optimal\s+)?(?:answers?|solutions?|ways?|options?)"
    r"|\bany\s+(?:of\s+them|valid\s+(?:answer|solution)|correct\s+(?:answer|solution)|such\s+"
    r"(?:answer|solution|sequence|string|permutation|array))"
    r"|\b(?:print|output|return)\w*\b[^.]{0,60}\bin\s+any\s+order"
    r"|\byou\s+(?:may|can)\s+(?:print|output|return)\s+(?:any|them\s+in\s+any)",
    re.IGNORECASE,
)


def min_tests_filter(minimum: int):
    """A filter rejecting problems with fewer than `minimum` tests (`too_few_tests`)."""

    def check_min_tests(problem: Problem) -> tuple[RejectReason, str] | None:
        if len(problem.tests) < minimum:
            return RejectReason.TOO_FEW_TESTS, (
                f"{len(problem.tests)} test(s), fewer than --min-tests {minimum}"
            )
        return None

    return check_min_tests


def needs_checker(question: str) -> str | None:
    """The statement's words saying that any valid answer is accepted, or None."""
    match = _ANY_ANSWER.search(" ".join(question.split()))
    return match.group(0) if match else None


def _quoted(value: Any) -> bool:
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            try:
                return isinstance(json.loads(value), str)
            except ValueError:
                return False
        return False
    if isinstance(value, list):
        return any(_quoted(v) for v in value)
    if isinstance(value, dict):
        return any(_quoted(v) for v in value.values())
    return False


def quoted_string_args(tests: Sequence[Any]) -> str | None:
    """Why a call-based argument looks like a JSON string still carrying its quotes, or None.

    StepCoder item 267 passes '"abc"' where the statement means abc: its expected output was
    computed from the quoted text, so a solution that is right for abc fails the test.
    """
    for i, test in enumerate(tests):
        if isinstance(test, CallTest) and _quoted(test.args):
            return f"test {i}: a string argument is itself a quoted JSON string"
    return None


def exact_text(text: str) -> str:
    """Output text up to line endings and trailing newlines: what 'printed exactly' means."""
    return text.replace("\r\n", "\n").rstrip("\n")


def loose_expected(tests: Sequence[Any], outputs: Sequence[Sequence[str | None]]) -> str | None:
    """Why some stdio test's expected output is matched by no solution byte for byte, or None.

    `outputs[s][t]`: solution s's complete stdout on test t (None: unknown). The comparator
    accepts such outputs (whitespace and float formatting are tolerated), so the problem
    is kept, but the expected text was not what any verified solution prints.
    """
    for t, test in enumerate(tests):
        if not isinstance(test, StdioTest):
            continue
        seen = [o[t] for o in outputs if t < len(o) and o[t] is not None]
        if not seen:
            continue
        want = exact_text(test.output)
        if all(exact_text(o) != want and stdout_matches(o, test.output) for o in seen):
            return f"test {t}: the expected output differs from every solution's in formatting"
    return None
