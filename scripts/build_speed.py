"""Build throughput, peak memory and overhead of `appsplus build`, in one run.

    python scripts/build_speed.py [--workers 2] [--synthetic 5000 1000] [--max-solutions 2]

(a) real data from ../shared/data (skipped with a message when absent): the raw APPS folder
    tree (10 problems), apps_rows.jsonl (306 rows) and the StepCoder APPS+ sample (300);
(b) synthetic inputs of N problems made by replicating the real apps_rows.jsonl rows that
    have solutions under new ids (written to a temp jsonl). Each replica's solutions get a
    trailing `# replica N` comment, so the content-addressed cache cannot answer a replica
    from an earlier copy and every replica is really executed. `--max-solutions` keeps the
    first K solutions of each replicated row to bound the run time.

Each build runs in a fresh child process with a fresh output folder (so a fresh cache) and
reports: problems/s (rows read per second of wall time), the CPU time of the build
process itself (reading, normalizing, judging, writing: on a machine with as many cores as
workers it competes with the programs), the peak resident memory of the
build process (ru_maxrss of itself) and of its sandbox workers (of its children), and the
overhead ratio = build wall time / (sum of the executed tests' own run time / workers),
where a test's run time is the wall time the sandbox measured for the program on it.
Targets: overhead ratio <= 1.5, and peak memory flat in the input size (compare the
synthetic sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(
    os.environ.get("APPSPLUS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def child(source: str, out: str, workers: int, time_limit: float) -> None:
    """Run one build in this process and print its figures as one JSON line."""
    from appsplus.curate.pipeline import BuildConfig, build
    from appsplus.curate.verify import VerifyConfig
    from appsplus.execution import Limits

    config = BuildConfig(source=source, verify=VerifyConfig(limits=Limits(time_s=time_limit)))
    started = time.monotonic()
    report = build(config, Path(out), workers=workers)
    wall = time.monotonic() - started
    c = report.manifest.counts
    print(
        json.dumps(
            {
                "read": c.read,
                "kept": c.kept,
                "rejected": c.rejected,
                "jobs": report.executed_jobs,
                "cache_hits": report.cache_hits,
                "executed_s": report.executed_s,
                "wall_s": wall,
                "workers": report.workers,
                "driver_cpu_s": _cpu(resource.getrusage(resource.RUSAGE_SELF)),
                "maxrss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "maxrss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )


def run_build(label: str, source: str, workers: int, time_limit: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="appsplus-bench-") as tmp:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            source,
            str(Path(tmp) / "out"),
            "--workers",
            str(workers),
            "--time-limit",
            str(time_limit),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{label}: build failed:\n{proc.stderr[-3000:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["label"] = label
    busy = figures["executed_s"] / figures["workers"]
    figures["problems_per_s"] = figures["read"] / figures["wall_s"]
    figures["overhead_ratio"] = figures["wall_s"] / busy if busy > 0 else float("nan")
    print(
        f"{label:<34} {figures['read']:>6} rows {figures['kept']:>5} kept "
        f"{figures['jobs']:>6} jobs  wall {figures['wall_s']:7.1f} s  "
        f"{figures['problems_per_s']:7.1f} problems/s  programs {figures['executed_s']:7.1f} s  "
        f"overhead x{figures['overhead_ratio']:.2f}  build process CPU "
        f"{figures['driver_cpu_s']:.1f} s  peak RSS build "
        f"{figures['maxrss_self_mb']:.0f} MB, workers {figures['maxrss_children_mb']:.0f} MB",
        flush=True,
    )
    return figures


def synthetic_rows(n: int, max_solutions: int) -> list[str]:
    """n jsonl lines: the apps_rows.jsonl rows with solutions, replicated under new ids."""
    base = []
    for line in (SHARED / "apps" / "apps_rows.jsonl").read_text().splitlines():
        row = json.loads(line)
        solutions = json.loads(row["solutions"]) if row.get("solutions") else []
        if solutions:
            base.append((row, solutions[:max_solutions]))
    lines = []
    for i in range(n):
        row, solutions = base[i % len(base)]
        copy = dict(row)
        copy["problem_id"] = 100_000 + i
        copy["split"] = row["split"]
        tag = f"\n# replica {i}\n"
        copy["solutions"] = json.dumps([s + tag for s in solutions])
        lines.append(json.dumps(copy))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=4.0)
    parser.add_argument("--synthetic", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--max-solutions", type=int, default=2)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.workers, args.time_limit)
        return
    if not SHARED.is_dir():
        print(f"skipped: the real data folder {SHARED} is absent (a fresh clone has no shared/)")
        return
    print(f"workers={args.workers}, time limit {args.time_limit} s per test")
    if not args.skip_real:
        run_build(
            "raw APPS folders (10 problems)",
            str(SHARED / "apps" / "raw"),
            args.workers,
            args.time_limit,
        )
        run_build(
            "apps_rows.jsonl (306 rows)",
            str(SHARED / "apps" / "apps_rows.jsonl"),
            args.workers,
            args.time_limit,
        )
        spec = "stepcoder:" + str(SHARED / "apps-plus" / "stepcoder_apps_plus_sample.json")
        run_build("StepCoder APPS+ sample (300)", spec, args.workers, args.time_limit)
    results = []
    for n in args.synthetic:
        with tempfile.TemporaryDirectory(prefix="appsplus-bench-src-") as tmp:
            path = Path(tmp) / "rows.jsonl"  # no split in the name: rows carry their own
            path.write_text("\n".join(synthetic_rows(n, args.max_solutions)) + "\n")
            label = f"synthetic {n} (<= {args.max_solutions} sol/problem)"
            results.append(run_build(label, str(path), args.workers, args.time_limit))
    if len(results) >= 2:
        small, large = results[0], results[-1]
        print(
            f"peak RSS of the build process: {small['maxrss_self_mb']:.0f} MB at {small['read']} "
            f"problems vs {large['maxrss_self_mb']:.0f} MB at {large['read']} problems "
            f"(x{large['maxrss_self_mb'] / small['maxrss_self_mb']:.2f} for "
            f"x{large['read'] / small['read']:.1f} the input)"
        )


if __name__ == "__main__":
    main()
