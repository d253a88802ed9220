"""Terminal-aware output for the `appsplus` and `bench` CLIs: consoles, logs, progress, Ctrl-C.

Import-light (stdlib, click and appsplus.errors at module level; rich when used), so
any CLI can use it without paying for it. To adopt it in a click CLI:

    from appsplus.cli import output as cli_output

    @click.group(cls=cli_output.CliGroup)          # logs, warnings, quiet libraries, Ctrl-C
    def main(): ...

    cli_output.console().print(table)               # stdout; never wrapped outside a terminal
    cli_output.console(stderr=True).print(msg)      # stderr, same rules
    with cli_output.Progress("verify", total=n) as bar:   # stderr: one rich bar on a
        bar.advance(1)                              # terminal, plain periodic lines elsewhere
        bar.update(description="verify (3 failed)")

What `CliGroup` does before any command runs (`setup()` does the same for other entry
points): one plain log handler on stderr for the root logger (level WARNING, or
$APPSPLUS_LOG_LEVEL), Python warnings routed through it and shown once each, the
progress bars of `datasets`, `huggingface_hub` and `transformers` turned off (ours are the
only ones), and Ctrl-C ends the command with exit status 130 and one line on stderr.
Outside a terminal nothing is wrapped at 80 columns: a line of output is one line in a log.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from typing import Any

import click

from appsplus.errors import AppsplusError, one_line

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what shells report for a command ended by Ctrl-C
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
PLAIN_WIDTH = 10_000  # "no wrapping" for consoles that are not terminals
_HANDLER_NAME = "appsplus.cli.output"
_PROGRESS_ENV = {
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def is_terminal(stream: Any = None) -> bool:
    """Whether `stream` (default stderr) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def console(stderr: bool = False):
    """A rich Console on stdout (or stderr): styled on a terminal, unwrapped plain text elsewhere."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if is_terminal(stream):
        return Console(file=stream)
    return Console(file=stream, width=PLAIN_WIDTH, soft_wrap=True, no_color=True)


def quiet_libraries() -> None:
    """Turn off the progress bars of datasets, huggingface_hub and transformers (ours only)."""
    for key, value in _PROGRESS_ENV.items():
        os.environ.setdefault(key, value)
    if "datasets" in sys.modules:
        sys.modules["datasets"].disable_progress_bars()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


class _StderrHandler(logging.StreamHandler):
    """A StreamHandler on the current `sys.stderr`, looked up at every record."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ sets it; always stderr
        pass


def _is_console_handler(handler: logging.Handler) -> bool:
    if handler.get_name() == _HANDLER_NAME or type(handler).__name__ == "RichHandler":
        return True
    stream = getattr(handler, "stream", None)
    consoles = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    return isinstance(handler, logging.StreamHandler) and any(stream is c for c in consoles)


def setup_logging(level: str | int | None = None) -> None:
    """One plain, unwrapped handler on stderr for the root logger; warnings shown once, through it.

    It replaces every console handler already there (its own from an earlier call,
    `basicConfig`'s, rich's), so nothing is printed twice; handlers writing elsewhere
    (files, test capture) stay. It writes to whatever `sys.stderr` is at the time, so
    click's test runner and rich's live display see it.
    """
    level = level or os.environ.get("APPSPLUS_LOG_LEVEL", "WARNING")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if _is_console_handler(handler):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.captureWarnings(False)  # re-hook even if a caller swapped showwarning since
    logging.captureWarnings(True)
    if not sys.warnoptions:  # -W / PYTHONWARNINGS win; else a repeated warning shows once
        for category in (UserWarning, FutureWarning, RuntimeWarning):
            warnings.filterwarnings("once", category=category)
    for name in ("transformers", "datasets"):  # their own handlers would print a second copy
        lib = logging.getLogger(name)
        for h in list(lib.handlers):
            lib.removeHandler(h)
        lib.propagate = True


def setup(level: str | int | None = None) -> None:
    """Everything `CliGroup` does before a command: logging, warnings, quiet libraries."""
    setup_logging(level)
    quiet_libraries()


def cli_error(error: BaseException) -> click.ClickException:
    """The one-line click error ("Error: ...") that a library error becomes: an
    `AppsplusError` exits with its `exit_status`, an OSError (a folder that cannot be
    written, a full disk) with 1. The traceback is logged at DEBUG level."""
    logging.getLogger(__name__).debug("the error's traceback", exc_info=error)
    if isinstance(error, OSError) and not isinstance(error, AppsplusError):
        where = f"{error.filename}: " if error.filename else ""
        message = f"{where}{error.strerror or one_line(str(error))}"
    else:
        message = one_line(str(error)) or type(error).__name__
    exception = click.ClickException(message)
    exception.exit_code = getattr(error, "exit_status", 1)
    return exception


class CliGroup(click.Group):
    """A click group that calls `setup()` first, turns the library's errors into one line
    (`cli_error`: every `AppsplusError`, and OSError) and Ctrl-C into exit status 130.

    A `SandboxError` (the sandbox itself failed: a bug or a broken environment, not bad
    input) keeps its traceback, except `IsolationUnavailable`, which is an `AppsplusError`.
    """

    def invoke(self, ctx: click.Context) -> Any:
        setup()
        try:
            return super().invoke(ctx)
        except (AppsplusError, OSError) as e:
            raise cli_error(e) from e
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED_EXIT)
        except click.Abort:  # click turns KeyboardInterrupt in prompts into Abort
            click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED_EXIT)


class Progress:
    """Progress of one long task on stderr: a rich bar on a terminal, else a plain line
    every `interval_s` seconds (default $APPSPLUS_PROGRESS_INTERVAL_S, else 10) and one at
    the end, so logs show the work as it goes.

    `advance(n)` adds done units, `update(total=, description=)` changes the goal or the
    label (the label can carry counts). `total=None` means unknown. Once the total is final
    (`update(final=True)`), the lines also estimate the time left.
    """

    def __init__(
        self,
        description: str,
        total: int | None = None,
        *,
        interval_s: float | None = None,
        terminal: bool | None = None,
    ) -> None:
        self.description = description
        self.total = total
        self.completed = 0
        if interval_s is None:
            interval_s = float(os.environ.get("APPSPLUS_PROGRESS_INTERVAL_S", "10"))
        self.interval_s = interval_s
        self.terminal = is_terminal() if terminal is None else terminal
        self._bar: Any = None
        self._task: Any = None
        self._started = self._last = 0.0
        self.final = False  # the total no longer grows: the time left can be estimated

    def __enter__(self) -> Progress:
        self._started = self._last = time.monotonic()
        if self.terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console(stderr=True),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=self.total)
        return self

    def advance(self, n: int = 1) -> None:
        self.completed += n
        if self._bar is not None:
            self._bar.advance(self._task, n)
        else:
            self._maybe_line()

    def update(
        self, *, total: int | None = None, description: str | None = None, final: bool = False
    ) -> None:
        if total is not None:
            self.total = total
        self.final = self.final or final
        if description is not None:
            self.description = description
        if self._bar is not None:
            self._bar.update(self._task, total=self.total, description=self.description)
        else:
            self._maybe_line()

    def _maybe_line(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            self._line(now)

    def _line(self, now: float) -> None:
        goal = f"/{self.total}" if self.total is not None else ""
        elapsed = now - self._started
        left = ""
        if self.final and self.total and 0 < self.completed < self.total:
            left = f", about {elapsed * (self.total - self.completed) / self.completed:.0f} s left"
        click.echo(f"{self.description}: {self.completed}{goal} ({elapsed:.0f} s{left})", err=True)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif exc[0] is None:
            self._line(time.monotonic())
