"""The StepCoder authors' APPS+ release format: a JSON list (or jsonl) of RL-ready items.

Each item has `prompt` (the question as a docstring under a `def` or `class Solution`
header), `canonical_solution`, `inputs`, `outputs`, `starter_code`, `scope` and
`difficulty`, and no APPS id or split. Rows get the locator 'FILE:INDEX' (0-based index
in the file), which normalize turns into the stable id 'stepcoder/SPLIT/INDEX'.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

from appsplus.schema import RawRow, RejectReason, Split
from appsplus.sources import STEPCODER_FORMAT, Source, SourceError, loads_json
from appsplus.sources.local import iter_jsonl

logger = logging.getLogger(__name__)


def split_for(path: Path) -> Split:
    """'test' if the file name says so, else 'train' (the release's RL training data)."""
    stem = path.name.lower()
    if "test" in stem:
        return "test"
    if "train" not in stem:
        logger.info("%s: file name names no split; treating its rows as 'train'", path.name)
    return "train"


class StepCoderSource(Source):
    """Items of a StepCoder APPS+ .json (a list) or .jsonl file, in file order."""

    expects = STEPCODER_FORMAT

    def __init__(self, path: Path, split: Split | None = None) -> None:
        if not path.is_file():
            raise SourceError(f"{path}: no such file; expected {STEPCODER_FORMAT}")
        self.path = path
        self.split: Split = split or split_for(path)
        self.name = f"stepcoder:{path}"
        self._revision: str | None = None

    @property
    def revision(self) -> str:
        if self._revision is None:
            self._revision = "sha256:" + hashlib.sha256(self.path.read_bytes()).hexdigest()
        return self._revision

    def _error(self, detail: str, reason: RejectReason) -> RawRow:
        return RawRow(
            source=self.name,
            format="stepcoder",
            locator=self.path.name,
            ordinal=0,
            split=self.split,
            raw_error=detail,
            error_reason=reason,
        )

    def iter_rows(self) -> Iterator[RawRow]:
        if self.path.suffix == ".jsonl":
            with self.path.open("rb") as f:
                yield from iter_jsonl(
                    f, source=self.name, label=self.path.name, split=self.split, fmt="stepcoder"
                )
            return
        data = self.path.read_bytes()
        try:
            items = loads_json(data.decode("utf-8").removeprefix("\ufeff"))
        except UnicodeDecodeError as e:
            yield self._error(
                f"not valid UTF-8: {e.reason} at byte {e.start}", RejectReason.INVALID_ENCODING
            )
            return
        except (ValueError, RecursionError) as e:
            yield self._error(f"not valid JSON: {str(e)[:200]}", RejectReason.MALFORMED_ROW)
            return
        if not isinstance(items, list):
            yield self._error(
                f"a JSON {type(items).__name__}, not a list of items", RejectReason.MALFORMED_ROW
            )
            return
        for index, item in enumerate(items):
            locator = f"{self.path.name}:{index}"
            if isinstance(item, dict):
                yield RawRow(
                    source=self.name,
                    format="stepcoder",
                    locator=locator,
                    ordinal=index,
                    split=self.split,
                    raw=item,
                )
            else:
                yield RawRow(
                    source=self.name,
                    format="stepcoder",
                    locator=locator,
                    ordinal=index,
                    split=self.split,
                    raw_error=f"item is a JSON {type(item).__name__}, not an object",
                    error_reason=RejectReason.MALFORMED_ROW,
                )
