"""The one output comparator (rules in `appsplus/execution/compare.py`'s docstring)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appsplus.execution import COMPARATOR_VERSION, stdout_matches, values_match


def test_version_is_recorded():
    assert COMPARATOR_VERSION == "1"


# --------------------------------------------------------------------------- stdio
@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("1 2 3\n", "1 2 3"),
        ("1 2 3   \n\n\n", "1 2 3\n"),
        ("a\t \nb  \n", "a\nb"),
        ("a\r\nb\r\n", "a\nb\n"),
        ("a\rb", "a\nb"),
        ("", ""),
        ("\n\n", ""),
        ("   \n", ""),
        ("1  2", "1 2"),  # lines split into the same tokens
        ("  1", "1"),  # so leading whitespace does not matter either
        ("-0", "0"),  # integers compare by value
        ("+7 007", "7 7"),
        ("3.0", "3"),  # a float and an int within tolerance
        ("0.1234567", "0.1234568"),
        ("1e-7", "0"),  # absolute tolerance
        ("1000000.5", "1000000.6"),  # relative tolerance
        ("1.5E3", "1500.0"),
        (".5", "0.5"),
        ("inf", "Infinity"),
        ("nan", "NaN"),
        ("YES", "YES"),
    ],
)
def test_stdout_accepted(actual, expected):
    assert stdout_matches(actual, expected)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("1000000", "1000001"),  # integers are exact, never tolerant
        ("12345678901234567890", "12345678901234567891"),
        ("1 2", "2 1"),  # no order-insensitive fallback
        ("1\n2", "2\n1"),
        ("1 2 3", "1 2"),
        ("1\n2\n3", "1\n2"),
        ("\n1", "1"),  # leading blank lines count
        ("0.1", "0.2"),
        ("1.0001", "1"),
        ("nan", "0"),
        ("inf", "-inf"),
        ("yes", "YES"),
        ("1,2", "1 2"),
        ("", "0"),
        ("0x10", "16"),
        ("1_000", "1000"),
    ],
)
def test_stdout_rejected(actual, expected):
    assert not stdout_matches(actual, expected)


def test_tokens_with_different_whitespace_match_in_order():
    assert stdout_matches("1\t2   3", "1 2 3")
    assert not stdout_matches("1 2 3", "1 3 2")


def test_float_tolerance_is_symmetric_and_tight():
    assert stdout_matches("2.0000001", "2")
    assert stdout_matches("2", "2.0000001")
    assert not stdout_matches("2.00001", "2")
    assert not stdout_matches("2", "2.00001")


# --------------------------------------------------------------------------- call
@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (1, 1),
        (1.0, 1),  # a float and an int within tolerance
        (0.1 + 0.2, 0.3),
        ([1, [2, [3.0000001]]], [1, [2, [3]]]),
        ({"a": [1, 2], "b": {"c": True}}, {"b": {"c": True}, "a": [1, 2]}),
        (True, True),
        (None, None),
        ("abc", "abc"),
        ([], []),
        ({}, {}),
        ([1, 2], (1, 2)),  # tuples become lists after the JSON round trip
        (True, 1),  # booleans are integers, as in Python and the APPS harness
        (False, 0),
        ([True, False], [1, 0]),
    ],
)
def test_values_accepted(actual, expected):
    assert values_match(actual, expected)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (1000000, 1000001),
        (True, 2),  # booleans are the integers 0 and 1, nothing else
        (False, 1),
        (0.1, 0.2),
        ([1, 2], [2, 1]),
        ([1, 2], [1, 2, 3]),
        ([[1]], [1]),
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"a": 1}, {"b": 1}),
        ({"a": 1.0}, {"a": 2}),
        ("1", 1),
        (None, 0),
        (None, []),
        ("abc", "ABC"),
        ([1], {"0": 1}),
    ],
)
def test_values_rejected(actual, expected):
    assert not values_match(actual, expected)


# --------------------------------------------------------------------------- properties
_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30
)
_text = st.lists(_line, max_size=8).map("\n".join)
_padding = st.text(alphabet=" \t", max_size=3)


@given(_text)
def test_text_matches_itself(text):
    assert stdout_matches(text, text)


@given(_text, _text, st.lists(_padding, max_size=10), st.integers(0, 3), st.integers(0, 3))
def test_trailing_whitespace_never_changes_the_result(actual, expected, pads, extra_a, extra_e):
    """Padding lines with trailing spaces/tabs and adding trailing newlines changes nothing."""

    def pad(text: str, newlines: int) -> str:
        lines = text.split("\n")
        padded = [line + (pads[i % len(pads)] if pads else " ") for i, line in enumerate(lines)]
        return "\n".join(padded) + "\n" * newlines

    base = stdout_matches(actual, expected)
    assert stdout_matches(pad(actual, extra_a), expected) == base
    assert stdout_matches(actual, pad(expected, extra_e)) == base
    assert stdout_matches(pad(actual, extra_a), pad(expected, extra_e)) == base


@given(st.lists(st.integers(), min_size=2, max_size=6, unique=True))
def test_reordered_tokens_never_match(values):
    text = " ".join(map(str, values))
    reordered = " ".join(map(str, values[1:] + values[:1]))
    assert not stdout_matches(reordered, text)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_json)
def test_values_match_themselves(value):
    assert values_match(value, value)


@given(st.integers(), st.integers())
def test_integers_are_exact(a, b):
    assert values_match(a, b) == (a == b)
    assert stdout_matches(str(a), str(b)) == (a == b)
