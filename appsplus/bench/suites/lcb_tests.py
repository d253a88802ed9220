"""LiveCodeBench's test lists, decoded without unpickling.

`code_generation_lite` stores `public_test_cases` as JSON text and `private_test_cases`
either as JSON text or as base64(zlib(pickle(JSON text))): LiveCodeBench's own loader
calls `pickle.loads` on it, which runs whatever the pickle asks for. Here the pickle is
never unpickled: its opcodes are read with `pickletools.genops` and accepted only if
they build exactly one string (protocol/frame markers, one string opcode, memo puts,
STOP); the string is taken from that opcode's argument and parsed as JSON. Any other
pickle (a global, a reduce, a list, a second string...) is refused with a one-line
`LcbTestsError`.

    decode_tests(row["private_test_cases"])  # -> [{"input": ..., "output": ..., "testtype": ...}]
"""

from __future__ import annotations

import base64
import binascii
import json
import pickletools
import zlib

from appsplus.errors import AppsplusError, shorten

MAX_DECODED_BYTES = 1 << 30  # a private test list of LiveCodeBench is at most some 100 MB

_FRAMING = frozenset({"PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"})
_STRINGS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"})
TEST_TYPES = ("stdin", "functional")


class LcbTestsError(AppsplusError, ValueError):
    """A LiveCodeBench test list cannot be decoded (or is not the expected JSON)."""


def pickled_text(data: bytes) -> str:
    """The one string a pickle holds, read from its opcodes; refuses any other pickle."""
    text: str | None = None
    seen_stop = False
    try:
        for opcode, arg, _pos in pickletools.genops(data):
            name = opcode.name
            if seen_stop:
                raise LcbTestsError("refused pickle: data after STOP")
            if name == "STOP":
                seen_stop = True
            elif name in _STRINGS:
                if text is not None:
                    raise LcbTestsError("refused pickle: it holds more than one string")
                text = arg
            elif name not in _FRAMING:
                raise LcbTestsError(
                    f"refused pickle: opcode {name} (only a pickled string is accepted)"
                )
    except LcbTestsError:
        raise
    except Exception as e:  # pickletools raises ValueError and others on malformed input
        raise LcbTestsError(f"not a valid pickle: {shorten(str(e), 120)}") from e
    if not seen_stop or text is None:
        raise LcbTestsError("refused pickle: it does not hold a string")
    return text


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_DECODED_BYTES)
    except zlib.error as e:
        raise LcbTestsError(f"private tests are not JSON nor zlib data: {e}") from e
    if inflater.unconsumed_tail:
        raise LcbTestsError(f"private tests decompress to more than {MAX_DECODED_BYTES} bytes")
    return out


def decode_tests(value: object) -> list[dict]:
    """A test list (JSON text, or base64/zlib/pickled JSON text) -> its tests, checked."""
    if isinstance(value, list):
        tests = value
    elif isinstance(value, str):
        try:
            tests = json.loads(value)
        except ValueError:
            try:
                raw = base64.b64decode(value.encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError, ValueError) as e:
                raise LcbTestsError(f"tests are not JSON nor base64: {shorten(str(e), 80)}") from e
            text = pickled_text(_inflate(raw))
            try:
                tests = json.loads(text)
            except ValueError as e:
                raise LcbTestsError(f"decoded private tests are not JSON: {e}") from e
    else:
        raise LcbTestsError(f"tests must be a string, got {type(value).__name__}")
    if not isinstance(tests, list):
        raise LcbTestsError(f"tests must be a JSON list, got {type(tests).__name__}")
    for i, test in enumerate(tests):
        if (
            not isinstance(test, dict)
            or not isinstance(test.get("input"), str)
            or not isinstance(test.get("output"), str)
            or test.get("testtype") not in TEST_TYPES
        ):
            raise LcbTestsError(
                f"test {i} is not {{input: str, output: str, testtype: stdin|functional}}: "
                f"{shorten(repr(test), 80)}"
            )
    return tests


def encode_private_tests(tests: list[dict]) -> str:
    """The published encoding of a private test list (for fixtures and round trips)."""
    import pickle

    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode("ascii")
