"""`--time-limits derived`: per-problem limits from the canonical solution's measured runtime.

For `humaneval` and `mbpp` (whose programs run as one check): each task's canonical
solution is judged once in the sandbox, exactly as a sample would be, and its run time t
gives the limit max(`FLOOR_S`, `FACTOR` x t), EvalPlus's rule, so a program that loops
forever costs about a second instead of the suite's fixed 5 s / 10 s. Measured times are
cached per problem under `cache_root()/time_limits/<suite>.<data hash>.json`, so each
task is measured once per data file. A task whose canonical solution fails keeps the
suite's fixed limit. (`humaneval+` / `mbpp+` derive theirs per input: `evalplus`.)
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from appsplus.bench.files import BenchProblem
from appsplus.bench.suites import SuiteError

logger = logging.getLogger(__name__)

MODES = ("derived", "fixed")
FLOOR_S = 1.0
FACTOR = 4.0
MEASURE_LIMIT_S = 60.0
VERSION = "1"


def describe(mode: str, fixed_s: float) -> str:
    if mode == "derived":
        return f"time limits derived: max({FLOOR_S:g} s, {FACTOR:g} x canonical) per program"
    return f"{fixed_s:g} s per program"


def check_mode(mode: str | None, default: str) -> str:
    mode = mode or default
    if mode not in MODES:
        raise SuiteError(f"--time-limits must be derived or fixed, got {mode!r}")
    return mode


def _cache_file(suite: str, data_hash: str) -> Path:
    from appsplus.curate.sample_dataset import cache_root

    digest = data_hash.split(":")[-1][:32]
    return cache_root() / "time_limits" / f"{suite}.{digest}.v{VERSION}.json"


def _read(path: Path) -> dict[str, float | None]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def measured_times(
    suite: str, data_hash: str, problems: list[BenchProblem], workers: int | None = None
) -> dict[str, float | None]:
    """{problem_id: the canonical solution's run time in s, or None if it failed}."""
    from appsplus.bench.execute import job_for
    from appsplus.bench.programs import assemble_program
    from appsplus.execution import Limits, run_many

    path = _cache_file(suite, data_hash)
    times = _read(path)
    todo = [p for p in problems if p.problem_id not in times and p.canonical_solution]
    if todo:
        logger.info("measuring the canonical solutions of %d %s tasks (once)", len(todo), suite)
        jobs = [
            job_for(p, assemble_program(p, p.canonical_solution), True).model_copy(
                update={"limits": Limits(time_s=MEASURE_LIMIT_S)}
            )
            for p in todo
        ]
        for p, result in zip(todo, run_many(jobs, workers=workers), strict=True):
            times[p.problem_id] = (
                round(sum(t.duration_s for t in result.tests), 6) if result.passed else None
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + f".{os.getpid()}.partial")
        partial.write_text(json.dumps(times, sort_keys=True))
        os.replace(partial, path)
    return {p.problem_id: times.get(p.problem_id) for p in problems}


def derive(
    suite: str, data_hash: str, problems: list[BenchProblem], workers: int | None = None
) -> list[BenchProblem]:
    """The problems with derived limits (a failing canonical solution keeps its fixed one)."""
    times = measured_times(suite, data_hash, problems, workers)
    out = []
    for p in problems:
        t = times[p.problem_id]
        limit = p.time_limit_s if t is None else round(max(FLOOR_S, FACTOR * t), 3)
        out.append(p.model_copy(update={"time_limit_s": limit}))
    return out
