"""Conditional-statement spans of a Python program, from its abstract syntax tree.

A *conditional statement* here is any statement or clause that branches control flow.
The kinds, and the AST nodes they come from:

==========  ==================================================================
``if``      ``ast.If`` that is not an ``elif``
``elif``    ``ast.If`` that is the only statement of its parent's ``orelse`` and is
            written with the ``elif`` keyword
``else``    the ``else:`` clause of ``if``/``for``/``while``/``try`` (no node of its
            own: it runs from the ``else`` keyword to the end of ``orelse``)
``for``     ``ast.For`` / ``ast.AsyncFor`` (the loop decides whether its body runs)
``while``   ``ast.While``
``try``     ``ast.Try`` / ``ast.TryStar``
``except``  ``ast.ExceptHandler``
``finally`` the ``finally:`` clause
``match``   ``ast.Match``
``case``    ``ast.match_case`` (from the ``case`` keyword to the end of its body)
``with``    ``ast.With`` / ``ast.AsyncWith`` (a context manager may suppress exceptions)
==========  ==================================================================

StepCoder places its curriculum start points at these statements; pass ``kinds`` to use
a subset. Lines are 1-based and inclusive; offsets are *character* offsets into the
original text (not bytes: the AST's columns are UTF-8 byte offsets and are converted),
with ``\\r\\n``, ``\\r`` and ``\\n`` all ending a line as in Python's tokenizer.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from appsplus.errors import AppsplusError

ALL_KINDS: frozenset[str] = frozenset(
    {"if", "elif", "else", "for", "while", "try", "except", "finally", "match", "case", "with"}
)
DEFAULT_KINDS = ALL_KINDS

_NEWLINE = re.compile(r"\r\n|\r|\n")


class SpanError(AppsplusError, ValueError):
    """The code does not parse, so it has no spans (never a guess)."""


class Span(BaseModel):
    """One conditional statement or clause of a program."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    start_line: int
    end_line: int
    start: int  # character offset of the statement's first character
    end: int  # character offset just past its last character
    line_start: int  # character offset of the beginning of start_line


class _Text:
    """Maps (line, UTF-8 byte column) positions of `code` to character offsets."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.line_starts = [0] + [m.end() for m in _NEWLINE.finditer(code)]
        self.lines = [
            code[a:b] for a, b in zip(self.line_starts, self.line_starts[1:] + [len(code)])
        ]

    def offset(self, line: int, byte_col: int) -> int:
        text = self.lines[line - 1]
        return self.line_starts[line - 1] + len(
            text.encode("utf-8")[:byte_col].decode("utf-8", "ignore")
        )

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def keyword_line(
        self, keyword: str, indent_col: int, after_line: int, before_line: int
    ) -> int | None:
        """The line in [after_line, before_line] whose code starts with `keyword` at `indent_col` bytes."""
        pattern = re.compile(rf"{keyword}\b")
        for line in range(after_line, before_line + 1):
            raw = self.lines[line - 1].encode("utf-8")
            indented = len(raw) > indent_col and raw[:indent_col].strip() == b""
            if indented and pattern.match(raw[indent_col:].decode("utf-8", "ignore")):
                return line
        return None


def _span(text: _Text, kind: str, node_start: tuple[int, int], node_end: tuple[int, int]) -> Span:
    start = text.offset(*node_start)
    return Span(
        kind=kind,
        start_line=node_start[0],
        end_line=node_end[0],
        start=start,
        end=text.offset(*node_end),
        line_start=text.line_starts[node_start[0] - 1],
    )


def _clause(
    text: _Text, keyword: str, owner: ast.stmt, prev_end: int, body: list[ast.stmt]
) -> Span | None:
    """Span of an `else:`/`finally:` clause whose statements are `body`."""
    line = text.keyword_line(keyword, owner.col_offset, prev_end, body[0].lineno)
    if line is None:
        return None
    col = owner.col_offset
    return _span(text, keyword, (line, col), (body[-1].end_lineno, body[-1].end_col_offset))


def _iter_spans(tree: ast.AST, text: _Text) -> Iterable[Span]:
    def pos(n: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
        return (n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)

    elifs: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            kind = "elif" if id(node) in elifs else "if"
            yield _span(text, kind, *pos(node))
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                inner = node.orelse[0]
                raw = text.lines[inner.lineno - 1].encode("utf-8")[inner.col_offset :]
                if raw.startswith(b"elif"):
                    elifs.add(id(inner))
                    continue
            if node.orelse:
                span = _clause(text, "else", node, node.body[-1].end_lineno, node.orelse)
                if span:
                    yield span
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            yield _span(text, "while" if isinstance(node, ast.While) else "for", *pos(node))
            if node.orelse:
                span = _clause(text, "else", node, node.body[-1].end_lineno, node.orelse)
                if span:
                    yield span
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            yield _span(text, "try", *pos(node))
            for handler in node.handlers:
                yield _span(text, "except", *pos(handler))
            last = node.handlers[-1].end_lineno if node.handlers else node.body[-1].end_lineno
            if node.orelse:
                span = _clause(text, "else", node, last, node.orelse)
                if span:
                    yield span
                last = node.orelse[-1].end_lineno
            if node.finalbody:
                span = _clause(text, "finally", node, last, node.finalbody)
                if span:
                    yield span
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            yield _span(text, "with", *pos(node))
        elif isinstance(node, getattr(ast, "Match", ())):
            yield _span(text, "match", *pos(node))
            prev = node.subject.end_lineno
            for case in node.cases:
                line = text.keyword_line("case", 0, prev, case.pattern.lineno)
                line = line or case.pattern.lineno
                raw = text.lines[line - 1].encode("utf-8")
                col = len(raw) - len(raw.lstrip())
                yield _span(
                    text,
                    "case",
                    (line, col),
                    (case.body[-1].end_lineno, case.body[-1].end_col_offset),
                )
                prev = case.body[-1].end_lineno


def conditional_spans(code: str, kinds: Iterable[str] = DEFAULT_KINDS) -> list[Span]:
    """The conditional statements of `code` whose kind is in `kinds`, sorted by start.

    Raises SpanError when `code` does not parse.
    """
    kinds = frozenset(kinds)
    unknown = kinds - ALL_KINDS
    if unknown:
        raise ValueError(f"unknown span kinds: {sorted(unknown)}; choose from {sorted(ALL_KINDS)}")
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise SpanError(f"code does not parse: {e}") from e
    text = _Text(code)
    spans = [s for s in _iter_spans(tree, text) if s.kind in kinds]
    return sorted(spans, key=lambda s: (s.start, -s.end, s.kind))
