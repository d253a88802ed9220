"""The EvalPlus judge that runs inside the judged program (stdlib only; see `harness()`).

A HumanEval+ / MBPP+ program is the candidate code followed by a harness that executes
this module's source (and the EvalPlus rules of `appsplus.execution.compare`) in a
namespace of its own and defines two functions the executor calls:

- `__bench_check__(entry_point, inputs, expected, limits, atol, oracle)`: calls the entry
  point on every input in order, in this one process (state carries over between calls,
  as in EvalPlus), each under its own `signal.setitimer` limit with stdout and stderr
  swallowed, and compares each output by EvalPlus's rules. Returns True, or a dict naming
  the first input that failed (a wrong answer); a per-input timeout raises
  `EvalPlusTimeout` and an exception of the program propagates (a runtime error).
- `__bench_reference__(entry_point, inputs, not_none)`: the canonical solution's outputs
  (each call on a deep copy of its input) and the seconds each call took.

Values cross the executor as JSON with tags (`encode` / `decode`): tuples, sets,
frozensets, dicts with any keys, complex numbers, bytes, non-finite floats and integers too
long for JSON's decimal text keep their
type, so `==` sees what EvalPlus's pickled outputs give it. An expected output whose
encoding is longer than `DIGEST_OVER` characters is kept as a sha256 digest (`digest`;
Mbpp/255's are about a gigabyte), and the candidate's output must then have the same digest.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import signal
import sys
import time
from pathlib import Path

JUDGE_VERSION = "1"
DIGEST_OVER = 1 << 20
BIG_INT_BITS = 4000 * 3  # below sys.int_info.default_max_str_digits (4300) decimal digits


class EvalPlusTimeout(Exception):
    """An input ran past its limit (as EvalPlus's TimeoutException, an Exception)."""


class _Opaque:
    """An expected value JSON cannot carry (a generator, an object): equal to nothing."""

    def __init__(self, text):
        self.text = text

    def __eq__(self, other):
        return False

    __hash__ = object.__hash__

    def __repr__(self):
        return self.text


def _key(item):
    return json.dumps(item, sort_keys=True)


def encode(value):
    """A value -> tagged JSON-able data (deterministic: sets and dicts are sorted)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > BIG_INT_BITS:
        return {"__i": hex(value)}  # decimal text of over 4300 digits is refused by default
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__f": repr(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"__t": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        tag = "__s" if isinstance(value, set) else "__fs"
        return {tag: sorted((encode(v) for v in value), key=_key)}
    if isinstance(value, dict):
        items = [[encode(k), encode(v)] for k, v in value.items()]
        return {"__d": sorted(items, key=lambda kv: _key(kv[0]))}
    if isinstance(value, complex):
        return {"__c": [encode(value.real), encode(value.imag)]}
    if isinstance(value, bytes):
        return {"__b": value.decode("latin-1")}
    return {"__x": f"<{type(value).__name__}>"}


def decode(data):
    """Tagged JSON data -> the value `encode` was given."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    ((tag, body),) = data.items()
    if tag == "__t":
        return tuple(decode(v) for v in body)
    if tag == "__s":
        return {decode(v) for v in body}
    if tag == "__fs":
        return frozenset(decode(v) for v in body)
    if tag == "__d":
        return {decode(k): decode(v) for k, v in body}
    if tag == "__c":
        return complex(decode(body[0]), decode(body[1]))
    if tag == "__i":
        return int(body, 16)
    if tag == "__f":
        return float(body)
    if tag == "__b":
        return body.encode("latin-1")
    if tag == "__h":
        return Digest(body)
    return _Opaque(body)


class Digest:
    """An expected output kept as `digest(value)`: equal outputs have equal digests."""

    def __init__(self, hexdigest):
        self.hexdigest = hexdigest

    def matches(self, value):
        return digest(value) == self.hexdigest


def _text(value):
    return json.dumps(encode(value), sort_keys=True)


def digest(value):
    """sha256 of a value's encoding, element by element for a list or tuple (so a gigabyte
    of output is never one string)."""
    h = hashlib.sha256(type(value).__name__.encode() + b"\0")
    for item in value if isinstance(value, (list, tuple)) else [value]:
        h.update(_text(item).encode() + b"\0")
    return h.hexdigest()


def expected_entry(value):
    """The encoded expected output, or {"__h": digest} when its encoding is over DIGEST_OVER."""
    if isinstance(value, (list, tuple)):
        size = 0
        for item in value:
            size += len(_text(item)) + 1
            if size > DIGEST_OVER:
                return {"__h": digest(value)}
        return encode(value)
    encoded = encode(value)
    if len(json.dumps(encoded, sort_keys=True)) > DIGEST_OVER:
        return {"__h": digest(value)}
    return encoded


class _Sink:
    """Swallowed output (EvalPlus's swallow_io): writes are dropped, reads raise OSError."""

    def write(self, text):
        return len(text)

    def writelines(self, lines):
        pass

    def flush(self):
        pass

    def read(self, *args):
        raise OSError("stdin is not readable here")  # as EvalPlus's WriteOnlyStringIO

    readline = readlines = read

    def readable(self):
        return False

    def isatty(self):
        return False


def _on_alarm(signum, frame):
    raise EvalPlusTimeout("Timed out!")


def _call(fn, args, limit):
    streams = sys.stdout, sys.stderr, sys.stdin
    sys.stdout = sys.stderr = sys.stdin = _Sink()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout, sys.stderr, sys.stdin = streams


def _shown(value, limit=300):
    try:
        text = repr(value)
    except Exception as e:  # a broken __repr__ of the program's object
        text = f"<unprintable: {type(e).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def check(g, entry_point, inputs, expected, limits, atol, oracle):
    """EvalPlus's verdict on one input list (see the module docstring)."""
    fn = g.get(entry_point)
    if not callable(fn):
        raise NameError(f"the program defines no function {entry_point!r}")
    inputs, expected = decode(inputs), decode(expected)
    for i, (args, exp) in enumerate(zip(inputs, expected)):
        try:
            out = _call(fn, args, limits[i])
        except EvalPlusTimeout:
            raise EvalPlusTimeout(f"input {i} ran past its limit of {limits[i]:g} s") from None
        if oracle != "poly_root":
            atol = evalplus_next_atol(exp, atol)  # noqa: F821 (compare.py's, in this namespace)
        try:
            if isinstance(exp, Digest):
                ok = exp.matches(out)
            else:
                ok = evalplus_output_ok(out, exp, args, atol, oracle)  # noqa: F821
        except Exception as e:  # EvalPlus: a comparison that raises is a failure
            ok, why = False, f"{type(e).__name__}: {e}"
        else:
            why = None
        if not ok:
            return {
                "input_index": i,
                "input": _shown(args),
                "expected": _shown(exp) if not isinstance(exp, Digest) else "(digest)",
                "output": _shown(out),
                "error": why,
            }
    return True


def reference(g, entry_point, inputs, not_none):
    """The canonical solution's encoded outputs and per-call seconds (`time.time`, as EvalPlus)."""
    fn = g[entry_point]
    outputs, times = [], []
    streams = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = _Sink()
    try:
        for args in decode(inputs):
            args = copy.deepcopy(args)
            start = time.time()
            out = fn(*args)
            times.append(time.time() - start)
            outputs.append(expected_entry(out is not None if not_none else out))
    finally:
        sys.stdout, sys.stderr = streams
    return {"outputs": outputs, "times": times}


RULES_START = "# EvalPlus rules (HumanEval+ / MBPP+)"
RULES_END = "# End of the EvalPlus rules"


def _rules_source() -> str:
    """The EvalPlus section of compare.py, as text (read whole, between its two markers)."""
    from appsplus.execution import compare

    text = Path(compare.__file__).read_text(encoding="utf-8")
    start, end = text.find(RULES_START), text.find(RULES_END)
    if start < 0 or end < start:
        raise RuntimeError(f"{compare.__file__}: the EvalPlus rules' markers are missing")
    return text[start:end]


def judge_source() -> str:
    """This module's code and the EvalPlus rules of compare.py, as one program text."""
    own = Path(__file__).read_text(encoding="utf-8").split("\nRULES_START = ", 1)[0]
    return own + "\n\n" + _rules_source()


@functools.lru_cache(maxsize=4)
def harness(check_fn: str, reference_fn: str) -> str:
    """The lines appended to a candidate (or the canonical solution) of HumanEval+ / MBPP+."""
    return (
        "__bench_evalplus = {'__name__': '__bench_evalplus__'}\n"
        f"exec({judge_source()!r}, __bench_evalplus)\n\n\n"
        f"def {check_fn}(*args):\n"
        "    return __bench_evalplus['check'](globals(), *args)\n\n\n"
        f"def {reference_fn}(*args):\n"
        "    return __bench_evalplus['reference'](globals(), *args)\n"
    )
