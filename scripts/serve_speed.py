"""Speed of `appsplus serve` on loopback and of each reward adapter vs `run_many`, in one run.

    python scripts/serve_speed.py --clients 64 --requests 400
    python scripts/serve_speed.py --dataset apps-plus-sample --workers 2 --requests 400
    git archive HEAD~3 appsplus | tar -x -C /tmp/before      # an older appsplus, to compare
    python scripts/serve_speed.py --baseline /tmp/before --clients 64 --rounds 3

Prints (stdout, one JSON object): for each server (this tree's, and `--baseline`'s: the
`appsplus` package under that folder, run from there), its throughput and p50/p99 latency
for small programs over /run_code from `--clients` concurrent clients, and programs/s over
/v1/run (batches of 50), both with its default admission (how many answers were "retry
later": 429/503/504, each retried after 50 ms, at most 200 times) and with admission
unbounded (`--max-pending 100000`: serving speed alone). Rounds alternate the servers (ABBA...)
so both see the same machine state; figures are medians over rounds, with ratios to the
baseline. With `--dataset`, then completions/s of `run_many` on the same jobs (the
baseline) and of the TRL, verl (per sample from threads, as verl's reward loop calls it,
and batched) and OpenRLHF adapters, each as a ratio to `run_many`. Absolute figures
depend on the machine's load; compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DOUBLE = "print(int(input()) * 2)\n"
SHED = (429, 503, 504)  # "retry later", as each server version says it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workers: int, source: Path | None = None, *extra: str) -> tuple[subprocess.Popen, str]:
    """`appsplus serve` from this tree, or from the `appsplus` package under `source`."""
    import requests

    port = free_port()
    command = [sys.executable, "-c", "from appsplus.cli.app import main; main()", "serve"]
    command += ["--port", str(port), "--workers", str(workers), *extra]
    env, cwd = dict(os.environ), None
    if source is not None:  # `python -c` puts its working folder first on sys.path
        env["PYTHONPATH"] = str(source)
        cwd = source
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(url + "/health", timeout=1)
            return proc, url
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise SystemExit(f"the server ({source or 'this tree'}) exited at start") from None
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def service(url: str, n: int, clients: int) -> dict:
    """One round against one server: `n` /run_code requests from `clients` threads, then
    /v1/run batches; every answer checked; "retry later" answers retried (bounded)."""
    import requests

    local = threading.local()
    shed = {"answers": 0, "requests": 0}
    lock = threading.Lock()

    def post(path: str, body: dict, timeout: float) -> requests.Response:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        refused = 0
        for _ in range(200):
            r = local.session.post(url + path, json=body, timeout=timeout)
            if r.status_code not in SHED:
                break
            refused += 1
            time.sleep(0.05)
        with lock:
            shed["answers"] += refused
            shed["requests"] += refused > 0
        return r

    def one(i: int) -> float:
        t = time.perf_counter()
        body = {"code": DOUBLE, "language": "python", "stdin": f"{i}\n", "run_timeout": 5}
        r = post("/run_code", body, 60)
        assert r.status_code == 200 and r.json()["run_result"]["stdout"] == f"{2 * i}\n", r.text
        return time.perf_counter() - t

    with ThreadPoolExecutor(clients) as ex:
        list(ex.map(one, range(min(n, 2 * clients))))  # warm up workers and connections
        shed.update(answers=0, requests=0)
        t = time.perf_counter()
        latencies = list(ex.map(one, range(n)))
        wall = time.perf_counter() - t
    out = {
        "run_code_req_per_s": n / wall,
        "run_code_p50_ms": 1000 * percentile(latencies, 0.5),
        "run_code_p99_ms": 1000 * percentile(latencies, 0.99),
        "run_code_shed_answers": shed["answers"],
        "run_code_shed_requests": shed["requests"],  # verl scores each of these -1
    }
    batch = [{"program": DOUBLE, "tests": {"inputs": ["3\n"], "outputs": ["6\n"]}}] * 50
    rounds = max(1, n // 50)
    t = time.perf_counter()
    for _ in range(rounds):
        r = post("/v1/run", {"jobs": batch}, 120)
        if r.status_code != 200:  # refused 200 times in a row: never admitted
            out["v1_run_programs_per_s"] = None
            out["v1_run_refused"] = r.status_code
            return out
        assert all(x["passed"] for x in r.json()["results"])
    out["v1_run_programs_per_s"] = rounds * 50 / (time.perf_counter() - t)
    return out


def compare(args) -> dict:
    """Rounds alternating the servers (this tree's, the baseline's) in each admission mode."""
    servers = {"after": None} if args.baseline is None else {"before": args.baseline, "after": None}
    modes = {"default_admission": (), "unbounded_admission": ("--max-pending", "100000")}
    modes = {k: v for k, v in modes.items() if args.mode in ("both", k.split("_")[0])}
    out: dict = {"clients": args.clients, "requests": args.requests, "rounds": args.rounds}
    for mode, extra in modes.items():
        running = {name: start(args.workers, source, *extra) for name, source in servers.items()}
        rounds: dict[str, list[dict]] = {name: [] for name in servers}
        try:
            for i in range(args.rounds):  # ABBA...: a drift in the machine's load cancels
                order = list(running.items())
                for name, (_, url) in order if i % 2 == 0 else order[::-1]:
                    rounds[name].append(service(url, args.requests, args.clients))
        finally:
            for proc, _ in running.values():
                proc.terminate()
                proc.wait(timeout=60)
        figures = {name: median(rs) for name, rs in rounds.items()}
        if "before" in figures:
            before, after = figures["before"], figures["after"]
            figures["after_over_before"] = {
                key: round(after[key] / before[key], 3)
                for key in ("run_code_req_per_s", "run_code_p50_ms", "run_code_p99_ms")
                + ("v1_run_programs_per_s",)
                if all(isinstance(x.get(key), int | float) and x[key] for x in (after, before))
            }
        out[mode] = figures
    return out


def median(rounds: list[dict]) -> dict:
    keys = rounds[0].keys()
    out = {}
    for key in keys:
        values = [r.get(key) for r in rounds]
        numbers = [v for v in values if isinstance(v, int | float)]
        if len(numbers) == len(values):
            out[key] = round(statistics.median(numbers), 2)
        else:  # e.g. None: a batch never admitted
            out[key] = values[0] if len(set(map(repr, values))) == 1 else values
    return out


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
    parser.add_argument("--dataset", type=Path, help="an `appsplus build` folder: adapters too")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=64, help="verl's default concurrency")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per server, alternating")
    parser.add_argument(
        "--mode", choices=("both", "default", "unbounded"), default="both", help="admission"
    )
    parser.add_argument(
        "--baseline", type=Path, help="a folder holding another `appsplus` package to compare"
    )
    parser.add_argument("--repeat", type=int, default=4, help="copies of the dataset's jobs")
    args = parser.parse_args()
    if args.baseline is not None and not (args.baseline / "appsplus" / "cli").is_dir():
        parser.error(f"--baseline {args.baseline}: no appsplus/cli package in that folder")
    out = {"service": compare(args), "workers": args.workers}
    if args.dataset is not None:
        out["rewards"] = rewards(args.dataset, args.workers, args.repeat)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
