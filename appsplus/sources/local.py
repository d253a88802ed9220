"""Local readers: the APPS folder tree, and jsonl/parquet files in the codeparrot/apps row format."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from appsplus.schema import SPLITS, RawRow, RejectReason, RowFormat, Split
from appsplus.sources import SOURCE_FLAG, Source, SourceError, alternatives, loads_json

logger = logging.getLogger(__name__)

ROW_SUFFIXES = (".jsonl", ".parquet")
APPS_FILES = {  # raw key -> file name in an APPS problem folder
    "question": "question.txt",
    "solutions": "solutions.json",
    "input_output": "input_output.json",
    "metadata": "metadata.json",
    "starter_code": "starter_code.py",
}
_SPLIT_NAME = re.compile(r"^(train|test)(?:$|[-_.])", re.IGNORECASE)
_CHUNK = 1 << 20


def split_from_name(name: str) -> Split | None:
    """'train.jsonl', 'test-00000-of-00002.parquet' -> the split; anything else -> None."""
    match = _SPLIT_NAME.match(name)
    if match is None:
        return None
    return "train" if match.group(1).lower() == "train" else "test"


def hash_files(files: Iterable[tuple[str, Path]]) -> str:
    """sha256 over (label, size, content) of each file, in the given order: 'sha256:<hex>'."""
    digest = hashlib.sha256()
    for label, path in files:
        digest.update(label.encode() + b"\0" + path.stat().st_size.to_bytes(8, "big"))
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _error_row(
    source: str,
    fmt: RowFormat,
    locator: str,
    ordinal: int,
    split: Split | None,
    error: str,
    reason: RejectReason,
) -> RawRow:
    return RawRow(
        source=source,
        format=fmt,
        locator=locator,
        ordinal=ordinal,
        split=split,
        raw_error=error,
        error_reason=reason,
    )


def parse_json_object_line(
    line: bytes, *, source: str, fmt: RowFormat, locator: str, ordinal: int, split: Split | None
) -> RawRow:
    """One jsonl line -> RawRow; undecodable or non-object lines become error rows."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        detail = f"not valid UTF-8: {e.reason} at byte {e.start}"
        return _error_row(
            source, fmt, locator, ordinal, split, detail, RejectReason.INVALID_ENCODING
        )
    try:
        obj = loads_json(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        detail = f"not valid JSON: {str(e)[:200]}"
        return _error_row(source, fmt, locator, ordinal, split, detail, RejectReason.MALFORMED_ROW)
    if not isinstance(obj, dict):
        detail = f"a JSON {type(obj).__name__}, not an object"
        return _error_row(source, fmt, locator, ordinal, split, detail, RejectReason.MALFORMED_ROW)
    return RawRow(source=source, format=fmt, locator=locator, ordinal=ordinal, split=split, raw=obj)


def iter_jsonl(
    stream: IO[bytes], *, source: str, label: str, split: Split | None, fmt: RowFormat = "apps_row"
) -> Iterator[RawRow]:
    """One RawRow per non-blank line of a binary jsonl stream; locators are 'label:LINENO'."""
    ordinal = 0
    blank = 0
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            blank += 1
            continue
        yield parse_json_object_line(
            line.rstrip(b"\r\n"),
            source=source,
            fmt=fmt,
            locator=f"{label}:{lineno}",
            ordinal=ordinal,
            split=split,
        )
        ordinal += 1
    if blank:
        logger.warning("%s: skipped %d blank line(s)", label, blank)


def iter_parquet(path: Path, *, source: str, label: str, split: Split | None) -> Iterator[RawRow]:
    """One RawRow per parquet row, streamed in small batches; locators are 'label:ROWNO' (1-based)."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        ordinal = 0
        for batch in parquet.iter_batches(batch_size=64):
            for row in batch.to_pylist():
                yield RawRow(
                    source=source,
                    format="apps_row",
                    locator=f"{label}:{ordinal + 1}",
                    ordinal=ordinal,
                    split=split,
                    raw=row,
                )
                ordinal += 1
    except (OSError, ValueError) as e:  # pyarrow.ArrowInvalid is a ValueError
        raise SourceError(f"cannot read parquet file {path}: {e}") from e


class RowFilesSource(Source):
    """jsonl and parquet files in the codeparrot/apps row format, read in the given order."""

    def __init__(self, files: list[Path], root: Path | None = None) -> None:
        if not files:
            raise SourceError("no input files")
        self.files = files
        self.root = root or files[0].parent
        self.name = f"local:{root or files[0]}"
        self._revision: str | None = None

    def _label(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name

    @property
    def revision(self) -> str:
        if self._revision is None:
            self._revision = hash_files((self._label(p), p) for p in self.files)
        return self._revision

    def iter_rows(self) -> Iterator[RawRow]:
        for path in self.files:
            label, split = self._label(path), split_from_name(path.name)
            logger.info("reading %s (split: %s)", path, split or "from the rows")
            if path.suffix == ".parquet":
                yield from iter_parquet(path, source=self.name, label=label, split=split)
            else:
                with path.open("rb") as f:
                    yield from iter_jsonl(f, source=self.name, label=label, split=split)


class AppsTreeSource(Source):
    """The original APPS layout: SPLIT/NNNN/{question.txt, solutions.json, input_output.json, ...}.

    Each problem folder yields one row whose `raw` maps 'question', 'solutions',
    'input_output', 'metadata' and 'starter_code' to the file's text, or None when the
    file is absent (the test split has no metadata.json); 'problem_dir' is the folder name
    and 'files' lists every file present. Folders are read in name order, train first.
    """

    expects = (
        "APPS problem folders (SPLIT/NNNN/ with question.txt, solutions.json, input_output.json)"
    )

    def __init__(self, root: Path, splits: Iterable[Split] = SPLITS) -> None:
        self.root = root
        self.splits = [s for s in SPLITS if s in set(splits)]
        self.name = f"local:{root}"
        self._revision: str | None = None

    def _problem_dirs(self) -> Iterator[tuple[Split, Path]]:
        for split in self.splits:
            folder = self.root / split
            if folder.is_dir():
                for d in sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name):
                    yield split, d

    @property
    def revision(self) -> str:
        if self._revision is None:
            files = (
                (f"{split}/{d.name}/{f.name}", f)
                for split, d in self._problem_dirs()
                for f in sorted(d.iterdir(), key=lambda p: p.name)
                if f.is_file()
            )
            self._revision = hash_files(files)
        return self._revision

    def iter_rows(self) -> Iterator[RawRow]:
        counters = dict.fromkeys(self.splits, 0)
        for split, d in self._problem_dirs():
            ordinal = counters[split]
            counters[split] += 1
            yield self._read_problem(split, d, ordinal)

    def _read_problem(self, split: Split, folder: Path, ordinal: int) -> RawRow:
        locator = f"{split}/{folder.name}"
        raw: dict[str, object] = {"problem_dir": folder.name}
        try:
            raw["files"] = sorted(p.name for p in folder.iterdir() if p.is_file())
            for key, filename in APPS_FILES.items():
                path = folder / filename
                if not path.is_file():
                    raw[key] = None
                    continue
                data = path.read_bytes()
                try:
                    raw[key] = data.decode("utf-8")
                except UnicodeDecodeError as e:
                    detail = f"{filename}: not valid UTF-8: {e.reason} at byte {e.start}"
                    return _error_row(
                        self.name,
                        "apps_folder",
                        locator,
                        ordinal,
                        split,
                        detail,
                        RejectReason.INVALID_ENCODING,
                    )
        except OSError as e:
            return _error_row(
                self.name,
                "apps_folder",
                locator,
                ordinal,
                split,
                f"cannot read: {e}",
                RejectReason.MALFORMED_ROW,
            )
        return RawRow(
            source=self.name,
            format="apps_folder",
            locator=locator,
            ordinal=ordinal,
            split=split,
            raw=raw,
        )


def _has_problem_dirs(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_dir() for p in folder.iterdir())


def _row_files(folder: Path) -> list[Path]:
    candidates = [
        p
        for d in (folder, folder / "data")
        if d.is_dir()
        for p in d.iterdir()
        if p.is_file() and p.suffix in ROW_SUFFIXES
    ]
    order = {"train": 0, "test": 1, None: 2}
    return sorted(candidates, key=lambda p: (order[split_from_name(p.name)], p.as_posix()))


def open_path(path: Path, flag: str = SOURCE_FLAG) -> Source:
    """A local PATH -> the matching source (see `open_source`); SourceError if none fits."""
    if not path.exists():
        raise SourceError(f"{path} does not exist. Use {alternatives(flag)}")
    if path.is_file():
        if path.suffix in ROW_SUFFIXES:
            return RowFilesSource([path])
        hint = (
            " (for the StepCoder APPS+ JSON use stepcoder:PATH)" if path.suffix == ".json" else ""
        )
        raise SourceError(f"{path}: unsupported file type{hint}. Use {alternatives(flag)}")
    tree_splits = [s for s in SPLITS if _has_problem_dirs(path / s)]
    if tree_splits:
        return AppsTreeSource(path, tree_splits)
    if path.name in SPLITS and any((d / "question.txt").is_file() for d in path.iterdir()):
        return AppsTreeSource(path.parent, [path.name])
    files = _row_files(path)
    if files:
        return RowFilesSource(files, root=path)
    raise SourceError(
        f"{path}: no APPS layout found (expected train/NNNN/ or test/NNNN/ problem folders, "
        f"or .jsonl/.parquet files). Use {alternatives(flag)}"
    )
