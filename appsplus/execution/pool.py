"""Parent side of the executor: a pool of small warm sandbox workers, and the judge.

The driver process never forks for a program: it talks to workers started as
``python -S -s -B -P -c BOOTSTRAP _sandbox.py`` (about 12 MB each), which fork one child
per program.
Expected outputs never leave this process; the workers report what programs printed or
returned and this module turns that into verdicts with the one comparator.
"""

from __future__ import annotations

import atexit
import compileall
import json
import logging
import os
import select
import shutil
import signal
import site
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Empty, SimpleQueue

from pydantic import BaseModel, ConfigDict, Field

from appsplus.execution.compare import judge_rules, stdout_matches, values_match
from appsplus.execution.models import (
    CallTest,
    ExecutionResult,
    Isolation,
    Limits,
    SandboxError,
    StdioTest,
    Test,
    TestResult,
    TestsError,
    Verdict,
)
from appsplus.execution.policy import check_isolation

log = logging.getLogger(__name__)

SANDBOX_SCRIPT = Path(__file__).with_name("_sandbox.py")
EXECUTOR_VERSION = "2"  # 2: rootless isolation, shared 64 MB tmpfs, BOM programs run
PREVIEW_CHARS = 2000
_STARTUP_TIMEOUT_S = 30.0
# No site hooks (slow, and they run user code); -P (3.11+) keeps the script's folder off
# sys.path. Not -I/-E: PYTHONHASHSEED=0 must reach the worker for reproducible runs.
_FLAGS = ["-S", "-s", "-B"] + (["-P"] if sys.version_info >= (3, 11) else [])


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: what Slurm, taskset or a container
    grants), not all of the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


# Runs _sandbox.py as __main__ from its cached bytecode (written by `_cache_bytecode`).
_BOOTSTRAP = (
    "import sys, __main__\n"
    "sys.path[:] = [p for p in sys.path if p]\n"  # Python 3.10 (no -P) puts the cwd first
    "__main__.__file__ = path = sys.argv.pop(1)\n"
    "try:\n"
    "    from _frozen_importlib_external import SourceFileLoader\n"
    "    code = SourceFileLoader('__main__', path).get_code('__main__')\n"
    "except ImportError:\n"
    "    code = compile(open(path, encoding='utf-8').read(), path, 'exec')\n"
    "del sys, path\n"
    "exec(code, __main__.__dict__)\n"
)
_SANDBOX_MODULES = ("_sandbox.py", "_confine.py", "preamble.py")
_bytecode_checked = False
_bytecode_lock = threading.Lock()


def _cache_bytecode() -> None:
    """Write the worker's modules' bytecode cache if it is missing or stale (pip writes it
    at install; an editable checkout may not have it). A worker that compiles its ~1,700
    lines itself keeps ~3.5 MB of freed parser memory (10 MB instead of 7). Where the
    package folder is read-only the workers compile them, with that memory, the same code."""
    global _bytecode_checked
    with _bytecode_lock:  # workers started in parallel wait for it
        if not _bytecode_checked:
            for name in _SANDBOX_MODULES:  # skips a file whose cache is current; never raises
                if not compileall.compile_file(SANDBOX_SCRIPT.with_name(name), quiet=2, optimize=0):
                    log.debug("no bytecode cache for %s", name)
            _bytecode_checked = True


class Job(BaseModel):
    """One program and its tests: the unit of work of `run_many`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    program: str
    tests: list[StdioTest | CallTest]
    limits: Limits = Limits()
    stop_on_first_failure: bool = False
    trace_lines: bool = False
    full_output: bool = False  # all of stdout/stderr (up to output_bytes), not a preview
    hash_seed: int = Field(
        0, ge=0, le=4294967295, description="PYTHONHASHSEED of the worker that runs the program"
    )


def _site_dirs() -> list[str]:
    dirs = []
    try:
        dirs += site.getsitepackages()
    except AttributeError:  # virtualenv's old site.py
        pass
    user = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user:
        dirs.append(user)
    return [d for d in dirs if os.path.isdir(d)]


class Worker:
    """One sandbox worker process and the pipes to it. Not thread-safe: one job at a time."""

    def __init__(self, allow_unisolated: bool | None = None, hash_seed: int = 0) -> None:
        _cache_bytecode()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the worker)
        self.hash_seed = hash_seed
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONHASHSEED": str(hash_seed),
            "LANG": "C.UTF-8",
            "HOME": os.path.expanduser("~"),  # hidden from programs (rootless mode)
        }
        if os.environ.get("APPSPLUS_SANDBOX_OFF"):  # benchmarks only: mechanisms to skip
            env["APPSPLUS_SANDBOX_OFF"] = os.environ["APPSPLUS_SANDBOX_OFF"]
        site_dirs = json.dumps(_site_dirs())
        self.proc = subprocess.Popen(
            [sys.executable, *_FLAGS, "-c", _BOOTSTRAP, str(SANDBOX_SCRIPT), site_dirs],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
        self._in = self.proc.stdout.fileno()
        self._out = self.proc.stdin.fileno()
        hello = self._read(time.monotonic() + _STARTUP_TIMEOUT_S)
        if hello.get("type") != "ready":
            raise SandboxError(f"sandbox worker sent {hello!r} instead of ready")
        self.isolation = Isolation(**hello["isolation"])
        self._work_root = hello.get("work_root")  # a folder in the shared temp dir, or None
        try:
            check_isolation(self.isolation, allow_unisolated)
        except SandboxError:
            self.kill()
            self._stderr.close()
            raise

    # ---------------------------------------------------------------- framing
    def _read_exact(self, n: int, deadline: float) -> bytes:
        chunks = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise SandboxError("sandbox worker did not answer in time" + self._diagnostics())
            data = os.read(self._in, min(n, 1 << 20))
            if not data:
                raise SandboxError("sandbox worker died" + self._diagnostics())
            chunks.append(data)
            n -= len(data)
        return b"".join(chunks)

    def _read(self, deadline: float) -> dict:
        (size,) = struct.unpack(">I", self._read_exact(4, deadline))
        return json.loads(self._read_exact(size, deadline))

    def _write(self, *frames: dict) -> None:
        data = b"".join(
            struct.pack(">I", len(part)) + part for part in (json.dumps(f).encode() for f in frames)
        )
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError) as e:
            raise SandboxError("sandbox worker is gone" + self._diagnostics()) from e

    def _diagnostics(self) -> str:
        try:
            self._stderr.seek(0)
            text = self._stderr.read()[-2000:].decode(errors="replace").strip()
        except (OSError, ValueError):
            text = ""
        code = self.proc.poll()
        return (f" (exit status {code})" if code is not None else "") + (
            f":\n{text}" if text else ""
        )

    # ---------------------------------------------------------------- judge
    def run(self, job: Job, spare: bool = True) -> ExecutionResult:
        """Run one job. `spare`: fork the next job's child while this one runs (worth it
        only with a core to spare: on a busy machine it costs more than it hides)."""
        tests = job.tests
        n = len(tests)
        if n == 0:
            return ExecutionResult(tests=[], isolation=self.isolation)
        kinds = {t.kind for t in tests}
        if len(kinds) != 1:
            raise TestsError("a program's tests must be all stdio or all call-based")
        kind = kinds.pop()
        if kind == "call" and len({t.fn_name for t in tests}) != 1:
            raise TestsError("call-based tests of one program must name the same function")
        if len({t.rules for t in tests}) != 1:
            raise TestsError("the tests of one program must name the same judge rules")
        rules = judge_rules(tests[0].rules)
        inputs = (
            [t.input for t in tests] if kind == "stdio" else [json.dumps(t.args) for t in tests]
        )
        limits = job.limits
        wire_limits = limits.model_dump()
        # two frames: a header for the worker, the body for the child that runs the program
        self._write(
            {
                "n": n,
                "kind": kind,
                "limits": wire_limits,
                "gate": job.stop_on_first_failure,
                "spare": spare,
                "preamble": rules.preamble,
            },
            {
                "program": job.program,
                "kind": kind,
                "fn_name": tests[0].fn_name if kind == "call" else None,
                "inputs": inputs,
                "limits": wire_limits,
                "gate": job.stop_on_first_failure,
                "trace": job.trace_lines,
                "preamble": rules.preamble,
                "strict_values": rules.values == "equal",
                "shared_calls": rules.calls == "shared",
                "ignore_exit_status": rules.exits == "ignored",
            },
        )
        deadline = time.monotonic() + n * (limits.time_s + 2.0) + 10.0
        results: list[TestResult | None] = [None] * n
        lines: set[int] = set()
        compile_error = None
        while True:
            frame = self._read(deadline)
            kind_ = frame.get("type")
            if kind_ == "compile_error":
                compile_error = frame["error"]
                continue
            if kind_ == "done":  # without a gate, the tests come batched with it
                for obs in frame.get("tests") or ():
                    results[obs["i"]] = _judge(tests[obs["i"]], obs, job.full_output)
                    lines.update(obs.get("lines") or ())
                break
            if kind_ != "test":
                raise SandboxError(f"unexpected frame from sandbox worker: {kind_!r}")
            i = frame["i"]
            results[i] = _judge(tests[i], frame, job.full_output)
            lines.update(frame.get("lines") or ())
            if job.stop_on_first_failure and i < n - 1:
                self._write({"continue": results[i].verdict is Verdict.PASSED})
        if compile_error is not None:
            results = [
                TestResult(verdict=Verdict.COMPILE_ERROR, error=compile_error) for _ in tests
            ]
        else:
            results = [r or TestResult(verdict=Verdict.SKIPPED) for r in results]
        return ExecutionResult(
            tests=results,
            compile_error=compile_error,
            executed_lines=frozenset(lines) if job.trace_lines and compile_error is None else None,
            isolation=self.isolation,
        )

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            self.kill()
        self._stderr.close()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("sandbox worker %d did not exit after SIGKILL", self.proc.pid)
        # killed, its launcher could not remove the work folders it kept in a shared temp dir
        root = getattr(self, "_work_root", None)
        if root and os.path.basename(root).startswith("appsplus-worker-"):
            shutil.rmtree(root, ignore_errors=True)


_NOT_JSON = object()


def _judge(test: Test, obs: dict, full_output: bool = False) -> TestResult:
    """Turn a worker's observation of one test into a verdict (stdout/stderr previews unless full)."""
    status = obs["status"]
    output = obs.get("output")
    error = obs.get("error")
    verdict = Verdict.RUNTIME_ERROR
    rules = judge_rules(test.rules)
    if status == "timeout":
        verdict = Verdict.TIMEOUT
    elif status == "output_limit":
        verdict = Verdict.OUTPUT_LIMIT_EXCEEDED
    elif status == "raised":
        verdict = (
            Verdict.MEMORY_EXCEEDED
            if obs.get("exc_type") == "MemoryError"
            else Verdict.RUNTIME_ERROR
        )
    elif status == "unserializable":
        verdict = Verdict.WRONG_ANSWER
    elif status in ("returned", "exited") and error is None:
        if isinstance(test, StdioTest):
            ok = stdout_matches(output or "", test.output, rules)
        elif output is None:
            ok = False  # the program ended (os._exit) before returning a value
            error = "the program exited before returning a value"
        else:
            try:
                value = json.loads(output)
            except ValueError:
                value = _NOT_JSON
            ok = values_match(value, test.expected, rules) or (
                test.apps_list_quirk
                and isinstance(test.expected, list)
                and len(test.expected) == 1
                and values_match(value, test.expected[0], rules)
            )
        verdict = Verdict.PASSED if ok else Verdict.WRONG_ANSWER
    return TestResult(
        verdict=verdict,
        duration_s=round(float(obs.get("duration") or 0.0), 6),
        output=(output or "")[: None if full_output else PREVIEW_CHARS],
        stderr=(obs.get("stderr") or "")[: None if full_output else PREVIEW_CHARS],
        error=error,
    )


class WorkerPool:
    """A fixed number of warm workers shared by threads; broken workers are replaced."""

    def __init__(self, size: int | None = None, allow_unisolated: bool | None = None) -> None:
        """`allow_unisolated`: run untrusted code where full isolation is impossible (None:
        the APPSPLUS_ALLOW_UNISOLATED environment variable decides; see `policy`)."""
        self.size = max(1, size or usable_cpus())
        self.allow_unisolated = allow_unisolated
        self._idle: dict[int, SimpleQueue[Worker]] = {0: SimpleQueue()}  # by hash seed
        self._slots = threading.BoundedSemaphore(self.size)
        self._all: list[Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._busy = 0  # jobs running now
        self._cpus = usable_cpus()

    def run(self, job: Job) -> ExecutionResult:
        with self._slots:
            worker = self._take(job.hash_seed)
            with self._lock:
                self._busy += 1
                spare = self._busy < self._cpus  # a core is idle: fork ahead to hide the latency
            try:
                result = worker.run(job, spare=spare)
            except BaseException:  # the worker's state is unknown: never reuse it
                worker.kill()
                with self._lock:
                    self._all.remove(worker)
                raise
            finally:
                with self._lock:
                    self._busy -= 1
            self._idle[worker.hash_seed].put(worker)
            return result

    def _take(self, hash_seed: int = 0) -> Worker:
        """An idle worker of that hash seed, or a new one (the caller holds a slot). A pool
        stays within `size` workers: an idle worker of another seed makes room if needed."""
        with self._lock:
            idle = self._idle.setdefault(hash_seed, SimpleQueue())
        try:
            return idle.get_nowait()
        except Empty:
            pass
        with self._lock:
            full = len(self._all) >= self.size
        if full:  # retire one idle worker of another seed (rare: quality reruns)
            for seed, queue in list(self._idle.items()):
                if seed == hash_seed:
                    continue
                try:
                    old = queue.get_nowait()
                except Empty:
                    continue
                with self._lock:
                    self._all.remove(old)
                old.close()
                break
        worker = Worker(self.allow_unisolated, hash_seed)
        with self._lock:
            self._all.append(worker)
        return worker

    def isolation(self) -> Isolation:
        """The isolation the workers of this pool achieved (starts one worker if needed)."""
        with self._slots:
            worker = self._take()
            self._idle[worker.hash_seed].put(worker)
            return worker.isolation

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
            self._closed = True
        for w in workers:
            w.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_default_pool: WorkerPool | None = None
_default_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """The process-wide pool used by `run_tests` (one worker per CPU, started lazily)."""
    global _default_pool
    with _default_lock:
        if _default_pool is None or _default_pool._closed:
            _default_pool = WorkerPool()
            atexit.register(_default_pool.close)
        return _default_pool


def run_tests(
    program: str,
    tests: Sequence[Test],
    limits: Limits | None = None,
    stop_on_first_failure: bool = False,
    trace_lines: bool = False,
    pool: WorkerPool | None = None,
) -> ExecutionResult:
    """Run `program` on `tests` in the sandbox: one verdict per test, in order."""
    job = Job(
        program=program,
        tests=list(tests),
        limits=limits or Limits(),
        stop_on_first_failure=stop_on_first_failure,
        trace_lines=trace_lines,
    )
    return (pool or default_pool()).run(job)


def run_many(
    jobs: Iterable[Job],
    workers: int | None = None,
    progress: Callable[[int, ExecutionResult], None] | None = None,
    pool: WorkerPool | None = None,
) -> list[ExecutionResult]:
    """Run jobs on `workers` sandbox workers; results in job order, identical to serial runs.

    `progress(index, result)` is called from worker threads as each job finishes.
    A pool with its own batched map (`map_jobs`, e.g. the Ray executor) is handed the jobs
    as they come (read lazily, a bounded number in flight).
    """
    mapper = getattr(pool, "map_jobs", None)
    if mapper is not None:
        return list(mapper(jobs, progress))
    jobs = list(jobs)
    own = pool is None
    pool = pool or WorkerPool(workers)
    try:
        with ThreadPoolExecutor(max_workers=pool.size) as ex:

            def one(i: int) -> ExecutionResult:
                result = pool.run(jobs[i])
                if progress is not None:
                    progress(i, result)
                return result

            return list(ex.map(one, range(len(jobs))))
    finally:
        if own:
            pool.close()
