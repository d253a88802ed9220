"""Fixtures of the integration tests: the embedded sample built once, a served sandbox."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from appsplus.dataset import load

APPSPLUS = [sys.executable, "-c", "from appsplus.cli.app import main; main()"]


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory) -> Path:
    """The embedded sample built by `appsplus build` (real sandbox, 2 workers)."""
    out = tmp_path_factory.mktemp("sample") / "apps-plus-sample"
    command = [*APPSPLUS, "build", "--source", "sample"]
    command += ["--out", str(out), "--workers", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def sample_records(sample_dataset) -> list[dict]:
    """Every record of the sample (train then test), as rows."""
    ds = load(sample_dataset)
    return [row for split in ds for row in ds[split]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A running `appsplus serve` subprocess."""

    proc: subprocess.Popen
    url: str
    token: str
    log: Any

    def output(self) -> bytes:
        """What the server printed so far."""
        self.log.seek(0)
        return self.log.read()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def sandbox_workers(self) -> list[int]:
        """Pids of the sandbox worker launchers of the server process."""
        pids = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    cmdline = f.read()
            except (OSError, ValueError, IndexError):
                continue
            if ppid == self.proc.pid and b"_sandbox.py" in cmdline:
                pids.append(int(name))
        return pids


def start_server(*args: str, token: str | None = "test-token") -> Served:
    """Start `appsplus serve` on a free loopback port and wait for /health."""
    import requests

    port = free_port()
    env = {**os.environ, "APPSPLUS_TEST_TOKEN": token or ""}
    command = [*APPSPLUS, "serve", "--port", str(port), *args]
    if token:
        command += ["--token-env", "APPSPLUS_TEST_TOKEN"]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (read by Served.output; a pipe could fill up)
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError(f"server exited: {log.read().decode()[-2000:]}")
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return Served(proc, url, token or "", log)
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not become healthy in 60 s")


def stop_server(served: Served) -> int:
    """SIGTERM, then wait (graceful shutdown); returns the exit code."""
    served.proc.send_signal(signal.SIGTERM)
    try:
        return served.proc.wait(timeout=30)
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
            served.proc.wait()


@pytest.fixture(scope="module")
def served():
    """`appsplus serve` with 2 workers and a small queue, on a free loopback port."""
    pytest.importorskip("fastapi", reason="fastapi is not installed (extra `serve`)")
    pytest.importorskip("uvicorn", reason="uvicorn is not installed (extra `serve`)")
    pytest.importorskip("requests")
    s = start_server("--workers", "2", "--max-pending", "8", "--max-body-mb", "1")
    yield s
    stop_server(s)


@pytest.fixture(scope="module")
def open_served():
    """`appsplus serve` without a token (clients that send no auth header), 1 worker."""
    pytest.importorskip("fastapi", reason="fastapi is not installed (extra `serve`)")
    pytest.importorskip("uvicorn", reason="uvicorn is not installed (extra `serve`)")
    pytest.importorskip("requests")
    s = start_server("--workers", "1", token=None)
    yield s
    stop_server(s)
