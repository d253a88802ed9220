"""The one error base: every error appsplus raises for bad input, settings, data or an
unusable environment is an `AppsplusError`, and each CLI turns it into one line in one place.

    from appsplus.errors import AppsplusError
    try:
        appsplus.load("not-a-build")
    except AppsplusError as e:
        print(e)          # one line that says what is wrong and what to do

Each class keeps the built-in base its callers catch (`SourceError` is also a
`RuntimeError`, `SettingsError` a `ValueError`), so `except ValueError` still works.

A failure of appsplus itself (a bug, the sandbox breaking: `SandboxError`) is not an
`AppsplusError`: it keeps its traceback, which is what a bug report needs. The one
exception is `IsolationUnavailable` (a `SandboxError` and an `AppsplusError`): the machine
cannot isolate programs, and the message names the remedy.

Where the CLIs turn errors into lines, each in one place: `appsplus` and `bench` in
`appsplus.cli.output.CliGroup` ("Error: <message>"), the trainers' `main` functions with
`exit_on_error` ("<prog>: error: <message>"). The exit status is the class's
`exit_status`: 1, or 2 for settings and configs that cannot work (`SettingsError`,
`ConfigError`), as click and argparse exit for bad options.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class AppsplusError(Exception):
    """Base class of the library's errors; `str(error)` is one line meant for a user."""

    exit_status: int = 1  # what a CLI exits with (2: settings or a config that cannot work)


def shorten(
    value: Any,
    limit: int = 80,
    *,
    marker: str = "...",
    quote: bool = False,
    keep_lines: bool = False,
) -> str:
    """`value` (text as is, anything else as its repr) as at most `limit` characters: cut
    with `marker` at the end when longer.

    Runs of whitespace holding a line break become one space first, unless `keep_lines`;
    `quote` gives the repr of the (cut) text instead, which shows line breaks as escapes.
    """
    text = value if isinstance(value, str) else repr(value)
    if not keep_lines and not quote and "\n" in text:
        text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(limit - len(marker), 0)] + marker
    return repr(text) if quote else text


def one_line(text: str) -> str:
    """`text` with its line breaks turned into '; ' (for one-line errors)."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def exit_on_error(prog: str) -> Callable[[F], F]:
    """Decorate an argparse `main`: an `AppsplusError` it raises is printed as
    '<prog>: error: <one line>' on stderr (by the main process only, under torchrun or
    `accelerate launch`) and exits with its `exit_status`; anything else keeps its
    traceback."""

    def decorate(main: F) -> F:
        @functools.wraps(main)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return main(*args, **kwargs)
            except AppsplusError as e:
                if os.environ.get("RANK", "0") == "0":  # torchrun/accelerate: the main process
                    sys.stderr.write(f"{prog}: error: {one_line(str(e)) or type(e).__name__}\n")
                sys.exit(e.exit_status)

        return wrapper  # type: ignore[return-value]

    return decorate
