"""Expected outputs of HumanEval+ / MBPP+: the canonical solutions run once in the sandbox.

Cached per task under `cache_dir()/expected/<data hash>.<judge and rules versions>/`, one
gzipped JSON file per task ({"base", "base_time", "plus", "plus_time"}), written whole
(temp file + rename), so an interrupted computation keeps the tasks it finished and a run
on the first N tasks computes only those.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path

from appsplus.bench.suites import SuiteError
from appsplus.bench.suites.evalplus import (
    cache_dir,
    read_gz_json,
    reference_jobs,
    reference_output,
    versions,
)
from appsplus.execution import run_many

logger = logging.getLogger(__name__)


def expected_dir(data_hash: str) -> Path:
    return cache_dir() / "expected" / f"{data_hash.split(':')[-1][:32]}.{versions()}"


def _task_file(folder: Path, task_id: str) -> Path:
    return folder / (task_id.replace("/", "_") + ".json.gz")


def _cached(path: Path) -> dict | None:
    try:
        data = read_gz_json(path)
    except (OSError, ValueError, EOFError):
        return None  # absent or damaged: computed again
    keys = {"base", "base_time", "plus", "plus_time"}
    return data if isinstance(data, dict) and keys <= data.keys() else None


def expected_outputs(
    kind: str, rows: list[dict], data_hash: str, *, workers: int | None = None
) -> tuple[dict[str, dict], dict[str, str]]:
    """({task_id: {"base", "base_time", "plus", "plus_time"}}, {task_id: why it failed}) for
    `rows`, from the cache or run; a failure (the canonical solution failing in the sandbox,
    e.g. out of memory) is not cached, so the next load tries again."""
    folder = expected_dir(data_hash)
    found: dict[str, dict] = {}
    todo = []
    for row in rows:
        cached = _cached(_task_file(folder, row["task_id"]))
        if cached is None:
            todo.append(row)
        else:
            found[row["task_id"]] = cached
    if not todo:
        return found, {}
    logger.info("computing the expected outputs of %d %s tasks (once)", len(todo), kind)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [job for row in todo for job in reference_jobs(kind, row)]
    results = run_many(jobs, workers=workers)
    failed = {}
    for n, row in enumerate(todo):
        task_id = row["task_id"]
        try:
            base, base_time = reference_output(task_id, "base", results[2 * n])
            plus, plus_time = reference_output(task_id, "plus", results[2 * n + 1])
        except SuiteError as e:
            logger.warning("%s; the task is left out of the suite", e)
            failed[task_id] = str(e)
            continue
        entry = {"base": base, "base_time": base_time, "plus": plus, "plus_time": plus_time}
        path = _task_file(folder, task_id)
        partial = path.with_name(path.name + f".{os.getpid()}.partial")
        with gzip.open(partial, "wt", encoding="utf-8") as f:
            json.dump(entry, f)
        os.replace(partial, path)
        found[task_id] = entry
    return found, failed
