"""Character ranges of a program -> token masks (prefix masking and StepCoder's FGO).

Tokenizers report each token's character range (`offset_mapping` of a Hugging Face fast
tokenizer). `token_mask` marks the tokens that overlap given character ranges; tokens may
cross line boundaries, so overlap (not containment) decides.

FGO (fine-grained optimization) keeps in the loss only the generated code that some test
executed. `executed_ranges` turns the executor's executed line numbers into character
ranges using the AST: a simple statement counts as executed when its first line ran
(continuation lines included); a compound statement's header (`if x:`, `for ...:`,
`def f():`) likewise; an `else:`/`finally:` keyword when a statement of its block ran.
Comments, blank lines and statements no test reached are not executed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from appsplus.curriculum.spans import SpanError, _Text


def token_mask(offsets: Sequence[tuple[int, int]], ranges: Iterable[tuple[int, int]]) -> list[bool]:
    """For each token's [start, end) character range: does it overlap any of `ranges`?

    Zero-width tokens (special tokens, offsets (0, 0)) overlap nothing.
    """
    merged = _merge(ranges)
    out = []
    j = 0
    for start, end in offsets:
        if end <= start:
            out.append(False)
            continue
        while j < len(merged) and merged[j][1] <= start and merged[j][1] <= end:
            j += 1  # ranges entirely before this token (offsets are non-decreasing)
        hit = any(a < end and start < b for a, b in merged[j : j + 2]) if j < len(merged) else False
        if not hit:
            hit = any(a < end and start < b for a, b in merged)  # tokens out of order: be exact
        out.append(hit)
    return out


def fgo_keep(
    ranges: Iterable[tuple[int, int]] | None,
    offsets: Sequence[tuple[int, int]],
    eos_ended: bool,
) -> list[bool]:
    """StepCoder's FGO loss mask over one completion's tokens (`offsets`: [start, end) of
    each token in the completion text).

    A token is kept when it overlaps the executed character `ranges` of the completion;
    `ranges` None (the run says nothing about lines: a compile error) keeps every token.
    The EOS that ends a completion (`eos_ended`: its last token) is always kept: it ends
    the program the reward judges. The bundled trainer and the TRL integration both call
    this, so their masks agree.
    """
    row = [True] * len(offsets) if ranges is None else token_mask(offsets, ranges)
    if eos_ended and row:
        row[-1] = True
    return row


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted((a, b) for a, b in ranges if b > a):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def executed_ranges(code: str, executed_lines: Iterable[int]) -> list[tuple[int, int]]:
    """Character ranges of `code` that ran, given the executor's executed line numbers."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise SpanError(f"code does not parse: {e}") from e
    ran = set(executed_lines)
    text = _Text(code)
    out: list[tuple[int, int]] = []

    def block(stmts: list[ast.stmt]) -> bool:
        any_ran = False
        for st in stmts:
            any_ran |= visit(st)
        return any_ran

    def clause(keyword: str, owner: ast.stmt, prev_end: int, body: list[ast.stmt]) -> None:
        if block(body):
            line = text.keyword_line(keyword, owner.col_offset, prev_end, body[0].lineno)
            if line is not None:
                out.append((text.offset(line, owner.col_offset), head_end(line, body[0])))

    def head_end(head_line: int, first: ast.stmt) -> int:
        """End of a header: where its block's first statement starts, or its line does."""
        if first.lineno > head_line:
            return text.line_starts[first.lineno - 1]
        return text.offset(first.lineno, first.col_offset)

    def visit(st: ast.stmt) -> bool:
        start = text.offset(st.lineno, st.col_offset)
        head_ran = st.lineno in ran
        bodies = _bodies(st)
        if not bodies:
            if head_ran:
                out.append((start, text.offset(st.end_lineno, st.end_col_offset)))
            return head_ran
        first = bodies[0][1][0]
        if head_ran:  # the header: up to the first statement of the first block
            out.append((start, head_end(st.lineno, first)))
        any_ran = head_ran
        prev_end = st.lineno
        for kind, stmts in bodies:
            if kind in ("else", "finally"):
                before = len(out)
                clause(kind, st, prev_end, stmts)
                any_ran |= len(out) > before
            elif kind == "handler":
                for h in stmts:
                    h_ran = h.lineno in ran
                    if h_ran:
                        out.append(
                            (text.offset(h.lineno, h.col_offset), head_end(h.lineno, h.body[0]))
                        )
                    any_ran |= block(h.body) or h_ran
            elif kind == "cases":
                for case in stmts:
                    any_ran |= block(case.body)
            else:
                any_ran |= block(stmts)
            last = stmts[-1]
            prev_end = getattr(last, "end_lineno", prev_end) or prev_end
        return any_ran

    block(tree.body)
    # whole lines, newline included: indentation and line breaks belong to the code they carry
    starts = text.line_starts + [len(code)]
    lines = set()
    for a, b in _merge(out):
        first, last = text.line_of(a), text.line_of(max(a, b - 1))
        lines.update(range(first, last + 1))
    return _merge((starts[n - 1], starts[n]) for n in lines)


def _bodies(st: ast.stmt) -> list[tuple[str, list]]:
    """The nested blocks of a compound statement, in source order."""
    if isinstance(
        st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With, ast.AsyncWith)
    ):
        return [("body", st.body)]
    if isinstance(st, (ast.If, ast.For, ast.AsyncFor, ast.While)):
        out = [("body", st.body)]
        if st.orelse:
            elif_ = (
                isinstance(st, ast.If) and len(st.orelse) == 1 and isinstance(st.orelse[0], ast.If)
            )
            out.append(("body" if elif_ else "else", st.orelse))
        return out
    if isinstance(st, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        out = [("body", st.body)]
        if st.handlers:
            out.append(("handler", st.handlers))
        if st.orelse:
            out.append(("else", st.orelse))
        if st.finalbody:
            out.append(("finally", st.finalbody))
        return out
    if isinstance(st, getattr(ast, "Match", ())):
        return [("cases", st.cases)]
    return []
