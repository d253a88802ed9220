"""Conditional spans: named syntax quirks, property-based offsets, and real solutions."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appsplus.curriculum.spans import ALL_KINDS, SpanError, conditional_spans

KEYWORD_OF = {k: k for k in ALL_KINDS}


def check_offsets(code: str) -> list:
    """Invariants every span must satisfy; returns the spans."""
    spans = conditional_spans(code)
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", code)]
    for s in spans:
        assert 0 <= s.line_start <= s.start < s.end <= len(code)
        assert line_starts[s.start_line - 1] == s.line_start
        assert code[s.line_start : s.start].strip() == "", "only indentation before a statement"
        keyword = "async" if code[s.start :].startswith("async") else KEYWORD_OF[s.kind]
        assert code[s.start :].startswith(keyword), (s, code[s.start : s.start + 20])
        assert s.start_line <= s.end_line
        end_line = max(i + 1 for i, a in enumerate(line_starts) if a <= s.end - 1)
        assert end_line == s.end_line
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    return spans


def kinds(code: str) -> list[tuple[str, int]]:
    return [(s.kind, s.start_line) for s in conditional_spans(code)]


def test_every_kind_and_elif_chains():
    code = (
        "import sys\n"
        "def f(x):\n"
        "    if x > 1:\n        return 1\n"
        "    elif x < 0:\n        return 2\n"
        "    else:\n        return 3\n"
        "for i in range(3):\n    pass\nelse:\n    pass\n"
        "while False:\n    pass\n"
        "try:\n    pass\nexcept ValueError:\n    pass\nelse:\n    pass\nfinally:\n    pass\n"
        "match sys.argv:\n    case [a]:\n        pass\n    case _:\n        pass\n"
        "with open(__file__) as fh:\n    pass\n"
    )
    assert kinds(code) == [
        ("if", 3),
        ("elif", 5),
        ("else", 7),
        ("for", 9),
        ("else", 11),
        ("while", 13),
        ("try", 15),
        ("except", 17),
        ("else", 19),
        ("finally", 21),
        ("match", 23),
        ("case", 24),
        ("case", 26),
        ("with", 28),
    ]
    check_offsets(code)


def test_else_if_is_not_elif():
    code = "if a:\n    pass\nelse:\n    if b:\n        pass\n"
    assert kinds(code) == [("if", 1), ("else", 3), ("if", 4)]


def test_one_line_if_and_decorators_and_nesting():
    code = (
        "@decorator\n"
        "def outer():\n"
        "    class C:\n"
        "        def m(self):\n"
        "            if self: return 1\n"
        "    def inner():\n"
        "        for x in y: z()\n"
        "if 1: y = 2\n"
    )
    assert kinds(code) == [("if", 5), ("for", 7), ("if", 8)]
    check_offsets(code)


def test_tabs_crlf_and_non_ascii_give_character_offsets():
    code = "s = 'héllo wörld ✓'\nif s:\n\tprint('ü')\nelse:\n\tpass\n"
    spans = check_offsets(code)
    assert code[spans[0].start : spans[0].end] == "if s:\n\tprint('ü')\nelse:\n\tpass"
    crlf = code.replace("\n", "\r\n")
    spans_crlf = check_offsets(crlf)
    assert [(s.kind, s.start_line, s.end_line) for s in spans_crlf] == [
        (s.kind, s.start_line, s.end_line) for s in spans
    ]
    # a non-ASCII character before the statement on its line shifts bytes, not characters
    code = "x = 'ñ'; y = 1\nz = 'ññ'\nif x: pass\n"
    (span,) = conditional_spans(code)
    assert code[span.start : span.end] == "if x: pass"


def test_unparseable_code_is_a_clear_error():
    with pytest.raises(SpanError, match="does not parse"):
        conditional_spans("if x\n    pass\n")
    with pytest.raises(ValueError, match="unknown span kinds"):
        conditional_spans("pass\n", kinds={"if", "loop"})


def test_kinds_subset():
    code = "for i in x:\n    if i:\n        pass\n"
    assert [s.kind for s in conditional_spans(code, kinds={"if"})] == ["if"]


# --------------------------------------------------------------------------- properties
names = st.sampled_from(["a", "b", "x1", "ñame", "变量"])
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


@st.composite
def blocks(draw, depth=0):
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                ["simple", "if", "for", "while", "try", "with", "def"] if depth < 3 else ["simple"]
            )
        )
        if kind == "simple":
            lines.append(f"{draw(names)} = {draw(texts)!r}")
            continue
        header = {
            "if": f"if {draw(names)}:",
            "for": f"for {draw(names)} in {draw(names)}:",
            "while": f"while {draw(names)}:",
            "try": "try:",
            "with": f"with {draw(names)} as {draw(names)}:",
            "def": f"def {draw(names)}():",
        }[kind]
        lines.append(header)
        lines += ["    " + line for line in draw(blocks(depth + 1))]
        if kind == "if" and draw(st.booleans()):
            lines.append(f"elif {draw(names)}:")
            lines += ["    " + line for line in draw(blocks(depth + 1))]
        if kind in ("if", "for", "while") and draw(st.booleans()):
            lines.append("else:")
            lines += ["    " + line for line in draw(blocks(depth + 1))]
        if kind == "try":
            lines.append("except Exception:")
            lines += ["    " + line for line in draw(blocks(depth + 1))]
            if draw(st.booleans()):
                lines.append("finally:")
                lines += ["    " + line for line in draw(blocks(depth + 1))]
    return lines


@settings(max_examples=150, deadline=None)
@given(blocks(), st.sampled_from(["\n", "\r\n"]), st.sampled_from(["    ", "\t", "  "]))
def test_offsets_hold_for_generated_programs(lines, newline, indent):
    code = newline.join(line.replace("    ", indent) for line in lines) + newline
    spans = check_offsets(code)
    n_headers = sum(
        1
        for line in lines
        if re.match(r"\s*(if|elif|else|for|while|try|except|finally|with)\b", line)
    )
    assert len(spans) == n_headers


# --------------------------------------------------------------------------- real code
def real_solutions(shared_data):
    out = []
    for item in json.loads(
        (shared_data / "apps-plus" / "stepcoder_apps_plus_sample.json").read_text()
    ):
        out.append(item["canonical_solution"])
    for d in sorted((shared_data / "apps" / "raw").glob("*/*")):
        out += json.loads((d / "solutions.json").read_text())
    return out


def test_spans_on_every_real_solution(shared_data):
    solutions = real_solutions(shared_data)
    parsed = 0
    for code in solutions:
        try:
            check_offsets(code)
            parsed += 1
        except SpanError:
            pass  # Python 2 solutions in raw APPS: a clear error, never wrong spans
    assert parsed >= 0.95 * len(solutions)
