"""`appsplus build`: source -> normalize -> static filters -> verify -> APPS+ records and a manifest.

    report = build(BuildConfig(source="sample"), Path("apps-plus-sample"), workers=2)

Outputs in OUT/: `train.parquet`, `test.parquet` (records sorted by problem id),
`rejections.jsonl` (every dropped row, in read order), `README.md` (dataset card),
`runtimes.parquet` (measured runtimes and time limits of the kept problems) and
`manifest.json` (written last, with the sha256 of every file but runtimes.parquet); with
`manifest_dir` the manifest is also published as `manifest_dir/<name>.json` (only then).

- Safe output: OUT must be new, empty, or an earlier build of the same config (a resume;
  OUT/.cache/build.json records the config of the build in progress); anything else is
  refused (OutputError) unless `overwrite`, and even then only the files listed above are
  replaced. A source that yields no rows, or none in its own format, is a SourceError
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
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field

from appsplus import __version__
from appsplus.curate.cache import CachedRunner, ResultCache
from appsplus.curate.filters import STATIC_FILTERS, apply_filters, duplicate_id_filter
from appsplus.curate.manifest import (
    CARD_FILE,
    DATA_FILES,
    MANIFEST_FILE,
    MEASUREMENT_FILES,
    MEASUREMENTS_NOTE,
    REJECTIONS_FILE,
    RUNTIMES_FILE,
    Counts,
    FileInfo,
    Manifest,
    SourceInfo,
    dataset_card,
    license_for,
    manifest_json,
    sha256_file,
    write_atomic,
    write_text_atomic,
)
from appsplus.curate.normalize import normalize
from appsplus.curate.verify import Verified, VerifyConfig, verify_problems
from appsplus.curriculum.spans import SpanError, conditional_spans
from appsplus.execution import (
    COMPARATOR_VERSION,
    EXECUTOR_VERSION,
    Executor,
    ExecutorSpecError,
    open_executor,
)
from appsplus.outdir import OutputError, prepare_out
from appsplus.quality.assess import Assessed, assess
from appsplus.quality.checks import min_tests_filter
from appsplus.quality.decontam import DecontaminationFilter, load_benchmarks
from appsplus.quality.dedup import Deduplicator
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
from appsplus.schema import DIFFICULTIES, SPLITS, Problem, Rejection, RejectReason, StrictModel
from appsplus.sources import Source, SourceError, looks_like, open_source

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
"""progress(event, n): 'read', 'kept', 'rejected', 'jobs_queued', 'jobs_done', 'written'."""


class BuildConfig(BaseModel):
    """Everything that decides the output; saved in the manifest (workers/paths are not)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field("sample", description="'sample', 'apps[@REV]', 'stepcoder:PATH' or a PATH")
    name: str | None = Field(None, description="dataset name; default from the source")
    limit: int | None = Field(None, ge=1, description="read at most this many rows")
    license: str | None = Field(None, description="dataset card licence; default from the source")
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)

    def resolved_name(self) -> str:
        if self.name:
            return self.name
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


# ---------------------------------------------------------------- records


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
    canonical = problem.solutions[verified.canonical_index]
    try:
        spans = conditional_spans(canonical)
    except SpanError as e:
        spans = []
        notes["spans_error"] = str(e)[:200]
    fields: dict[str, Any] = {
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
        self, dest: Path, schema: Any, on_row: Callable[[], None] | None = None
    ) -> int:
        """Write the spooled rows sorted by problem id into `dest` (atomically); returns rows."""
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
                    rows.append(loads_json(spool.read(length)))
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


# ---------------------------------------------------------------- the pipeline


class _Batch:
    def __init__(self) -> None:
        self.items: list[Problem | Rejection] = []  # in read order
        self.problems = 0
        self.solutions = 0


def _batches(
    rows: Iterator[Any],
    batch_problems: int,
    progress: Progress,
    extra: list[Callable],
    tally: _Tally,
) -> Iterator[_Batch]:
    batch = _Batch()
    filters = [*STATIC_FILTERS, *extra]
    for row in rows:
        progress("read", 1)
        tally.note_row(row)
        item = normalize(row)
        if isinstance(item, Problem):
            item = apply_filters(item, filters) or item
        batch.items.append(item)
        if isinstance(item, Problem):
            batch.problems += 1
            batch.solutions += len(item.solutions)
        if (
            batch.problems >= batch_problems
            or batch.solutions >= 64 * batch_problems
            or len(batch.items) >= 16 * batch_problems
        ):
            yield batch
            batch = _Batch()
    if batch.items:
        yield batch


class _Tally:
    def __init__(self) -> None:
        self.rows = 0  # rows the source yielded
        self.in_format = 0  # ... that look like the source's own format
        self.first_row = ""  # what the first row was, for the error when none is in format
        self.read = 0
        self.kept: Counter[tuple[str, str]] = Counter()
        self.reasons: Counter[str] = Counter()
        self.stages: Counter[str] = Counter()
        self.totals: Counter[str] = Counter()
        # per kept record: what it adds to `kept` and `totals`, and its quality (for dedup)
        self.records: dict[str, tuple[tuple[str, str], Counter[str], Quality | None, str, str]] = {}

    def keep(self, record: Record) -> None:
        totals: Counter[str] = Counter()
        totals["tests"] += len(record.tests)
        totals["solutions"] += len(record.solutions)
        totals["corrections"] += len(record.provenance.corrections)
        if record.provenance.corrections:
            totals["repaired_problems"] += 1
        if record.provenance.call_outputs:
            totals[f"call_outputs_{record.provenance.call_outputs}"] += 1
        if record.quality and record.quality.generated_tests:
            totals["generated_tests"] += len(record.quality.generated_tests)
        key = (record.split, record.difficulty)
        self.kept[key] += 1
        self.totals.update(totals)
        where = (record.provenance.locator, record.provenance.source)
        self.records[record.problem_id] = (key, totals, record.quality, *where)

    def note_row(self, row: Any) -> None:
        self.rows += 1
        self.in_format += looks_like(row)
        if self.rows == 1:
            self.first_row = (
                row.raw_error
                if row.raw is None
                else "an object with keys " + ", ".join(sorted(map(str, row.raw))[:8])
            )

    def unkeep(self, problem_id: str) -> None:
        key, totals, *_ = self.records.pop(problem_id)
        self.kept[key] -= 1
        self.totals.subtract(totals)
        self.totals = +self.totals  # drop zero counts


def _verify_and_assess(
    problems: list[Problem], config: BuildConfig, runner: CachedRunner
) -> list[Any]:
    """Verify a batch, then measure the verified problems' tests (one runner for both)."""
    outcomes = verify_problems(problems, config.verify, runner)
    verified = [o for o in outcomes if isinstance(o, Verified)]
    measured = iter(assess(verified, config.quality, config.verify, runner))
    return [next(measured) if isinstance(o, Verified) else o for o in outcomes]


def _limited(source: Source, limit: int | None) -> Iterator[Any]:
    for n, row in enumerate(source.iter_rows()):
        if limit is not None and n >= limit:
            return
        yield row


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
    source = open_source(config.source)
    created = not out.exists()
    was_empty = created or (out.is_dir() and not any(out.iterdir()))
    wanted = config.model_dump(mode="json")
    previous = _previous_config(out) if out.is_dir() else None
    if previous is not None and previous != wanted and not overwrite:
        differ = sorted(
            k for k in wanted.keys() | previous.keys() if wanted.get(k) != previous.get(k)
        )
        raise OutputError(
            f"{out}: holds a build with other options (different {', '.join(differ)}); use a new "
            "folder, or pass --overwrite to replace it"
        )
    prepare_out(
        out,
        is_resume=lambda: previous == wanted,
        overwrite=overwrite,
        what="an `appsplus build` output",
        scratch=(".cache", SPOOL_DIR),
    )
    try:
        return _build(
            config, out, source, workers, batch_problems, manifest_dir, executor, pool, progress
        )
    except (SourceError, ExecutorSpecError):
        if was_empty:  # leave nothing behind for a source or an executor that cannot be used
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
) -> BuildReport:
    started = time.monotonic()
    emit: Progress = progress or (lambda event, n: None)
    source.prepare()
    try:
        (out / BUILD_STAMP).parent.mkdir(exist_ok=True)
        write_text_atomic(
            out / BUILD_STAMP, json.dumps(config.model_dump(mode="json"), sort_keys=True)
        )
    except OSError as e:
        raise OutputError(f"{out}: cannot write there ({e.strerror})") from None
    spool_dir = out / SPOOL_DIR
    shutil.rmtree(spool_dir, ignore_errors=True)
    spool_dir.mkdir()
    own_pool = pool is None
    pool = pool or open_executor(executor, workers)
    cache = ResultCache(out / CACHE_FILE)
    runner = CachedRunner(
        pool,
        cache,
        on_done=lambda n: emit("jobs_done", n),
        on_queued=lambda n: emit("jobs_queued", n),
    )
    revision = source.revision
    tally = _Tally()
    spools = {split: _Spool(spool_dir / f"{split}.jsonl") for split in SPLITS}
    runtimes = _Spool(spool_dir / "runtimes.jsonl")
    rejections_tmp = spool_dir / REJECTIONS_FILE
    q = config.quality
    extra_filters: list[Callable] = [duplicate_id_filter()]
    if q.min_tests > 1:
        extra_filters.append(min_tests_filter(q.min_tests))
    decontam = None
    if q.decontaminate:
        decontam = DecontaminationFilter(
            load_benchmarks(q.decontaminate, q.decontaminate_ngram), q.decontaminate_threshold
        )
        extra_filters.append(decontam)
    dedup = Deduplicator(q.dedupe_threshold) if q.dedupe else None
    try:
        with rejections_tmp.open("wb") as rejected_f:

            def consume(batch: _Batch, future: Future) -> None:
                outcomes = iter(future.result())
                for item in batch.items:
                    tally.read += 1
                    if isinstance(item, Problem):
                        item = next(outcomes)
                        if isinstance(item, Assessed):
                            item = make_record(item.verified, revision, item.quality)
                    if isinstance(item, Record):
                        spools[item.split].add(item.problem_id, item.to_row())
                        runtimes.add(item.problem_id, _runtimes_row(item, config))
                        tally.keep(item)
                        if dedup is not None:
                            dedup.add(item.problem_id, item.split, item.question)
                        emit("kept", 1)
                    else:
                        rejected_f.write(item.model_dump_json().encode() + b"\n")
                        tally.reasons[item.reason.value] += 1
                        tally.stages[item.stage] += 1
                        emit("rejected", 1)

            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify") as batches:
                pending: list[tuple[_Batch, Future]] = []
                try:
                    rows = _limited(source, config.limit)
                    for batch in _batches(rows, batch_problems, emit, extra_filters, tally):
                        problems = [p for p in batch.items if isinstance(p, Problem)]
                        future = batches.submit(_verify_and_assess, problems, config, runner)
                        pending.append((batch, future))
                        if len(pending) >= 2:
                            consume(*pending.pop(0))
                    while pending:
                        consume(*pending.pop(0))
                except BaseException:
                    runner.abort()  # jobs not yet started fail at once
                    for _, future in pending:
                        future.cancel()
                    raise
            duplicates = _deduplicate(dedup, tally, spools, runtimes, rejected_f, emit)
        contamination: dict[str, Any] = {}
        if decontam is not None:
            contamination = {
                "benchmarks": dict(sorted(decontam.index.files.items())),
                "ngram": q.decontaminate_ngram,
                "threshold": q.decontaminate_threshold,
                "rejected": sum(decontam.by_benchmark.values()),
                "rejected_by_benchmark": dict(sorted(decontam.by_benchmark.items())),
                "problems_sharing_an_ngram": {
                    field: decontam.any_shared[field] for field in ("statement", "code")
                },
            }
        _check_format(source, tally)
        quality = summarize(q, (r[2] for r in tally.records.values()), duplicates, contamination)
        report = _finish(
            config, out, source, revision, tally, spools, runtimes, manifest_dir, emit, quality
        )
    finally:
        for spool in (*spools.values(), runtimes):
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


def _check_format(source: Source, tally: _Tally) -> None:
    """A source with no rows, or with nothing kept and no row in its format, is not a source."""
    if tally.rows == 0:
        raise SourceError(f"{source.name}: no rows at all; expected {source.expects}")
    if not sum(tally.kept.values()) and not tally.in_format:
        raise SourceError(
            f"{source.name}: none of the {tally.rows} rows read is in the expected format "
            f"(the first is {tally.first_row[:200]}); expected {source.expects}"
        )


def _finish(
    config: BuildConfig,
    out: Path,
    source: Source,
    revision: str,
    tally: _Tally,
    spools: dict[str, _Spool],
    runtimes: _Spool,
    manifest_dir: Path | None,
    emit: Progress,
    quality: Any = None,
) -> BuildReport:
    """Replace the output files atomically, the manifest last."""
    (out / MANIFEST_FILE).unlink(missing_ok=True)  # no manifest while the files change
    files: dict[str, FileInfo] = {}
    schema = record_schema()
    for split, spool in spools.items():
        dest = out / DATA_FILES[split]
        rows = spool.write_parquet(dest, schema, on_row=lambda: emit("written", 1))
        files[dest.name] = FileInfo(sha256=sha256_file(dest), bytes=dest.stat().st_size, rows=rows)
    runtimes.write_parquet(out / RUNTIMES_FILE, runtimes_schema())
    rejections = out / REJECTIONS_FILE
    rejections_tmp = out / SPOOL_DIR / REJECTIONS_FILE
    rejections_tmp.replace(rejections)
    files[REJECTIONS_FILE] = FileInfo(
        sha256=sha256_file(rejections),
        bytes=rejections.stat().st_size,
        rows=sum(tally.reasons.values()),
    )
    kept = sum(tally.kept.values())
    name = config.resolved_name()
    manifest = Manifest(
        name=name,
        tool_version=__version__,
        executor_version=EXECUTOR_VERSION,
        comparator_version=COMPARATOR_VERSION,
        source=SourceInfo(spec=config.source, name=source.name, revision=revision),
        counts=Counts(read=tally.read, kept=kept, rejected=sum(tally.reasons.values())),
        kept_by_split_difficulty={
            split: {d: tally.kept[(split, d)] for d in DIFFICULTIES} for split in SPLITS
        },
        rejected_by_reason=dict(sorted(tally.reasons.items())),
        rejected_by_stage=dict(sorted(tally.stages.items())),
        totals=dict(sorted(tally.totals.items())),
        limits=config.verify.limits.model_dump(mode="json"),
        config=config.model_dump(mode="json"),
        runtime_policy=RUNTIME_POLICY,
        measurements={RUNTIMES_FILE: MEASUREMENTS_NOTE},
        files={},
        quality=quality.model_dump(mode="json") if quality is not None else {},
    )
    card = out / CARD_FILE
    text = dataset_card(manifest, config.license or license_for(config.source))
    if quality is not None:
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


def _deduplicate(
    dedup: Deduplicator | None,
    tally: _Tally,
    spools: dict[str, _Spool],
    runtimes: _Spool,
    rejected_f: IO[bytes],
    emit: Progress,
) -> dict[str, int]:
    """Reject the duplicates among the kept problems (after every other rejection)."""
    if dedup is None:
        return {}
    found = dedup.duplicates()
    for d in found:
        locator, source = tally.records[d.problem_id][3:]
        tally.unkeep(d.problem_id)
        rejection = Rejection(
            problem_id=d.problem_id,
            locator=locator,
            source=source,
            reason=RejectReason.DUPLICATE_PROBLEM,
            detail=d.detail(),
            stage="quality",
        )
        rejected_f.write(rejection.model_dump_json().encode() + b"\n")
        tally.reasons[rejection.reason.value] += 1
        tally.stages[rejection.stage] += 1
        emit("rejected", 1)
    gone = {d.problem_id for d in found}
    for spool in (*spools.values(), runtimes):
        spool.drop(gone)
    return {
        "rejected": len(found),
        "exact": sum(d.exact for d in found),
        "near": sum(not d.exact for d in found),
        "train_test_overlaps": sum(d.split == "train" and d.kept_split == "test" for d in found),
        "within_train": sum(d.split == d.kept_split == "train" for d in found),
        "within_test": sum(d.split == d.kept_split == "test" for d in found),
    }


def read_rejections(out: Path) -> list[Rejection]:
    """The rejections of a build folder, in read order."""
    with (out / REJECTIONS_FILE).open("rb") as f:
        return [Rejection.model_validate(json.loads(line)) for line in f if line.strip()]
