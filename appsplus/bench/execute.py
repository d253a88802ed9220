"""Execution: every distinct (problem, program) runs once through `run_many`; results cached.

A result is keyed by the content hash of its job (program, the problem's tests, limits,
stop-on-first-failure, executor and comparator versions): identical samples are run once,
and a resumed evaluation runs only the jobs whose results are not in results.jsonl yet.
Results are appended (and flushed) as each job finishes. Jobs go to the executor in chunks,
so memory stays bounded however many samples there are.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

from appsplus.bench.files import BenchProblem, Failure, Sample, SampleResult
from appsplus.bench.jsonl import Appender, read_models
from appsplus.execution import (
    COMPARATOR_VERSION,
    EXECUTOR_VERSION,
    ExecutionResult,
    Isolation,
    Job,
    Limits,
    open_executor,
    run_many,
)
from appsplus.execution.record import (  # noqa: F401 (DETAIL_CHARS, cut: re-exported)
    DETAIL_CHARS,
    ERROR_CHARS,
    ERROR_TAIL_CHARS,
    cut,
    first_failure,
    short_error,
    test_record,
)
from appsplus.schema import TestItem

logger = logging.getLogger(__name__)

CHUNK_JOBS = 1024


def problem_fingerprint(problem: BenchProblem) -> str:
    """sha256 of a problem's tests (what a result depends on besides the program and limits)."""
    tests = json.dumps([t.model_dump(mode="json") for t in problem.tests], sort_keys=True)
    return hashlib.sha256(tests.encode()).hexdigest()


def job_for(problem: BenchProblem, program: str, stop_on_first_failure: bool) -> Job:
    """The executor job of one sample."""
    return Job(
        program=program,
        tests=problem.tests,
        limits=Limits(time_s=problem.time_limit_s),
        stop_on_first_failure=stop_on_first_failure,
    )


def result_key(fingerprint: str, job: Job) -> str:
    """Content hash of a job, given its problem's fingerprint."""
    head = json.dumps(
        {
            "tests": fingerprint,
            "limits": job.limits.model_dump(mode="json"),
            "stop_on_first_failure": job.stop_on_first_failure,
            "executor": EXECUTOR_VERSION,
            "comparator": COMPARATOR_VERSION,
        },
        sort_keys=True,
    )
    data = head.encode() + b"\0" + job.program.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def failure_detail(
    problem_tests: list[TestItem] | None, result: ExecutionResult
) -> tuple[Failure | None, str | None]:
    """(the first failing test's details, its short error) of one execution."""
    failure = first_failure(problem_tests, result)
    return (Failure(**failure) if failure else None), short_error(result)


def summarize(
    key: str,
    problem_id: str,
    result: ExecutionResult,
    problem_tests: list[TestItem] | None = None,
) -> SampleResult:
    """The verdicts of one execution, reduced to what the metrics and `bench show` need.

    With the problem's tests given, the first failing test's input, expected and actual
    output and error are kept (each cut to a stated size, the cut marked), as
    `appsplus.execution.record` builds them for `appsplus exec --json` and the rewards.
    """
    failure = first_failure(problem_tests, result)
    return SampleResult(
        key=key,
        problem_id=problem_id,
        **test_record(result),
        failure=Failure(**failure) if failure else None,
    )


def read_results(path: Path) -> dict[str, SampleResult]:
    """Cached results by key."""
    return {r.key: r for r in read_models(path, SampleResult)}


def sample_keys(
    problems: dict[str, BenchProblem], samples: list[Sample], stop_on_first_failure: bool
) -> tuple[list[str], dict[str, tuple[str, Job]]]:
    """(key of each sample, {key: (problem_id, job)} of the distinct jobs)."""
    fingerprints = {pid: problem_fingerprint(p) for pid, p in problems.items()}
    keys, jobs = [], {}
    for sample in samples:
        problem = problems[sample.problem_id]
        job = job_for(problem, sample.program, stop_on_first_failure)
        key = result_key(fingerprints[sample.problem_id], job)
        keys.append(key)
        jobs.setdefault(key, (sample.problem_id, job))
    return keys, jobs


def evaluate_samples(
    problems: list[BenchProblem],
    samples: list[Sample],
    results_path: Path,
    *,
    workers: int | None = None,
    executor: str | None = None,
    stop_on_first_failure: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[str], dict[str, SampleResult], Isolation | None]:
    """Run the samples not yet in `results_path` -> (key per sample, results by key, isolation).

    `isolation` is what the sandbox achieved, or None when nothing had to run.
    """
    by_id = {p.problem_id: p for p in problems}
    unknown = {s.problem_id for s in samples} - set(by_id)
    if unknown:
        raise ValueError(f"samples for problems not in the run: {sorted(unknown)[:5]}")
    keys, jobs = sample_keys(by_id, samples, stop_on_first_failure)
    results = read_results(results_path)
    todo = [(key, pid, job) for key, (pid, job) in jobs.items() if key not in results]
    if progress:
        progress(len(samples) - sum(1 for k in keys if k not in results))
    pending_samples: dict[str, int] = {}
    for k in keys:
        if k not in results:
            pending_samples[k] = pending_samples.get(k, 0) + 1
    logger.info(
        "%d samples, %d distinct jobs, %d cached, %d to run",
        len(samples),
        len(jobs),
        len(jobs) - len(todo),
        len(todo),
    )
    if not todo:
        return keys, results, None
    with Appender(results_path) as out, open_executor(executor, workers) as pool:
        isolation = pool.isolation()
        for start in range(0, len(todo), CHUNK_JOBS):
            chunk = todo[start : start + CHUNK_JOBS]

            def done(i: int, result: ExecutionResult, chunk=chunk) -> None:
                key, pid, _ = chunk[i]
                summary = summarize(key, pid, result, by_id[pid].tests)
                out.write(summary)
                results[key] = summary
                if progress:
                    progress(pending_samples[key])

            run_many([job for _, _, job in chunk], pool=pool, progress=done)
    return keys, results, isolation
