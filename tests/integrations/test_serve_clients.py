"""`appsplus serve` under the SandboxFusion clients' own load: verl's reward path and the
official `sandbox-fusion` client at their default concurrency, shedding they retry, and a
port in use. Real server subprocesses on free loopback ports, real clients, bounded loops."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import start_server, stop_server
from testkit import require

DOUBLE = "print(int(input()) * 2)\n"
SLEEP = "import time\ntime.sleep({s})\nprint('slept')\n"

# What a program does with x, as verl's check_correctness reports each test case.
KINDS = {
    "right": ("print(int(input()) * 2)", lambda x: True),
    "wrong": ("print(int(input()) * 3)", lambda x: x == 0),  # 3 * 0 == 2 * 0
    "crash": ("x = int(input())\nprint(1 // (x - x))", lambda x: -2),
}


@pytest.fixture(scope="module")
def default_server():
    """`appsplus serve --workers 2` with the default queue, no token (the clients send none)."""
    require("fastapi", "the serve extra installs it")
    require("uvicorn", "the serve extra installs it")
    s = start_server("--workers", "2", token=None)
    yield s
    stop_server(s)


@pytest.fixture(scope="module")
def tiny_server():
    """One worker, a queue of 2 jobs or 256 KiB, 0.5 s of patience: shedding on demand."""
    require("fastapi", "the serve extra installs it")
    require("uvicorn", "the serve extra installs it")
    s = start_server(
        "--workers",
        "1",
        "--max-pending",
        "2",
        "--max-queue-mb",
        "0.25",
        "--max-wait-s",
        "0.5",
        token=None,
    )
    yield s
    stop_server(s)


def health(served) -> dict:
    return requests.get(served.url + "/health", timeout=10).json()


def post_code(served, code: str, stdin: str = "", timeout: float = 5) -> requests.Response:
    body = {"code": code, "language": "python", "stdin": stdin, "run_timeout": timeout}
    return requests.post(served.url + "/run_code", json=body, timeout=60)


def wait_for(served, key: str, value: int, limit_s: float = 20) -> None:
    deadline = time.monotonic() + limit_s
    while health(served)[key] < value:
        assert time.monotonic() < deadline, f"/health {key} never reached {value}"
        time.sleep(0.02)


def test_verl_reward_path_at_its_default_concurrency(default_server):
    """verl's compute_score for 20 samples at once, sharing verl's default semaphore of 64
    (`sandbox_fusion.max_concurrent`): 200 /run_code requests, every per-test result right."""
    require("verl", "the developer install line of the README installs it")
    from verl.utils.reward_score.sandbox_fusion import compute_score

    xs = list(range(10))
    tests = {"inputs": [f"{x}\n" for x in xs], "outputs": [f"{2 * x}\n" for x in xs]}
    kinds = [("right", "wrong", "crash", "right")[i % 4] for i in range(20)]
    semaphore = threading.Semaphore(64)  # verl's default max_concurrent
    url = default_server.url + "/run_code"

    def score(kind: str):
        completion = f"```python\n{KINDS[kind][0]}\n```"
        return compute_score(url, semaphore, 1024, completion, json.dumps(tests), timeout=10)

    with ThreadPoolExecutor(20) as pool:
        scored = list(pool.map(score, kinds))
    for kind, (value, metadata) in zip(kinds, scored):
        expected = [KINDS[kind][1](x) for x in xs]
        codes = {"success": True, "wrong_answer": False, "runtime_error": -2}
        got = [codes.get(m.get("status"), m.get("status")) for m in metadata]  # api_error...
        assert got == expected, (kind, metadata[:2])
        assert value == sum(e is True for e in expected) / len(xs)
        if kind == "right":
            assert [m["stdout"] for m in metadata] == [f"{2 * x}\n" for x in xs]
    after = health(default_server)
    assert after["pending"] == 0
    assert after["shed"] == 0, "a request at verl's default concurrency was shed"
    assert after["max_pending"] >= 64 * 8  # queues far past what the clients send


def test_official_client_at_its_default_concurrency(default_server):
    """`sandbox_fusion.run_concurrent` at its default concurrency (20): 200 requests, 200
    right answers, nothing shed."""
    sandbox_fusion = require("sandbox_fusion", "the integrations extra installs it")
    shed_before = health(default_server)["shed"]
    n = 200
    kwargs = [
        {
            "request": sandbox_fusion.RunCodeRequest(
                code=DOUBLE, stdin=f"{i}\n", language="python"
            ),
            "endpoint": default_server.url,
            "max_attempts": 5,  # the client's default, said out loud
        }
        for i in range(n)
    ]
    responses = sandbox_fusion.run_concurrent(sandbox_fusion.run_code, kwargs=kwargs)
    assert len(responses) == n
    assert [r.status for r in responses] == [sandbox_fusion.RunStatus.Success] * n
    assert [r.run_result.stdout for r in responses] == [f"{2 * i}\n" for i in range(n)]
    after = health(default_server)
    assert after["pending"] == 0 and after["shed"] == shed_before


def test_health_counts_queued_request_bytes(default_server):
    """The queue's memory bound counts request bodies: a request in flight shows its bytes."""
    code = SLEEP.format(s=1.0) + "#" * 100_000
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(post_code, default_server, code)
        wait_for(default_server, "running", 1)
        assert health(default_server)["queued_bytes"] > 100_000
        assert future.result().json()["run_result"]["stdout"] == "slept\n"
    assert health(default_server)["queued_bytes"] == 0


def test_shedding_answers_504_with_retry_after(tiny_server):
    """Queue full: 504 at once. Queued past max-wait: 504 when its turn comes, not run."""
    shed = health(tiny_server)["shed"]
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(post_code, tiny_server, SLEEP.format(s=3))  # outlasts the checks
        wait_for(tiny_server, "running", 1)
        second = pool.submit(post_code, tiny_server, DOUBLE, "4\n")
        wait_for(tiny_server, "pending", 2)
        full = post_code(tiny_server, DOUBLE, "5\n")
        assert full.status_code == 504 and full.headers["Retry-After"] == "1"
        late = second.result()
        assert late.status_code == 504 and late.headers["Retry-After"] == "1"
        assert first.result().json()["run_result"]["stdout"] == "slept\n"
    after = health(tiny_server)
    assert after["shed"] == shed + 2 and after["pending"] == 0 and after["queued_bytes"] == 0


def test_queue_memory_bound_sheds_by_bytes(tiny_server):
    """A 200 kB request running, the queue's bytes bound 256 KiB: a 100 kB request is shed
    at once (504) though a job slot is free; the bytes are given back after."""
    shed = health(tiny_server)["shed"]
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(post_code, tiny_server, SLEEP.format(s=2) + "#" * 200_000)
        wait_for(tiny_server, "running", 1)
        big = post_code(tiny_server, DOUBLE + "#" * 100_000, "1\n")
        assert big.status_code == 504 and big.headers["Retry-After"] == "1"
        assert health(tiny_server)["shed"] == shed + 1
        assert slow.result().status_code == 200
    assert health(tiny_server)["queued_bytes"] == 0
    again = post_code(tiny_server, DOUBLE + "#" * 100_000, "1\n")
    assert again.status_code == 200 and again.json()["run_result"]["stdout"] == "2\n"


def test_clients_retry_a_shed_request(tiny_server):
    """A request shed (it waited past max-wait behind a slow one) is retried by verl (which
    retries 504 only) and by the official client, and then answered right."""
    require("verl", "the developer install line of the README installs it")
    sandbox_fusion = require("sandbox_fusion", "the integrations extra installs it")
    from verl.utils.reward_score.sandbox_fusion.utils import check_correctness

    tests = {"inputs": ["3\n"], "outputs": ["6\n"]}
    request = sandbox_fusion.RunCodeRequest(code=DOUBLE, stdin="7\n", language="python")
    clients = {
        "verl": lambda: check_correctness(tiny_server.url + "/run_code", tests, DOUBLE, 5)[0],
        "sandbox-fusion": lambda: sandbox_fusion.run_code(request, endpoint=tiny_server.url),
    }
    for name, call in clients.items():
        shed = health(tiny_server)["shed"]
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(post_code, tiny_server, SLEEP.format(s=2))
            wait_for(tiny_server, "running", 1)
            answer = pool.submit(call).result()
            assert slow.result().status_code == 200
        if name == "verl":
            assert answer == [True], name
        else:
            assert answer.run_result.stdout == "14\n", name
        assert health(tiny_server)["shed"] > shed, f"{name}: nothing was shed, nothing tested"


AUDIT = """
import os, sys
def hook(event, args):
    if event in ("subprocess.Popen", "os.fork", "os.posix_spawn", "os.exec"):
        with open(os.environ["SPAWN_LOG"], "a") as f:
            f.write(event + "\\n")
sys.addaudithook(hook)
from appsplus.cli.app import main
main()
"""


def test_port_in_use_is_one_line_exit_2_and_no_worker(tmp_path):
    """A real socket holds the port: `appsplus serve` exits 2 with one line, and starts no
    process (an audit hook logs every process start; the control shows it sees workers)."""
    require("fastapi", "the serve extra installs it")
    require("uvicorn", "the serve extra installs it")
    spawn_log = tmp_path / "spawns"
    env = {**os.environ, "SPAWN_LOG": str(spawn_log)}
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        command = [sys.executable, "-c", AUDIT, "serve", "--port", str(port), "--workers", "2"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0], lines
    assert not spawn_log.exists(), spawn_log.read_text()
    # control: the same hook sees the worker that `appsplus exec` starts
    program, tests = tmp_path / "p.py", tmp_path / "t.json"
    program.write_text(DOUBLE)
    tests.write_text(json.dumps({"inputs": ["1\n"], "outputs": ["2\n"]}))
    control = [sys.executable, "-c", AUDIT, "exec", str(program), "--tests", str(tests)]
    ran = subprocess.run(control, capture_output=True, text=True, timeout=120, env=env)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "subprocess.Popen" in spawn_log.read_text()
