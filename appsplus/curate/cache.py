"""A content-addressed cache of execution results, and the runner that uses it.

    cache = ResultCache(out / ".cache" / "verify.sqlite")
    run = CachedRunner(pool, cache)           # a `verify.Runner`
    results = run(jobs)                         # cached jobs are not executed again

The key of a job is the sha256 of the canonical JSON of its program, tests, limits and
flags plus EXECUTOR_VERSION and COMPARATOR_VERSION, so a result is reused only for the
same work judged by the same executor. Results are stored *compacted* (`compact`): stderr
and the outputs nobody reads are dropped, and the runner returns compacted results whether
they come from the cache or were just executed, so a resumed build decides exactly like an
uninterrupted one. The store is SQLite in WAL mode; every result is committed as soon as
it arrives, so a build killed with SIGKILL loses at most the jobs that were running.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from appsplus.execution import (
    COMPARATOR_VERSION,
    EXECUTOR_VERSION,
    ExecutionResult,
    Job,
    SandboxError,
    TestResult,
    Verdict,
    WorkerPool,
    run_many,
)
from appsplus.record import canonical_json

logger = logging.getLogger(__name__)

CACHE_SCHEMA = "1"
_ERROR_CHARS = 500


def compact(result: ExecutionResult, kind: str) -> ExecutionResult:
    """Keep what verification reads: verdicts, durations, errors, wrong outputs, returned values."""
    tests = [
        TestResult(
            verdict=t.verdict,
            duration_s=t.duration_s,
            output=t.output
            if t.verdict is Verdict.WRONG_ANSWER or (kind == "call" and t.verdict is Verdict.PASSED)
            else "",
            error=t.error[:_ERROR_CHARS] if t.error else None,
        )
        for t in result.tests
    ]
    compile_error = result.compile_error[:_ERROR_CHARS] if result.compile_error else None
    return ExecutionResult(tests=tests, compile_error=compile_error, isolation=result.isolation)


class ResultCache:
    """sqlite table key -> compacted ExecutionResult JSON; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (CACHE_SCHEMA,))
        elif row[0] != CACHE_SCHEMA:
            logger.warning(
                "%s: cache schema %s, expected %s: starting afresh", path, row[0], CACHE_SCHEMA
            )
            self._db.execute("DELETE FROM results")
            self._db.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (CACHE_SCHEMA,))

    def get_many(self, keys: Sequence[str]) -> dict[str, ExecutionResult]:
        found: dict[str, ExecutionResult] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, value FROM results WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, value in rows:
                    try:
                        found[key] = ExecutionResult.model_validate_json(value)
                    except ValueError:
                        logger.warning("%s: unreadable cache entry %s ignored", self.path, key)
        return found

    def put(self, key: str, result: ExecutionResult) -> None:
        """Store one result and commit it (autocommit: one transaction per statement)."""
        value = result.model_dump_json()
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, value))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def count_entries(path: Path) -> int:
    """Number of results in a cache file (0 if there is none yet); safe while a build writes.

    Opens read-write (without writing) so that SQLite can recover the WAL index of a
    writer that was killed mid-transaction, which a read-only connection may refuse to do.
    """
    if not path.exists():
        return 0
    db = sqlite3.connect(path, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # the table does not exist yet
        return 0
    finally:
        db.close()


class _Keys:
    """Job keys, hashing each distinct test list once per call (jobs of a problem share it)."""

    def __init__(self, versions: str) -> None:
        self.versions = versions
        self._tests: dict[tuple[int, ...], str] = {}

    def __call__(self, job: Job) -> str:
        ids = tuple(map(id, job.tests))
        digest = self._tests.get(ids)
        if digest is None:
            text = canonical_json([t.model_dump() for t in job.tests])
            digest = self._tests[ids] = hashlib.sha256(text.encode()).hexdigest()
        head = canonical_json(
            {
                "limits": job.limits.model_dump(),
                "gate": job.stop_on_first_failure,
                "trace": job.trace_lines,
                "hash_seed": job.hash_seed,
                "versions": self.versions,
                "tests": digest,
            }
        )
        return hashlib.sha256(
            head.encode() + b"\0" + job.program.encode("utf-8", "surrogatepass")
        ).hexdigest()


def job_key(job: Job) -> str:
    """The content address of a job: program, tests, limits, flags, executor and comparator versions."""
    return _Keys(_versions())(job)


def _versions() -> str:
    return f"executor={EXECUTOR_VERSION};comparator={COMPARATOR_VERSION};cache={CACHE_SCHEMA}"


class CachedRunner:
    """Run jobs on a pool, reusing cached results; counts hits, misses and executed seconds."""

    def __init__(
        self,
        pool: WorkerPool,
        cache: ResultCache | None = None,
        on_done: Callable[[int], None] | None = None,
        on_queued: Callable[[int], None] | None = None,
        watch: Any = None,
    ) -> None:
        self.pool = pool
        self.watch = watch  # started(job)/finished(job) around each job (steps.JobWatch)
        self.cache = cache
        self.on_done = on_done
        self.on_queued = on_queued
        self.hits = 0  # jobs answered from the cache
        self.executed = 0  # jobs run in the sandbox
        self.executed_s = 0.0  # sum of the executed tests' own durations
        self._lock = threading.Lock()
        self._aborted = threading.Event()
        self.size = pool.size  # run_many reads this: the runner stands in for the pool

    def abort(self) -> None:
        """Make jobs not yet started fail with SandboxError (after another job failed)."""
        self._aborted.set()

    def run(self, job: Job) -> ExecutionResult:
        if self._aborted.is_set():
            raise SandboxError("build aborted after an earlier sandbox failure")
        if self.watch is None:
            return self.pool.run(job)
        self.watch.started(job)
        try:
            return self.pool.run(job)
        finally:
            self.watch.finished(job)

    accepts_key_jobs = True  # see `__call__`'s `key_jobs` (used by quality.timeouts)

    def __call__(
        self, jobs: Sequence[Job], key_jobs: Sequence[Job] | None = None
    ) -> list[ExecutionResult]:
        """Results of `jobs`, from the cache or executed. `key_jobs` (one per job, default the
        jobs themselves) are what the results are stored under: a timeout confirmation runs
        under a load-scaled limit and is stored under its nominal one, so a build resumed
        under another load finds it."""
        if not jobs:
            return []
        if key_jobs is not None and len(key_jobs) != len(jobs):
            raise ValueError("key_jobs must give one job per job")
        if self.on_queued:
            self.on_queued(len(jobs))
        keys_of = _Keys(_versions())
        keys = [keys_of(job) for job in (jobs if key_jobs is None else key_jobs)]
        unique: dict[str, Job] = {}
        for key, job in zip(keys, jobs):
            unique.setdefault(key, job)
        found = self.cache.get_many(list(unique)) if self.cache else {}
        todo = [key for key in unique if key not in found]
        with self._lock:
            self.hits += len(found)
        if self.on_done and len(jobs) > len(todo):
            self.on_done(len(jobs) - len(todo))

        def done(index: int, result: ExecutionResult) -> None:
            key = todo[index]
            job = unique[key]
            small = compact(result, job.tests[0].kind if job.tests else "stdio")
            if self.cache is not None:
                self.cache.put(key, small)
            with self._lock:
                self.executed += 1
                self.executed_s += sum(t.duration_s for t in result.tests)
            if self.on_done:
                self.on_done(1)

        # A pool with its own batched map (Ray) gets the whole list; else this runner stands
        # in for the pool job by job, so an abort stops the jobs not yet started.
        batched = getattr(self.pool, "map_jobs", None) is not None
        if batched and self._aborted.is_set():
            raise SandboxError("build aborted after an earlier sandbox failure")
        target = self.pool if batched else self
        fresh = run_many([unique[key] for key in todo], progress=done, pool=target)  # type: ignore[arg-type]
        for key, result in zip(todo, fresh):
            job = unique[key]
            found[key] = compact(result, job.tests[0].kind if job.tests else "stdio")
        return [found[key] for key in keys]
