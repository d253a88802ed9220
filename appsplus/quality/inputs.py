"""New test inputs, seeded: by type-aware mutation of existing ones (EvalPlus's approach),
and drawn from the input format inferred from the tests and the statement (below).

    generate_inputs(tests, count=10, seed="0:apps/train/0001")  ->  [(parent index, test), ...]
    format_inputs(tests, count=10, seed="0:apps/train/0001", statement=question)  ->  [test, ...]

Call-based: each argument is mutated by its JSON type (ints +-1, doubled, halved or drawn
between the values seen; floats scaled; strings get a character replaced or two swapped;
lists get an element mutated, dropped or repeated; booleans flip; dicts get a value
mutated). Stdio: the input is read as lines of whitespace-separated tokens; a number equal
to the token count of another line or to the number of lines after it is a count and
stays, other numbers and words are mutated like call arguments, so line and token counts
are kept. An input whose format is not that (more than `MAX_INPUT_CHARS`, no tokens) gives
nothing. Expected outputs are not made here: the caller keeps an input only where every
verified solution agrees on it. The returned tests carry a placeholder expected output.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from appsplus.execution import CallTest, StdioTest

MAX_INPUT_CHARS = 20_000
_INT = re.compile(r"-?\d{1,18}\Z")
_FLOAT = re.compile(r"-?\d+\.\d+\Z")
PLACEHOLDER = "\x00appsplus-generated\x00"


def _int(v: int, rng: random.Random, seen: list[int]) -> int:
    low = 0 if v >= 0 else None
    choices = [v + 1, v - 1, v * 2, v // 2, -v]
    if seen:
        lo, hi = min(seen), max(seen)
        choices.append(rng.randint(lo, hi))
    out = rng.choice(choices)
    if low is not None and out < low:
        out = v + 1
    return out


def _str(s: str, rng: random.Random) -> str:
    if not s:
        return s
    chars = list(s)
    alphabet = sorted(set(s))
    if len(chars) >= 2 and rng.random() < 0.5:
        i, j = rng.sample(range(len(chars)), 2)
        chars[i], chars[j] = chars[j], chars[i]
    else:
        chars[rng.randrange(len(chars))] = rng.choice(alphabet + ([] if s.isdigit() else ["a"]))
    return "".join(chars)


def mutate_value(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """One type-preserving mutation of a JSON value."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return _int(value, rng, [])
    if isinstance(value, float):
        return rng.choice([value + 1.0, value - 1.0, value * 2, value / 2])
    if isinstance(value, str):
        return _str(value, rng)
    if isinstance(value, list) and value and depth < 8:
        items = list(value)
        action = rng.random()
        i = rng.randrange(len(items))
        if action < 0.6:
            items[i] = mutate_value(items[i], rng, depth + 1)
        elif action < 0.8 and len(items) > 1:
            del items[i]
        else:
            items.insert(i, items[i])
        return items
    if isinstance(value, dict) and value and depth < 8:
        out = dict(value)
        key = rng.choice(sorted(out))
        out[key] = mutate_value(out[key], rng, depth + 1)
        return out
    return value


def _stdio_tokens(text: str) -> list[list[str]] | None:
    if len(text) > MAX_INPUT_CHARS or not text.strip():
        return None
    return [line.split() for line in text.splitlines()]


def _mutate_stdio(lines: list[list[str]], rng: random.Random, seen: dict) -> str:
    counts = {len(line) for line in lines}
    out = [list(line) for line in lines]
    positions = [
        (i, j)
        for i, line in enumerate(lines)
        for j, tok in enumerate(line)
        if not (_INT.match(tok) and (int(tok) in counts or int(tok) == len(lines) - i - 1))
    ]
    if not positions:
        return ""
    for _ in range(rng.randint(1, 3)):
        i, j = rng.choice(positions)
        tok = out[i][j]
        if _INT.match(tok):
            out[i][j] = str(_int(int(tok), rng, seen.get((i, j), [])))
        elif _FLOAT.match(tok):
            digits = len(tok.split(".")[1])
            out[i][j] = f"{float(tok) * rng.choice([0.5, 2.0]) + rng.choice([-1, 1]):.{digits}f}"
        else:
            out[i][j] = _str(tok, rng)
    return "\n".join(" ".join(line) for line in out) + "\n"


def generate_inputs(tests: list[Any], count: int, seed: str) -> list[tuple[int, Any]]:
    """Up to `count` new distinct inputs mutated from `tests` (see the module docstring)."""
    if not tests or count <= 0:
        return []
    rng = random.Random(seed)
    existing = {input_key(t) for t in tests}
    out: list[tuple[int, Any]] = []
    parsed = [_stdio_tokens(t.input) if isinstance(t, StdioTest) else None for t in tests]
    seen: dict[tuple[int, int], list[int]] = {}
    for lines in parsed:
        for i, line in enumerate(lines or []):
            for j, tok in enumerate(line):
                if _INT.match(tok):
                    seen.setdefault((i, j), []).append(int(tok))
    for _ in range(count * 4):
        if len(out) >= count:
            break
        parent = rng.randrange(len(tests))
        test = tests[parent]
        if isinstance(test, CallTest):
            args = list(test.args)
            if not args:
                continue
            for _ in range(rng.randint(1, 2)):
                k = rng.randrange(len(args))
                args[k] = mutate_value(args[k], rng)
            new: Any = CallTest(fn_name=test.fn_name, args=args, expected=PLACEHOLDER)
        else:
            lines = parsed[parent]
            if lines is None:
                continue
            text = _mutate_stdio(lines, rng, seen)
            if not text:
                continue
            new = StdioTest(input=text, output=PLACEHOLDER)
        key = input_key(new)
        if key not in existing:
            existing.add(key)
            out.append((parent, new))
    return out


def input_key(test: Any) -> str:
    """The identity of a test's input (stdio whitespace-insensitive; call args as JSON)."""
    if isinstance(test, StdioTest):
        return "s:" + " ".join(test.input.split())
    return "c:" + json.dumps(test.args, sort_keys=True)


# ---------------------------------------------------------------------------------------
# Inputs from the input format (issue 24.5): probes that do not get weaker with the tests.
#
#     fmt = infer_format(tests, statement)        # None when no format can be inferred
#     format_inputs(tests, count, seed, statement)  ->  [test, ...]
#
# Stdio: every test's input is read as lines of tokens. The lines split into a header (the
# same number of lines in every input) and, where an integer of the header equals the
# number of lines after it in every input ("n" then n lines), a body of repeated rows.
# Each line's token count is fixed, tied to an earlier integer of the header (a count,
# "n" then n numbers) or free within the range seen; each column (or the tokens of a
# variable-length line together) is an int, a float or a word, with the range of the
# values seen, widened to the statement's stated constraint ("1 <= n <= 10^5") that
# contains it; a word's length may be tied to an earlier integer. Call-based: each
# argument's JSON shape (ints, floats, strings, booleans, lists of them, nested) with the
# ranges and lengths seen. Values are drawn (seeded) from the range, its ends and the
# stated bounds; counts and lengths stay small (`MAX_COUNT`) so that probes stay fast.
# ---------------------------------------------------------------------------------------

MAX_COUNT = 12  # largest count or length drawn beyond the ones seen
MAX_TOKENS = 400  # tokens of one generated stdio input
_NUM = (
    r"-?(?:10\s*\^\s*\{?\s*\d+\s*\}?|\d[\d,]*(?:\\,\d{3}|\s\d{3}(?!\d))*(?:\.\d+)?"
    r"(?:\s*(?:·|\\cdot|\*|×|x)\s*10\s*\^\s*\{?\s*\d+\s*\}?)?)"
)
_LE = r"\s*(?:≤|<=|\\leq?|\\le)\s*"
_CONSTRAINT = re.compile(f"({_NUM}){_LE}([^≤<\\n]{{1,40}}?){_LE}({_NUM})")


def _number(text: str) -> float | None:
    t = re.sub(r"\\,|[\s,{}]", "", text)
    m = re.fullmatch(r"(-?)(?:(\d+(?:\.\d+)?)(?:(?:·|\\cdot|\*|×|x)10\^(\d+))?|10\^(\d+))", t)
    if not m:
        return None
    if m.group(4):
        value = 10.0 ** int(m.group(4))
    else:
        value = float(m.group(2)) * (10 ** int(m.group(3)) if m.group(3) else 1)
    return -value if m.group(1) else value


def stated_ranges(statement: str) -> list[tuple[float, float]]:
    """The (low, high) of every "low <= name <= high" constraint in a statement."""
    out = []
    for m in _CONSTRAINT.finditer(statement or ""):
        lo, hi = _number(m.group(1).strip()), _number(m.group(3).strip())
        if lo is not None and hi is not None and lo <= hi:
            out.append((lo, hi))
    return out


class _Col:
    """One column of tokens (or JSON scalars): its kind and what was seen of it."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def add(self, tok: str) -> None:
        self.values.append(tok)

    def finish(self, stated: list[tuple[float, float]]) -> None:
        vals = self.values
        if vals and all(_INT.match(v) for v in vals):
            self.kind = "int"
        elif vals and all(_INT.match(v) or _FLOAT.match(v) for v in vals):
            self.kind = "float"
            self.digits = max(len(v.split(".")[1]) for v in vals if "." in v)
        else:
            self.kind = "word"
        if self.kind == "word":
            self.alphabet = sorted({c for v in vals for c in v}) or ["a"]
            lens = [len(v) for v in vals] or [1]
            self.len_lo, self.len_hi = min(lens), max(lens)
            self.words = sorted(set(vals))
            self.len_tie: tuple[int, int] | None = None
            return
        nums = [float(v) for v in vals]
        self.lo, self.hi = min(nums), max(nums)
        self.stated = None
        fits = [(a, b) for a, b in stated if a <= self.lo and self.hi <= b]
        if fits:
            self.stated = min(fits, key=lambda r: r[1] - r[0])

    def draw(self, rng: random.Random, length: int | None = None) -> str:
        if self.kind == "word":
            if length is None and self.words and rng.random() < 0.3:
                return rng.choice(self.words)
            n = length if length is not None else rng.randint(self.len_lo, self.len_hi)
            return "".join(rng.choice(self.alphabet) for _ in range(max(n, 0))) or "a"
        lo, hi = self.lo, self.hi
        choices = [lo, hi]
        if self.stated:
            a, b = self.stated
            choices += [a, min(a + 1, b)]  # not b: a stated maximum is slow to run
        roll = rng.random()
        if roll < 0.5:
            value = rng.uniform(lo, hi) if self.kind == "float" else rng.randint(int(lo), int(hi))
        elif roll < 0.75:
            value = rng.choice(choices)
        else:  # a neighbour of a value seen (the only way to vary a value seen once)
            seen = float(rng.choice(self.values))
            value = rng.choice([seen + 1, seen - 1, seen * 2, seen // 2 if seen >= 0 else seen])
            if lo >= 0 and value < 0:
                value = seen + 1
        if self.kind == "float":
            return f"{value:.{self.digits}f}"
        return str(int(value))


def _count_draw(col: _Col, rng: random.Random) -> int:
    """A count token: small, within the range seen or stated (at least 0)."""
    lo = max(int(col.stated[0]) if col.stated else int(col.lo), 0)
    hi = min(int(col.stated[1]) if col.stated else int(col.hi), MAX_COUNT)
    hi = max(hi, lo)
    return rng.choice([lo, hi, rng.randint(lo, hi), rng.randint(lo, hi)])


class _Line:
    """A header line or the body's row: how many tokens, and their columns."""

    def __init__(self, rows: list[list[str]], header: list[list[list[str]]] | None, at: int):
        counts = [len(r) for r in rows]
        self.tie: tuple[int, int] | None = None
        self.fixed: int | None = counts[0] if len(set(counts)) == 1 else None
        # a count tied to an earlier integer of the header, the same in every input: where
        # the count varies, or a single input's line of 3 or more tokens ("n" then n numbers)
        single = len({id(h) for h in header or []}) == 1
        if header is not None and (self.fixed is None or (single and self.fixed >= 3)):
            self.tie = _find_tie(header, at, counts)
        self.cols: list[_Col]
        if self.fixed is not None and self.tie is None:
            self.cols = [_Col() for _ in range(self.fixed)]
            for r in rows:
                for c, tok in zip(self.cols, r):
                    c.add(tok)
        else:
            col = _Col()
            for r in rows:
                for tok in r:
                    col.add(tok)
            self.cols = [col]
            self.lo, self.hi = min(counts), max(counts)


def _find_tie(headers: list[list[list[str]]], at: int, wanted: list[int]) -> tuple[int, int] | None:
    """(line, token) of an integer in lines < `at` (or before the token) of every header that
    equals `wanted` for that input; `headers` and `wanted` are per input (or per row, with
    its input's header)."""
    if not headers or not headers[0]:
        return None
    first = headers[0]
    for i in range(min(at, len(first))):
        for j in range(len(first[i])):
            ok = True
            for h, w in zip(headers, wanted):
                if i >= len(h) or j >= len(h[i]) or not _INT.match(h[i][j]) or int(h[i][j]) != w:
                    ok = False
                    break
            if ok:
                return (i, j)
    return None


class StdioFormat:
    """The inferred format of a stdio problem's input (see the section comment)."""

    def __init__(self, parsed: list[list[list[str]]], statement: str) -> None:
        stated = stated_ranges(statement)
        lengths = {len(p) for p in parsed}
        self.body_tie: tuple[int, int] | None = None
        self.header_len = min(lengths)
        # "n" then n lines: an integer equal to the number of lines after its line
        self.body_offset = 0  # "n" then n - 1 rows (a tree's edges): 1
        ties = [
            (i, j, off)
            for off in (0, 1)
            for i in range(self.header_len)
            for j in range(len(parsed[0][i]))
            if all(
                j < len(p[i]) and _INT.match(p[i][j]) and int(p[i][j]) - off == len(p) - i - 1
                for p in parsed
            )
            and any(len(p) - i - 1 > 0 for p in parsed)
        ]
        # the first whose rows all have the same number of tokens, else the last
        even = [t for t in ties if len({len(r) for p in parsed for r in p[t[0] + 1 :]}) == 1]
        if ties:
            i, j, self.body_offset = (sorted(even) or ties[::-1])[0]
            self.body_tie, self.header_len = (i, j), i + 1
        if self.body_tie is None and len(lengths) > 1:
            raise ValueError("inputs with different line counts and no count of lines")
        headers = [p[: self.header_len] for p in parsed]
        self.header = [_Line([p[i] for p in parsed], headers, i) for i in range(self.header_len)]
        self.body: _Line | None = None
        if self.body_tie is not None:
            rows = [r for p in parsed for r in p[self.header_len :]]
            owners = [h for h, p in zip(headers, parsed) for _ in p[self.header_len :]]
            if rows:
                self.body = _Line(rows, owners, self.header_len)
        # a word whose length equals an earlier integer in every input
        for i, line in enumerate(self.header):
            for j, col in enumerate(line.cols):
                if line.fixed is not None and line.tie is None:
                    col.finish(stated)
                    if col.kind == "word":
                        col.len_tie = _find_tie(headers, i, [len(p[i][j]) for p in parsed])
                else:
                    col.finish(stated)
        if self.body:
            for col in self.body.cols:
                col.finish(stated)
        # the integers that counts, lengths and the body hang on: drawn as counts
        self.counts = {t for t in [self.body_tie] if t}
        for line in self.header + ([self.body] if self.body else []):
            if line.tie:
                self.counts.add(line.tie)
            for col in line.cols:
                if col.kind == "word" and col.len_tie:
                    self.counts.add(col.len_tie)

    def _token(self, col: _Col, at: tuple[int, int], values: dict, rng: random.Random) -> str:
        if at in self.counts and col.kind == "int":
            tok = str(_count_draw(col, rng))
        elif col.kind == "word" and getattr(col, "len_tie", None) is not None:
            tok = col.draw(rng, int(values[col.len_tie]))
        else:
            tok = col.draw(rng)
        values[at] = tok
        return tok

    def _line(self, i: int, line: _Line, values: dict, rng: random.Random) -> list[str]:
        if line.fixed is not None and line.tie is None:
            return [self._token(c, (i, j), values, rng) for j, c in enumerate(line.cols)]
        if line.tie is not None:
            n = int(values[line.tie])
        else:
            n = rng.randint(line.lo, min(line.hi, line.lo + MAX_COUNT))
        return [self._token(line.cols[0], (i, j), values, rng) for j in range(n)]

    def draw(self, rng: random.Random) -> str:
        """One input in this format ("" when a count it needs was not drawn)."""
        values: dict[tuple[int, int], str] = {}
        try:
            lines = [self._line(i, line, values, rng) for i, line in enumerate(self.header)]
            if self.body is not None and self.body_tie is not None:
                for _ in range(int(values[self.body_tie]) - self.body_offset):
                    lines.append(self._line(-1, self.body, values, rng))
        except (KeyError, ValueError):  # a count in a line of varying length or kinds
            return ""
        if sum(len(x) for x in lines) > MAX_TOKENS:
            return ""
        return "\n".join(" ".join(x) for x in lines) + "\n"


class _Shape:
    """The JSON shape of one call argument across the tests (scalars, lists of them)."""

    def __init__(self, values: list[Any], stated: list[tuple[float, float]]) -> None:
        kinds = {type(v) for v in values}
        self.kind = "other"
        self.samples = values
        if kinds == {bool}:
            self.kind = "bool"
        elif kinds and kinds <= {int, float} and bool not in kinds:
            col = _Col()
            for v in values:
                col.add(repr(v) if isinstance(v, int) else f"{v:.6f}")
            col.finish(stated)
            self.kind, self.col = ("int" if kinds == {int} else "float"), col
        elif kinds == {str}:
            col = _Col()
            for v in values:
                col.add(v)
            col.finish([])
            col.kind = "word"
            col.alphabet = sorted({c for v in values for c in v}) or ["a"]
            col.len_lo, col.len_hi = min(map(len, values)), max(map(len, values))
            self.kind, self.col = "str", col
        elif kinds == {list}:
            lens = [len(v) for v in values]
            self.len_lo, self.len_hi = min(lens), max(lens)
            items = [x for v in values for x in v]
            self.kind = "list"
            self.item = _Shape(items, stated) if items else None

    def draw(self, rng: random.Random) -> Any:
        if self.kind == "bool":
            return rng.random() < 0.5
        if self.kind == "int":
            return int(self.col.draw(rng))
        if self.kind == "float":
            return float(self.col.draw(rng))
        if self.kind == "str":
            if rng.random() < 0.3:
                return rng.choice(self.samples)
            n = rng.randint(self.col.len_lo, self.col.len_hi)
            return "".join(rng.choice(self.col.alphabet) for _ in range(n))
        if self.kind == "list" and self.item is not None:
            hi = min(self.len_hi, self.len_lo + MAX_COUNT)
            n = rng.choice([self.len_lo, hi, rng.randint(self.len_lo, hi)])
            return [self.item.draw(rng) for _ in range(n)]
        return rng.choice(self.samples) if self.samples else None


def infer_format(tests: list[Any], statement: str = "") -> StdioFormat | list[_Shape] | None:
    """The input format of a problem from all its tests' inputs (and its statement's
    constraints): a StdioFormat, a list of argument shapes, or None (no format found)."""
    stdio = [t for t in tests if isinstance(t, StdioTest)]
    calls = [t for t in tests if isinstance(t, CallTest)]
    if stdio and not calls:
        parsed = [_stdio_tokens(t.input) for t in stdio]
        if any(p is None for p in parsed):
            return None
        lines = [[line for line in p if line] for p in parsed if p]  # blank lines ignored
        try:
            return StdioFormat(lines, statement)  # type: ignore[arg-type]
        except ValueError:
            return None
    if calls and not stdio:
        arity = {len(t.args) for t in calls}
        if len(arity) != 1 or not next(iter(arity)):
            return None
        stated = stated_ranges(statement)
        return [_Shape([t.args[k] for t in calls], stated) for k in range(arity.pop())]
    return None


def format_inputs(tests: list[Any], count: int, seed: str, statement: str = "") -> list[Any]:
    """Up to `count` new distinct inputs drawn from the format inferred from `tests` (and the
    statement), seeded; none when no format is found. Placeholder expected outputs."""
    if not tests or count <= 0:
        return []
    fmt = infer_format(tests, statement)
    if fmt is None:
        return []
    rng = random.Random(f"format:{seed}")
    existing = {input_key(t) for t in tests}
    out: list[Any] = []
    for _ in range(count * 4):
        if len(out) >= count:
            break
        if isinstance(fmt, StdioFormat):
            text = fmt.draw(rng)
            if not text.strip():
                continue
            new: Any = StdioTest(input=text, output=PLACEHOLDER)
        else:
            first = next(t for t in tests if isinstance(t, CallTest))
            new = CallTest(
                fn_name=first.fn_name, args=[s.draw(rng) for s in fmt], expected=PLACEHOLDER
            )
        key = input_key(new)
        if key not in existing:
            existing.add(key)
            out.append(new)
    return out
