"""Speed of `appsplus serve` on loopback and of each reward adapter vs `run_many`, in one run.

    python scripts/serve_speed.py --dataset apps-plus-sample --workers 2 --requests 400

Prints (stdout, one JSON object): service throughput and p50/p99 latency for small
programs over /run_code (concurrent clients) and /v1/run (batches), then completions/s of
`run_many` on the same jobs (the baseline) and of the TRL, verl (per sample from threads, as
verl's reward loop calls it, and batched) and OpenRLHF adapters, each as a ratio to the
baseline. Absolute figures depend on the machine's load; compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DOUBLE = "print(int(input()) * 2)\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workers: int) -> tuple[subprocess.Popen, str]:
    import requests

    port = free_port()
    command = [sys.executable, "-c", "from appsplus.cli.app import main; main()", "serve"]
    command += ["--port", str(port), "--workers", str(workers), "--max-pending", "100000"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(url + "/health", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def service(url: str, n: int, clients: int) -> dict:
    import requests

    session_of: dict[int, requests.Session] = {}

    def one(i: int) -> float:
        import threading

        s = session_of.setdefault(threading.get_ident(), requests.Session())
        t = time.perf_counter()
        body = {"code": DOUBLE, "language": "python", "stdin": f"{i}\n", "run_timeout": 5}
        r = s.post(url + "/run_code", json=body, timeout=60)
        assert r.status_code == 200 and r.json()["run_result"]["stdout"] == f"{2 * i}\n", r.text
        return time.perf_counter() - t

    with ThreadPoolExecutor(clients) as ex:
        list(ex.map(one, range(min(n, 20))))  # warm up workers and connections
        t = time.perf_counter()
        latencies = list(ex.map(one, range(n)))
        wall = time.perf_counter() - t
    batch = [{"program": DOUBLE, "tests": {"inputs": ["3\n"], "outputs": ["6\n"]}}] * 50
    t = time.perf_counter()
    rounds = max(1, n // 50)
    for _ in range(rounds):
        r = requests.post(url + "/v1/run", json={"jobs": batch}, timeout=120)
        assert r.status_code == 200 and all(x["passed"] for x in r.json()["results"])
    batch_wall = time.perf_counter() - t
    return {
        "run_code_requests": n,
        "clients": clients,
        "run_code_req_per_s": round(n / wall, 1),
        "run_code_p50_ms": round(1000 * percentile(latencies, 0.5), 2),
        "run_code_p99_ms": round(1000 * percentile(latencies, 0.99), 2),
        "v1_run_programs_per_s": round(rounds * 50 / batch_wall, 1),
    }


def rewards(dataset: Path, workers: int, repeat: int) -> dict:
    from appsplus.dataset import load
    from appsplus.execution import open_executor, run_many
    from appsplus.integrations import openrlhf, verl
    from appsplus.integrations.scoring import Item, RewardConfig, Scorer, tests_json
    from appsplus.integrations.trl import CodeReward
    from appsplus.record import Record

    ds = load(dataset)
    records = [Record.from_row(r) for split in ds for r in ds[split]]
    completions, tests, fn_names = [], [], []
    for _ in range(repeat):
        for r in records:
            for code in (r.canonical_solution, "print(input())\n"):
                completions.append(f"```python\n{code}```")
                tests.append(tests_json(r.tests))
                fn_names.append(r.fn_name)
    n = len(completions)
    os.environ["APPSPLUS_REWARD_SHAPE"] = "binary"
    figures: dict[str, float] = {"completions": n}
    options = {"shape": "binary", "workers": workers}

    with open_executor("local", workers) as ex:
        scorer = Scorer(RewardConfig(**options), executor=ex)
        jobs = [
            scorer.job(Item(text=c, tests=t, fn_name=f))[0]
            for c, t, f in zip(completions, tests, fn_names)
        ]
        run_many(jobs[: 2 * workers], pool=ex)  # start the workers
        t = time.perf_counter()
        base = run_many(jobs, pool=ex)
        figures["run_many_per_s"] = n / (time.perf_counter() - t)
        expected = [1.0 if r.passed else 0.0 for r in base]

        def timed(name: str, call) -> None:
            t = time.perf_counter()
            values = call()
            rate = n / (time.perf_counter() - t)
            assert values == expected, f"{name} disagrees with run_many"
            figures[f"{name}_per_s"] = rate
            figures[f"{name}_ratio"] = rate / figures["run_many_per_s"]

        trl = CodeReward(scorer=scorer)
        timed("trl", lambda: trl(prompts=[""] * n, completions=completions, tests=tests))
        shared = verl.shared_scorer(**options)
        run_many(jobs[: 2 * workers], pool=shared.executor)  # same warm start as the baseline
        timed(
            "verl_batch",
            lambda: [
                x["score"]
                for x in verl.compute_score_batch(["a"] * n, completions, tests, None, **options)
            ],
        )
        with ThreadPoolExecutor(64) as threads:  # verl's reward loop: one call per sample
            timed(
                "verl_per_sample",
                lambda: list(
                    threads.map(
                        lambda ct: verl.compute_score("a", ct[0], ct[1], None, **options)["score"],
                        zip(completions, tests),
                    )
                ),
            )
        openrlhf.reward_func(completions[:2], ["", ""], tests[:2])  # torch's one-time import
        timed(
            "openrlhf",
            lambda: [
                float(v) for v in openrlhf.reward_func(completions, [""] * n, tests)["rewards"]
            ],
        )
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="an `appsplus build` folder")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=4, help="copies of the dataset's jobs")
    args = parser.parse_args()
    proc, url = start(args.workers)
    try:
        out = {"service": service(url, args.requests, args.clients)}
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    out["rewards"] = rewards(args.dataset, args.workers, args.repeat)
    out["workers"] = args.workers
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
