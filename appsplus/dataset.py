"""Use a built APPS+ folder: load it with `datasets`, validate record files, count, push to the hub.

import appsplus
ds = appsplus.load("apps-plus-sample")            # datasets.DatasetDict, rows validated
record = Record.from_row(ds["train"][0])          # typed tests, spans, provenance
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from appsplus.curate.manifest import (
    CARD_FILE,
    DATA_FILES,
    MANIFEST_FILE,
    REJECTIONS_FILE,
    RUNTIMES_FILE,
    TESTS_ONLY_FILE,
    Manifest,
    read_manifest,
    sha256_file,
)
from appsplus.errors import AppsplusError
from appsplus.record import Record, Runtimes

logger = logging.getLogger(__name__)

PUSH_FILES = (
    *DATA_FILES.values(),
    TESTS_ONLY_FILE,
    REJECTIONS_FILE,
    RUNTIMES_FILE,
    CARD_FILE,
    MANIFEST_FILE,
)
TESTS_ONLY_SPLIT = "tests_only"  # appsplus.load(..., include_tests_only=True)


class DatasetError(AppsplusError, ValueError):
    """A dataset folder or file is missing, unreadable or holds invalid records."""


class RowError(DatasetError):
    """Rows that do not validate as `Record`s: `errors` lists (row number, message)."""

    def __init__(self, where: str, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        shown = "; ".join(f"row {n}: {msg}" for n, msg in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{where}: {len(errors)} invalid record(s): {shown}{more}")


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        parts = []
        for e in error.errors()[:3]:
            loc = ".".join(str(x) for x in e["loc"]) or "record"
            parts.append(f"{loc}: {e['msg']}")
        return "; ".join(parts)
    return str(error)


def iter_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a .parquet or .jsonl file of records, streamed; raises DatasetError if unreadable."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=256):
                yield from batch.to_pylist()
        except (OSError, ValueError) as e:
            raise DatasetError(f"{path}: not a readable parquet file: {e}") from e
    elif path.suffix in (".jsonl", ".json"):
        from appsplus.sources import loads_json

        with path.open("rb") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = loads_json(line)
                except (ValueError, UnicodeDecodeError) as e:
                    row = {"__error__": f"not valid JSON: {str(e)[:200]}", "__line__": n}
                yield row if isinstance(row, dict) else {"__error__": "not a JSON object"}
    else:
        raise DatasetError(f"{path}: expected a .parquet or .jsonl file of records")


def validate_file(path: Path) -> tuple[int, list[tuple[int, str]]]:
    """Validate every row of a record file -> (rows, [(1-based row number, error)])."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    errors: list[tuple[int, str]] = []
    n = 0
    for n, row in enumerate(iter_rows(path), start=1):
        if "__error__" in row:
            errors.append((n, row["__error__"]))
            continue
        try:
            Record.from_row(row)
        except (ValidationError, ValueError) as e:
            errors.append((n, _message(e)))
    return n, errors


def data_files(folder: Path) -> dict[str, str]:
    """{split: path} of the parquet files in a build folder; raises DatasetError if none."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder (expected the OUT of `appsplus build`)")
    files = {s: str(folder / f) for s, f in DATA_FILES.items() if (folder / f).is_file()}
    if not files:
        raise DatasetError(f"{folder}: no {' or '.join(DATA_FILES.values())}")
    return files


def check_tests_only_row(row: dict[str, Any]) -> None:
    """Check a row of tests_only.parquet (a problem kept by --tests-only, unverified): the
    `tests_only` flag, no solution (canonical_solution '', canonical_index -1, solutions []),
    at least one test of the problem's kind, a valid provenance noting `tests_only`, and the
    content hash. Raises ValueError (or ValidationError) saying what is wrong."""
    from pydantic import TypeAdapter

    from appsplus.record import Provenance, compute_content_hash
    from appsplus.schema import TestItem
    from appsplus.sources import loads_json

    if row.get("tests_only") is not True:
        raise ValueError("tests_only: not true (not a row of a --tests-only build)")
    if row.get("canonical_solution") or row.get("solutions") or row.get("canonical_index") != -1:
        raise ValueError("a tests-only row has no solution (canonical_index -1, solutions [])")
    tests = TypeAdapter(list[TestItem]).validate_python(loads_json(row["tests"]))
    if not tests or any(t.kind != row.get("kind") for t in tests):
        raise ValueError(f"tests: none, or not all of the problem's kind {row.get('kind')!r}")
    provenance = Provenance.model_validate(loads_json(row["provenance"]))
    if provenance.notes.get("tests_only") is not True:
        raise ValueError("provenance.notes.tests_only: not true")
    if row.get("content_hash") != compute_content_hash({**row, "tests": tests}):
        raise ValueError("content_hash does not match the row's content")


def _num_rows(path: str) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def read_runtimes(folder: Path) -> dict[str, Runtimes]:
    """The measured runtimes of a build folder by problem id ({} if it has none)."""
    path = folder / RUNTIMES_FILE
    if not path.is_file():
        return {}
    try:
        rows = [Runtimes.model_validate(row) for row in iter_rows(path)]
    except ValidationError as e:
        raise DatasetError(f"{path}: invalid runtimes: {_message(e)}") from e
    return {r.problem_id: r for r in rows}


def load(
    path: str | Path,
    *,
    validate: bool = True,
    runtimes: bool = True,
    cache_dir: str | None = None,
    exclude_flags: tuple[str, ...] | list[str] = (),
    min_mutation_score: float | None = None,
    include_tests_only: bool = False,
):
    """Load a built APPS+ folder as a `datasets.DatasetDict`; every row validates as a Record.

    `include_tests_only` adds the split `tests_only` (tests_only.parquet of a build made with
    `--tests-only`: problems kept without a reference solution, unverified, for RL rewards);
    its rows are checked by `check_tests_only_row`, not as Records (they have no solution),
    and carry no quality, so `exclude_flags` / `min_mutation_score` leave them as they are.
    A folder built without --tests-only raises DatasetError.

    `exclude_flags` (e.g. ["weak_tests", "needs_checker"]) drops records carrying any of
    those quality flags; `min_mutation_score` keeps only records scored at least that high
    (see `appsplus.quality.models.record_filter`).

    With `runtimes`, the measured `reference_runtimes_s` and `time_limit_s` of
    runtimes.parquet are added as columns (None where a record has none, or where the
    content hash differs). Raises DatasetError (RowError for invalid rows).
    """
    import datasets

    folder = Path(path)
    files = data_files(folder)
    if include_tests_only and not (folder / TESTS_ONLY_FILE).is_file():
        raise DatasetError(
            f"{folder}: no {TESTS_ONLY_FILE} (built without --tests-only); "
            "load it without include_tests_only"
        )
    empty = {split: f for split, f in files.items() if _num_rows(f) == 0}
    full = {split: f for split, f in files.items() if split not in empty}
    # `datasets` cannot build a split from a parquet file without rows: keep it, empty
    ds = (
        datasets.load_dataset("parquet", data_files=full, cache_dir=cache_dir)
        if full
        else datasets.DatasetDict()
    )
    for split, f in empty.items():
        import pyarrow.parquet as pq
        from datasets.table import InMemoryTable

        ds[split] = datasets.Dataset(InMemoryTable(pq.read_table(f)))
    if include_tests_only:  # its own load: its schema has the `tests_only` column
        files[TESTS_ONLY_SPLIT] = f = str(folder / TESTS_ONLY_FILE)
        if _num_rows(f):
            found = datasets.load_dataset(
                "parquet", data_files={TESTS_ONLY_SPLIT: f}, cache_dir=cache_dir
            )
            ds[TESTS_ONLY_SPLIT] = found[TESTS_ONLY_SPLIT]
        else:
            import pyarrow.parquet as pq
            from datasets.table import InMemoryTable

            ds[TESTS_ONLY_SPLIT] = datasets.Dataset(InMemoryTable(pq.read_table(f)))
    measured = read_runtimes(folder) if runtimes else {}
    if measured:
        for split in list(ds):
            found = [
                measured.get(pid) if measured.get(pid) and measured[pid].content_hash == h else None
                for pid, h in zip(ds[split]["problem_id"], ds[split]["content_hash"])
            ]
            table = ds[split].add_column(
                "reference_runtimes_s", [r.reference_runtimes_s if r else None for r in found]
            )
            ds[split] = table.add_column(
                "time_limit_s", [r.time_limit_s if r else None for r in found]
            )
    if validate:
        for split, table in ds.items():
            errors = []
            check = check_tests_only_row if split == TESTS_ONLY_SPLIT else Record.from_row
            for n, row in enumerate(table, start=1):
                try:
                    check(row)
                except (ValidationError, ValueError) as e:
                    errors.append((n, _message(e)))
            if errors:
                raise RowError(files[split], errors)
    if exclude_flags or min_mutation_score is not None:
        from appsplus.quality.models import record_filter

        try:
            keep = record_filter(exclude_flags, min_mutation_score)
        except ValueError as e:
            raise DatasetError(str(e)) from e
        for split in [s for s in ds if s != TESTS_ONLY_SPLIT]:
            ds[split] = ds[split].filter(keep, input_columns=None)
    return ds


def verify_hashes(folder: Path, manifest: Manifest | None = None) -> list[str]:
    """Files whose sha256 differs from the manifest's (missing files included)."""
    manifest = manifest or read_manifest(folder)
    bad = []
    for name, info in manifest.files.items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != info.sha256:
            bad.append(name)
    return bad


def checked_manifest(folder: Path) -> Manifest:
    """The manifest of a build folder after checking every file it lists against its sha256.

    The one check of a dataset's integrity: raises DatasetError when the folder has no
    valid manifest, or a listed file is missing or differs (deleted, truncated, edited).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder (expected the OUT of `appsplus build`)")
    try:
        manifest = read_manifest(folder)
    except ValidationError as e:
        raise DatasetError(f"{folder}: invalid manifest: {_message(e)}") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise DatasetError(str(e)) from e
    except OSError as e:
        raise DatasetError(f"{folder}: cannot read the manifest ({e.strerror})") from e
    bad = verify_hashes(folder, manifest)
    if bad:
        raise DatasetError(
            f"{folder}: damaged: {', '.join(bad)} missing or different from manifest.json "
            "(rebuild or download it again)"
        )
    return manifest


def stats(folder: Path) -> Manifest:
    """The counts of a build folder (by split and difficulty, rejections, totals), checked
    against the manifest's hashes (`checked_manifest`)."""
    return checked_manifest(folder)


class PushError(AppsplusError, RuntimeError):
    """The upload cannot happen (offline, not logged in, hub error); the message says why."""


def push(folder: Path, repo_id: str, *, private: bool = False, revision: str | None = None) -> str:
    """Upload a build folder's files to the dataset repo `repo_id`; returns the commit URL."""
    manifest = checked_manifest(folder)
    try:
        from huggingface_hub import HfApi, constants, get_token
    except ImportError as e:
        raise PushError("huggingface_hub is not installed: pip install huggingface_hub") from e
    if constants.HF_HUB_OFFLINE:
        raise PushError("offline: HF_HUB_OFFLINE is set, so nothing can be uploaded")
    if not get_token():
        raise PushError(
            "not logged in to the Hugging Face hub: run `hf auth login` or set HF_TOKEN"
        )
    api = HfApi()
    try:
        api.whoami()
    except Exception as e:  # network errors, bad tokens: both mean "cannot upload"
        first = (str(e).splitlines() or ["no detail"])[0][:200]
        raise PushError(
            f"cannot reach the Hugging Face hub at {constants.ENDPOINT} or the token is "
            f"invalid ({type(e).__name__}: {first})"
        ) from e
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commit = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="dataset",
            revision=revision,
            allow_patterns=list(PUSH_FILES),
            commit_message=f"APPS+ {manifest.name} ({manifest.counts.kept} problems)",
        )
    except Exception as e:
        first = (str(e).splitlines() or ["no detail"])[0][:200]
        raise PushError(f"upload to {repo_id} failed ({type(e).__name__}: {first})") from e
    return str(getattr(commit, "commit_url", commit))


def manifest_summary(manifest: Manifest) -> dict[str, Any]:
    """The machine-readable part of `appsplus stats --json`."""
    return {
        "name": manifest.name,
        "counts": manifest.counts.model_dump(),
        "kept_by_split_difficulty": manifest.kept_by_split_difficulty,
        "rejected_by_reason": manifest.rejected_by_reason,
        "totals": manifest.totals,
        "source": manifest.source.model_dump(),
    }
