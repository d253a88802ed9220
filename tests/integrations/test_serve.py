"""`appsplus serve` as a real subprocess on a free loopback port, through real HTTP clients."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from testkit import require

from appsplus.execution import StdioTest, run_tests

requests = pytest.importorskip("requests")

DOUBLE = "print(int(input()) * 2)\n"
APPS_TESTS = {"inputs": ["1\n", "5\n"], "outputs": ["2\n", "10\n"]}


def post(served, path, body, headers=None, raw: bytes | None = None):
    h = {"Content-Type": "application/json", **served.headers, **(headers or {})}
    data = raw if raw is not None else json.dumps(body)
    return requests.post(served.url + path, data=data, headers=h, timeout=60)


def run_code(served, code, stdin="", timeout=5, **extra):
    body = {"code": code, "language": "python", "stdin": stdin, "run_timeout": timeout}
    return post(served, "/run_code", {**body, **extra})


def test_health_needs_no_token(served):
    r = requests.get(served.url + "/health", timeout=10)
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["workers"] == 2
    # the queue's bounds are stated: jobs (the fixture's --max-pending 8) and bytes
    assert r.json()["max_pending"] == 8 and r.json()["max_queue_bytes"] == 512 * 2**20


def test_native_batch_gives_run_tests_verdicts(served):
    jobs = [
        {"program": DOUBLE, "tests": APPS_TESTS},
        {"program": "print(3)\n", "tests": APPS_TESTS},
        {"program": "def f(:\n", "tests": APPS_TESTS},
        {
            "program": "class Solution:\n    def add(self, a, b):\n        return a + b\n",
            "tests": [{"kind": "call", "fn_name": "add", "args": [1, 2], "expected": 3}],
        },
    ]
    r = post(served, "/v1/run", {"jobs": jobs})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["verdicts"] for x in results] == [
        ["passed", "passed"],
        ["wrong_answer", "wrong_answer"],
        ["compile_error", "compile_error"],
        ["passed"],
    ]
    local = run_tests(DOUBLE, [StdioTest(input="1\n", output="2\n")])
    assert results[0]["passed"] is local.passed is True
    assert results[2]["compile_error"]


def test_a_batch_larger_than_the_queue_runs_when_the_queue_is_empty(served):
    """12 jobs on a queue of 8 (--max-pending 8): an empty queue takes any one request, or
    such a batch would be refused forever."""
    tests = [{"inputs": [f"{i}\n"], "outputs": [f"{2 * i}\n"]} for i in range(12)]
    jobs = [{"program": DOUBLE, "tests": t} for t in tests]
    r = post(served, "/v1/run", {"jobs": jobs})
    assert r.status_code == 200, r.text
    assert [x["passed"] for x in r.json()["results"]] == [True] * 12


def test_run_code_schema_success_error_timeout(served):
    ok = run_code(
        served, "import sys\nprint(int(input()) + 1)\nprint('e', file=sys.stderr)", "41\n"
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "Success"
    assert body["run_result"]["stdout"] == "42\n" and body["run_result"]["stderr"] == "e\n"
    assert body["run_result"]["return_code"] == 0 and body["run_result"]["status"] == "Finished"
    crash = run_code(served, "raise ValueError('boom')").json()
    assert crash["status"] == "Failed" and crash["run_result"]["return_code"] == 1
    assert "boom" in crash["run_result"]["stderr"]
    slow = run_code(served, "while True:\n    pass\n", timeout=1).json()
    assert slow["status"] == "Failed" and slow["run_result"]["status"] == "TimeLimitExceeded"
    big = run_code(served, "print('x' * 50000)").json()  # whole stdout, not a preview
    assert big["run_result"]["stdout"] == "x" * 50000 + "\n"


def test_hostile_programs_do_not_hurt_the_service(served):
    hostile = [
        "import os\nos.kill(os.getppid(), 9)\n",
        "import os, signal\nos.killpg(0, signal.SIGKILL)\n",
        "x = bytearray(10**10)\n",
        "import os\nwhile True:\n    os.fork()\n",
        "import sys\nsys.stdout.write('y' * 10**9)\n",
    ]
    for code in hostile:
        r = run_code(served, code, timeout=2, memory_limit_MB=256)
        assert r.status_code == 200, r.text
        assert r.json()["status"] in ("Failed", "Success")
    after = run_code(served, DOUBLE, "21\n").json()
    assert after["status"] == "Success" and after["run_result"]["stdout"] == "42\n"


def test_bad_requests_get_clear_errors(served):
    assert post(served, "/run_code", None, raw=b'{"code": "print(1)",').status_code == 400
    r = post(served, "/run_code", {"code": "int main(){}", "language": "cpp"})
    assert r.status_code == 400 and "python" in r.json()["error"]
    assert post(served, "/run_code", {"language": "python"}).status_code == 422  # no code
    assert post(served, "/v1/run", {"jobs": [], "extra": 1}).status_code == 422
    bad_tests = {"jobs": [{"program": "print(1)", "tests": {"inputs": ["1"]}}]}
    assert post(served, "/v1/run", bad_tests).status_code == 422
    huge = {"code": "#" * (2 * 2**20), "language": "python"}
    r = post(served, "/run_code", huge)
    assert r.status_code == 413
    wrong = requests.post(
        served.url + "/run_code",
        json={"code": "print(1)", "language": "python"},
        headers={"Authorization": "Bearer nope"},
        timeout=10,
    )
    assert wrong.status_code == 401
    missing = requests.post(served.url + "/v1/run", json={"jobs": []}, timeout=10)
    assert missing.status_code == 401


def test_sandbox_fusion_client_unchanged(open_served):
    """The official `sandbox-fusion` client (it sends no auth header: a token-free server)."""
    sandbox_fusion = pytest.importorskip("sandbox_fusion")
    request = sandbox_fusion.RunCodeRequest(code=DOUBLE, stdin="4\n", language="python")
    response = sandbox_fusion.run_code(request, endpoint=open_served.url, max_attempts=1)
    assert response.status == sandbox_fusion.RunStatus.Success
    assert response.run_result.stdout == "8\n"


def test_verl_sandbox_fusion_reward_path(served):
    require("verl", "the developer install line of the README installs it")
    try:
        from verl.utils.reward_score.sandbox_fusion.utils import check_correctness
    except ImportError as e:
        pytest.skip(f"verl's sandbox_fusion module does not import here: {e}")
    import verl.utils.reward_score.sandbox_fusion.utils as sf

    original = sf.requests.post

    def with_token(url, headers=None, **kw):  # verl sends no auth; add ours, change nothing else
        return original(url, headers={**(headers or {}), **served.headers}, **kw)

    sf.requests.post = with_token
    try:
        results, meta = check_correctness(
            served.url + "/run_code",
            {"inputs": ["1\n", "5\n", "7\n"], "outputs": ["2\n", "10\n", "15\n"]},
            DOUBLE,
            timeout=5,
        )
        crashed, _ = check_correctness(served.url + "/run_code", APPS_TESTS, "1/0", timeout=5)
    finally:
        sf.requests.post = original
    assert results == [True, True, False], meta
    assert crashed == [-2, -2]  # verl's code for a runtime error


def test_bounded_load_with_a_worker_killed(served):
    """Fixed request count on loopback, 16 clients on a queue of 8: no lost or wrong answer,
    504s (what verl retries) only as back-pressure."""
    n = 120
    answers: dict[int, int] = {}
    statuses: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        for _ in range(200):  # 504 means "retry later": bounded retries
            r = run_code(served, DOUBLE, f"{i}\n")
            with lock:
                statuses.append(r.status_code)
            if r.status_code == 504:
                assert r.headers["Retry-After"] == "1"
                time.sleep(0.05)
                continue
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["status"] == "Success", body
            with lock:
                answers[i] = int(body["run_result"]["stdout"])
            return
        raise AssertionError(f"request {i} was refused 200 times")

    killed = []

    def killer() -> None:
        deadline = time.monotonic() + 20
        while len(answers) < n // 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        pids = served.sandbox_workers()
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    with ThreadPoolExecutor(max_workers=16) as ex:
        k = ex.submit(killer)
        list(ex.map(one, range(n)))
        k.result()
    assert killed, "no sandbox worker was found to kill"
    assert answers == {i: 2 * i for i in range(n)}
    assert set(statuses) <= {200, 504}
    health = requests.get(served.url + "/health", timeout=10).json()
    assert health["pending"] == 0


def test_graceful_shutdown_finishes_in_flight_work(open_served):
    """SIGTERM while a request runs: it is answered, then the server exits cleanly."""
    from concurrent.futures import ThreadPoolExecutor as Threads

    code = "import time\ntime.sleep(1.5)\nprint(int(input()) * 2)\n"
    with Threads(1) as ex:
        future = ex.submit(run_code, open_served, code, "5\n")
        time.sleep(0.7)  # the request is in flight
        open_served.proc.send_signal(signal.SIGTERM)
        r = future.result(timeout=30)
    assert r.status_code == 200 and r.json()["run_result"]["stdout"] == "10\n"
    # uvicorn re-raises the signal after its graceful shutdown: exit status -SIGTERM
    assert open_served.proc.wait(timeout=30) in (0, -signal.SIGTERM)
    assert b"Application shutdown complete" in open_served.output()
    with pytest.raises(requests.ConnectionError):
        requests.get(open_served.url + "/health", timeout=5)
