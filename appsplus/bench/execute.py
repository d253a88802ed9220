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
    StdioTest,
    Verdict,
    open_executor,
    run_many,
)
from appsplus.execution.pool import PREVIEW_CHARS
from appsplus.schema import TestItem

logger = logging.getLogger(__name__)

CHUNK_JOBS = 1024
ERROR_CHARS = 300
DETAIL_CHARS = 1500  # input, expected and actual output of a first failure (< PREVIEW_CHARS)
ERROR_TAIL_CHARS = 1500  # the last characters of its error and stderr


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


def cut(text: str, limit: int = DETAIL_CHARS, *, tail: bool = False, preview: bool = False) -> str:
    """`text` cut to `limit` characters, the cut marked with how many were left out.

    tail=True keeps the end (a traceback's or stderr's last lines hold the cause).
    preview=True: `text` is the executor's preview of an output, itself cut at
    PREVIEW_CHARS, so a text of that length may have been longer: the count reads "N+".
    """
    if len(text) <= limit:
        return text
    left_out = f"{len(text) - limit}" + ("+" if preview and len(text) >= PREVIEW_CHARS else "")
    if tail:
        return f"[... {left_out} characters cut]\n" + text[-limit:]
    return text[:limit] + f"\n[... {left_out} characters cut]"


def _test_texts(test: TestItem) -> tuple[str, str]:
    """(input, expected) of a test as text: stdio as is, call tests as JSON."""
    if isinstance(test, StdioTest):
        return test.input, test.output
    return json.dumps(test.args, default=repr), json.dumps(test.expected, default=repr)


def failure_detail(
    problem_tests: list[TestItem] | None, result: ExecutionResult
) -> tuple[Failure | None, str | None]:
    """(the first failing test's details, its short error) of one execution."""
    index = next((i for i, t in enumerate(result.tests) if t.verdict is not Verdict.PASSED), None)
    if index is None:
        return None, None
    failure = result.tests[index]
    error = failure.error or result.compile_error or ""
    short = error[:ERROR_CHARS] or None
    if problem_tests is None or index >= len(problem_tests):
        return None, short
    given, expected = _test_texts(problem_tests[index])
    stderr = failure.stderr.strip()
    full_error = "\n".join(part for part in (error.strip(), stderr) if part)  # stderr: a preview
    detail = Failure(
        test_index=index,
        verdict=failure.verdict.value,
        input=cut(given),
        expected=cut(expected),
        actual=cut(failure.output, preview=True),
        error=cut(full_error, ERROR_TAIL_CHARS, tail=True) or None,
    )
    return detail, short


def summarize(
    key: str,
    problem_id: str,
    result: ExecutionResult,
    problem_tests: list[TestItem] | None = None,
) -> SampleResult:
    """The verdicts of one execution, reduced to what the metrics and `bench show` need.

    With the problem's tests given, the first failing test's input, expected and actual
    output and error are kept (each cut to a stated size, the cut marked).
    """
    verdicts = result.verdicts
    failure, error = failure_detail(problem_tests, result)
    first = next((t for t in result.tests if t.verdict is not Verdict.PASSED), None)
    outcome = "passed" if first is None else first.verdict.value
    return SampleResult(
        key=key,
        problem_id=problem_id,
        passed=result.passed,
        outcome=outcome,
        n_tests=len(verdicts),
        n_passed=sum(v is Verdict.PASSED for v in verdicts),
        n_skipped=sum(v is Verdict.SKIPPED for v in verdicts),
        error=error,
        duration_s=round(sum(t.duration_s for t in result.tests), 6),
        test_verdicts=[v.value for v in verdicts],
        test_durations_s=[round(t.duration_s, 6) for t in result.tests],
        failure=failure,
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
