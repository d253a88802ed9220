"""The one output comparator (stdlib only: the sandbox worker imports it too).

Version 1 rules
---------------
stdio: both texts are split into lines (``\\r\\n`` and ``\\r`` count as newlines), trailing
whitespace is stripped from every line and trailing empty lines are dropped. The line
counts must match. Two lines match when they are equal, or when they split into the same
number of whitespace-separated tokens that match pairwise, in order. Two tokens match when
they are equal, when both are integers with the same value, or when both are numbers, at
least one of them written as a float (``.``, an exponent, ``inf``/``nan``), and they agree
within ``abs_tol=1e-6`` or ``rel_tol=1e-6``. There is no order-insensitive fallback.

call: the returned value is JSON round-tripped by the sandbox (tuples become lists) and
compared structurally with the expected value: lists element by element, dicts key by key,
integers exactly, floats with the tolerance above. Booleans are integers, as in Python and
the APPS harness (``True == 1``): APPS stores ``0``/``1`` for some problems whose correct
solutions return ``False``/``True``.
"""

from __future__ import annotations

import math
import re

COMPARATOR_VERSION = "1"
REL_TOL = 1e-6
ABS_TOL = 1e-6

_INT = re.compile(r"[+-]?\d+\Z")
_NUMBER = re.compile(
    r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)\Z", re.I
)


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _tokens_match(a: str, b: str) -> bool:
    if a == b:
        return True
    if _INT.match(a) and _INT.match(b):
        return int(a) == int(b)
    if _NUMBER.match(a) and _NUMBER.match(b):
        return _floats_close(float(a), float(b))
    return False


def _floats_close(x: float, y: float) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _lines_match(a: str, b: str) -> bool:
    if a == b:
        return True
    ta, tb = a.split(), b.split()
    return len(ta) == len(tb) and all(_tokens_match(x, y) for x, y in zip(ta, tb))


def stdout_matches(actual: str, expected: str) -> bool:
    """True if program output `actual` is accepted for the expected stdout `expected`."""
    la, le = _lines(actual), _lines(expected)
    return len(la) == len(le) and all(_lines_match(x, y) for x, y in zip(la, le))


def values_match(actual: object, expected: object) -> bool:
    """True if the JSON-decoded return value `actual` equals `expected` (floats with tolerance)."""
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        if isinstance(actual, int) and isinstance(expected, int):
            return actual == expected
        return _floats_close(float(actual), float(expected))
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(
            values_match(x, y) for x, y in zip(actual, expected)
        )
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            values_match(actual[k], expected[k]) for k in actual
        )
    return type(actual) is type(expected) and actual == expected
