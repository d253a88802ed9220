"""Append-only JSON-lines files that survive being killed mid-write.

A process killed while writing leaves at most one partial last line. `read_models` skips
it (with a warning) and `Appender` cuts it off before appending, so a resumed run never
glues a new line onto a broken one. Every other malformed line is an error.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from appsplus.errors import AppsplusError

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class JsonlError(AppsplusError, ValueError):
    """A line in the middle of a jsonl file is not a valid record."""


def _complete_length(path: Path) -> int:
    """Bytes up to and including the last newline (everything after is a partial line)."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb") as f:
        pos = size
        while pos > 0:
            step = min(1 << 16, pos)
            f.seek(pos - step)
            chunk = f.read(step)
            cut = chunk.rfind(b"\n")
            if cut != -1:
                return pos - step + cut + 1
            pos -= step
    return 0


def read_models(path: Path, model: type[M]) -> Iterator[M]:
    """The records of a jsonl file; a partial (unterminated) last line is skipped."""
    if not path.is_file():
        return
    complete = _complete_length(path)
    if complete < path.stat().st_size:
        logger.warning("%s: ignoring a partial last line (an interrupted write)", path)
    with path.open("rb") as f:
        data = f.read(complete)
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield model.model_validate_json(line)
        except ValidationError as e:
            raise JsonlError(f"{path}:{number}: not a valid {model.__name__}: {e}") from e


class Appender:
    """Thread-safe appender: one JSON line per record, flushed at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            complete = _complete_length(path)
            if complete < path.stat().st_size:
                os.truncate(path, complete)
        self._file = path.open("ab")
        self._lock = threading.Lock()

    def write(self, record: BaseModel) -> None:
        line = record.model_dump_json().encode("utf-8") + b"\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` through a temp file in the same folder, then rename it into place."""
    from appsplus.curate.manifest import write_atomic as write_with

    write_with(path, lambda f: f.write(data))


def write_models(path: Path, records: list[BaseModel]) -> None:
    """Write a whole jsonl file atomically."""
    write_atomic(path, b"".join(r.model_dump_json().encode("utf-8") + b"\n" for r in records))
