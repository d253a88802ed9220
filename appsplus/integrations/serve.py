"""`appsplus serve`: the executor as an HTTP service (FastAPI on uvicorn; extra `serve`).

    app = create_app(ServeConfig(workers=8, token="s3cret"))
    serve(ServeConfig(host="127.0.0.1", port=8080))            # blocks; SIGTERM drains

Endpoints (JSON; with a token every endpoint but /health needs `Authorization: Bearer T`):

* `GET /health` -> `{status, workers, pending, running, max_pending, queued_bytes,
  max_queue_bytes, max_wait_s, shed}`: the queue's depth and its bounds.
* `POST /v1/run` -> `{results: [...]}`: the native batch endpoint. Each job is a program
  and tests (APPS `input_output` object or typed tests), judged as `run_tests` judges
  them: one verdict per test, `passed`, `compile_error`, per-test results, and
  `failure`: the first failing test's index, verdict, input, expected and actual output
  and error, cut as `bench show` cuts them (null when every test passed).
* `POST /run_code`: SandboxFusion's schema for `language: "python"` (`code`, `stdin`,
  `run_timeout`, `memory_limit_MB`, ...) -> `{status: Success|Failed|SandboxError,
  message, compile_result: null, run_result: {status: Finished|TimeLimitExceeded|Error,
  execution_time, return_code, stdout, stderr}, files: {}}`, so SandboxFusion clients
  (verl's `sandbox_fusion` reward, the `sandbox-fusion` package) work unchanged. Programs
  run under the executor's APPS stdio conventions (wrapped in a function); a runtime error
  reports return code 1, a success 0.

Queueing (what SandboxFusion clients rely on): SandboxFusion's own server starts every
request at once and never refuses one, and its clients assume so: verl sends up to 64
requests at a time (`sandbox_fusion.max_concurrent`) and retries only a 504, scoring any
other failure -1; the `sandbox-fusion` client retries any non-200 (5 attempts, exponential
backoff). So requests queue here, first come first served, up to `max_pending` jobs
(default 4096) and `max_queue_bytes` of request bodies (default 512 MiB), the bound on the
memory the queue holds. Past either bound, and for a `/run_code` request that could not
start within `max_wait_s` (default 15 s) or its `compile_timeout` + 5 s, whichever is
shorter (Python has no compile step; verl gives up on a request after `compile_timeout +
run_timeout + 10` s), the answer is 504 with `Retry-After`: the one status every known
client retries. `/v1/run` sheds with 429 and `Retry-After`.

Limits: request bodies over `max_body_bytes` get 413, malformed JSON 400, schema errors
422, a wrong token 401, a language other than Python 400. A sandbox failure is retried
once, then answered 503 (`/v1/run`) or `status: SandboxError` (`/run_code`): never a
verdict. `serve` binds its port before anything else starts (a port in use is a
`BindError`, no worker started). On SIGTERM or Ctrl-C uvicorn stops accepting
connections and in-flight requests finish (up to `graceful_timeout_s`) before the workers
close.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import hmac
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appsplus.errors import AppsplusError
from appsplus.execution import (
    ExecutionResult,
    Executor,
    Job,
    Limits,
    SandboxError,
    StdioTest,
    Verdict,
    open_executor,
    run_many,
)
from appsplus.integrations.scoring import parse_tests

log = logging.getLogger(__name__)

DEFAULT_MAX_PENDING = 4096
_body_bytes: contextvars.ContextVar[int] = contextvars.ContextVar("body_bytes", default=0)


class BindError(AppsplusError):
    """`serve` cannot listen where it was told to (the port is in use, not ours to bind...)."""

    exit_status = 2  # a setting that cannot work, as click exits for a bad option


class ServeConfig(BaseModel):
    """How the service runs."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    workers: int | None = Field(None, ge=1, description="sandbox workers [default: CPUs]")
    executor: str = "local"
    token: str | None = Field(
        None, description="bearer token required on every endpoint but /health"
    )
    max_pending: int | None = Field(
        None,
        ge=1,
        description=f"jobs queued or running at once; more are shed [default: {DEFAULT_MAX_PENDING}]",
    )
    max_queue_bytes: int = Field(
        512 * 2**20, ge=1024, description="request bytes queued or running at once"
    )
    max_wait_s: float = Field(
        15.0, gt=0, description="a /run_code request not started by then gets 504"
    )
    max_body_bytes: int = Field(16 * 2**20, ge=1024)
    max_jobs_per_request: int = Field(1024, ge=1)
    max_time_limit_s: float = Field(60.0, gt=0)
    graceful_timeout_s: float = Field(30.0, ge=0)


# ------------------------------------------------------------------ request/response models
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunJob(_Strict):
    """One program and its tests (APPS input_output object, or a list of typed tests)."""

    program: str
    tests: dict[str, Any] | list[dict[str, Any]]
    time_limit_s: float = Field(4.0, gt=0)
    memory_mb: int = Field(2048, ge=64)
    stop_on_first_failure: bool = False


class RunRequest(_Strict):
    jobs: list[RunJob] = Field(min_length=1)


class RunCodeRequest(_Strict):
    """SandboxFusion's `/run_code` request (only what Python programs use is honoured)."""

    code: str
    language: str
    stdin: str | None = None
    compile_timeout: float = 10
    run_timeout: float = Field(10, gt=0)
    memory_limit_MB: int = Field(-1)  # noqa: N815 (SandboxFusion's field name)
    files: dict[str, str | None] = Field(default_factory=dict)
    fetch_files: list[str] = Field(default_factory=list)


PYTHON = frozenset({"python", "python3"})


def job_result(result: ExecutionResult, job: Job | None = None) -> dict[str, Any]:
    """The JSON of one judged job: verdicts, passed, compile error, per-test results and
    (given the job) its first failure."""
    from appsplus.execution.record import first_failure

    return {
        "passed": result.passed,
        "verdicts": [v.value for v in result.verdicts],
        "compile_error": result.compile_error,
        "tests": [t.model_dump(mode="json") for t in result.tests],
        "failure": first_failure(job.tests if job is not None else None, result),
    }


def run_code_response(result: ExecutionResult) -> dict[str, Any]:
    """SandboxFusion's `/run_code` response for a one-test stdio run."""
    test = result.tests[0]
    stderr = test.stderr
    if result.compile_error is not None:
        run = {"status": "Finished", "return_code": 1, "stdout": "", "stderr": result.compile_error}
    elif test.verdict is Verdict.TIMEOUT:
        run = {"status": "TimeLimitExceeded", "return_code": None, "stdout": test.output}
        run["stderr"] = stderr
    elif test.verdict is Verdict.OUTPUT_LIMIT_EXCEEDED:
        run = {"status": "Error", "return_code": None, "stdout": test.output, "stderr": stderr}
    elif test.verdict in (Verdict.PASSED, Verdict.WRONG_ANSWER):
        run = {"status": "Finished", "return_code": 0, "stdout": test.output, "stderr": stderr}
    else:  # runtime error, memory exceeded
        if test.error and test.error not in stderr:
            stderr = (stderr + "\n" if stderr else "") + test.error
        run = {"status": "Finished", "return_code": 1, "stdout": test.output, "stderr": stderr}
    run["execution_time"] = test.duration_s
    ok = run["status"] == "Finished" and run["return_code"] == 0
    return {
        "status": "Success" if ok else "Failed",
        "message": "",
        "compile_result": None,
        "run_result": run,
        "executor_pod_name": None,
        "files": {},
    }


def _error(code: int, error: str, **extra: Any):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": error, **extra}, status_code=code)


class _Guard:
    """ASGI middleware: 401 without the bearer token (every path but /health), 413 for a body
    over `limit` bytes (declared, or counted while buffering); the body's size goes into
    `_body_bytes` (the request's context) for the queue's memory bound. Plain ASGI: Starlette's
    `BaseHTTPMiddleware` costs every request a task and a stream."""

    def __init__(self, app, limit: int, token: str | None) -> None:
        self.app = app
        self.limit = limit
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"")
        guarded = self.expected is not None and scope.get("path") != "/health"
        if guarded and not hmac.compare_digest(given, self.expected):
            return await _error(401, "missing or wrong bearer token")(scope, receive, send)
        too_big = _error(413, f"request body over {self.limit} bytes")
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            return await too_big(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:  # buffer the body (at most `limit` bytes), then replay it to the app
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([], message), send)
            size += len(message.get("body", b""))
            if size > self.limit:
                return await too_big(scope, receive, send)
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        _body_bytes.set(size)
        return await self.app(scope, _replay(chunks, None, receive), send)


def _replay(chunks: list[bytes], last: dict | None, receive=None):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            if last is not None:
                return last
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        if receive is None:
            return {"type": "http.disconnect"}
        return await receive()  # after the body: a disconnect, when it comes

    return replay


class Service:
    """The executor behind the endpoints: a bounded first-come-first-served queue, threads,
    one retry of a sandbox failure."""

    def __init__(self, config: ServeConfig, executor: Executor | None = None) -> None:
        self.config = config
        self.executor = executor or open_executor(config.executor, config.workers)
        self.max_pending = config.max_pending or DEFAULT_MAX_PENDING
        self.max_queue_bytes = config.max_queue_bytes
        self.pending = 0  # jobs admitted: queued or running
        self.queued_bytes = 0  # their request bodies
        self.running = 0
        self.shed = 0  # requests answered "retry later" (queue full, or waited too long)
        self._lock = threading.Lock()
        # one thread per worker: what waits, waits in the threads' FIFO queue, where
        # `max_wait_s` is checked when a job's turn comes (not on a worker's slot)
        self._threads = ThreadPoolExecutor(
            max_workers=self.executor.size, thread_name_prefix="appsplus-serve"
        )

    def admit(self, n: int, size: int = 0) -> bool:
        """Take `n` jobs of `size` request bytes into the queue, or count a shed request.
        An empty queue takes any one request (else a batch over the bounds never runs)."""
        with self._lock:
            over = self.pending + n > self.max_pending
            over = over or self.queued_bytes + size > self.max_queue_bytes
            if over and self.pending:
                self.shed += 1
                return False
            self.pending += n
            self.queued_bytes += size
            return True

    def release(self, n: int, size: int = 0) -> None:
        with self._lock:
            self.pending -= n
            self.queued_bytes -= size

    def _execute(self, jobs: list[Job]) -> list[ExecutionResult]:
        if len(jobs) == 1 and not hasattr(self.executor, "map_jobs"):
            return [self.executor.run(jobs[0])]  # no thread pool per request
        return run_many(jobs, pool=self.executor)

    def _run(self, jobs: list[Job], deadline: float | None) -> list[ExecutionResult] | None:
        if deadline is not None and time.monotonic() > deadline:
            with self._lock:
                self.shed += 1
            return None  # waited too long: its client is about to give up
        with self._lock:
            self.running += len(jobs)
        try:
            try:
                return self._execute(jobs)
            except SandboxError as e:
                log.warning("sandbox failure (%s): retrying %d job(s) once", e, len(jobs))
                return self._execute(jobs)
        finally:
            with self._lock:
                self.running -= len(jobs)

    async def run(
        self, jobs: list[Job], size: int = 0, max_wait_s: float | None = None
    ) -> list[ExecutionResult] | None:
        """The jobs' results, or None when shed: the queue is full, or they could not start
        within `max_wait_s`."""
        if not self.admit(len(jobs), size):
            return None
        deadline = None if max_wait_s is None else time.monotonic() + max_wait_s
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, self._run, jobs, deadline)
        finally:
            self.release(len(jobs), size)

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": "ok",
                "workers": self.executor.size,
                "pending": self.pending,
                "running": self.running,
                "max_pending": self.max_pending,
                "queued_bytes": self.queued_bytes,
                "max_queue_bytes": self.max_queue_bytes,
                "max_wait_s": self.config.max_wait_s,
                "shed": self.shed,
            }

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self.executor.close()


def create_app(config: ServeConfig | None = None, executor: Executor | None = None):
    """The FastAPI application of the service (see the module docstring)."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError

    config = config or ServeConfig()
    state: dict[str, Service] = {}

    @asynccontextmanager
    async def lifespan(app):
        state["service"] = Service(config, executor)
        log.info("serving with %d sandbox workers", state["service"].executor.size)
        try:
            yield
        finally:
            state.pop("service").close()

    app = FastAPI(title="appsplus serve", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(_Guard, limit=config.max_body_bytes, token=config.token)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "request body is not valid JSON")
        first = errors[0] if errors else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _error(422, f"{where or 'body'}: {first.get('msg', 'invalid request')}")

    def busy(code: int):
        """Shed: 504 on /run_code (verl retries nothing else), 429 on /v1/run."""
        from fastapi.responses import JSONResponse

        return JSONResponse(
            {"error": "queue full or wait too long: retry later"},
            status_code=code,
            headers={"Retry-After": "1"},
        )

    @app.get("/health")
    async def health():
        return state["service"].health()

    @app.post("/v1/run")
    async def run(body: RunRequest):
        if len(body.jobs) > config.max_jobs_per_request:
            return _error(413, f"more than {config.max_jobs_per_request} jobs in one request")
        jobs = []
        for i, j in enumerate(body.jobs):
            try:
                tests = parse_tests(j.tests)
                limits = Limits(
                    time_s=min(j.time_limit_s, config.max_time_limit_s), memory_mb=j.memory_mb
                )
                jobs.append(
                    Job(
                        program=j.program,
                        tests=tests,
                        limits=limits,
                        stop_on_first_failure=j.stop_on_first_failure,
                    )
                )
            except (ValueError, ValidationError) as e:
                return _error(422, f"jobs.{i}.tests: {str(e).splitlines()[0]}")
        size = _body_bytes.get()
        try:
            results = await state["service"].run(jobs, size)
        except SandboxError as e:
            return _error(503, f"sandbox failure: {e}")
        except ValueError as e:  # e.g. mixed stdio and call-based tests
            return _error(422, str(e))
        if results is None:
            return busy(429)
        return {"results": [job_result(r, j) for r, j in zip(results, jobs, strict=True)]}

    @app.post("/run_code")
    async def run_code(body: RunCodeRequest):
        if body.language not in PYTHON:
            return _error(
                400,
                f"language {body.language!r} is not supported: appsplus serve runs python",
                status="SandboxError",
                message=f"unsupported language {body.language!r}",
            )
        if body.files or body.fetch_files:
            return _error(400, "files and fetch_files are not supported", status="SandboxError")
        memory = body.memory_limit_MB if body.memory_limit_MB > 0 else 2048
        limits = Limits(
            time_s=min(body.run_timeout, config.max_time_limit_s), memory_mb=max(64, memory)
        )
        job = Job(
            program=body.code,
            tests=[StdioTest(input=body.stdin or "", output="")],
            limits=limits,
            full_output=True,
        )
        size = _body_bytes.get()
        max_wait = min(config.max_wait_s, max(body.compile_timeout, 0) + 5)
        try:
            results = await state["service"].run([job], size, max_wait)
        except SandboxError as e:
            return {"status": "SandboxError", "message": str(e), "run_result": None, "files": {}}
        if results is None:
            return busy(504)
        return run_code_response(results[0])

    return app


def bind(config: ServeConfig) -> socket.socket:
    """A listening socket on `config.host:config.port`, made before anything else starts
    (no worker, no executor): a port in use is a one-line `BindError`, not a server that
    starts up and then dies in uvicorn."""
    where = f"{config.host}:{config.port}"
    try:
        infos = socket.getaddrinfo(
            config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as e:
        raise BindError(f"cannot listen on {where}: {e.strerror}") from e
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise BindError(f"cannot listen on {where}: the port is in use") from e
        raise BindError(f"cannot listen on {where}: {e.strerror or e}") from e
    return sock


def serve(config: ServeConfig, sock: socket.socket | None = None) -> None:
    """Run the service on uvicorn until SIGTERM/SIGINT (in-flight requests finish first).
    `sock`: the socket `bind(config)` made (bound here when not given)."""
    import uvicorn

    sock = sock or bind(config)
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=sock.getsockname()[1],
            log_level="info",
            timeout_graceful_shutdown=int(config.graceful_timeout_s) or None,
            access_log=False,
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise SystemExit(3)  # the lifespan failed (uvicorn's exit status for that)
