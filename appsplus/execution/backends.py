"""Where programs run: one executor API, several backends chosen by a spec string.

    with open_executor("local", workers=8) as ex:   # the warm worker pool (default)
        results = run_many(jobs, pool=ex)

Every backend gives the same verdicts for the same jobs, reports its isolation, and raises
`SandboxError` when the sandbox itself fails (never a verdict). Build, bench, trainers and
the reward adapters take the spec as configuration and never know what is behind it.

Specs: `local` (default) — this machine's warm pool. On a Ray cluster (the `ray` extra;
see `appsplus.execution.ray_executor`): `ray` — the cluster this machine belongs to
(RAY_ADDRESS, else the one `ray start` made, else a private one for this process), `auto`
— a running cluster only, `ray://HOST:PORT` — a remote cluster through Ray Client.
There `workers` is CPUs per actor (default: one actor per node, all of its CPUs).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from appsplus.execution.models import ExecutionResult, ExecutorSpecError, Isolation
from appsplus.execution.pool import Job, WorkerPool


@runtime_checkable
class Executor(Protocol):
    """What `run_many(jobs, pool=...)` needs of a backend: `size` jobs run at once."""

    size: int

    def run(self, job: Job) -> ExecutionResult: ...

    # Optional: `map_jobs(jobs, progress) -> Iterator[ExecutionResult]`, a backend's own
    # batched map (results streamed in job order); `run_many` uses it when present.

    def isolation(self) -> Isolation: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc) -> None: ...


def open_executor(spec: str | None = None, workers: int | None = None) -> Executor:
    """The executor a spec names, with `workers` sandbox workers where that applies."""
    name = (spec or "local").strip()
    if name == "local":
        return WorkerPool(workers)
    if name in ("ray", "auto") or name.startswith("ray://"):
        from appsplus.execution.ray_executor import RayExecutor, import_ray

        if name.startswith("ray://") and ":" not in name[len("ray://") :]:
            raise ExecutorSpecError(f"executor {name!r}: expected ray://HOST:PORT")

        import_ray()  # the missing extra is named before anything else is tried
        return RayExecutor(None if name == "ray" else name, workers)
    raise ExecutorSpecError(
        f"unknown executor {name!r}: expected local, ray, auto or ray://HOST:PORT"
    )
