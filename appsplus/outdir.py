"""Output folders: write only into a new or empty folder, an earlier output of the same
work (a resume), or one the user explicitly asked to overwrite; never clobber other files.

    prepare_out(out, is_resume=lambda: same_config(out), overwrite=False, what="a build")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from appsplus.errors import AppsplusError


class OutputError(AppsplusError, ValueError):
    """The output folder cannot be used (it holds something else, or cannot be created)."""


def _entries(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def prepare_out(
    out: Path,
    *,
    is_resume: Callable[[], bool],
    overwrite: bool,
    what: str,
    scratch: Iterable[str] = (),
    remedy: str | None = None,
) -> None:
    """Create `out`, or accept it when it is empty, holds only `scratch` entries (our own
    temporary/cache folders), is an earlier output of the same work (`is_resume()`), or
    `overwrite` is set. Raises OutputError, with a one-line reason, otherwise; `remedy`
    replaces the reason's advice (for a command without --overwrite)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir():
        try:
            entries = _entries(out)
        except OSError as e:
            raise OutputError(f"{out}: cannot list the output folder ({e.strerror})") from None
        if overwrite or not set(entries) - set(scratch) or is_resume():
            return
        shown = ", ".join(entries[:5]) + (
            f" and {len(entries) - 5} more" if len(entries) > 5 else ""
        )
        if remedy is None:
            remedy = (
                "use a new or empty folder, or pass --overwrite to replace the files it "
                "writes there (other files are left alone)"
            )
        raise OutputError(
            f"{out}: not empty ({shown}) and not {what} of the same input and options; {remedy}"
        )
    try:
        out.mkdir(parents=True)
    except OSError as e:
        raise OutputError(f"{out}: cannot create the output folder ({e.strerror})") from None
