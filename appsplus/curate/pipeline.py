"""`appsplus build`: source -> normalize -> static filters -> verify -> APPS+ records and a manifest.

    report = build(BuildConfig(source="sample"), Path("apps-plus-sample"), workers=2)

The build is the list of steps in `build_steps` (each in `appsplus.curate.steps`, with its
reject reasons and stats); this module runs them and writes the outputs, whose counts are
the steps' stats (`report.steps` has them all).

Outputs in OUT/: `train.parquet`, `test.parquet` (records sorted by problem id),
`rejections.jsonl` (every dropped row, in read order), `README.md` (dataset card),
`runtimes.parquet` (measured runtimes and time limits of the kept problems), with
`--tests-only` `tests_only.parquet` (problems kept without a solution, unverified), and
`manifest.json` (written last, with the sha256 of every file but runtimes.parquet); with
`manifest_dir` the manifest is also published as `manifest_dir/<name>.json` (only then).

- Safe output: OUT must be new, empty, or an earlier build of the same config (a resume;
  OUT/.cache/build.json records the config of the build in progress); anything else is
  refused (OutputError) unless `overwrite`, and even then only the files listed above are
  replaced (a `tests_only.parquet` that an earlier --tests-only build left there is removed
  by a build without it, so every data file in OUT is one the manifest hashes). A source that yields no rows, or none in its own format, is a SourceError
  and leaves no output.

- Streaming: rows are read, normalized and filtered one at a time and verified in batches
  (two batches in flight, so workers rarely idle while a batch waits for its slowest
  job); kept records are spooled to OUT/.tmp as JSON lines and only an index (sort key,
  offset) stays in memory, so memory does not grow with the input beyond a few bytes a row.
- Deterministic: every hashed file depends only on the input and the `BuildConfig` (not
  on workers, batch size, the cache or timing). Wall-clock runtimes cannot be
  reproduced, so they live only in runtimes.parquet, which the manifest names under
  `measurements` but does not hash (a program close to the time limit can still flip
  between PASSED and TIMEOUT: that is a property of the program, not of the build).
- Resumable: execution results live in OUT/.cache/verify.sqlite, keyed by content; a
  re-run after a crash executes only what was not finished.
- Atomic: every output file is written to a temp file and renamed; the old manifest is
  removed before the data files are replaced and the new one is written last.
- Mixed (`config.source` a list: several `--source`): the sources are read one after the
  other (`appsplus.sources.mixed`); the manifest's `sources` has each one's counts,
  rejections, licence and revision; dedup keeps a cross-source duplicate's test-split
  copy, else the copy of the source listed first (`steps.Deduplicate`).
- Quality (`config.quality`, see `appsplus.quality`): `--min-tests` and `--decontaminate`
  are filters before verification; after it, each batch's verified problems are measured
  (mutation score, probe inputs, optional generated tests, a second canonical run) through
  the same cached runner; duplicates are decided over all kept problems at the end, and
  their rejections follow the others in rejections.jsonl (sorted by problem id).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from appsplus import __version__
from appsplus.curate import steps
from appsplus.curate.cache import CachedRunner, ResultCache
from appsplus.curate.manifest import (
    CARD_FILE,
    DATA_FILES,
    MANIFEST_FILE,
    MEASUREMENT_FILES,
    MEASUREMENTS_NOTE,
    REJECTIONS_FILE,
    RUNTIMES_FILE,
    TESTS_ONLY_FILE,
    Counts,
    FileInfo,
    Manifest,
    SourceCounts,
    SourceInfo,
    dataset_card,
    manifest_json,
    sha256_file,
    write_atomic,
    write_text_atomic,
)
from appsplus.curate.verify import Verified, VerifyConfig
from appsplus.curriculum.spans import SpanError, conditional_spans
from appsplus.execution import (
    COMPARATOR_VERSION,
    EXECUTOR_VERSION,
    Executor,
    ExecutorSpecError,
    open_executor,
)
from appsplus.outdir import OutputError, prepare_out
from appsplus.quality.models import Quality, QualityConfig
from appsplus.quality.report import card_section, summarize
from appsplus.record import (
    Provenance,
    Record,
    Runtimes,
    compute_content_hash,
    dumps_json,
    natural_key,
)
from appsplus.schema import DIFFICULTIES, SPLITS, Problem, Rejection, StrictModel
from appsplus.sources import Source, SourceError, open_source

logger = logging.getLogger(__name__)

CACHE_FILE = Path(".cache") / "verify.sqlite"
BUILD_STAMP = Path(".cache") / "build.json"  # the config of the build in progress / last run
SPOOL_DIR = ".tmp"
ROW_GROUP = 256  # records per parquet row group, at most
ROW_GROUP_BYTES = 64 * 2**20  # ... and at most this much spooled JSON
NEAR_LIMIT = 0.5  # a reference runtime at least this share of limits.time_s is "near the limit"
RUNTIME_POLICY = (
    "Runtimes are measurements and differ from build to build, so they are kept out of the "
    "hashed dataset files: runtimes.parquet holds, per kept problem, the canonical solution's "
    "wall time on each test (reference_runtimes_s, in seconds) and time_limit_s = "
    "min(max(cap, verification limit), max(floor, factor x slowest reference runtime)) "
    "rounded up to 0.1 s, with factor, floor and cap from config.verify (default: max(1 s, "
    "5 x slowest), capped at 10 s). appsplus.load joins them into the records."
)

Progress = Callable[[str, int], None]
"""progress(event, n), called as the build goes: 'read' (rows), 'read_done' (n = every row
the source yielded: the final total), 'rejected' (as each step rejects, so live), 'kept'
(-1 when dedup withdraws one), 'problems_queued' (for verification), 'jobs_queued',
'jobs_done', 'written'. A progress object with a `track(longest)` method gets, once,
`longest()` -> (problem id, seconds) of the job running longest now, or None."""


class BuildConfig(BaseModel):
    """Everything that decides the output; saved in the manifest (workers/paths are not)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | list[str] = Field(
        "sample",
        description="'sample', 'apps[@REV]', 'stepcoder:PATH', 'taco:PATH', ... or a PATH; "
        "a list of two or more for a mixed build (in order: the first listed wins a "
        "cross-source duplicate)",
    )
    name: str | None = Field(None, description="dataset name; default from the source")
    limit: int | None = Field(None, ge=1, description="read at most this many rows")
    license: str | None = Field(None, description="dataset card licence; default from the source")
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    test_fraction: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="put this share of the problems in a new test split (sources without one)",
    )
    split_seed: int = Field(0, ge=0, description="seed of the --test-fraction split")
    tests_only: bool = Field(
        False,
        description="keep problems without a reference solution (unverified, flagged) in "
        "tests_only.parquet, for RL; without it they are rejected as no_solutions",
    )

    def as_json(self) -> dict[str, Any]:
        """The config as saved in the manifest and the build stamp; the split options only
        when a split is asked for (so manifests of builds without one are unchanged)."""
        data = self.model_dump(mode="json")
        if self.test_fraction is None:
            data.pop("test_fraction")
            data.pop("split_seed")
        if not self.tests_only:  # so manifests of builds without it are unchanged
            data.pop("tests_only")
        return data

    @field_validator("source")
    @classmethod
    def _one_or_more(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list):
            if not value:
                raise ValueError("no source given")
            if len(value) == 1:
                return value[0]
        return value

    def specs(self) -> list[str]:
        """The source specs, in order (one for a single-source build)."""
        return [self.source] if isinstance(self.source, str) else list(self.source)

    def resolved_name(self) -> str:
        if self.name:
            return self.name
        if not isinstance(self.source, str):
            return "apps-plus-mix"
        kind = self.source.split(":", 1)[0].split("@", 1)[0]
        if kind in ("sample", "stepcoder"):
            return f"apps-plus-{kind}"
        if kind == "apps":
            return "apps-plus"
        stem = Path(self.source).name.split(".", 1)[0] or "local"
        return f"apps-plus-{stem}"


class BuildReport(StrictModel):
    """What a build did (not saved: cache hits and timings differ between runs)."""

    out: Path
    manifest: Manifest
    manifest_copy: Path | None = None
    cache_hits: int = 0
    executed_jobs: int = 0
    executed_s: float = Field(0.0, description="sum of the executed tests' own durations")
    wall_s: float = 0.0
    workers: int = 1
    steps: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="each step's stats (seen, passed, rejected, counters)"
    )


# ---------------------------------------------------------------- records


def problem_columns(problem: Problem) -> dict[str, Any]:
    """The columns a record and a tests-only row both take from the problem, in column order."""
    return {
        "problem_id": problem.problem_id,
        "source_id": problem.source_id,
        "split": problem.split,
        "difficulty": problem.difficulty,
        "question": problem.question,
        "starter_code": problem.starter_code,
        "url": problem.url,
        "kind": problem.kind,
        "fn_name": problem.fn_name,
        "tests": problem.tests,
    }


def make_record(verified: Verified, revision: str, quality: Quality | None = None) -> Record:
    """A verified problem -> an APPS+ Record (spans of the canonical, provenance, content hash)."""
    problem = verified.problem
    notes = dict(problem.provenance)
    base = {key: str(notes.pop(key, "")) for key in ("source", "locator", "format")}
    duplicates = int(notes.pop("duplicate_tests_removed", 0) or 0)
    call_outputs = verified.call_outputs or (
        "bare" if notes.pop("call_outputs", None) == "bare" else None
    )
    notes.pop("call_outputs", None)
    extra = notes.pop("extra_tests", None)  # known to the quality step, not stored
    if extra:
        notes["extra_tests"] = len(extra)
    canonical = problem.solutions[verified.canonical_index]
    try:
        spans = conditional_spans(canonical)
    except SpanError as e:
        spans = []
        notes["spans_error"] = str(e)[:200]
    fields: dict[str, Any] = {
        **problem_columns(problem),
        "canonical_solution": canonical,
        "canonical_index": verified.canonical_index,
        "solutions": [problem.solutions[i] for i in verified.passing],
        "solution_indices": verified.passing,
        "reference_runtimes_s": verified.reference_runtimes_s,
        "time_limit_s": verified.time_limit_s,
        "spans": spans,
        "provenance": Provenance(
            **base,
            revision=revision,
            call_outputs=call_outputs,
            corrections=verified.corrections,
            duplicate_tests_removed=duplicates,
            n_source_solutions=len(problem.solutions),
            notes=notes,
        ),
    }
    fields["content_hash"] = compute_content_hash(fields)
    return Record(**fields, quality=quality)


def unverified_row(problem: Problem, revision: str) -> dict[str, Any]:
    """A problem kept by --tests-only as a row of tests_only.parquet: the record's columns
    with no solution (canonical_solution '', canonical_index -1, solutions []), provenance
    notes `tests_only: true` and `unverified` (why), and a content hash over the same
    CONTENT_FIELDS as a record's."""
    notes = dict(problem.provenance)
    base = {key: str(notes.pop(key, "")) for key in ("source", "locator", "format")}
    duplicates = int(notes.pop("duplicate_tests_removed", 0) or 0)
    notes.pop("call_outputs", None)
    extra = notes.pop("extra_tests", None)
    if extra:
        notes["extra_tests"] = len(extra)
    notes["tests_only"] = True
    notes["unverified"] = "no reference solution: the tests are the source's, not verified"
    fields: dict[str, Any] = {
        **problem_columns(problem),
        "canonical_solution": "",
        "solutions": [],
    }
    fields["content_hash"] = compute_content_hash(fields)
    provenance = Provenance(
        **base,
        revision=revision,
        duplicate_tests_removed=duplicates,
        n_source_solutions=len(problem.solutions),
        notes=notes,
    )
    return {
        **fields,
        "tests": dumps_json([t.model_dump() for t in problem.tests], ensure_ascii=False),
        "canonical_index": -1,
        "solution_indices": [],
        "spans": [],
        "provenance": dumps_json(provenance.model_dump(), ensure_ascii=False, sort_keys=True),
        "quality": None,
        "tests_only": True,
    }


def tests_only_schema():
    """The Arrow schema of tests_only.parquet: the records' columns and `tests_only`."""
    import pyarrow as pa

    return pa.schema([*record_schema(), ("tests_only", pa.bool_())])


def record_schema():
    """The Arrow schema of the parquet files (flat: tests and provenance are JSON strings)."""
    import pyarrow as pa

    span = pa.struct(
        [
            ("kind", pa.string()),
            ("start_line", pa.int64()),
            ("end_line", pa.int64()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("line_start", pa.int64()),
        ]
    )
    return pa.schema(
        [
            ("problem_id", pa.string()),
            ("source_id", pa.int64()),
            ("split", pa.string()),
            ("difficulty", pa.string()),
            ("question", pa.string()),
            ("starter_code", pa.string()),
            ("url", pa.string()),
            ("kind", pa.string()),
            ("fn_name", pa.string()),
            ("tests", pa.string()),
            ("canonical_solution", pa.string()),
            ("canonical_index", pa.int64()),
            ("solutions", pa.list_(pa.string())),
            ("solution_indices", pa.list_(pa.int64())),
            ("spans", pa.list_(span)),
            ("provenance", pa.string()),
            ("content_hash", pa.string()),
            ("quality", pa.string()),
        ]
    )


def runtimes_schema():
    """The Arrow schema of runtimes.parquet (one row per kept problem)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("problem_id", pa.string()),
            ("content_hash", pa.string()),
            ("reference_runtimes_s", pa.list_(pa.float64())),
            ("time_limit_s", pa.float64()),
            ("near_limit_tests", pa.list_(pa.int64())),
        ]
    )


# ---------------------------------------------------------------- spooling


class _Spool:
    """Rows as JSON lines on disk; only (sort key, offset, size) of each stays in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f: IO[bytes] = path.open("wb")
        self.index: list[tuple[str, int, int]] = []

    def add(self, problem_id: str, row: dict[str, Any]) -> None:
        data = dumps_json(row, ensure_ascii=False).encode("utf-8") + b"\n"
        self.index.append((natural_key(problem_id), self._f.tell(), len(data)))
        self._f.write(data)

    def close(self) -> None:
        self._f.close()

    def drop(self, problem_ids: set[str]) -> None:
        """Leave these problems out of the written file."""
        keys = {natural_key(p) for p in problem_ids}
        self.index = [entry for entry in self.index if entry[0] not in keys]

    def write_parquet(
        self,
        dest: Path,
        schema: Any,
        on_row: Callable[[], None] | None = None,
        notes: dict[str, dict[str, Any]] | None = None,
    ) -> int:
        """Write the spooled rows sorted by problem id into `dest` (atomically); returns rows.
        `notes`: problem id -> entries added to that row's provenance notes."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from appsplus.sources import loads_json

        self.close()
        order = sorted(self.index)

        def write(f: IO[bytes]) -> None:
            with (
                self.path.open("rb") as spool,
                pq.ParquetWriter(f, schema, compression="zstd", write_statistics=False) as writer,
            ):
                rows: list[dict[str, Any]] = []
                size = 0
                for _, offset, length in order:
                    spool.seek(offset)
                    row = loads_json(spool.read(length))
                    if notes and row.get("problem_id") in notes:
                        row["provenance"] = _add_notes(row["provenance"], notes[row["problem_id"]])
                    rows.append(row)
                    size += length
                    if on_row:
                        on_row()
                    if len(rows) >= ROW_GROUP or size >= ROW_GROUP_BYTES:
                        writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                        rows, size = [], 0
                if rows or not order:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema))

        write_atomic(dest, write)
        return len(order)


def _add_notes(provenance: str, extra: dict[str, Any]) -> str:
    """A row's provenance JSON with `extra` added to its notes (as `Record.to_row` dumps it)."""
    from appsplus.sources import loads_json

    data = loads_json(provenance)
    data["notes"] = {**data.get("notes", {}), **extra}
    return dumps_json(data, ensure_ascii=False, sort_keys=True)


# ---------------------------------------------------------------- the steps, in order


def build_steps(
    config: BuildConfig,
    source: Source,
    runner: CachedRunner,
    sink: steps.Write,
    *,
    batch_problems: int = 32,
    watch: steps.JobWatch | None = None,
) -> list[steps.Step]:
    """The build, top to bottom: the one place a step is registered (see `steps`)."""
    q = config.quality
    revision = source.revision
    optional: list[tuple[bool, Callable[[], steps.Step]]] = [
        (config.test_fraction is not None, lambda: _split_step(config, source)),
    ]
    filters: list[tuple[bool, Callable[[], steps.Step]]] = [
        (True, steps.HasTests),
        (not config.tests_only, steps.HasSolutions),
        (True, steps.UniqueIds),
        (q.min_tests > 1, lambda: steps.MinTests(q.min_tests)),
        (
            bool(q.decontaminate),
            lambda: steps.Decontaminate(
                q.decontaminate, q.decontaminate_ngram, q.decontaminate_threshold
            ),
        ),
        (config.tests_only, lambda: steps.TestsOnly(lambda p: unverified_row(p, revision))),
    ]
    dedupe = steps.Deduplicate(q.dedupe_threshold, _ranks(source)) if q.dedupe else None
    if dedupe is not None:  # after the split is known, before any filter rejects
        optional.append((True, lambda: steps.NoteTestSplit(dedupe)))
    execution = steps.Batched(
        [steps.Verify(config.verify, runner), steps.Assess(q, config.verify, runner)],
        batch_problems,
        runner,
        on_labels=watch.set_labels if watch else None,
    )
    return [
        steps.Read(source, config.limit),
        steps.Normalize(),
        *(make() for wanted, make in optional if wanted),
        *(make() for wanted, make in filters if wanted),
        execution,
        steps.MakeRecord(lambda a: make_record(a.verified, revision, a.quality)),
        *([dedupe] if dedupe is not None else []),
        sink,
    ]


def open_sources(specs: list[str]) -> Source:
    """One source, or a `MixedSource` of several (in order)."""
    if len(specs) == 1:
        return open_source(specs[0])
    from appsplus.sources.mixed import MixedSource

    return MixedSource([open_source(spec) for spec in specs], specs)


def _ranks(source: Source) -> dict[str, int]:
    """Source name -> position, for a mixed build's cross-source dedup (empty: one source)."""
    return {s.name: i for i, s in enumerate(getattr(source, "sources", []))}


def _split_step(config: BuildConfig, source: Source) -> steps.Step:
    return steps.AssignSplit(config.test_fraction or 0.0, config.split_seed)


def _check_splittable(source: Source) -> None:
    """--test-fraction splits a source that has no test split: StepCoder's release (all
    'train'). APPS-format sources carry their own split, so it is refused for them."""
    from appsplus.sources.stepcoder import StepCoderSource

    if not (isinstance(source, StepCoderSource) and source.split == "train"):
        raise SourceError(
            f"{source.name}: has its own train/test split; --test-fraction is for a source "
            "without one (StepCoder's release, all 'train')"
        )


def _flat(items: list[Any]) -> list[steps.Step]:
    """The steps with the batch steps that `Batched` runs in their place."""
    found: list[steps.Step] = []
    for step in items:
        found += step.steps if isinstance(step, steps.Batched) else [step]
    return found


def _find(items: list[steps.Step], kind: type) -> Any:
    return next((s for s in _flat(items) if isinstance(s, kind)), None)


def build(
    config: BuildConfig,
    out: Path,
    *,
    workers: int | None = None,
    batch_problems: int = 32,
    manifest_dir: Path | None = None,
    executor: str | None = None,
    pool: Executor | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> BuildReport:
    """Build APPS+ from `config.source` into `out`; see the module docstring.

    Raises SourceError (the source cannot be read, or holds nothing in its format),
    OutputError (`out` holds something else; see `overwrite`) and SandboxError (the
    sandbox failed: nothing is written, finished executions stay cached for the next run).
    """
    from appsplus.quality.decontam import BenchmarkError, benchmark_path

    for spec in config.quality.decontaminate:  # a missing benchmark: one line, nothing written
        benchmark_path(spec)
    source = open_sources(config.specs())
    if config.test_fraction is not None:
        for one in getattr(source, "sources", [source]):
            _check_splittable(one)
    created = not out.exists()
    was_empty = created or (out.is_dir() and not any(out.iterdir()))
    wanted = config.as_json()
    previous = _previous_config(out) if out.is_dir() else None
    if previous is not None and previous != wanted and not overwrite:
        differ = sorted(
            k for k in wanted.keys() | previous.keys() if wanted.get(k) != previous.get(k)
        )
        raise OutputError(
            f"{out}: holds a build with other options (different {', '.join(differ)}); use a new "
            "folder, or pass --overwrite to replace it"
        )
    # what the build in `out` wrote and this one does not write: removed when it replaces it
    stale = (TESTS_ONLY_FILE,) if previous and previous.get("tests_only") else ()
    stale = () if config.tests_only else stale
    prepare_out(
        out,
        is_resume=lambda: previous == wanted,
        overwrite=overwrite,
        what="an `appsplus build` output",
        scratch=(".cache", SPOOL_DIR),
    )
    try:
        return _build(
            config,
            out,
            source,
            workers,
            batch_problems,
            manifest_dir,
            executor,
            pool,
            progress,
            stale,
        )
    except (SourceError, ExecutorSpecError, BenchmarkError):
        # leave nothing behind for a source, an executor or a benchmark that cannot be used
        if was_empty:
            for scratch in (out / ".cache", out / SPOOL_DIR):
                shutil.rmtree(scratch, ignore_errors=True)
            if created and not any(out.iterdir()):
                out.rmdir()
        raise


def _previous_config(out: Path) -> dict[str, Any] | None:
    """The config of the build `out` holds (maybe unfinished), or None if it holds none."""
    try:
        stamp = out / BUILD_STAMP
        if stamp.is_file():
            found = json.loads(stamp.read_text(encoding="utf-8"))
        elif (out / MANIFEST_FILE).is_file():
            found = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8")).get("config")
        else:
            return None
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, dict) else None


def _build(
    config: BuildConfig,
    out: Path,
    source: Source,
    workers: int | None,
    batch_problems: int,
    manifest_dir: Path | None,
    executor: str | None,
    pool: Executor | None,
    progress: Progress | None,
    stale: tuple[str, ...] = (),
) -> BuildReport:
    started = time.monotonic()
    emit: Progress = progress or (lambda event, n: None)
    source.prepare()
    try:
        (out / BUILD_STAMP).parent.mkdir(exist_ok=True)
        write_text_atomic(out / BUILD_STAMP, json.dumps(config.as_json(), sort_keys=True))
    except OSError as e:
        raise OutputError(f"{out}: cannot write there ({e.strerror})") from None
    spool_dir = out / SPOOL_DIR
    shutil.rmtree(spool_dir, ignore_errors=True)
    spool_dir.mkdir()
    own_pool = pool is None
    pool = pool or open_executor(executor, workers)
    cache = ResultCache(out / CACHE_FILE)
    watch = steps.JobWatch()
    runner = CachedRunner(
        pool,
        cache,
        on_done=lambda n: emit("jobs_done", n),
        on_queued=lambda n: emit("jobs_queued", n),
        watch=watch,
    )
    track = getattr(progress, "track", None)
    if track is not None:
        track(watch.longest)
    spools = {split: _Spool(spool_dir / f"{split}.jsonl") for split in SPLITS}
    runtimes = _Spool(spool_dir / "runtimes.jsonl")
    tests_only = _Spool(spool_dir / "tests_only.jsonl") if config.tests_only else None
    try:
        with (spool_dir / REJECTIONS_FILE).open("wb") as rejected_f:
            sink = steps.Write(
                spools, runtimes, rejected_f, lambda r: _runtimes_row(r, config), tests_only
            )
            pipeline = build_steps(
                config, source, runner, sink, batch_problems=batch_problems, watch=watch
            )
            with steps.running(pipeline, emit) as stream:
                for _ in stream:
                    pass
        _check_format(source, pipeline)
        report = _finish(config, out, source, pipeline, spools, runtimes, manifest_dir, emit, stale)
    finally:
        for spool in (*spools.values(), runtimes, *([tests_only] if tests_only else [])):
            spool.close()
        cache.close()
        if own_pool:
            pool.close()
        shutil.rmtree(spool_dir, ignore_errors=True)
    report.cache_hits = runner.hits
    report.executed_jobs = runner.executed
    report.executed_s = runner.executed_s
    report.wall_s = time.monotonic() - started
    report.workers = pool.size
    report.steps = {step.name: step.stats.as_dict() for step in _flat(pipeline)}
    logger.info(
        "built %s: %d kept, %d rejected of %d read; %d jobs executed, %d from the cache",
        out,
        report.manifest.counts.kept,
        report.manifest.counts.rejected,
        report.manifest.counts.read,
        runner.executed,
        runner.hits,
    )
    return report


def _check_format(source: Source, pipeline: list[steps.Step]) -> None:
    """A source with no rows, or with nothing kept and no row in its format, is not a source."""
    reader: steps.Read = pipeline[0]  # type: ignore[assignment]
    rows = reader.stats.counters["rows"]
    sink: steps.Write = pipeline[-1]  # type: ignore[assignment]
    for one in getattr(source, "sources", []):  # a mixed build: each source on its own
        counts = reader.by_source.get(one.name, Counter())
        if counts["rows"] == 0:
            raise SourceError(_no_rows(one))
        if not sink.by_source.get(one.name, Counter())["kept"] and not counts["in_format"]:
            raise SourceError(
                f"{one.name}: none of its {counts['rows']} rows read is in the expected "
                f"format; expected {one.expects}"
            )
    if rows == 0:
        raise SourceError(_no_rows(source))
    if not sum(sink.kept.values()) and not reader.stats.counters["in_format"]:
        raise SourceError(
            f"{source.name}: none of the {rows} rows read is in the expected format "
            f"(the first is {reader.first_row[:200]}); expected {source.expects}"
        )


def _no_rows(source: Source) -> str:
    """Why a source gave no row: its date window left every problem out (LiveCodeBench's
    until=, naming the dates its files have), or it has none."""
    why = None
    if getattr(getattr(source, "dataset", None), "name", "") == "livecodebench":
        from appsplus.sources.livecodebench import empty_window

        why = empty_window(source)
    return f"{source.name}: {why or f'no rows at all; expected {source.expects}'}"


def _quality_summary(config: BuildConfig, pipeline: list[steps.Step]) -> Any:
    dedupe = _find(pipeline, steps.Deduplicate)
    decontaminate = _find(pipeline, steps.Decontaminate)
    sink: steps.Write = pipeline[-1]  # type: ignore[assignment]
    return summarize(
        config.quality,
        sink.qualities(),
        dedupe.summary if dedupe else {},
        decontaminate.manifest_section() if decontaminate else {},
    )


def _finish(
    config: BuildConfig,
    out: Path,
    source: Source,
    pipeline: list[steps.Step],
    spools: dict[str, _Spool],
    runtimes: _Spool,
    manifest_dir: Path | None,
    emit: Progress,
    stale: tuple[str, ...] = (),
) -> BuildReport:
    """Replace the output files atomically, the manifest last; the counts are the steps'.
    `stale`: files the build `out` held wrote and this one does not (tests_only.parquet of
    an earlier --tests-only build), removed with the old manifest."""
    reader: steps.Read = pipeline[0]  # type: ignore[assignment]
    sink: steps.Write = pipeline[-1]  # type: ignore[assignment]
    reasons, stages = steps.rejected_by(_flat(pipeline))
    quality = _quality_summary(config, pipeline)
    (out / MANIFEST_FILE).unlink(missing_ok=True)  # no manifest while the files change
    for name in stale:
        (out / name).unlink(missing_ok=True)
    files: dict[str, FileInfo] = {}
    schema = record_schema()
    same = {  # a mixed build: each kept problem's copies in other sources, rejected
        kept: {"same_problem": sorted(ids, key=natural_key)}
        for kept, ids in sink.same_problem.items()
    }
    for split, spool in spools.items():
        dest = out / DATA_FILES[split]
        rows = spool.write_parquet(dest, schema, on_row=lambda: emit("written", 1), notes=same)
        files[dest.name] = FileInfo(sha256=sha256_file(dest), bytes=dest.stat().st_size, rows=rows)
    runtimes.write_parquet(out / RUNTIMES_FILE, runtimes_schema())
    if sink.tests_only is not None:
        dest = out / TESTS_ONLY_FILE
        rows = sink.tests_only.write_parquet(dest, tests_only_schema(), notes=same)
        files[dest.name] = FileInfo(sha256=sha256_file(dest), bytes=dest.stat().st_size, rows=rows)
    rejections = out / REJECTIONS_FILE
    (out / SPOOL_DIR / REJECTIONS_FILE).replace(rejections)
    files[REJECTIONS_FILE] = FileInfo(
        sha256=sha256_file(rejections), bytes=rejections.stat().st_size, rows=sink.rejected
    )
    split_step = _find(pipeline, steps.AssignSplit)
    name = config.resolved_name()
    manifest = Manifest(
        name=name,
        tool_version=__version__,
        executor_version=EXECUTOR_VERSION,
        comparator_version=COMPARATOR_VERSION,
        source=SourceInfo(
            spec=" + ".join(config.specs()), name=source.name, revision=source.revision
        ),
        counts=Counts(
            read=reader.stats.counters["rows"],
            kept=sum(sink.kept.values()),
            rejected=sum(reasons.values()),
        ),
        kept_by_split_difficulty={
            split: {d: sink.kept[(split, d)] for d in DIFFICULTIES} for split in SPLITS
        },
        rejected_by_reason=dict(sorted(reasons.items())),
        rejected_by_stage=dict(sorted(stages.items())),
        totals=dict(sorted(sink.stats.counters.items())),
        limits=config.verify.limits.model_dump(mode="json"),
        config=config.as_json(),
        runtime_policy=RUNTIME_POLICY,
        measurements={RUNTIMES_FILE: MEASUREMENTS_NOTE},
        files={},
        quality=quality.model_dump(mode="json"),
        test_split=split_step.manifest_section() if split_step else None,
        sources=_source_counts(config, source, reader, sink),
    )
    card = out / CARD_FILE
    text = dataset_card(manifest, config.license or _licence(config, source, manifest))
    text = text.replace("\n## Loading\n", "\n" + card_section(quality) + "\n## Loading\n", 1)
    write_text_atomic(card, text)
    files[CARD_FILE] = FileInfo(sha256=sha256_file(card), bytes=card.stat().st_size, rows=0)
    manifest = manifest.model_copy(update={"files": dict(sorted(files.items()))})
    text = manifest_json(manifest)
    write_text_atomic(out / MANIFEST_FILE, text)
    copy = None
    if manifest_dir is not None:
        copy = manifest_dir / f"{name}.json"
        write_text_atomic(copy, text)
    return BuildReport(out=out, manifest=manifest, manifest_copy=copy)


def _source_counts(
    config: BuildConfig, source: Source, reader: steps.Read, sink: steps.Write
) -> list[SourceCounts] | None:
    """Per source of a mixed build: counts, rejections by reason, licence, revision."""
    from appsplus.sources.mixed import licence_of

    found: list[SourceCounts] = []
    if not hasattr(source, "sources"):
        return None
    for spec, one in zip(config.specs(), source.sources, strict=True):
        done = sink.by_source.get(one.name, Counter())
        reasons = {
            k.removeprefix("rejected:"): n
            for k, n in sorted(done.items())
            if k.startswith("rejected:") and n
        }
        found.append(
            SourceCounts(
                spec=spec,
                name=one.name,
                revision=one.revision,
                licence=licence_of(one, spec),
                read=reader.by_source.get(one.name, Counter())["rows"],
                kept=done["kept"],
                rejected=sum(reasons.values()),
                tests_only=done["tests_only"],
                rejected_by_reason=reasons,
                left_out=dict(sorted(getattr(one, "skipped", {}).items())),
            )
        )
    return found or None


def _licence(config: BuildConfig, source: Source, manifest: Manifest) -> str:
    """The card's licence: the source's own (TACO apache-2.0, CodeContests cc-by-4.0, ...);
    'other' for a mix of licences or one that is not an identifier (the card lists each)."""
    from appsplus.sources.mixed import licence_of

    if manifest.sources:
        licences = {s.licence for s in manifest.sources}
    else:
        licences = {licence_of(source, config.specs()[0])}
    (only, *rest) = sorted(licences)
    return only if not rest and " " not in only else "other"


def output_hashes(out: Path) -> dict[str, str]:
    """sha256 of every hashed output file of a build folder: all but the cache, temp files
    and the measurements (runtimes.parquet), i.e. exactly what the manifest hashes, plus it."""
    return {
        p.name: sha256_file(p)
        for p in sorted(out.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.name not in MEASUREMENT_FILES
    }


def _runtimes_row(record: Record, config: BuildConfig) -> dict[str, Any]:
    limit = config.verify.limits.time_s
    runtimes = record.reference_runtimes_s or []
    return Runtimes(
        problem_id=record.problem_id,
        content_hash=record.content_hash,
        reference_runtimes_s=runtimes,
        time_limit_s=record.time_limit_s,
        near_limit_tests=[i for i, r in enumerate(runtimes) if r >= NEAR_LIMIT * limit],
    ).model_dump()


def read_rejections(out: Path) -> list[Rejection]:
    """The rejections of a build folder, in read order."""
    with (out / REJECTIONS_FILE).open("rb") as f:
        return [Rejection.model_validate(json.loads(line)) for line in f if line.strip()]
