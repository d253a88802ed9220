"""The build manifest (counts, reject reasons, file hashes, versions, config) and the dataset card.

`manifest.json` is written last, after every file it hashes: a folder with a manifest
whose hashes match is a complete build. Nothing in it depends on the time, the machine,
the output folder, the number of workers or the cache, so the same input and config give
the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pydantic import Field, model_validator

from appsplus.schema import DIFFICULTIES, SPLITS, StrictModel

MANIFEST_FILE = "manifest.json"
CARD_FILE = "README.md"
REJECTIONS_FILE = "rejections.jsonl"
RUNTIMES_FILE = "runtimes.parquet"
TESTS_ONLY_FILE = "tests_only.parquet"  # --tests-only: problems kept without a solution
MEASUREMENT_FILES = (RUNTIMES_FILE,)
MEASUREMENTS_NOTE = (
    "wall-clock runtimes and time limits measured by this build: not hashed, they differ "
    "between builds (see runtime_policy)"
)
DATA_FILES: dict[str, str] = {split: f"{split}.parquet" for split in SPLITS}
_UMASK_LOCK = threading.Lock()


class FileInfo(StrictModel):
    sha256: str
    bytes: int
    rows: int


class SourceInfo(StrictModel):
    spec: str = Field(description="the --source argument")
    name: str
    revision: str


class SourceCounts(StrictModel):
    """One source of a mixed build: where from, under which licence, what became of its rows."""

    spec: str = Field(description="its --source argument")
    name: str
    revision: str
    licence: str
    read: int
    kept: int
    rejected: int
    tests_only: int = Field(0, description="kept without a reference solution (--tests-only)")
    rejected_by_reason: dict[str, int]
    left_out: dict[str, int] = Field(
        default_factory=dict, description="rows an option left out before reading (until=...)"
    )


class Counts(StrictModel):
    """Every row read is kept or rejected: `kept + rejected == read` (checked on construction)."""

    read: int
    kept: int
    rejected: int
    balanced: bool = True

    @model_validator(mode="after")
    def _balanced(self) -> Counts:
        if self.kept + self.rejected != self.read or not self.balanced:
            raise ValueError(f"kept {self.kept} + rejected {self.rejected} != read {self.read}")
        return self


class Manifest(StrictModel):
    """What was built, from what, how, and the sha256 of every output file."""

    name: str
    tool_version: str
    executor_version: str
    comparator_version: str
    source: SourceInfo
    counts: Counts
    kept_by_split_difficulty: dict[str, dict[str, int]]
    rejected_by_reason: dict[str, int]
    rejected_by_stage: dict[str, int]
    totals: dict[str, int] = Field(description="tests, solutions, corrections, ... of kept records")
    limits: dict[str, Any]
    config: dict[str, Any] = Field(description="the full build config")
    runtime_policy: str
    measurements: dict[str, str] = Field(description="output files that are not hashed, and why")
    files: dict[str, FileInfo]
    quality: dict[str, Any] = Field(
        default_factory=dict,
        description="what the quality steps found (appsplus.quality.report.QualitySummary)",
    )
    test_split: dict[str, Any] | None = Field(
        None,
        description="--test-fraction: the fraction, seed, rule and problems per split (absent "
        "when the source's own split is kept)",
    )
    sources: list[SourceCounts] | None = Field(
        None,
        description="a mixed build (several --source): each source's counts, rejections by "
        "reason, licence and revision, in --source order (absent for one source)",
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` through a temp file in the same folder, fsync, then os.replace it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def manifest_json(manifest: Manifest) -> str:
    data = manifest.model_dump(mode="json")
    if data.get("test_split") is None:  # only a build that made its own split says so
        data.pop("test_split", None)
    if data.get("sources") is None:  # only a mixed build lists its sources
        data.pop("sources", None)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def read_manifest(path: Path) -> Manifest:
    """Load OUT/manifest.json (or a manifest file); raises ValueError if it is not one."""
    target = path / MANIFEST_FILE if path.is_dir() else path
    try:
        return Manifest.model_validate_json(target.read_bytes())
    except FileNotFoundError:
        raise ValueError(
            f"{target}: no manifest (is this a finished `appsplus build` output?)"
        ) from None


# ---------------------------------------------------------------- dataset card

_LICENSES = {"stepcoder": "apache-2.0"}


def license_for(source_spec: str) -> str:
    """APPS and the embedded sample are MIT; the StepCoder APPS+ release is Apache-2.0."""
    return _LICENSES.get(source_spec.split(":", 1)[0], "mit")


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M"


def dataset_card(manifest: Manifest, license_id: str) -> str:
    """README.md with Hugging Face YAML front matter (configs/data_files, license, tasks) and counts."""
    front = [
        "---",
        f"license: {license_id}",
        "task_categories:",
        "- text-generation",
        "language:",
        "- en",
        "tags:",
        "- code",
        "- apps",
        "- program-synthesis",
        f"pretty_name: {manifest.name}",
        "size_categories:",
        f"- {_size_category(manifest.counts.kept)}",
        "configs:",
        "- config_name: default",
        "  data_files:",
        *[f"  - split: {split}\n    path: {file}" for split, file in DATA_FILES.items()],
        "- config_name: runtimes",
        "  data_files:",
        f"  - split: runtimes\n    path: {RUNTIMES_FILE}",
        *(
            [
                "- config_name: tests_only",
                "  data_files:",
                f"  - split: tests_only\n    path: {TESTS_ONLY_FILE}",
            ]
            if manifest.config.get("tests_only")
            else []
        ),
        "---",
    ]
    by = manifest.kept_by_split_difficulty
    rows = [
        f"| {split} | "
        + " | ".join(str(by.get(split, {}).get(d, 0)) for d in DIFFICULTIES)
        + f" | {sum(by.get(split, {}).values())} |"
        for split in SPLITS
    ]
    rejections = [f"| `{r}` | {n} |" for r, n in sorted(manifest.rejected_by_reason.items())]
    c = manifest.counts
    source_lines = f"- Source: `{manifest.source.name}` at revision `{manifest.source.revision}`"
    if manifest.sources:
        source_lines = "\n".join(
            [f"- Sources ({len(manifest.sources)}, in --source order; see `## Sources`):"]
            + [f"  - `{s.name}` ({s.licence}) at revision `{s.revision}`" for s in manifest.sources]
        )
    body = f"""
# {manifest.name}

APPS+ built by `appsplus build` {manifest.tool_version}: every problem has typed tests and a
canonical solution that passes all of them under the appsplus sandboxed executor
(executor version {manifest.executor_version}, comparator version {manifest.comparator_version}).

{source_lines}
- Rows read: {c.read}; kept: {c.kept}; rejected: {c.rejected} (kept + rejected == read)

## Kept problems

| split | {" | ".join(DIFFICULTIES)} | total |
|---|{"---|" * len(DIFFICULTIES)}---|
{chr(10).join(rows)}

## Rejected rows (see `{REJECTIONS_FILE}`)

| reason | rows |
|---|---|
{chr(10).join(rejections) if rejections else "| (none) | 0 |"}

{_sources_section(manifest)}{_tests_only_section(manifest)}## Loading

```python
import appsplus
ds = appsplus.load("path/to/this/folder")   # validated against appsplus.record.Record
# or: datasets.load_dataset("parquet", data_files={{"train": "train.parquet", "test": "test.parquet"}})
```

`tests` and `provenance` are JSON strings (`appsplus.load` checks that every row validates as
`appsplus.record.Record`; `Record.from_row(row)` gives the typed record).

Runtimes: {manifest.runtime_policy}

`{MANIFEST_FILE}` has the sha256 of every data file, the counts, the versions and the full
config.
"""
    return "\n".join(front) + "\n" + body.lstrip("\n")


def _tests_only_section(manifest: Manifest) -> str:
    """The card's note on --tests-only ('' without it)."""
    if not manifest.config.get("tests_only"):
        return ""
    n = manifest.totals.get("tests_only", 0)
    return f"""## Tests-only problems (`{TESTS_ONLY_FILE}`)

Built with `--tests-only`: {n} problems without a reference solution are kept, unverified,
in `{TESTS_ONLY_FILE}` (config `tests_only`; column `tests_only` true, provenance notes
`tests_only` and `unverified`), for RL, whose rewards need tests, not solutions. Their
tests are the source's as given. They count as kept in the tables above; `train.parquet`
and `test.parquet` hold verified problems only. Load them:

```python
ds = appsplus.load("path/to/this/folder", include_tests_only=True)  # ds["tests_only"]
# or: datasets.load_dataset("parquet", data_files={{"tests_only": "{TESTS_ONLY_FILE}"}})
```

"""


def _sources_section(manifest: Manifest) -> str:
    """The card's per-source table of a mixed build ('' for one source)."""
    if not manifest.sources:
        return ""
    rows = [
        f"| `{s.spec}` | {s.licence} | `{s.revision[:19]}` | {s.read} | {s.kept} | "
        f"{s.tests_only} | {s.rejected} | "
        + (", ".join(f"`{r}` {n}" for r, n in sorted(s.rejected_by_reason.items())) or "-")
        + " |"
        for s in manifest.sources
    ]
    return f"""## Sources

Every problem id names its source (`apps/`, `taco/`, `codecontests/`, `livecodebench/`).
Cross-source duplicates are kept once: the test-split copy if there is one (no problem of
any source's test split is in train), else the copy of the source listed first; the
others are rejected as `duplicate_problem` naming the id kept. Each source's licence
applies to its rows.

| source | licence | revision | read | kept | kept tests-only | rejected | rejected by reason |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

"""


def dataset_hash(folder: Path) -> str:
    """The hash that names a built dataset: sha256 of its manifest.json (which hashes every data file)."""
    return "sha256:" + sha256_file(Path(folder) / MANIFEST_FILE)
