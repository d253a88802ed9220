"""The executor on a real Ray cluster (two nodes on 127.0.0.1, see `ray_cluster`).

Ray must give what the local pool gives: the same results in the same order, the same
build and bench outputs; an actor or a node that dies mid-run changes nothing but the
time taken; a job that keeps killing its actor ends as a SandboxError naming it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from appsplus.execution import (
    CallTest,
    ExecutionResult,
    ExecutorSpecError,
    Job,
    Limits,
    SandboxError,
    StdioTest,
    WorkerPool,
    open_executor,
    run_many,
)

NODE = {"num_cpus": 1, "object_store_memory": 80 * 2**20, "node_ip_address": "127.0.0.1"}
ACTOR_TITLE = b"ray::SandboxActor"


def mixed_jobs(n: int, sleep_s: float = 0.0) -> list[Job]:
    """Jobs with every kind of outcome: pass, wrong answer, runtime/compile error, call-based."""
    nap = f"import time\ntime.sleep({sleep_s})\n" if sleep_s else ""
    jobs = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            program = f"{nap}print(int(input()) * {i})\n"
            tests = [
                StdioTest(input="3\n", output=f"{3 * i}\n"),
                StdioTest(input="0\n", output="1"),
            ]
        elif kind == 1:
            program = f"{nap}print(int(input()) + 1)\n"
            tests = [StdioTest(input=f"{i}\n", output=f"{i + 1}\n")]
        elif kind == 2:
            program = f"{nap}raise ValueError({i})\n"
            tests = [StdioTest(input="", output="")]
        elif kind == 3:
            program = f"{nap}def f(:\n"
            tests = [StdioTest(input="", output=""), StdioTest(input="", output="")]
        else:
            program = f"{nap}def add(a, b):\n    return a + b\n"
            tests = [CallTest(fn_name="add", args=[i, 1], expected=i + 1)]
        jobs.append(Job(program=program, tests=tests, trace_lines=kind == 1))
    return jobs


def essence(results: list[ExecutionResult]) -> list[dict]:
    """Everything in the results but the measured durations."""
    return [r.model_dump(exclude={"tests": {"__all__": {"duration_s"}}}) for r in results]


@pytest.fixture(scope="module")
def local_results():
    with WorkerPool(2) as local:
        return lambda jobs: run_many(jobs, pool=local)


@pytest.fixture
def ray_ex(ray_cluster):
    """An executor with all of the cluster's CPUs (so one at a time: tests start their own)."""
    with open_executor("ray") as ex:
        yield ex


# --------------------------------------------------------------------------- choosing Ray
def test_ray_without_the_extra_is_an_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without ray sees
    for spec in ("ray", "auto", "ray://127.0.0.1:10001"):
        with pytest.raises(ExecutorSpecError, match=r"appsplus\[ray\]"):
            open_executor(spec)
    from appsplus.cli.app import main

    out = tmp_path / "x"
    result = CliRunner().invoke(main, ["build", "--out", str(out), "--executor", "ray"])
    assert result.exit_code != 0
    assert "appsplus[ray]" in result.output and "Traceback" not in result.output
    assert not out.exists()  # a build that cannot start leaves no folder behind


def test_unknown_spec_lists_the_choices():
    with pytest.raises(ExecutorSpecError, match="local, ray, auto or ray://HOST:PORT"):
        open_executor("spark")
    with pytest.raises(ExecutorSpecError, match="expected ray://HOST:PORT"):
        open_executor("ray://head-node")


def test_actors_asking_for_more_cpus_than_any_node_has_is_an_error(ray_cluster):
    with pytest.raises(ExecutorSpecError, match="no node of the Ray cluster has 2 CPUs"):
        open_executor("ray", workers=2)


# --------------------------------------------------------------------------- same results
def test_one_actor_per_node_with_the_local_isolation(ray_ex):
    nodes = ray_ex.nodes()
    assert len({n.node_id for n in nodes}) == 2 and ray_ex.size == 2
    assert all(n.workers == 1 and n.node_ip == "127.0.0.1" for n in nodes)
    with WorkerPool(1) as local:
        assert ray_ex.isolation() == local.isolation()


def test_results_match_the_local_pool_in_job_order(ray_ex, local_results):
    jobs = mixed_jobs(60)
    seen: list[int] = []
    results = run_many(iter(jobs), pool=ray_ex, progress=lambda i, r: seen.append(i))
    assert essence(results) == essence(local_results(jobs))
    assert sorted(seen) == list(range(60))
    assert [r.passed for r in results[:5]] == [False, True, False, False, True]
    assert results[1].executed_lines == frozenset({1})
    assert essence([ray_ex.run(jobs[4])]) == essence(results[4:5])


def test_a_malformed_job_raises_as_locally(ray_ex):
    mixed = Job(
        program="print(1)",
        tests=[StdioTest(input="", output="1"), CallTest(fn_name="f", args=[], expected=1)],
    )
    from appsplus.execution import TestsError

    with pytest.raises(TestsError, match="all stdio or all call-based"):  # the local class
        run_many([mixed_jobs(1)[0], mixed], pool=ray_ex)


def test_jobs_are_read_lazily_and_results_streamed(ray_ex):
    """The driver holds a bounded window of jobs, whatever the number of jobs."""
    job = Job(program="print(input())", tests=[StdioTest(input="7\n", output="7\n")])
    read = 0
    total = 600

    def source():
        nonlocal read
        for _ in range(total):
            read += 1
            yield job

    bound = ray_ex.max_read_ahead()
    assert bound < total / 2
    yielded = 0
    for result in ray_ex.map_jobs(source()):
        assert result.passed
        yielded += 1
        assert read - yielded <= bound, (read, yielded, bound)
    assert yielded == read == total


# --------------------------------------------------------------------------- faults
def _descends(parent: dict[int, int], pid: int, ancestor: int) -> bool:
    while pid in parent and pid != ancestor:
        pid = parent[pid]
    return pid == ancestor


def test_an_actor_killed_mid_run_changes_nothing(ray_cluster, local_results):
    jobs = mixed_jobs(40, sleep_s=0.05)
    expected = essence(local_results(jobs))
    with open_executor("auto") as ex:
        victim = ex.nodes()[1].pid
        killed = threading.Event()

        def kill_once(i: int, result: ExecutionResult) -> None:
            if not killed.is_set():
                killed.set()
                os.kill(victim, signal.SIGKILL)

        results = run_many(jobs, pool=ex, progress=kill_once)
        assert killed.is_set()
        assert essence(results) == expected
        assert victim not in {n.pid for n in ex.nodes()}


def test_a_node_killed_mid_run_changes_nothing(ray_cluster, local_results):
    jobs = mixed_jobs(40, sleep_s=0.05)
    expected = essence(local_results(jobs))
    node = next(iter(ray_cluster.worker_nodes))
    try:
        with open_executor("ray") as ex:
            assert len(ex.nodes()) == 2
            gone = threading.Event()

            def kill_node(i: int, result: ExecutionResult) -> None:
                if not gone.is_set():
                    gone.set()
                    ray_cluster.remove_node(node, allow_graceful=False)

            results = run_many(jobs, pool=ex, progress=kill_node)
            assert gone.is_set()
            assert essence(results) == expected
    finally:
        if node in ray_cluster.worker_nodes:
            ray_cluster.remove_node(node, allow_graceful=False)
        ray_cluster.add_node(**NODE)  # the next tests get two nodes again


POISON_NAME = "apx-poison"  # the process name the poison program gives itself


def _actors_running(table, name: str) -> set[int]:
    """This test process's sandbox actors with a descendant process called `name`."""
    parent = {p.pid: p.ppid for p in table.values()}
    actors = [p.pid for p in table.values() if p.cmdline.startswith(ACTOR_TITLE)]
    mine = [a for a in actors if _descends(parent, a, os.getpid())]
    named = [p.pid for p in table.values() if p.name == name]
    return {a for a in mine for pid in named if _descends(parent, pid, a)}


def test_a_job_that_keeps_killing_its_actor_is_a_sandbox_error_naming_it(ray_cluster, processes):
    """Whatever actor runs job 1 dies (killed from outside while the program runs)."""
    fast = Job(program="print(1)", tests=[StdioTest(input="", output="1")])
    slow = Job(  # names itself (prctl PR_SET_NAME) so the killer below finds its actor
        program=f"import ctypes, time\nctypes.CDLL(None).prctl(15, {POISON_NAME.encode()!r}, 0, 0, 0)\n"
        "time.sleep(30)\n",
        tests=[StdioTest(input="", output="")],
        limits=Limits(time_s=60),
    )
    stop = threading.Event()
    kills = []

    def killer() -> None:  # the actor whose sandbox runs job 1 is killed
        while not stop.is_set():
            for pid in _actors_running(processes(), POISON_NAME):
                os.kill(pid, signal.SIGKILL)
                kills.append(pid)
            time.sleep(0.1)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        poison = r"job 1 killed its Ray sandbox actor 3 times"
        with open_executor("ray") as ex, pytest.raises(SandboxError, match=poison):
            run_many([fast, slow, fast], pool=ex)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert len(kills) == 3
    assert time.monotonic() - started < 60  # an error, never a hang


def test_ray_client_addresses_give_the_same_results(ray_client_address, local_results):
    """`ray://HOST:PORT` from another process (a Ray Client connection is one per process)."""
    script = (
        "import json, sys\n"
        "from appsplus.execution import open_executor, run_many\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_ray import essence, mixed_jobs\n"
        "with open_executor(sys.argv[1]) as ex:\n"
        "    print(json.dumps(essence(run_many(mixed_jobs(20), pool=ex)), default=sorted))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-c", script, ray_client_address, str(Path(__file__).parent)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    expected = json.loads(json.dumps(essence(local_results(mixed_jobs(20))), default=sorted))
    assert json.loads(done.stdout.splitlines()[-1]) == expected


# --------------------------------------------------------------------------- CLIs
def _build(out: Path, executor: str) -> None:
    from appsplus.cli.app import main

    args = ["build", "--source", "sample", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--time-limit", "1", "--executor", executor])
    assert result.exit_code == 0, (result.output, result.exception)


def test_sample_build_is_byte_identical_on_ray(ray_cluster, tmp_path):
    _build(tmp_path / "local", "local")
    _build(tmp_path / "ray", "ray")
    files = sorted(p.name for p in (tmp_path / "local").iterdir() if p.is_file())
    assert {"train.parquet", "manifest.json", "rejections.jsonl"} <= set(files)
    for name in files:
        if name != "runtimes.parquet":  # measured times: the one file that differs by design
            local, ray = (tmp_path / "local" / name), (tmp_path / "ray" / name)
            assert local.read_bytes() == ray.read_bytes(), name


TIMES = ("duration_s", "test_durations_s")  # measured: the one part of a result that varies


def test_bench_evaluation_is_identical_on_ray(ray_cluster, tmp_path, monkeypatch):
    from appsplus.bench.cli import main as bench
    from appsplus.bench.suites import load_suite

    monkeypatch.setenv("APPSPLUS_CACHE", str(tmp_path / "cache"))
    samples = tmp_path / "samples.jsonl"
    with samples.open("w") as f:
        for p in load_suite("sample").problems:
            for program in (p.canonical_solution, p.canonical_solution + "\nprint(0)\n", "1/0"):
                f.write(json.dumps({"problem_id": p.problem_id, "program": program}) + "\n")
    runs = {}
    for executor in ("local", "ray"):
        out = tmp_path / executor
        for args in (
            ["evaluate", "--suite", "sample", "--samples", str(samples), "--executor", executor],
            ["report", "--json"],
        ):
            result = CliRunner().invoke(bench, [*args, "--out", str(out)])
            assert result.exit_code == 0, (result.output, result.exception)
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        runs[executor] = (
            (out / "report.json").read_bytes(),
            sorted(({k: v for k, v in r.items() if k not in TIMES} for r in rows), key=str),
        )
    assert runs["local"] == runs["ray"]
    outcomes = {r["outcome"] for r in runs["ray"][1]}
    assert {"passed", "wrong_answer", "runtime_error"} <= outcomes
