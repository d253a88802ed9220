"""Local files or hub copies of TACO, CodeContests and LiveCodeBench, read as raw rows.

    open_source("taco:PATH")                                  # BAAI/TACO jsonl/parquet files
    open_source("codecontests,tests=public+private:PATH")     # deepmind/code_contests
    open_source("livecodebench,until=2024-08-01:PATH")        # livecodebench/code_generation_lite
    open_source("taco")                                       # the hub dataset (needs network)

A spec is `NAME[,KEY=VALUE...][:PATH]`. PATH is one .jsonl/.jsonl.gz/.parquet file or a folder
of them (also under data/ or ALL/), read in name order. Each dataset's module
(`taco`, `codecontests`, `livecodebench`) says how file names map to splits and which
options it takes. Rows are yielded as stored (`RawRow.format` names the dataset), except
for what an option asks to leave out (CodeContests test groups not in `tests=`,
LiveCodeBench problems dated after `until=`, counted in `skipped`).
"""

from __future__ import annotations

import gzip
import importlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appsplus.schema import RawRow, RowFormat, Split
from appsplus.sources import SOURCE_FLAG, Source, SourceError, SourceUnavailable
from appsplus.sources.local import hash_files, iter_jsonl

logger = logging.getLogger(__name__)

SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


@dataclass(frozen=True)
class Dataset:
    """What one published dataset looks like: its format, hub repo and file layout."""

    name: str  # taco, codecontests, livecodebench
    format: RowFormat
    repo_id: str
    licence: str
    hub_patterns: tuple[str, ...]  # hub files to read (fnmatch patterns)
    split_of: Callable[[str], tuple[Split, str] | None]  # file name -> (split, source split)
    options: dict[str, str] = field(default_factory=dict)  # option -> help
    # row -> None to keep it, or why it is left out (an option asked for it)
    keep: Callable[[dict[str, Any], dict[str, str]], str | None] | None = None
    # row -> the row with the parts an option leaves out removed
    trim: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]] | None = None


def dataset(name: str) -> Dataset:
    module = importlib.import_module(f"appsplus.sources.{name}")
    return module.DATASET


def parse_spec(spec: str, flag: str = SOURCE_FLAG) -> tuple[Dataset, dict[str, str], str]:
    """'NAME[,KEY=VALUE...][:PATH]' -> (dataset, options, path or '' for the hub)."""
    head, _, path = spec.partition(":")
    name, *pairs = head.split(",")
    ds = dataset(name)
    options: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or key not in ds.options:
            known = ", ".join(f"{k}= ({v})" for k, v in ds.options.items()) or "none"
            raise SourceError(
                f"{flag} {spec}: unknown option {pair!r} of {name} (options: {known})"
            )
        options[key] = value
    try:  # an option's value is checked once here, not on every row
        for check in (ds.keep, ds.trim):
            if check is not None:
                check({}, options)
    except ValueError as e:
        raise SourceError(f"{flag} {spec}: {e}") from None
    if _ and not path.strip():
        raise SourceError(f"{flag} {name}: needs a path: {name}:PATH")
    return ds, options, path


def open_published(spec: str, flag: str = SOURCE_FLAG) -> Source:
    ds, options, path = parse_spec(spec, flag)
    if not path:
        return PublishedSource(ds, options, hub=True, flag=flag)
    root = Path(path).expanduser()
    if not root.exists():
        raise SourceError(f"{flag} {spec}: {root} does not exist")
    return PublishedSource(ds, options, files=_files(root, ds, flag), root=root, flag=flag)


def _files(root: Path, ds: Dataset, flag: str) -> list[Path]:
    if root.is_file():
        return [root]
    files = sorted(
        (
            p
            for d in (root, root / "data", root / "ALL")
            if d.is_dir()
            for p in d.iterdir()
            if p.is_file() and p.name.endswith(SUFFIXES)
        ),
        key=lambda p: p.as_posix(),
    )
    if not files:
        raise SourceError(f"{flag} {ds.name}:{root}: no .jsonl, .jsonl.gz or .parquet files in it")
    return files


def _hub_files(ds: Dataset, revision: str) -> list[Path]:
    """The dataset's files from the HF cache, downloading them if needed."""
    from fnmatch import fnmatch

    from appsplus.sources.hub import _hub_reachable, hf_fetch

    try:
        from huggingface_hub import HfApi, constants
    except ImportError as e:
        raise SourceUnavailable("huggingface_hub is not installed") from e
    if constants.HF_HUB_OFFLINE or not _hub_reachable(constants.ENDPOINT):
        raise SourceUnavailable(
            f"cannot list the files of {ds.repo_id}: offline ({constants.ENDPOINT} is unreachable)"
        )
    try:
        names = HfApi().list_repo_files(ds.repo_id, repo_type="dataset", revision=revision)
    except Exception as e:  # network, auth, missing repo: all mean "not available"
        raise SourceUnavailable(f"cannot list the files of {ds.repo_id}: {e}") from e
    wanted = sorted(n for n in names if any(fnmatch(n, p) for p in ds.hub_patterns))
    if not wanted:
        raise SourceUnavailable(f"{ds.repo_id} has no file matching {', '.join(ds.hub_patterns)}")
    return [hf_fetch(ds.repo_id, n, revision) for n in wanted]


class PublishedSource(Source):
    """The files of one published dataset, in name order; splits from the file names."""

    def __init__(
        self,
        ds: Dataset,
        options: dict[str, str],
        files: list[Path] | None = None,
        root: Path | None = None,
        hub: bool = False,
        revision: str = "main",
        flag: str = SOURCE_FLAG,
    ) -> None:
        self.dataset, self.options, self.hub, self.flag = ds, options, hub, flag
        self.files = files or []
        self.root = root
        self.requested_revision = revision
        self.expects = f"{ds.repo_id} rows"
        where = f"hf:{ds.repo_id}" if hub else f"{ds.name}:{root}"
        self.name = where + "".join(f",{k}={v}" for k, v in sorted(options.items()))
        self.licence = ds.licence
        self.skipped: dict[str, int] = {}  # why -> rows an option left out
        self._revision: str | None = None

    def prepare(self) -> None:
        if self.hub and not self.files:
            try:
                self.files = _hub_files(self.dataset, self.requested_revision)
            except SourceUnavailable as e:
                raise SourceUnavailable(
                    f"{e}. Alternatives: {self.flag} {self.dataset.name}:PATH (local "
                    f"{self.dataset.repo_id} .jsonl or .parquet files)"
                ) from e

    def _label(self, path: Path) -> str:
        if self.root is not None and self.root.is_dir():
            try:
                return path.relative_to(self.root).as_posix()
            except ValueError:
                pass
        return path.name

    @property
    def revision(self) -> str:
        if self.hub:
            return self.requested_revision
        if self._revision is None:
            self._revision = hash_files((self._label(p), p) for p in self.files)
        return self._revision

    def iter_rows(self) -> Iterator[RawRow]:
        self.prepare()
        ordinals: dict[str, int] = {}
        for path in self.files:
            label = self._label(path)
            found = self.dataset.split_of(path.name)
            split, source_split = found if found else (None, "")
            for row in self._rows(path, label, split):
                if row.raw is not None:
                    why = self.dataset.keep(row.raw, self.options) if self.dataset.keep else None
                    if why is not None:
                        self.skipped[why] = self.skipped.get(why, 0) + 1
                        continue
                    raw = self.dataset.trim(row.raw, self.options) if self.dataset.trim else row.raw
                    # the split the dataset itself gave the row (CodeContests 'valid' -> test)
                    raw = {**raw, "_source_split": source_split} if source_split else raw
                    row = row.model_copy(update={"raw": raw})
                key = split or ""
                row = row.model_copy(update={"ordinal": ordinals.get(key, 0)})
                ordinals[key] = ordinals.get(key, 0) + 1
                yield row
        if self.skipped:
            logger.info("%s: left out %s", self.name, self.skipped)

    def _rows(self, path: Path, label: str, split: Split | None) -> Iterator[RawRow]:
        fmt = self.dataset.format
        if path.name.endswith(".parquet"):
            yield from _iter_parquet(path, self.name, label, split, fmt)
        elif path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                yield from iter_jsonl(f, source=self.name, label=label, split=split, fmt=fmt)
        else:
            with path.open("rb") as f:
                yield from iter_jsonl(f, source=self.name, label=label, split=split, fmt=fmt)


def _iter_parquet(
    path: Path, source: str, label: str, split: Split | None, fmt: RowFormat
) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        ordinal = 0
        for batch in parquet.iter_batches(batch_size=16):
            for row in batch.to_pylist():
                yield RawRow(
                    source=source,
                    format=fmt,
                    locator=f"{label}:{ordinal + 1}",
                    ordinal=ordinal,
                    split=split,
                    raw=row,
                )
                ordinal += 1
    except (OSError, ValueError) as e:  # pyarrow.ArrowInvalid is a ValueError
        raise SourceError(f"cannot read parquet file {path}: {e}") from e
