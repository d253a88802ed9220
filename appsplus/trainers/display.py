"""One progress display per trainer: Hugging Face's own progress bars (transformers' weight
loading and shard writing, huggingface_hub's downloads, datasets' map) are off while a
trainer runs, so its rich bar is the one on the terminal; their warnings and errors still
print. The bars that were on are put back when the trainer returns or raises, so a Python
session that called `train()` keeps its settings."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# (module, query, enable, disable, whether the query answers "enabled")
_SWITCHES = (
    ("transformers.utils.logging", "is_progress_bar_enabled", "enable_progress_bar",
     "disable_progress_bar", True),
    ("huggingface_hub.utils", "are_progress_bars_disabled", "enable_progress_bars",
     "disable_progress_bars", False),
    ("datasets.utils.logging", "is_progress_bar_enabled", "enable_progress_bar",
     "disable_progress_bar", True),
)  # fmt: skip


@contextmanager
def hub_progress_off() -> Iterator[None]:
    """Turn the Hugging Face bars off inside the block; those that were on come back after."""
    restore: list[Callable[[], None]] = []
    for module, query, enable, disable, answers_enabled in _SWITCHES:
        try:
            m = importlib.import_module(module)
            was_on = bool(getattr(m, query)()) is answers_enabled
            getattr(m, disable)()
        except (ImportError, AttributeError):  # not installed, or another version's name
            continue
        if was_on:
            restore.append(getattr(m, enable))
    try:
        yield
    finally:
        for turn_on in restore:
            turn_on()


def one_progress_display(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a trainer entry point with the Hugging Face bars off (see `hub_progress_off`)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with hub_progress_off():
            return fn(*args, **kwargs)

    return wrapper
