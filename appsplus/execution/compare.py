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

Named rule sets
---------------
The rules above are ``APPS_RULES`` (name ``"apps"``), the default everywhere. A test can
name another set (``StdioTest.rules`` / ``CallTest.rules``); each set is data, a frozen
``JudgeRules``, looked up by name with ``judge_rules(name)``:

``"livecodebench"`` (``LCB_RULES``), LiveCodeBench's grader (``lcb_runner/evaluation/
testing_util.py``): stdout and the expected text are each stripped as a whole, split on
``\n`` and every line stripped at both ends (so leading blank lines and leading spaces do
not count; blank lines inside do); the line counts must match; two lines match when equal,
or when every whitespace-separated token of both parses as a ``decimal.Decimal`` and the
two lists of Decimals are equal (exact: ``12.5`` equals ``12.500000`` and ``1e3`` equals
``1000``, ``0.3333333`` does not equal ``0.33333333``; a line with any other token must be
equal as text). A returned value is compared with Python's ``==`` (after the sandbox's
JSON round trip; a top-level tuple is a list, a tuple deeper inside or a dict key that is
not a string never equals JSON), so floats compare exactly and ``1 == 1.0``. Programs run
after LiveCodeBench's import preamble (``preamble="livecodebench"``, in
``appsplus.execution.preamble``) with its recursion limit; a call-based program runs once
and its tests call one ``Solution`` instance in turn (``calls="shared"``), as there; a stdin
program's ``sys.exit(status)`` ends it with its output judged, whatever the status.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

COMPARATOR_VERSION = "1"
REL_TOL = 1e-6
ABS_TOL = 1e-6

_INT = re.compile(r"[+-]?\d+\Z")
_NUMBER = re.compile(
    r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)\Z", re.I
)


@dataclass(frozen=True)
class JudgeRules:
    """One named set of judge rules, as data (see the module docstring).

    `lines`: "apps" (lines right-stripped, trailing empty lines dropped) or "strip" (the
    text stripped, then every line at both ends). `tokens`: "tolerance" (equal, same
    integer, or floats within 1e-6) or "decimal" (all tokens of both lines as Decimals,
    equal). `values`: "tolerance" (structural, floats within 1e-6) or "equal" (Python
    ``==``). `preamble`: the name of the import preamble programs run after. `calls`:
    "fresh" (every call-based test runs the program anew and calls a new `Solution()`) or
    "shared" (the program runs once; its tests call one `Solution` instance in turn).
    `exits`: "checked" (a stdin program ending with a nonzero exit status fails) or
    "ignored" (its output is judged whatever the status it ends with).
    """

    name: str
    lines: str = "apps"
    tokens: str = "tolerance"
    values: str = "tolerance"
    preamble: str = "apps"
    calls: str = "fresh"
    exits: str = "checked"


APPS_RULES = JudgeRules("apps")
LCB_RULES = JudgeRules(
    "livecodebench",
    lines="strip",
    tokens="decimal",
    values="equal",
    preamble="livecodebench",
    calls="shared",
    exits="ignored",
)
RULE_SETS = {r.name: r for r in (APPS_RULES, LCB_RULES)}


def judge_rules(name: str) -> JudgeRules:
    """The rule set called `name`; ValueError naming the known ones otherwise."""
    try:
        return RULE_SETS[name]
    except KeyError:
        raise ValueError(f"no judge rules {name!r} (known: {', '.join(RULE_SETS)})") from None


def _stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except Exception:  # decimal.InvalidOperation, and anything else a token can raise
        return None


def _decimal_lines_match(a: str, b: str) -> bool:
    if a == b:
        return True
    da, db = _decimals(a), _decimals(b)
    try:
        return da is not None and db is not None and da == db
    except Exception:  # a signaling NaN raises on comparison
        return False


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


def stdout_matches(actual: str, expected: str, rules: JudgeRules = APPS_RULES) -> bool:
    """True if program output `actual` is accepted for the expected stdout `expected`."""
    split = _stripped_lines if rules.lines == "strip" else _lines
    match = _decimal_lines_match if rules.tokens == "decimal" else _lines_match
    la, le = split(actual), split(expected)
    return len(la) == len(le) and all(match(x, y) for x, y in zip(la, le))


def values_match(actual: object, expected: object, rules: JudgeRules = APPS_RULES) -> bool:
    """True if the JSON-decoded return value `actual` equals `expected` (floats with tolerance)."""
    if rules.values == "equal":
        try:
            return bool(actual == expected)
        except Exception:
            return False
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


# EvalPlus rules (HumanEval+ / MBPP+), as evalplus 0.3.1's `unsafe_execute` applies them to
# one input. These run inside the judged program (appsplus.bench.suites.evalplus_judge embeds
# their source), so they use nothing but builtins and `math`.
EVALPLUS_RULES_VERSION = "1"
EVALPLUS_RTOL = 1e-7  # np.allclose(rtol=1e-7), np.testing.assert_allclose's default
EVALPLUS_FLOAT_ATOL = 1e-6  # the atol a task with atol 0 gets once an expected output is a float
# Special oracles by (dataset, entry point), as EvalPlus keys them; every other task is "exact".
EVALPLUS_ORACLES = {
    ("humaneval", "find_zero"): "poly_root",  # HumanEval/32: |poly(xs, x)| <= atol
    ("mbpp", "are_equivalent"): "always",  # Mbpp/164 (not in MBPP+ v0.2.0)
    ("mbpp", "sum_div"): "or_zero",  # Mbpp/295 (not in v0.2.0)
    ("mbpp", "surface_Area"): "surface_area",  # Mbpp/581: or the slant-height formula
    ("mbpp", "digit_distance_nums"): "digit_distance",  # Mbpp/558: or zero-padded digits
    **{
        ("mbpp", name): "set"  # outputs compare as sets (order depends on the hash seed)
        for name in (
            "similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
            "larg_nnum", "intersection_array", "find_dissimilar", "Diff",
        )
    },
    **{  # expected outputs are `output is not None` (the outputs are not serializable)
        ("mbpp", name): "not_none"
        for name in ("check_str", "text_match_three", "text_starta_endb")
    },
}  # fmt: skip


def evalplus_oracle(dataset: str, entry_point: str) -> str:
    """The special oracle of a task ("exact" for most)."""
    return EVALPLUS_ORACLES.get((dataset, entry_point), "exact")


def evalplus_is_floats(x: object) -> bool:
    """EvalPlus's `is_floats`: a float, or a non-empty list/tuple of floats only."""
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


def evalplus_allclose(out: object, exp: object, atol: float) -> bool:
    """np.allclose(out, exp, rtol=EVALPLUS_RTOL, atol=atol) for numbers and equal-shaped
    (nested) lists/tuples of numbers; anything numpy would refuse is not close."""
    if isinstance(out, (list, tuple)) or isinstance(exp, (list, tuple)):
        if not isinstance(out, (list, tuple)) or not isinstance(exp, (list, tuple)):
            if isinstance(out, (list, tuple)):  # broadcasting a scalar
                return all(evalplus_allclose(o, exp, atol) for o in out)
            return all(evalplus_allclose(out, e, atol) for e in exp)
        if len(out) != len(exp):
            if len(out) == 1 or len(exp) == 1:  # broadcasting a length-1 axis
                out, exp = (out * len(exp), exp) if len(out) == 1 else (out, exp * len(out))
            else:
                return False
        return all(evalplus_allclose(o, e, atol) for o, e in zip(out, exp))
    numbers = (int, float)  # bool is an int
    if not isinstance(out, numbers) or not isinstance(exp, numbers):
        return False
    if math.isinf(out) or math.isinf(exp):
        return out == exp
    return abs(out - exp) <= atol + EVALPLUS_RTOL * abs(exp)


def _evalplus_poly(xs: list, x: float) -> float:
    return sum([coeff * math.pow(x, i) for i, coeff in enumerate(xs)])


def _evalplus_surface_area(base_edge, height):
    slant_height = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant_height) / 2)


def _evalplus_digit_distance(num1, num2):
    a, b = str(num1), str(num2)
    width = max(len(a), len(b))
    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width)))


def evalplus_output_ok(out: object, exp: object, inp: list, atol: float, oracle: str) -> bool:
    """One input's verdict under EvalPlus's rules (any exception raised here is a failure).

    `atol` is the run's tolerance, already updated for this input with `evalplus_next_atol`
    (except for "poly_root", which EvalPlus checks before that update). The "poly_root" oracle
    is the check EvalPlus means for HumanEval/32; evalplus 0.3.1 never marks that input
    passed (a defect: it fails every program there, the canonical solution included).
    """
    if oracle == "poly_root":
        return abs(_evalplus_poly(*inp, out)) <= atol
    exact = out == exp
    if oracle == "always":
        exact = True
    elif oracle == "or_zero":
        exact = exact or out == 0
    elif oracle == "surface_area":
        exact = exact or abs(out - _evalplus_surface_area(*inp)) <= atol
    elif oracle == "digit_distance":
        exact = exact or out == _evalplus_digit_distance(*inp)
    elif oracle == "set":
        exact = set(out) == set(exp)
    elif oracle == "not_none":
        exact = out == exp if isinstance(out, bool) else exp == (out is not None)
    if not exact and atol != 0:
        if type(out) is not type(exp):
            return False
        if isinstance(exp, (list, tuple)) and len(out) != len(exp):
            return False
        return evalplus_allclose(out, exp, atol)
    return bool(exact)


def evalplus_next_atol(exp: object, atol: float) -> float:
    """The tolerance for the rest of a run after an input whose expected output is `exp`."""
    return EVALPLUS_FLOAT_ATOL if atol == 0 and evalplus_is_floats(exp) else atol


# End of the EvalPlus rules (the judged program embeds the text from their first line to here).
