"""The APPS `input_output` format -> typed tests."""

from __future__ import annotations

import json
from typing import Any

from appsplus.execution.models import CallTest, StdioTest, TestsError


def _text(value: Any) -> str:
    """APPS stores most stdio inputs/outputs as strings, a few as lists of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    raise TestsError(f"expected a string or a list of strings, got {type(value).__name__}")


def tests_from_apps(input_output: dict | str) -> list[StdioTest] | list[CallTest]:
    """Convert an APPS `input_output` object (or its JSON text) into tests, in order.

    With `fn_name` the tests are call-based: each input is the list of positional
    arguments, and each output is taken as raw APPS stores it, usually wrapped in a
    one-element list, so `apps_list_quirk` is set (both readings are accepted). Without it
    the tests are stdio. Raises TestsError (a ValueError) on malformed input.
    """
    io = json.loads(input_output) if isinstance(input_output, str) else input_output
    if not isinstance(io, dict):
        raise TestsError("input_output must be a JSON object")
    inputs, outputs = io.get("inputs"), io.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise TestsError("input_output needs lists 'inputs' and 'outputs'")
    if len(inputs) != len(outputs):
        raise TestsError(f"{len(inputs)} inputs but {len(outputs)} outputs")
    fn_name = io.get("fn_name")
    if fn_name is None:
        return [StdioTest(input=_text(i), output=_text(o)) for i, o in zip(inputs, outputs)]
    if not isinstance(fn_name, str) or not fn_name.isidentifier():
        raise TestsError(f"fn_name must be an identifier, got {fn_name!r}")
    tests = []
    for args, out in zip(inputs, outputs):
        if not isinstance(args, list):
            raise TestsError("call-based inputs must be lists of arguments")
        tests.append(CallTest(fn_name=fn_name, args=args, expected=out, apps_list_quirk=True))
    return tests


tests_from_apps.__test__ = False  # not a pytest test, despite its name
