"""Fixtures of the bench tests: a private cache and a fake OpenAI server (the tiny model is
in tests/conftest.py)."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

_CACHE: Path | None = None


def use_private_cache() -> Path:
    """Point APPSPLUS_CACHE at one temp folder for this test process (the sample is built once)."""
    global _CACHE
    if _CACHE is None:
        _CACHE = Path(tempfile.mkdtemp(prefix="appsplus-bench-test-cache-"))
        atexit.register(shutil.rmtree, _CACHE, True)
    os.environ["APPSPLUS_CACHE"] = str(_CACHE)
    return _CACHE


@pytest.fixture(scope="session")
def bench_cache() -> Path:
    """A private cache folder (the embedded sample is built into it once per session)."""
    return use_private_cache()


@pytest.fixture(scope="session")
def sample_suite(bench_cache):
    """The `sample` suite (the embedded sample built as APPS+)."""
    from appsplus.bench.suites import load_suite

    return load_suite("sample")


class FakeOpenAI:
    """An OpenAI-compatible server on 127.0.0.1 answering from `reply(payload) -> [texts]`.

    Records every request payload; `fail_next` makes the next N requests answer HTTP 503.
    Stops itself when the test ends (the fixture shuts it down; a daemon thread either way).
    """

    def __init__(self, reply) -> None:
        self.reply = reply
        self.requests: list[tuple[str, dict]] = []
        self.fail_next = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length))
                server.requests.append((self.path, payload))
                if server.fail_next > 0:
                    server.fail_next -= 1
                    self._send(503, {"error": "busy"})
                    return
                if self.path.endswith("/completions") and "chat" not in self.path:
                    texts = server.reply(payload)
                    choices = [
                        {"index": i, "text": t, "finish_reason": "stop"}
                        for i, t in enumerate(texts)
                    ]
                elif self.path.endswith("/chat/completions"):
                    texts = server.reply(payload)
                    choices = [
                        {
                            "index": i,
                            "message": {"role": "assistant", "content": t},
                            "finish_reason": "stop",
                        }
                        for i, t in enumerate(texts)
                    ]
                else:
                    self._send(404, {"error": "not found"})
                    return
                self._send(200, {"object": "text_completion", "choices": choices})

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fake_openai():
    """Factory: `server = fake_openai(reply)`; every server is shut down after the test."""
    servers = []

    def start(reply) -> FakeOpenAI:
        server = FakeOpenAI(reply)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
