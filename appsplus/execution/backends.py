"""Where programs run: one executor API, several backends chosen by a spec string.

    with open_executor("local", workers=8) as ex:   # the warm worker pool (default)
        results = run_many(jobs, pool=ex)

Every backend gives the same verdicts for the same jobs, reports its isolation, and raises
`SandboxError` when the sandbox itself fails (never a verdict). Build, bench, trainers and
the reward adapters take the spec as configuration and never know what is behind it.

Specs: `local` (default) — this machine's warm pool.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from appsplus.execution.models import ExecutionResult, Isolation
from appsplus.execution.pool import Job, WorkerPool


class ExecutorSpecError(ValueError):
    """An executor spec that names no backend, or a backend whose extra is not installed."""


@runtime_checkable
class Executor(Protocol):
    """What `run_many(jobs, pool=...)` needs of a backend: `size` jobs run at once."""

    size: int

    def run(self, job: Job) -> ExecutionResult: ...

    def isolation(self) -> Isolation: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc) -> None: ...


def open_executor(spec: str | None = None, workers: int | None = None) -> Executor:
    """The executor a spec names, with `workers` sandbox workers where that applies."""
    name = (spec or "local").strip()
    if name == "local":
        return WorkerPool(workers)
    raise ExecutorSpecError(f"unknown executor {name!r}: expected local")
