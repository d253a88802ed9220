"""Ray executor overhead and scaling on this machine, as ratios measured in one run.

    python scripts/ray_speed.py [--programs 800] [--tests 5] [--cpus 2] [--rounds 4] [--apps]

Needs the ray extra (pip install -e ".[ray]"). Starts its own Ray cluster on 127.0.0.1
(Ray's test helper `ray.cluster_utils.Cluster`) and stops it at the end.

(a) overhead: the same jobs on the local pool with C workers and on Ray with the same C
    CPUs (one node, one actor of C sandbox workers). Rounds alternate local, Ray; the
    figure is the median over rounds of Ray time / local time of the same round (a
    noisy round then moves it less than a best-of). Goal: <= 1.2.
(b) scaling (median rounds): Ray on one node of 1 CPU, then on two nodes of 1 CPU each;
    the local pool with 1 and 2 workers alongside says what the machine itself gives.
Jobs: generated stdio programs x T tests (a few ms each: the worst case for overhead),
plus with --apps every solution of the real APPS problems in ../shared/data/apps/raw
(slow: minutes). Absolute times are noisy on a shared machine: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Before ray is imported: a loopback-only cluster must be dialled at 127.0.0.1.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from appsplus.execution import (  # noqa: E402
    Job,
    Limits,
    StdioTest,
    WorkerPool,
    run_many,
    tests_from_apps,
)

SHARED = Path(
    os.environ.get("APPSPLUS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
NODE = {"object_store_memory": 100 * 2**20, "node_ip_address": "127.0.0.1"}


def generated_jobs(n_programs: int, n_tests: int) -> list[Job]:
    """Small stdio programs (a loop of 50-150 steps), each with `n_tests` tests."""
    jobs = []
    for p in range(n_programs):
        k = p % 97 + 2
        program = (
            f"n = int(input())\ns = 0\nfor i in range(n % {k} + 50):\n    s += i * n\nprint(s)\n"
        )
        tests = []
        for t in range(n_tests):
            n = (p * 31 + t * 7) % 1000
            tests.append(
                StdioTest(input=f"{n}\n", output=f"{sum(i * n for i in range(n % k + 50))}\n")
            )
        jobs.append(Job(program=program, tests=tests, limits=Limits(time_s=4.0)))
    return jobs


def apps_jobs() -> list[Job]:
    """Every solution of the real APPS problems in ../shared/data (none if absent)."""
    jobs = []
    for d in sorted((SHARED / "apps" / "raw").glob("*/*")):
        try:
            tests = tests_from_apps(json.loads((d / "input_output.json").read_text()))
            programs = json.loads((d / "solutions.json").read_text())
        except (OSError, ValueError):
            continue
        jobs += [Job(program=p, tests=tests, stop_on_first_failure=True) for p in programs]
    return jobs


def timed(pool, jobs: list[Job]) -> tuple[float, list]:
    started = time.perf_counter()
    results = run_many(jobs, pool=pool)
    return time.perf_counter() - started, results


def verdicts(results) -> list:
    return [r.verdicts for r in results]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--programs", type=int, default=800)
    ap.add_argument("--tests", type=int, default=5)
    ap.add_argument("--cpus", type=int, default=2, help="cores for (a)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--apps", action="store_true", help="add the real APPS solutions")
    args = ap.parse_args()
    try:
        import ray
        from ray.cluster_utils import Cluster
    except ImportError:
        sys.exit('needs the ray extra: pip install -e ".[ray]"')
    from appsplus.execution.ray_executor import RayExecutor

    jobs = generated_jobs(args.programs, args.tests) + (apps_jobs() if args.apps else [])
    n_tests = sum(len(j.tests) for j in jobs)
    print(f"{len(jobs)} jobs, {n_tests} tests; {os.cpu_count()} CPUs on this machine")
    temp = tempfile.mkdtemp(prefix="ray-speed-")
    os.makedirs(os.path.join(temp, "ray"), exist_ok=True)  # Ray writes its address there
    os.environ["RAY_TMPDIR"] = temp  # (default /tmp/ray, absent on a fresh machine)
    head = {**NODE, "num_cpus": args.cpus, "include_dashboard": False, "temp_dir": temp}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    os.environ["RAY_ADDRESS"] = cluster.address
    try:
        # (a) the same cores: local pool vs one Ray actor
        with WorkerPool(args.cpus) as local, RayExecutor() as on_ray:
            run_many(jobs[:50], pool=local), run_many(jobs[:50], pool=on_ray)  # warm up
            best = {"local": float("inf"), "ray": float("inf")}
            ratios = []
            for r in range(args.rounds):
                for name, pool in (("local", local), ("ray", on_ray)):
                    seconds, results = timed(pool, jobs)
                    best[name] = min(best[name], seconds)
                    if name == "local":
                        local_s = seconds
                    else:
                        ratios.append(seconds / local_s)
                    print(
                        f"  round {r + 1} {name:5s} {seconds:6.2f} s  {len(jobs) / seconds:7.1f} jobs/s"
                    )
                    if name == "local":
                        expected = verdicts(results)
                    elif verdicts(results) != expected:
                        sys.exit("Ray and the local pool gave different verdicts")
        ratio = statistics.median(ratios)
        print(
            f"(a) {args.cpus} CPUs, best rounds: local {len(jobs) / best['local']:.1f} jobs/s, "
            f"Ray {len(jobs) / best['ray']:.1f} jobs/s; median of the rounds' "
            f"Ray time / local time = {ratio:.2f} "
            f"(goal <= 1.2: {'met' if ratio <= 1.2 else 'NOT met'})"
        )
        cluster.shutdown()
        ray.shutdown()

        # (b) scaling: one node of 1 CPU, then two
        cluster = Cluster(initialize_head=True, head_node_args={**head, "num_cpus": 1})
        os.environ["RAY_ADDRESS"] = cluster.address
        seconds = {}
        for nodes in (1, 2):
            if nodes == 2:
                cluster.add_node(**NODE, num_cpus=1)
            with RayExecutor() as on_ray:
                assert len(on_ray.nodes()) == nodes
                run_many(jobs[:50], pool=on_ray)
                seconds[f"ray x{nodes}"] = statistics.median(
                    timed(on_ray, jobs)[0] for _ in range(args.rounds)
                )
            with WorkerPool(nodes) as local:
                run_many(jobs[:50], pool=local)
                seconds[f"local x{nodes}"] = statistics.median(
                    timed(local, jobs)[0] for _ in range(args.rounds)
                )
        for name, s in seconds.items():
            print(f"  {name:8s} {s:6.2f} s  {len(jobs) / s:7.1f} jobs/s")
        print(
            f"(b) Ray 1 -> 2 nodes (1 CPU each): x{seconds['ray x1'] / seconds['ray x2']:.2f} "
            f"throughput; local pool 1 -> 2 workers: x{seconds['local x1'] / seconds['local x2']:.2f}"
        )
    finally:
        cluster.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
