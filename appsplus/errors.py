"""The one error base: every error appsplus raises for bad input, settings, data or an
unusable environment is an `AppsplusError`, and each CLI turns it into one line in one place.

    from appsplus.errors import AppsplusError
    try:
        appsplus.load("not-a-build")
    except AppsplusError as e:
        print(e)          # one line that says what is wrong and what to do

A failure of appsplus itself (a bug, the sandbox breaking) is not an `AppsplusError`: it
keeps its traceback.
"""

from __future__ import annotations

from typing import Any


class AppsplusError(Exception):
    """Base class of the library's errors; `str(error)` is one line meant for a user."""


def shorten(value: Any, limit: int = 80) -> str:
    """`value` as text of at most `limit` characters, cut with an ellipsis, on one line."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
