"""`appsplus serve`: the executor as an HTTP service (FastAPI on uvicorn; extra `serve`).

    app = create_app(ServeConfig(workers=8, token="s3cret"))
    serve(ServeConfig(host="127.0.0.1", port=8080))            # blocks; SIGTERM drains

Endpoints (JSON; with a token every endpoint but /health needs `Authorization: Bearer T`):

* `GET /health` -> `{status, workers, pending, max_pending}`.
* `POST /v1/run` -> `{results: [...]}`: the native batch endpoint. Each job is a program
  and tests (APPS `input_output` object or typed tests), judged as `run_tests` judges
  them: one verdict per test, `passed`, `compile_error`, per-test results.
* `POST /run_code`: SandboxFusion's schema for `language: "python"` (`code`, `stdin`,
  `run_timeout`, `memory_limit_MB`, ...) -> `{status: Success|Failed|SandboxError,
  message, compile_result: null, run_result: {status: Finished|TimeLimitExceeded|Error,
  execution_time, return_code, stdout, stderr}, files: {}}`, so SandboxFusion clients
  (verl's `sandbox_fusion` reward, the `sandbox-fusion` package) work unchanged. Programs
  run under the executor's APPS stdio conventions (wrapped in a function); a runtime error
  reports return code 1, a success 0.

Limits: at most `max_pending` jobs admitted at once (more: 429 with Retry-After), request
bodies over `max_body_bytes` get 413, malformed JSON 400, schema errors 422, a wrong token
401, a language other than Python 400. A sandbox failure is retried once, then answered
503 (`/v1/run`) or `status: SandboxError` (`/run_code`): never a verdict. On SIGTERM or
Ctrl-C uvicorn stops accepting connections and in-flight requests finish (up to
`graceful_timeout_s`) before the workers close.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
        None, ge=1, description="jobs admitted at once; more get 429 [default: 8 x workers]"
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


def job_result(result: ExecutionResult) -> dict[str, Any]:
    """The JSON of one judged job: verdicts, passed, compile error and per-test results."""
    return {
        "passed": result.passed,
        "verdicts": [v.value for v in result.verdicts],
        "compile_error": result.compile_error,
        "tests": [t.model_dump(mode="json") for t in result.tests],
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


class _BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes (declared, or counted while buffering)."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_big = _error(413, f"request body over {self.limit} bytes")
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
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
    """The executor behind the endpoints: admission control, threads, retry of sandbox failures."""

    def __init__(self, config: ServeConfig, executor: Executor | None = None) -> None:
        self.config = config
        self.executor = executor or open_executor(config.executor, config.workers)
        self.max_pending = config.max_pending or 8 * self.executor.size
        self.pending = 0
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(
            max_workers=max(4, self.executor.size * 2), thread_name_prefix="appsplus-serve"
        )

    def admit(self, n: int) -> bool:
        with self._lock:
            if self.pending + n > self.max_pending:
                return False
            self.pending += n
            return True

    def release(self, n: int) -> None:
        with self._lock:
            self.pending -= n

    def _run(self, jobs: list[Job]) -> list[ExecutionResult]:
        try:
            return run_many(jobs, pool=self.executor)
        except SandboxError as e:
            log.warning("sandbox failure (%s): retrying %d job(s) once", e, len(jobs))
            return run_many(jobs, pool=self.executor)

    async def run(self, jobs: list[Job]) -> list[ExecutionResult]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._run, jobs)

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
    app.add_middleware(_BodyLimit, limit=config.max_body_bytes)

    @app.middleware("http")
    async def auth(request: Request, call_next):
        if config.token and request.url.path != "/health":
            given = request.headers.get("authorization", "")
            expected = f"Bearer {config.token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return _error(401, "missing or wrong bearer token")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "request body is not valid JSON")
        first = errors[0] if errors else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _error(422, f"{where or 'body'}: {first.get('msg', 'invalid request')}")

    async def admitted(n: int, jobs: list[Job]):
        service = state["service"]
        if not service.admit(n):
            return None
        try:
            return await service.run(jobs)
        finally:
            service.release(n)

    def busy():
        from fastapi.responses import JSONResponse

        return JSONResponse(
            {"error": "queue full: retry later"}, status_code=429, headers={"Retry-After": "1"}
        )

    @app.get("/health")
    async def health():
        service = state["service"]
        return {
            "status": "ok",
            "workers": service.executor.size,
            "pending": service.pending,
            "max_pending": service.max_pending,
        }

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
        try:
            results = await admitted(len(jobs), jobs)
        except SandboxError as e:
            return _error(503, f"sandbox failure: {e}")
        except ValueError as e:  # e.g. mixed stdio and call-based tests
            return _error(422, str(e))
        if results is None:
            return busy()
        return {"results": [job_result(r) for r in results]}

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
        try:
            results = await admitted(1, [job])
        except SandboxError as e:
            return {"status": "SandboxError", "message": str(e), "run_result": None, "files": {}}
        if results is None:
            return busy()
        return run_code_response(results[0])

    return app


def serve(config: ServeConfig) -> None:
    """Run the service on uvicorn until SIGTERM/SIGINT (in-flight requests finish first)."""
    import uvicorn

    app = create_app(config)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level="info",
        timeout_graceful_shutdown=int(config.graceful_timeout_s) or None,
        access_log=False,
    )
