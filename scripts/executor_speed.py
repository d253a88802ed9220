"""Executor throughput against a naive fresh-interpreter-per-test baseline, in one run.

    python scripts/executor_speed.py [--programs 2000] [--tests 10] [--workers 2] [--naive-programs 200]

(a) the real APPS canonical solutions in ../shared/data/apps/raw (skipped when absent);
(b) N small generated stdio programs x T tests each.
Both are run with our executor and with the baseline: one `python -I -S prog.py`
subprocess per test, `workers` of them at a time, output judged by the same comparator.
Prints tests/s for each, the speed-up ratio and our overhead per program
(wall x workers / programs - the programs' own run time per program), and
(c) the fixed cost per program and the marginal cost per test on one worker.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from appsplus.execution import (
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

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

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
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
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


if __name__ == "__main__":
    main()
