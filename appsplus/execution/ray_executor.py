"""The executor on a Ray cluster: one actor per node (or per N cores), each a warm local pool.

    with open_executor("ray", workers=None) as ex:      # or "auto", "ray://HOST:10001"
        for result in ex.map_jobs(jobs):                # lazily read, streamed in job order
            ...

Each `SandboxActor` owns a `WorkerPool` on its node: programs run there exactly as on the
local pool (same sandbox, same isolation, same judge), so verdicts are identical. The
driver sends jobs in batches (a Ray call per program would cost more than the program),
keeps a bounded number of jobs in flight, and returns results in job order.

Faults: a batch whose actor (or node) dies is re-run elsewhere, one job per call, on a
replacement actor; a job whose solo runs keep killing actors ends as a `SandboxError`
naming it. Results are only ever what an actor returned: nothing is guessed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from typing import Any

from pydantic import BaseModel, ConfigDict

from appsplus.execution.models import (
    ExecutionResult,
    ExecutorSpecError,
    Isolation,
    SandboxError,
    TestsError,
)
from appsplus.execution.pool import Job, WorkerPool

log = logging.getLogger(__name__)

RAY_EXTRA = 'the Ray executor needs the ray extra: pip install "appsplus[ray]"'
_DEPTH = 2  # batches an actor holds at once: one running, one queued behind it
_WINDOW = 4  # jobs read ahead of the oldest unfinished one, in multiples of the in-flight cap


def import_ray() -> Any:
    """The `ray` module, or an ExecutorSpecError naming the extra to install."""
    try:
        import ray
    except ImportError as e:
        raise ExecutorSpecError(f"{RAY_EXTRA} ({e})") from e
    return ray


class ActorInfo(BaseModel):
    """Where one sandbox actor runs and what its pool achieved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node_id: str
    node_ip: str
    pid: int
    workers: int
    isolation: Isolation


@dataclass(frozen=True)
class _Failure:
    """A job the actor's pool raised on (a sandbox failure or a malformed job)."""

    kind: str
    message: str


class SandboxActor:
    """Ray actor body: a warm `WorkerPool` of `workers` sandbox workers on one node."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = WorkerPool(workers)
        self.threads = ThreadPoolExecutor(workers, thread_name_prefix="sandbox")
        self._isolation = self.pool.isolation()  # starts a worker now: fail at start, not later

    def info(self) -> ActorInfo:
        import ray

        return ActorInfo(
            node_id=ray.get_runtime_context().get_node_id(),
            node_ip=ray.util.get_node_ip_address(),
            pid=os.getpid(),
            workers=self.workers,
            isolation=self._isolation,
        )

    def run_batch(self, jobs: list[Job]) -> list[ExecutionResult | _Failure]:
        """Run jobs on the pool at once; one result (or failure) per job, in order."""
        futures = [self.threads.submit(self.pool.run, job) for job in jobs]
        out: list[ExecutionResult | _Failure] = []
        for f in futures:
            try:
                out.append(f.result())
            except Exception as e:  # reported per job; the driver raises it in job order
                out.append(_Failure(type(e).__name__, str(e)))
        return out


@cache
def _actor_class() -> Any:
    return import_ray().remote(SandboxActor)


# --------------------------------------------------------------------------- connection
_conn_lock = threading.Lock()
_CONNECT_TRIES = 3  # a Ray Client connection whose server fails to start is tried again
_conn_users = 0  # executors sharing the connection this module opened
_conn_ours = False  # whether this module called ray.init (and so calls ray.shutdown)


def _connect(address: str | None) -> Any:
    """Join the cluster `address` names (see `RayExecutor`); reuse an existing connection."""
    global _conn_users, _conn_ours
    ray = import_ray()
    with _conn_lock:
        if ray.is_initialized():
            _conn_users += 1
            return ray
        for attempt in range(_CONNECT_TRIES):
            try:
                ray.init(
                    address=address,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.WARNING,
                    namespace="appsplus",
                )
                break
            except ConnectionAbortedError as e:  # Ray Client: its per-client server did not
                if attempt + 1 < _CONNECT_TRIES:  # start in time (seen on a loaded machine)
                    log.warning("joining %s failed (%s); trying again", address, e)
                    time.sleep(1.0 + attempt)
                    continue
                raise ExecutorSpecError(f"cannot join the Ray cluster at {address}: {e}") from e
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = address or "this machine's Ray (RAY_ADDRESS, `ray start`, or a new one)"
                raise ExecutorSpecError(f"cannot join the Ray cluster at {where}: {e}") from e
        _conn_users += 1
        _conn_ours = True
        return ray


def _disconnect(ray: Any) -> None:
    global _conn_users, _conn_ours
    with _conn_lock:
        _conn_users = max(0, _conn_users - 1)
        if _conn_users == 0 and _conn_ours:
            _conn_ours = False
            ray.shutdown()


# --------------------------------------------------------------------------- actors
_LOST = None  # set on first use: the Ray exceptions that mean "this batch's actor is gone"


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    global _LOST
    if _LOST is None:
        ex = ray.exceptions
        names = ("RayActorError", "ActorUnschedulableError", "WorkerCrashedError")
        names += ("NodeDiedError", "ObjectLostError")
        _LOST = tuple(getattr(ex, name) for name in names if hasattr(ex, name))
    return _LOST


@dataclass(eq=False)
class _Actor:
    handle: Any
    workers: int
    started: Any  # ObjectRef of info(): ready once it resolves
    info: ActorInfo | None = None
    busy: int = 0  # jobs in flight on it, all callers together
    dead: bool = False
    replacement: bool = False  # started after another died (may wait for room for long)
    suspect: bool = False  # runs a re-run alone: nothing else is sent until it returns


@dataclass
class _Batch:
    actor: _Actor
    indices: list[int]
    solo: bool  # a re-run of one job whose earlier batch lost its actor


@dataclass
class _Run:
    """State of one `map_jobs` call (several may share the executor's actors)."""

    jobs: dict[int, Job] = field(default_factory=dict)  # read, result not yet received
    results: dict[int, ExecutionResult | _Failure] = field(default_factory=dict)
    retry: deque[int] = field(default_factory=deque)
    crashes: Counter[int] = field(default_factory=Counter)
    inflight: dict[Any, _Batch] = field(default_factory=dict)
    read: int = 0
    exhausted: bool = False


class RayExecutor:
    """Sandbox actors on a Ray cluster behind the `Executor` API.

    `address`: None joins this machine's Ray (RAY_ADDRESS, else the cluster `ray start`
    made, else a private instance started for this process); "auto" requires a running
    cluster; "ray://HOST:PORT" goes through Ray Client. `workers`: sandbox workers (CPUs)
    per actor; None puts one actor on each node with all of that node's CPUs.
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        *,
        batch_size: int | None = None,
        start_timeout_s: float = 120.0,
        max_job_crashes: int = 2,
    ) -> None:
        if workers is not None and workers < 1:
            raise ExecutorSpecError(f"workers must be at least 1, got {workers}")
        self._ray = _connect(address)
        self._batch_size = batch_size
        self._start_timeout_s = start_timeout_s
        self._max_job_crashes = max_job_crashes
        self._lock = threading.Lock()
        self._closed = False
        self._actors: list[_Actor] = []
        try:
            shapes = self._plan(workers)
            for node_id, cpus in shapes:
                self._actors.append(self._spawn(cpus, node_id))
        except BaseException:
            self.close()
            raise
        self.size = sum(a.workers for a in self._actors)
        self._deaths = 0
        self._max_deaths = 8 + 4 * len(self._actors)

    # ------------------------------------------------------------------ actors
    def _plan(self, workers: int | None) -> list[tuple[str, int]]:
        """(node id, CPUs) of each actor to start: whole nodes, or `workers`-CPU slices."""
        nodes = [
            (n["NodeID"], int(n.get("Resources", {}).get("CPU", 0)))
            for n in self._ray.nodes()
            if n.get("Alive")
        ]
        nodes = [(node, cpus) for node, cpus in nodes if cpus >= 1]
        if not nodes:
            raise ExecutorSpecError("the Ray cluster has no alive node with a CPU")
        if workers is None:
            return nodes
        shapes = [(node, workers) for node, cpus in nodes for _ in range(cpus // workers)]
        if not shapes:
            most = max(cpus for _, cpus in nodes)
            raise ExecutorSpecError(
                f"no node of the Ray cluster has {workers} CPUs for an actor (largest: {most})"
            )
        return shapes

    def _spawn(self, cpus: int, node_id: str | None) -> _Actor:
        if node_id is not None:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            strategy: Any = NodeAffinitySchedulingStrategy(node_id, soft=False)
        else:
            strategy = "SPREAD"
        handle = (
            _actor_class()
            .options(
                num_cpus=cpus,
                max_restarts=0,
                max_concurrency=4 * cpus + 4,
                scheduling_strategy=strategy,
            )
            .remote(cpus)
        )
        return _Actor(handle=handle, workers=cpus, started=handle.info.remote())

    def _on_started(self, actor: _Actor) -> None:
        """The actor's start finished: note where it runs, or replace it if it is gone."""
        try:
            info = self._ray.get(actor.started)
        except _lost_errors(self._ray) as e:
            if getattr(e, "actor_init_failed", False):
                raise SandboxError(f"a Ray sandbox actor could not start its pool: {e}") from e
            self._replace(actor, e)
            return
        with self._lock:
            actor.info = info

    def _replace(self, actor: _Actor, why: BaseException) -> None:
        """Forget a dead actor and start another of the same size wherever there is room."""
        with self._lock:
            if actor.dead:
                return
            actor.dead = True
            self._deaths += 1
            if self._deaths > self._max_deaths:
                raise SandboxError(
                    f"Ray sandbox actors keep dying ({self._deaths} so far); last: {why}"
                )
            where = actor.info.node_ip if actor.info else "a node"
            log.warning("Ray sandbox actor on %s died (%s); starting another", where, why)
            try:
                self._ray.kill(actor.handle)
            except Exception:  # already gone
                pass
            self._actors = [a for a in self._actors if a is not actor]
            if not self._closed:
                spare = self._spawn(actor.workers, None)
                spare.replacement = True
                self._actors.append(spare)

    def _pick(self, alone: bool = False) -> _Actor | None:
        """The started actor with the most room (None when all are full or starting); with
        `alone`, an idle one (a re-run must not share its actor: a crash would blame both)."""
        best, room = None, 0
        for a in self._actors:
            if a.info is None or a.dead or a.suspect or (alone and a.busy):
                continue
            free = _DEPTH * self._batch(a) - a.busy
            if free > room:
                best, room = a, free
        return best

    def _batch(self, actor: _Actor) -> int:
        return self._batch_size or 8 * actor.workers

    def max_read_ahead(self) -> int:
        """The most jobs `map_jobs` holds beyond the oldest unfinished one (its memory bound)."""
        with self._lock:
            batches = [self._batch(a) for a in self._actors if not a.dead] or [0]
            return _WINDOW * _DEPTH * sum(batches) + max(batches)

    def nodes(self) -> list[ActorInfo]:
        """Where the started actors run, with each pool's isolation (waits for first starts)."""
        self._wait_started()
        with self._lock:
            return [a.info for a in self._actors if a.info is not None and not a.dead]

    def _wait_started(self) -> None:
        """Wait for the first actors' starts (an actor that cannot start is left out)."""
        deadline = time.monotonic() + self._start_timeout_s
        while True:
            with self._lock:
                starting = [a for a in self._actors if a.info is None and not a.dead]
                ready = any(a.info is not None and not a.dead for a in self._actors)
                if ready:  # replacements may wait long for room: not worth waiting for
                    starting = [a for a in starting if not a.replacement]
            if not starting:
                if not ready:
                    raise SandboxError("no Ray sandbox actor is alive")
                return
            left = deadline - time.monotonic()
            if left <= 0:
                if ready:
                    return
                raise SandboxError(self._stuck_message())
            done, _ = self._ray.wait([a.started for a in starting], num_returns=1, timeout=left)
            for a in starting:
                if a.started in done:
                    self._on_started(a)

    def _stuck_message(self) -> str:
        return (
            f"no Ray sandbox actor started within {self._start_timeout_s:.0f} s: the cluster "
            "has no node with the free CPUs an actor asks for (see `ray status`)"
        )

    # ------------------------------------------------------------------ Executor API
    def isolation(self) -> Isolation:
        """What every node's pool achieved (a mechanism counts only if all nodes have it)."""
        isos = [i.isolation for i in self.nodes()]
        if all(iso == isos[0] for iso in isos):
            return isos[0]
        flags = {  # nodes differ: the weakest of each mechanism, and say so
            name: all(getattr(iso, name) for iso in isos)
            for name, field in Isolation.model_fields.items()
            if field.annotation is bool
        }
        modes = sorted({iso.mode for iso in isos})
        return Isolation(
            **flags,
            mode="none" if "none" in modes else modes[0],
            landlock_abi=min(iso.landlock_abi for iso in isos),
            tmpfs_budget_mb=max(iso.tmpfs_budget_mb for iso in isos),
            cause="nodes differ: " + "; ".join(f"{iso.mode}: {iso.cause}" for iso in isos),
        )

    def run(self, job: Job) -> ExecutionResult:
        for result in self.map_jobs([job]):
            return result
        raise SandboxError("the Ray executor returned no result")  # pragma: no cover

    def map_jobs(
        self,
        jobs: Iterable[Job],
        progress: Callable[[int, ExecutionResult], None] | None = None,
    ) -> Iterator[ExecutionResult]:
        """Results of `jobs` in job order, streamed; jobs are read only as room frees up.

        At most a few batches per actor are in flight and a bounded number of jobs is read
        ahead of the oldest unfinished one, so the driver's memory does not grow with the
        number of jobs. `progress(index, result)` is called as each job's result arrives.
        """
        if self._closed:
            raise SandboxError("the Ray executor is closed")
        run = _Run()
        source = enumerate(jobs)
        nxt = 0
        idle_since = time.monotonic()
        try:
            while True:
                self._dispatch(run, source, nxt)
                while nxt in run.results:
                    result = run.results.pop(nxt)
                    if isinstance(result, _Failure):
                        raise _raise(nxt, result)
                    yield result
                    nxt += 1
                if run.exhausted and not run.inflight and not run.retry:
                    return
                with self._lock:
                    alive = [a for a in self._actors if not a.dead]
                starting = [a for a in alive if a.info is None]
                if run.inflight or len(starting) < len(alive):
                    idle_since = time.monotonic()  # something runs, or could
                elif not alive:
                    raise SandboxError("no Ray sandbox actor is alive")
                elif time.monotonic() - idle_since > self._start_timeout_s:
                    raise SandboxError(self._stuck_message())
                waits = list(run.inflight) + [a.started for a in starting]
                if not waits:  # every actor is full with other callers' jobs
                    time.sleep(0.005)
                    continue
                done, _ = self._ray.wait(waits, num_returns=1, timeout=1.0)
                for ref in done:
                    batch = run.inflight.pop(ref, None)
                    if batch is not None:
                        self._collect(run, ref, batch, progress)
                for a in starting:
                    if a.started in done:
                        self._on_started(a)
        finally:
            with self._lock:
                for batch in run.inflight.values():  # abandoned (an error or an early stop)
                    batch.actor.busy -= len(batch.indices)
                    if batch.solo:
                        batch.actor.suspect = False

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, run: _Run, source: Iterator[tuple[int, Job]], nxt: int) -> None:
        """Send batches to actors with room: re-runs first (alone), then fresh jobs."""
        while True:
            with self._lock:
                actor = self._pick(alone=bool(run.retry))
                if actor is None:
                    return
                if run.retry:
                    indices, solo = [run.retry.popleft()], True
                    actor.suspect = True
                else:
                    cap = sum(_DEPTH * self._batch(a) for a in self._actors if not a.dead)
                    if run.exhausted or run.read - nxt >= _WINDOW * cap:
                        return
                    size = min(self._batch(actor), _DEPTH * self._batch(actor) - actor.busy)
                    fresh = list(islice(source, size))
                    run.exhausted = len(fresh) < size
                    if not fresh:
                        return
                    for i, job in fresh:
                        run.jobs[i] = job
                    run.read += len(fresh)
                    indices, solo = [i for i, _ in fresh], False
                actor.busy += len(indices)
            ref = actor.handle.run_batch.remote([run.jobs[i] for i in indices])
            run.inflight[ref] = _Batch(actor, indices, solo)

    def _collect(
        self,
        run: _Run,
        ref: Any,
        batch: _Batch,
        progress: Callable[[int, ExecutionResult], None] | None,
    ) -> None:
        with self._lock:
            batch.actor.busy -= len(batch.indices)
            if batch.solo:
                batch.actor.suspect = False
        try:
            outcomes = self._ray.get(ref)
        except _lost_errors(self._ray) as e:
            for i in batch.indices:
                if batch.solo:
                    run.crashes[i] += 1
                    if run.crashes[i] >= self._max_job_crashes:
                        raise SandboxError(
                            _poison_message(i, run.jobs[i], run.crashes[i], e)
                        ) from e
                run.retry.append(i)
            self._replace(batch.actor, e)
            return
        except self._ray.exceptions.RayError as e:
            raise SandboxError(f"the Ray sandbox actor failed a batch: {e}") from e
        for i, outcome in zip(batch.indices, outcomes):
            del run.jobs[i]
            run.results[i] = outcome
            if progress is not None and not isinstance(outcome, _Failure):
                progress(i, outcome)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            actors, self._actors = self._actors, []
        for a in actors:
            try:
                self._ray.kill(a.handle)
            except Exception:  # the cluster may already be gone
                pass
        _disconnect(self._ray)

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _raise(index: int, failure: _Failure) -> Exception:
    """The exception a job's failure on an actor stands for: the caller's error (bad tests)
    as the local pool raises it, anything else as a SandboxError naming the job."""
    if failure.kind == "TestsError":
        return TestsError(failure.message)
    if failure.kind == "ValueError":
        return ValueError(failure.message)
    if failure.kind == "SandboxError":
        return SandboxError(f"job {index}: {failure.message}")
    return SandboxError(f"job {index}: {failure.kind}: {failure.message}")


def _poison_message(index: int, job: Job, crashes: int, error: BaseException) -> str:
    first = next((line for line in job.program.splitlines() if line.strip()), "")
    return (
        f"job {index} killed its Ray sandbox actor {crashes + 1} times (each time it ran); "
        f"its program begins {first[:80]!r}; last error: {str(error).splitlines()[0][:200]}"
    )
