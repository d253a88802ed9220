"""Executor throughput against a naive fresh-interpreter-per-test baseline, in one run.

    python scripts/executor_speed.py [--programs 2000] [--tests 10] [--workers 2] [--naive-programs 200]

(a) the real APPS canonical solutions in ../shared/data/apps/raw (skipped when absent);
(b) N small generated stdio programs x T tests each.
Both are run with our executor and with the baseline: one `python -I -S prog.py`
subprocess per test, `workers` of them at a time, output judged by the same comparator.
Prints tests/s for each, the speed-up ratio and our overhead per program
(wall x workers / programs - the programs' own run time per program), and
(c) the fixed cost per program and the marginal cost per test on one worker, and
(d) isolation against the bare-fork floor, measured in the same run: a worker that forks
one child per program with no isolation at all (plain; with the APPS preamble's modules
loaded, the least any executor pays that gives programs those names; and "warm", with
every module our worker holds), a "bare judge" (the least a Python judge does per program:
the test's stdin, rlimits, stdout and stderr captured apart, a deadline, the exit status,
a result message; no isolation at all), plain and warm (ours against the warm one is the
price of isolation), our
worker with full isolation, and our worker with one mechanism
turned off at a time (the difference is that mechanism's cost); per program, the median
wall time over interleaved rounds and the CPU time of driver + worker + children ("without
the spare" forks each job's child when the job comes instead of ahead of it), and
(e) the same with every core busy: programs per second of N bare warm workers against N of
ours, in parallel (no idle core hides any cost). Run it as root for the root mode and as an
ordinary user for the rootless mode (see the README):

    python scripts/executor_speed.py --only isolation [--rounds 5 --programs-per-round 200]
    python scripts/executor_speed.py --only isolation --as-nonroot    # rootless, from root
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from appsplus.execution import (
    PREAMBLE,
    Job,
    Limits,
    StdioTest,
    Verdict,
    WorkerPool,
    run_many,
    stdout_matches,
    tests_from_apps,
    values_match,
)

SHARED = Path(
    os.environ.get("APPSPLUS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)

TEMPLATES = [
    ("a, b = map(int, input().split())\nprint(a * {k} + b)\n", lambda a, b, k: f"{a * k + b}\n"),
    (
        "n = int(input().split()[0])\ns = 0\nfor i in range(n % {k} + 50):\n    s += i * i\nprint(s)\n",
        lambda a, b, k: f"{sum(i * i for i in range(a % k + 50))}\n",
    ),
    (
        "import sys\nx, y = map(int, sys.stdin.readline().split())\nif x > y:\n    print(x - y + {k})\nelse:\n    print(y - x + {k})\n",
        lambda a, b, k: f"{abs(a - b) + k}\n",
    ),
    (
        "def f(a, b):\n    return max(a, b) % {k}\nvals = list(map(int, input().split()))\nprint(f(*vals))\n",
        lambda a, b, k: f"{max(a, b) % k}\n",
    ),
]


def make_programs(n_programs: int, n_tests: int) -> list[Job]:
    jobs = []
    for p in range(n_programs):
        src, ref = TEMPLATES[p % len(TEMPLATES)]
        k = p % 97 + 2
        tests = []
        for t in range(n_tests):
            a, b = (p * 31 + t * 7) % 1000, (p * 17 + t * 13) % 1000
            tests.append(StdioTest(input=f"{a} {b}\n", output=ref(a, b, k)))
        jobs.append(Job(program=src.format(k=k), tests=tests, limits=Limits(time_s=4.0)))
    return jobs


def real_jobs() -> list[Job]:
    jobs = []
    for d in sorted((SHARED / "apps" / "raw").glob("*/*")):
        tests = tests_from_apps(json.loads((d / "input_output.json").read_text()))
        for program in json.loads((d / "solutions.json").read_text()):
            jobs.append(Job(program=program, tests=tests))
    return jobs


# The naive judge's call-based driver: exec the program after the usual imports, call the
# function named in argv with JSON arguments from stdin, print the JSON of the result.
CALL_DRIVER = """import sys, json
from typing import *
from collections import *
from math import *
from heapq import *
from bisect import *
g = {"__name__": "solution"}
g.update({k: v for k, v in globals().items() if not k.startswith("__")})
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), g)
args = json.loads(sys.stdin.read())
fn = getattr(g["Solution"](), sys.argv[2]) if "Solution" in g else g[sys.argv[2]]
print(json.dumps(fn(*args)))
"""


def naive(jobs: list[Job], workers: int) -> tuple[float, int, int]:
    """Fresh `python -I -S` per test; returns (wall seconds, tests run, tests passed)."""
    with tempfile.TemporaryDirectory() as tmp:
        driver = Path(tmp) / "call_driver.py"
        driver.write_text(CALL_DRIVER)
        paths = []
        for i, job in enumerate(jobs):
            path = Path(tmp) / f"p{i}.py"
            path.write_text(job.program)
            paths.append(path)

        def one(i: int) -> int:
            passed = 0
            for t in jobs[i].tests:
                if t.kind == "stdio":
                    argv, stdin = [str(paths[i])], t.input
                else:
                    argv, stdin = [str(driver), str(paths[i]), t.fn_name], json.dumps(t.args)
                try:
                    r = subprocess.run(
                        [sys.executable, "-I", "-S", *argv],
                        input=stdin,
                        capture_output=True,
                        text=True,
                        timeout=jobs[i].limits.time_s,
                        cwd=tmp,
                    )
                except subprocess.TimeoutExpired:
                    continue
                if r.returncode != 0:
                    continue
                if t.kind == "stdio":
                    passed += stdout_matches(r.stdout, t.output)
                else:
                    try:  # the result is the last line; programs may print before it
                        value = json.loads(r.stdout.strip().splitlines()[-1])
                    except (ValueError, IndexError):
                        continue
                    passed += values_match(value, t.expected) or values_match([value], t.expected)
            return passed

        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            passed = sum(ex.map(one, range(len(jobs))))
        return time.perf_counter() - t0, sum(len(j.tests) for j in jobs), passed


def ours(jobs: list[Job], workers: int) -> tuple[float, int, int, float]:
    """Our executor with a warm pool; returns (wall, tests, passed, programs' own time)."""
    with WorkerPool(workers) as pool:
        run_many(jobs[:workers], pool=pool)  # warm the workers
        t0 = time.perf_counter()
        results = run_many(jobs, pool=pool)
        wall = time.perf_counter() - t0
    tests = sum(len(r.tests) for r in results)
    passed = sum(t.verdict is Verdict.PASSED for r in results for t in r.tests)
    own = sum(t.duration_s for r in results for t in r.tests)
    return wall, tests, passed, own


def report(name: str, jobs: list[Job], naive_jobs: list[Job], workers: int) -> None:
    wall, tests, passed, own = ours(jobs, workers)
    n_wall, n_tests, n_passed = naive(naive_jobs, workers)
    ours_tps, naive_tps = tests / wall, n_tests / n_wall
    overhead_ms = (wall * workers / len(jobs) - own / len(jobs)) * 1000
    print(f"\n== {name}: {len(jobs)} programs, {tests} tests, {workers} workers")
    print(f"executor : {wall:8.2f} s  {ours_tps:9.1f} tests/s  passed {passed}/{tests}")
    print(
        f"naive    : {n_wall:8.2f} s  {naive_tps:9.1f} tests/s  passed {n_passed}/{n_tests}"
        f"  ({len(naive_jobs)} programs)"
    )
    print(f"ratio    : {ours_tps / naive_tps:8.1f}x tests/s")
    print(
        f"overhead : {overhead_ms:8.2f} ms per program (wall x workers / programs - own run time)"
    )
    print(f"own time : {own:8.2f} s summed over tests")


def fixed_costs(n_programs: int = 300) -> None:
    """(c) One worker, serial: time per program with 1 and with 10 trivial tests.

    The line through the two points gives the fixed cost per program (fork, limits,
    cleanup, messages) and the marginal cost per test.
    """
    program = "a, b = map(int, input().split())\nprint(a + b)\n"
    per_program = {}
    with WorkerPool(1) as pool:
        for n_tests in (1, 10):
            job = Job(program=program, tests=[StdioTest(input="1 2\n", output="3\n")] * n_tests)
            for _ in range(20):
                pool.run(job)  # warm up
            t0 = time.perf_counter()
            for _ in range(n_programs):
                pool.run(job)
            per_program[n_tests] = (time.perf_counter() - t0) / n_programs * 1000
    per_test = (per_program[10] - per_program[1]) / 9
    fixed = per_program[1] - per_test
    print(f"\n== (c) fixed costs, 1 worker, {n_programs} trivial programs per point")
    print(f"1 test   : {per_program[1]:6.2f} ms per program")
    print(f"10 tests : {per_program[10]:6.2f} ms per program")
    print(f"=> fixed : {fixed:6.2f} ms per program, marginal {per_test:5.2f} ms per test")


# --------------------------------------------------------------------------- (d) isolation
# The start of both bare workers: preload (argv[1]: "plain" nothing, "preamble" the APPS
# preamble's names in builtins, "warm" those and every module our worker holds besides),
# then read length-prefixed messages from stdin.
BARE_START = r"""
import builtins, gc, os, struct, sys
if sys.argv[1] != "plain":
    ns = {"__builtins__": builtins}
    exec(sys.argv[2], ns)
    for k, v in ns.items():
        if not k.startswith("__"):
            builtins.__dict__.setdefault(k, v)
    if sys.argv[1] == "warm":
        import json, ctypes, select, signal, resource, mmap, errno, fcntl, _socket
gc.collect()
gc.freeze()
def messages():
    def read_exact(n):
        b = b""
        while len(b) < n:
            c = os.read(0, n - len(b))
            if not c:
                raise EOFError
            b += c
        return b
    while True:
        try:
            (n,) = struct.unpack(">I", read_exact(4))
            yield read_exact(n)
        except EOFError:
            return
"""
BARE_WORKER = (
    BARE_START
    + r"""
for body in messages():
    code = compile(body.decode(), "<program>", "exec")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        sys.stdout = open(1, "w", closefd=False)
        exec(code, {"__name__": "__main__"})
        sys.stdout.flush()
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        c = os.read(r, 65536)
        if not c:
            break
        out += c
    os.close(r)
    os.waitpid(pid, 0)
    os.write(1, struct.pack(">I", len(out)) + out)
"""
)

# The least any Python fork-per-program *judge* does per program, with no isolation at all:
# a job message in, the test's stdin, memory and CPU rlimits, stdout and stderr captured
# apart, a wall-clock deadline, the exit status, a result message out (the driver compares).
# Ours does all of this too; the difference between the two is the cost of isolation.
BARE_JUDGE = (
    "import json, resource, select, signal, time, traceback\n"
    + BARE_START
    + r"""
for body in messages():
    job = json.loads(body)
    try:  # here, not in the child: a compile in a fresh child costs more than the program
        code = compile(job["program"], "<program>", "exec")
    except (SyntaxError, ValueError) as e:
        data = json.dumps({"timeout": False, "exit": 1, "duration": 0.0, "output": "",
                           "stderr": repr(e)}).encode()
        os.write(1, struct.pack(">I", len(data)) + data)
        continue
    stdin = os.memfd_create("stdin")
    os.write(stdin, job["input"].encode())
    os.lseek(stdin, 0, 0)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            mem = job["memory_mb"] << 20
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
            cpu = int(job["time_s"]) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            os.dup2(stdin, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            sys.stdin = open(0, closefd=False)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False)
            exec(code, {"__name__": "__main__"})
            status = 0
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    for fd in (stdin, out_w, err_w):
        os.close(fd)
    chunks, pending = {out_r: [], err_r: []}, [out_r, err_r]
    deadline, timed_out = t0 + job["time_s"], False
    while pending:
        ready, _, _ = select.select(pending, [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                chunks[fd].append(chunk)
            else:
                pending.remove(fd)
    os.close(out_r)
    os.close(err_r)
    output, stderr = b"".join(chunks[out_r]), b"".join(chunks[err_r])
    _, wstatus = os.waitpid(pid, 0)
    result = {"timeout": timed_out, "exit": os.waitstatus_to_exitcode(wstatus),
              "duration": time.monotonic() - t0, "output": output.decode(errors="replace"),
              "stderr": stderr[:1000].decode(errors="replace")}
    data = json.dumps(result).encode()
    os.write(1, struct.pack(">I", len(data)) + data)
"""
)
PROGRAM = "print(1)\n"
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """utime + stime of `pid` and of its reaped children, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def _anonymous_mb(pid: int) -> float:
    """Anonymous memory of `pid` (the pages whose page tables each fork copies); NaN where
    it cannot be read (as an ordinary user, the worker is not dumpable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Anonymous:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class BareWorker:
    """Fork per program, nothing else: the floor every fork-based executor pays."""

    def __init__(self, preload: str) -> None:
        """`preload`: "plain" (nothing), "preamble" (the APPS preamble's modules) or "warm"
        (the modules our worker holds: the preamble's and the harness's)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-s", "-B", "-c", BARE_WORKER, preload, PREAMBLE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        self.cpu_pid = self.proc.pid

    def run(self) -> None:
        data = PROGRAM.encode()
        self.proc.stdin.write(struct.pack(">I", len(data)) + data)
        self.proc.stdin.flush()
        (n,) = struct.unpack(">I", self.proc.stdout.read(4))
        assert self.proc.stdout.read(n) == b"1\n"

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


class BareJudge:
    """Fork per program with a judge's minimum work and no isolation (BARE_JUDGE)."""

    def __init__(self, preload: str) -> None:
        """`preload`: "plain" (the judge's own modules only) or "warm" (as ours)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-s", "-B", "-c", BARE_JUDGE, preload, PREAMBLE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        self.cpu_pid = self.proc.pid
        self.test = StdioTest(input="", output="1\n")
        limits = Limits()
        job = {"program": PROGRAM, "input": self.test.input, "time_s": limits.time_s,
               "memory_mb": limits.memory_mb}  # fmt: skip
        self.message = json.dumps(job).encode()

    def run(self) -> None:
        self.proc.stdin.write(struct.pack(">I", len(self.message)) + self.message)
        self.proc.stdin.flush()
        (n,) = struct.unpack(">I", self.proc.stdout.read(4))
        result = json.loads(self.proc.stdout.read(n))
        assert not result["timeout"] and result["exit"] == 0
        assert stdout_matches(result["output"], self.test.output)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


class OurWorker:
    """One sandbox worker with the mechanisms in `off` turned off (benchmark-only knob)."""

    def __init__(self, off: str) -> None:
        saved = os.environ.get("APPSPLUS_SANDBOX_OFF")
        os.environ["APPSPLUS_SANDBOX_OFF"] = off
        try:
            self.pool = WorkerPool(1, allow_unisolated=bool(off))
            self.job = Job(program=PROGRAM, tests=[StdioTest(input="", output="1\n")])
            self.run()
        finally:
            if saved is None:
                os.environ.pop("APPSPLUS_SANDBOX_OFF")
            else:
                os.environ["APPSPLUS_SANDBOX_OFF"] = saved
        launcher = self.pool._all[0].proc.pid
        with open(f"/proc/{launcher}/task/{launcher}/children") as f:
            self.cpu_pid = int(f.read().split()[0])  # the zygote: it reaps the children
        self.isolation = self.pool.isolation()

    def run(self) -> None:
        assert self.pool.run(self.job).passed

    def close(self) -> None:
        self.pool.close()


def isolation_costs(rounds: int, per_round: int) -> None:
    """(d) Per-program cost of each configuration, interleaved round by round."""
    configs = {
        "bare fork (floor)": lambda: BareWorker("plain"),
        "bare fork, preamble": lambda: BareWorker("preamble"),
        "bare fork, warm": lambda: BareWorker("warm"),
        "bare judge, plain (no isol.)": lambda: BareJudge("plain"),
        "bare judge, warm (no isol.)": lambda: BareJudge("warm"),
        "ours, full isolation": lambda: OurWorker(""),
        "  without seccomp": lambda: OurWorker("seccomp"),
        "  without landlock": lambda: OurWorker("landlock"),
        "  without uid switch": lambda: OurWorker("uid"),
        "  without namespaces+mounts": lambda: OurWorker("namespaces"),
        "  nothing (rlimits only)": lambda: OurWorker("namespaces,landlock,seccomp,uid"),
        "  without the spare": lambda: OurWorker("spare"),
    }
    workers = {name: make() for name, make in configs.items()}
    full = workers["ours, full isolation"].isolation
    wall = {name: [] for name in workers}
    cpu = {name: 0.0 for name in workers}
    try:
        for w in workers.values():
            for _ in range(20):
                w.run()
        memory = {name: _anonymous_mb(workers[name].cpu_pid) for name in ("bare fork, warm", "ours, full isolation")}  # fmt: skip
        for _ in range(rounds):
            for name, w in workers.items():
                c0, d0, t0 = _cpu_s(w.cpu_pid), time.process_time(), time.perf_counter()
                for _ in range(per_round):
                    w.run()
                wall[name].append((time.perf_counter() - t0) / per_round * 1000)
                cpu[name] += _cpu_s(w.cpu_pid) - c0 + time.process_time() - d0
    finally:
        for w in workers.values():
            w.close()
    n = rounds * per_round
    med = {name: statistics.median(v) for name, v in wall.items()}
    cpu_ms = {name: cpu[name] / n * 1000 for name in workers}
    floor, warm, judge = "bare fork (floor)", "bare fork, warm", "bare judge, warm (no isol.)"
    print(f"\n== (d) isolation cost: mode {full.mode}, {rounds} rounds x {per_round} `print(1)`")
    print(f"in force: {', '.join(full.in_force)}")
    print("anonymous memory of the forking process: " + ", ".join(f"{n} {mb:.1f} MB" if mb == mb else f"{n} n/a (not readable as this user)" for n, mb in memory.items()))  # fmt: skip
    refs = (floor, warm, judge)
    head = "".join(f"{h:>7s}" for h in ("/floor", "/warm", "/judge"))
    print(f"{'configuration':30s} {'wall ms':>8s}{head} {'cpu ms':>8s}{head}")
    for name in workers:
        wall_ratios = "".join(f"{med[name] / med[r]:7.2f}" for r in refs)
        cpu_ratios = "".join(f"{cpu_ms[name] / cpu_ms[r]:7.2f}" for r in refs)
        print(f"{name:30s} {med[name]:8.3f}{wall_ratios} {cpu_ms[name]:8.3f}{cpu_ratios}")
    print("per-round wall ms (spread under load):")
    for name in workers:
        print(f"  {name:28s} " + " ".join(f"{x:6.2f}" for x in wall[name]))
    base = "ours, full isolation"
    print("mechanism cost = full - without it (ms per program; negative = noise):")
    for name, mech in (("  without seccomp", "seccomp"), ("  without landlock", "landlock"),
                       ("  without uid switch", "uid switch"),
                       ("  without namespaces+mounts", "namespaces+mounts"),
                       ("  without the spare", "spare (fork ahead)")):  # fmt: skip
        print(
            f"  {mech:20s} wall {med[base] - med[name]:+7.3f}  cpu {cpu_ms[base] - cpu_ms[name]:+7.3f}"
        )
    harness_parts()
    saturated(rounds)


def saturated(rounds: int, workers: int | None = None, per_worker: int = 300) -> None:
    """(e) Throughput with every core busy: `workers` bare warm workers and `workers` bare
    judges against one pool of ours with `workers` workers (full isolation), each driven by
    a thread, interleaved round
    by round. No core is idle, so the pool forks no spare: this is the per-program cost
    that decides how many programs a node judges per second."""
    workers = workers or os.cpu_count() or 2
    bare = [BareWorker("warm") for _ in range(workers)]
    judges = [BareJudge("warm") for _ in range(workers)]
    pool = WorkerPool(workers)
    job = Job(program=PROGRAM, tests=[StdioTest(input="", output="1\n")])
    drivers = {
        "bare fork, warm": [lambda w=w: w.run() for w in bare],
        "bare judge, warm (no isol.)": [lambda w=w: w.run() for w in judges],
        "ours, full isolation": [lambda: pool.run(job) for _ in range(workers)],
    }
    rates: dict[str, list[float]] = {name: [] for name in drivers}

    def drive(run) -> None:
        for _ in range(per_worker):
            run()

    try:
        with ThreadPoolExecutor(workers) as ex:
            for runs in drivers.values():  # warm up
                list(ex.map(lambda run: [run() for _ in range(20)], runs))
            for _ in range(rounds):
                for name, runs in drivers.items():
                    t0 = time.perf_counter()
                    list(ex.map(drive, runs))
                    rates[name].append(workers * per_worker / (time.perf_counter() - t0))
    finally:
        for w in (*bare, *judges):
            w.close()
        pool.close()
    med = {name: statistics.median(r) for name, r in rates.items()}
    base, judge = med["bare fork, warm"], med["bare judge, warm (no isol.)"]
    print(
        f"\n== (e) saturated: {workers} workers in parallel, {rounds} rounds x {per_worker} `print(1)` each"
    )
    print(f"{'':30s} {'programs/s':>10s}  time per program: /warm /judge")
    for name in drivers:
        print(f"{name:30s} {med[name]:10.0f}  {base / med[name]:21.2f} {judge / med[name]:6.2f}")


def harness_parts(n: int = 2000) -> None:
    """Work folder, result channel and comparison, timed in this process."""
    from appsplus.execution.pool import _judge

    tmp = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)  # tmpfs
    t0 = time.perf_counter()
    for _ in range(n):
        d = os.path.join(tmp, "appsplus-run")
        os.mkdir(d, 0o700)
        os.rmdir(d)
    folder = (time.perf_counter() - t0) / n * 1e6
    os.rmdir(tmp)
    frame = {"type": "done", "tests": [{"type": "test", "i": 0, "status": "returned",
             "duration": 1e-4, "output": "1\n", "stderr": "", "error": None}]}  # fmt: skip
    r, w = os.pipe()
    t0 = time.perf_counter()
    for _ in range(n):
        data = json.dumps(frame).encode()
        os.write(w, struct.pack(">I", len(data)) + data)
        (size,) = struct.unpack(">I", os.read(r, 4))
        json.loads(os.read(r, size))
    channel = (time.perf_counter() - t0) / n * 1e6
    os.close(r)
    os.close(w)
    test = StdioTest(input="", output="1\n")
    t0 = time.perf_counter()
    for _ in range(n):
        _judge(test, frame["tests"][0])
    compare = (time.perf_counter() - t0) / n * 1e6
    print(f"  work folder (mkdir+rmdir) {folder:7.1f} us   result channel (frame) {channel:7.1f} us"
          f"   comparison + verdict {compare:7.1f} us")  # fmt: skip


def rerun_as_nonroot(argv: list[str]) -> int:
    """Build the unprivileged uid's venv and checkout (under /opt: the sandbox hides /tmp),
    run this script there as that uid, remove them."""
    import secrets
    import shutil

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "execution"))
    import nonroot_env

    reason = nonroot_env.unavailable_reason()
    if reason:
        print(f"cannot run as an unprivileged uid: {reason}")
        return 1
    base = Path("/opt") / f"appsplus-nonroot-{secrets.token_hex(6)}"
    try:
        env = nonroot_env.build(base)
        script = env["src"] / "executor_speed.py"
        shutil.copy2(__file__, script)
        os.chown(script, nonroot_env.NONROOT_UID, nonroot_env.NONROOT_UID)
        cmd = nonroot_env.command(env, str(script), *argv)
        return subprocess.run(cmd, cwd=env["src"]).returncode
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--programs", type=int, default=2000)
    ap.add_argument("--tests", type=int, default=10)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument(
        "--naive-programs", type=int, default=200, help="programs for the (slow) baseline in (b)"
    )
    ap.add_argument("--skip-real", action="store_true", help="skip (a), the real APPS solutions")
    ap.add_argument("--only", choices=["isolation"], help="run only section (d)")
    ap.add_argument("--rounds", type=int, default=5, help="(d): interleaved rounds")
    ap.add_argument("--programs-per-round", type=int, default=200, help="(d): programs per round")
    ap.add_argument(
        "--as-nonroot",
        action="store_true",
        help="(as root) run this script as an unprivileged uid with a venv of its own: the"
        " rootless mode (the venv the tests use, tests/execution/nonroot_env.py)",
    )
    args = ap.parse_args()
    if args.as_nonroot:
        sys.exit(rerun_as_nonroot([a for a in sys.argv[1:] if a != "--as-nonroot"]))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, uid {os.getuid()}")
    if args.only == "isolation":
        isolation_costs(args.rounds, args.programs_per_round)
        return
    if args.skip_real:
        print("(a) skipped (--skip-real)")
    elif (SHARED / "apps" / "raw").is_dir():
        jobs = real_jobs()
        report("(a) real APPS solutions", jobs, jobs, args.workers)
    else:
        print("(a) skipped: ../shared/data/apps/raw not present")
    jobs = make_programs(args.programs, args.tests)
    report("(b) generated stdio programs", jobs, jobs[: args.naive_programs], args.workers)
    fixed_costs()
    isolation_costs(args.rounds, args.programs_per_round)


if __name__ == "__main__":
    main()
