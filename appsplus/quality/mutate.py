"""AST mutants of a program: the operators of mutation testing, each mutant with a stable id.

    mutants(source)  ->  [Mutant(id="cmp_Lt_LtE@12:7", program=...), ...]

Operators: comparison (< <=, > >=, == !=, in / not in, is / is not), arithmetic and bit
operators (+ -, * //, % //, & |, << >>, also in augmented assignments), off-by-one integer
constants (c+1, c-1) and `range` bounds (stop+1, stop-1), boolean connectives (and / or,
dropping `not`), break / continue, deleted statements (an assignment or expression
statement becomes `pass`) and swapped arguments (the first two positional arguments of a
call). Ids are `operator@line:column`, unique per program (a `#k` suffix when needed);
mutants whose text equals the original's (after `ast.unparse`) or another mutant's are
dropped, and the list is in source order, so the same program gives the same mutants.
"""

from __future__ import annotations

import ast
import copy
import random
from collections.abc import Callable, Iterator

from pydantic import BaseModel, ConfigDict

_CMP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BIN = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_BOOL = {ast.And: ast.Or, ast.Or: ast.And}


class Mutant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    program: str


Edit = Callable[[ast.AST], None]


def _points(tree: ast.AST) -> Iterator[tuple[str, ast.AST, Edit]]:
    """(operator name, node, edit) for every mutation point, in source order."""
    for node in _ordered(tree):
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in _CMP:
                    yield (
                        f"cmp_{type(op).__name__}_{_CMP[type(op)].__name__}",
                        node,
                        lambda n, k=k: n.ops.__setitem__(k, _CMP[type(n.ops[k])]()),
                    )
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BIN:
            new = _BIN[type(node.op)]
            yield (
                f"arith_{type(node.op).__name__}_{new.__name__}",
                node,
                lambda n, new=new: setattr(n, "op", new()),
            )
        elif isinstance(node, ast.BoolOp):
            new = _BOOL[type(node.op)]
            yield (
                f"bool_{type(node.op).__name__}_{new.__name__}",
                node,
                lambda n, new=new: setattr(n, "op", new()),
            )
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            for delta, name in ((1, "const_plus1"), (-1, "const_minus1")):
                yield (name, node, lambda n, d=delta: setattr(n, "value", n.value + d))
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "range" and node.args:
                stop = 0 if len(node.args) == 1 else 1
                for op, name in ((ast.Add(), "range_stop_plus1"), (ast.Sub(), "range_stop_minus1")):
                    yield (name, node, lambda n, s=stop, op=op: _shift(n, s, op))
            if len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
                yield ("swap_args", node, _swap)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield ("drop_not", node, _drop_not)
        elif isinstance(node, ast.Break):
            yield ("break_continue", node, lambda n: setattr(n, "_to", ast.Continue))
        elif isinstance(node, ast.Continue):
            yield ("continue_break", node, lambda n: setattr(n, "_to", ast.Break))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr)) and not _is_docstring(node):
            yield ("delete_stmt", node, lambda n: setattr(n, "_to", ast.Pass))


def _ordered(tree: ast.AST) -> Iterator[ast.AST]:
    """Nodes in a fixed depth-first source order (ast.walk's order is breadth-first)."""
    yield tree
    for child in ast.iter_child_nodes(tree):
        yield from _ordered(child)


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _shift(node: ast.Call, k: int, op: ast.operator) -> None:
    node.args[k] = ast.BinOp(left=node.args[k], op=op, right=ast.Constant(1))


def _swap(node: ast.Call) -> None:
    node.args[0], node.args[1] = node.args[1], node.args[0]


def _drop_not(node: ast.UnaryOp) -> None:
    node._to_expr = node.operand  # type: ignore[attr-defined]


class _Replace(ast.NodeTransformer):
    """Applies the replacements the edits asked for (`_to`: a statement, `_to_expr`)."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        node = super().generic_visit(node)
        to = getattr(node, "_to", None)
        if to is not None:
            return ast.copy_location(to(), node)
        expr = getattr(node, "_to_expr", None)
        return expr if expr is not None else node


def mutants(source: str, k: int | None = None, seed: str = "") -> list[Mutant]:
    """First-order mutants of `source` (see the module docstring); [] if it does not parse.

    With `k`, only a seeded sample of k mutation points is built (fewer mutants come back
    when some of them equal the original or each other).
    """
    try:
        tree = ast.parse(source)
        original = ast.unparse(tree)
    except (SyntaxError, ValueError, RecursionError):
        return []
    count = sum(1 for _ in _points(tree))
    chosen = range(count)
    if k is not None and count > k:
        chosen = sorted(random.Random(seed).sample(range(count), k))
    seen = {original}
    ids: dict[str, int] = {}
    out = []
    for index in chosen:
        mutated = copy.deepcopy(tree)
        name, node, edit = list(_points(mutated))[index]
        edit(node)
        try:
            text = ast.unparse(ast.fix_missing_locations(_Replace().visit(mutated)))
        except (ValueError, RecursionError, AttributeError, TypeError):
            continue
        if text in seen:
            continue
        seen.add(text)
        base = f"{name}@{getattr(node, 'lineno', 0)}:{getattr(node, 'col_offset', 0)}"
        ids[base] = ids.get(base, 0) + 1
        out.append(Mutant(id=base if ids[base] == 1 else f"{base}#{ids[base]}", program=text))
    return out
