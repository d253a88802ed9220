"""New test inputs by type-aware mutation of existing ones (EvalPlus's approach), seeded.

    generate_inputs(tests, count=10, seed="0:apps/train/0001")  ->  [(parent index, test), ...]

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
    existing = {_key(t) for t in tests}
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
        key = _key(new)
        if key not in existing:
            existing.add(key)
            out.append((parent, new))
    return out


def _key(test: Any) -> str:
    if isinstance(test, StdioTest):
        return "s:" + " ".join(test.input.split())
    return "c:" + json.dumps(test.args, sort_keys=True)
