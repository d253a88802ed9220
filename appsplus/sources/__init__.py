"""Readers that yield raw rows faithfully, in a deterministic order; they never transform.

    from appsplus.sources import open_source
    source = open_source("sample")          # or "apps", "stepcoder:PATH", a folder or file
    for row in source.iter_rows(): ...       # RawRow, one per line / folder / item

Every source has a `name`, a `revision` (the hub revision, or a sha256 of the input files)
and `iter_rows()`. A line or item that cannot be parsed becomes a `RawRow` with `raw=None`
and `raw_error` set, never an exception and never a silently dropped row.
"""

from __future__ import annotations

import decimal
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appsplus.errors import AppsplusError
from appsplus.schema import RawRow

logger = logging.getLogger(__name__)

__all__ = [
    "Source",
    "SourceError",
    "SourceUnavailable",
    "looks_like",
    "loads_json",
    "open_source",
]

PUBLISHED = ("taco", "codecontests", "livecodebench")  # NAME[,KEY=VALUE...][:PATH]
SOURCE_FLAG = "--source"  # the option that names a source in `appsplus build`


def alternatives(flag: str = SOURCE_FLAG) -> str:
    """What to give instead of a source that cannot be read, named with `flag`, the option
    of the command at hand (`--source` for `appsplus build`, `--dataset` for `bench`)."""
    return (
        f"{flag} PATH (a local APPS folder tree with train/NNNN/ and test/NNNN/ folders, or "
        "train.jsonl/test.jsonl or .parquet files in the codeparrot/apps row format), or "
        f"{flag} sample (the embedded sample)"
    )


APPS_ROW_FORMAT = (
    "JSON objects in the codeparrot/apps row format (question, solutions, input_output, "
    "difficulty, ...)"
)
STEPCODER_FORMAT = (
    "the StepCoder APPS+ release: a .json list or .jsonl of objects with prompt, "
    "canonical_solution, inputs, outputs and difficulty"
)
# A row is "in its format" when it has at least one of these keys (values may still be bad).
_FORMAT_KEYS: dict[str, frozenset[str]] = {
    "apps_row": frozenset({"question", "solutions", "input_output"}),
    "apps_folder": frozenset({"question", "solutions", "input_output"}),
    "stepcoder": frozenset({"prompt", "canonical_solution"}),
    "taco": frozenset({"question", "solutions", "input_output"}),
    "codecontests": frozenset({"description", "public_tests", "solutions"}),
    "livecodebench": frozenset({"question_content", "public_test_cases", "question_id"}),
}


class SourceError(AppsplusError, RuntimeError):
    """The source as a whole cannot be read (missing path, unknown layout, unreadable file)."""


class SourceUnavailable(SourceError):
    """A remote source cannot be fetched (offline, hub unreachable); the message names alternatives."""


class Source(ABC):
    """A readable dataset: a name, a revision and a deterministic stream of raw rows."""

    name: str
    expects: str = APPS_ROW_FORMAT  # what its rows must look like, for error messages

    @property
    @abstractmethod
    def revision(self) -> str:
        """The hub revision, or `sha256:<hex>` over the input files."""

    @abstractmethod
    def iter_rows(self) -> Iterator[RawRow]:
        """Yield every row of the source once, in a deterministic order."""

    def prepare(self) -> None:  # noqa: B027 - optional hook, a no-op for local sources
        """Make the input available (download it); raise SourceError if that is impossible."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _parse_int(text: str) -> int:
    # Some APPS tests hold integers with thousands of digits; int(str) refuses more than
    # 4300 digits by default (CVE-2020-10735), Decimal -> int does not.
    return int(text) if len(text) <= 4000 else int(decimal.Decimal(text))


def looks_like(row: RawRow) -> bool:
    """Whether a row parsed into an object with the keys of its format (a malformed row of a
    valid source looks like its format; a row of another dataset does not)."""
    if row.raw is None:
        return False
    keys = _FORMAT_KEYS[row.format]
    if row.format == "apps_folder":
        return any(row.raw.get(k) is not None for k in keys)
    return not keys.isdisjoint(row.raw)


def loads_json(text: str | bytes) -> Any:
    """json.loads that accepts arbitrarily long integers. Raises ValueError/RecursionError."""
    return json.loads(text, parse_int=_parse_int)


def open_source(spec: str, flag: str = SOURCE_FLAG) -> Source:
    """Resolve a `--source` spec: 'apps[@REV]', 'sample', 'stepcoder:PATH', or a PATH;
    'taco', 'codecontests', 'livecodebench' (the hub datasets) or 'NAME[,KEY=VALUE...]:PATH'
    for local files of those (`appsplus.sources.published`).

    A PATH may be an APPS folder tree (with train/ and/or test/ problem folders, or one
    split folder), a .jsonl or .parquet file in the codeparrot/apps row format, or a folder
    holding train/test .jsonl or .parquet files. Raises SourceError for anything else; its
    message names `flag`, the option the spec came from (`bench` passes `--dataset`).
    """
    if spec == "sample":
        from appsplus.sources.sample import SampleSource

        return SampleSource()
    if spec == "apps" or spec.startswith("apps@"):
        from appsplus.sources.hub import HubSource

        _, _, revision = spec.partition("@")
        return HubSource(revision=revision, flag=flag) if revision else HubSource(flag=flag)
    if spec == "synthetic" or spec.startswith("synthetic:"):
        from appsplus.sources.synthetic import SyntheticSource

        return SyntheticSource(spec.removeprefix("synthetic").removeprefix(":"))
    if spec.startswith("stepcoder:"):
        from appsplus.sources.stepcoder import StepCoderSource

        path = spec.removeprefix("stepcoder:")
        if not path.strip():
            raise SourceError(f"{flag} stepcoder: needs a path: stepcoder:PATH, {STEPCODER_FORMAT}")
        return StepCoderSource(Path(path))
    name, sep, _ = spec.partition(":")
    if name.split(",")[0] in PUBLISHED and (sep or name in PUBLISHED):
        from appsplus.sources.published import open_published

        return open_published(spec, flag)
    from appsplus.sources.local import open_path

    return open_path(Path(spec), flag)
