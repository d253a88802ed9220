"""Scale of the published-format sources (issue 24.4): rows/s and peak memory, in one run.

    python scripts/sources_scale.py [--rows 30000] [--limit 200] [--workers 2]
                                    [--real-limit 40] [--keep DIR]

1. Writes synthetic sources of `--rows` rows in each published format into a temp folder
   (nothing is committed): TACO (train.jsonl and the hub's parquet layout,
   ALL/train-00000-of-00001.parquet), CodeContests (train.jsonl: public, private and
   generated tests, Python 3/2 and C++ solutions), LiveCodeBench (test.jsonl: private
   tests packed as it packs them, no solutions: its build runs with --tests-only) and APPS
   (train.jsonl in the codeparrot/apps row format).
   Every row is different (statements of seeded random words, constants in the programs),
   about 3-6 kB as in the real datasets' rows of median size.
2. Normalization alone (read + normalize, streaming), each source in a fresh child process:
   rows/s and the child's peak RSS (ru_maxrss) after 5k, 10k, 20k and 30k rows. Flat
   memory means the reader streams; a reader that loads the whole file grows with the rows.
3. A full build of each through the real `appsplus build --limit N --workers W` (a fresh
   child process and output folder): wall time, rows/s, the build process's peak RSS and
   the CPU seconds of the build and its sandbox workers (RUSAGE_CHILDREN).
4. The per-problem cost of real problems: `appsplus build` of the StepCoder APPS+ sample
   (../shared/data, skipped when absent) with `--limit --real-limit`, default quality steps:
   CPU seconds per kept problem (verification + quality, all processes), which the
   README's estimate of a full TACO + CodeContests build scales up.

Wall times on a shared machine are noisy (compare the rows/s of the sources with each
other within the run); the CPU seconds are less so.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from appsplus.bench.suites.lcb_tests import encode_private_tests

SHARED = Path(
    os.environ.get("APPSPLUS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
MARKS = (5_000, 10_000, 20_000, 30_000)
WORDS = [
    "array",
    "graph",
    "tree",
    "string",
    "integer",
    "query",
    "sum",
    "minimum",
    "maximum",
    "path",
    "cost",
    "order",
    "segment",
    "prefix",
    "suffix",
    "count",
    "pair",
    "distinct",
    "subsequence",
    "grid",
    "cell",
    "move",
    "robot",
    "coin",
    "bit",
    "modulo",
    "prime",
    "divisor",
    "interval",
    "point",
    "circle",
    "vertex",
    "edge",
    "cycle",
    "sort",
    "swap",
    "reverse",
    "game",
    "player",
    "turn",
    "score",
    "team",
    "city",
    "road",
    "time",
    "day",
    "item",
    "weight",
    "value",
    "bag",
    "box",
    "number",
    "digit",
    "letter",
]


def _statement(rng: random.Random, i: int) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(120, 400)))
    return (
        f"Problem {i}: {body}.\n\n-----Input-----\nTwo integers a and b "
        f"(1 ≤ a, b ≤ 10^9).\n\n-----Output-----\nPrint the answer."
    )


def _program(k: int, variant: int) -> str:
    return f"a, b = map(int, input().split())\n# variant {variant}\nprint(a * {k} + b)\n"


def _tests(rng: random.Random, k: int, n: int) -> tuple[list[str], list[str]]:
    pairs = [(rng.randint(1, 10**9), rng.randint(1, 10**9)) for _ in range(n)]
    return [f"{a} {b}\n" for a, b in pairs], [f"{a * k + b}\n" for a, b in pairs]


def taco_row(rng: random.Random, i: int) -> dict:
    k = rng.randint(2, 99)
    ins, outs = _tests(rng, k, rng.randint(5, 30))
    return {
        "question": _statement(rng, i),
        "solutions": json.dumps([_program(k, v) for v in range(rng.randint(1, 8))]),
        "starter_code": "",
        "input_output": json.dumps({"inputs": ins, "outputs": outs}),
        "difficulty": rng.choice(["EASY", "MEDIUM", "MEDIUM_HARD", "HARD", "VERY_HARD"]),
        "raw_tags": "['math', 'implementation']",
        "name": f"synthetic {i}",
        "source": rng.choice(["codeforces", "codechef", "atcoder", "hackerrank"]),
        "tags": "['Mathematics']",
        "skill_types": "[]",
        "url": f"https://codeforces.com/problemset/problem/{90000 + i}/A",
        "Expected Auxiliary Space": None,
        "time_limit": "2.0 seconds",
        "date": "2021-05-01",
        "picture_num": "0",
        "memory_limit": "256.0 megabytes",
        "Expected Time Complexity": None,
    }


def codecontests_row(rng: random.Random, i: int) -> dict:
    k = rng.randint(2, 99)
    groups = {}
    for group, n in (("public_tests", 2), ("private_tests", 5), ("generated_tests", 25)):
        ins, outs = _tests(rng, k, n)
        groups[group] = {"input": ins, "output": outs}
    solutions = [_program(k, v) for v in range(rng.randint(1, 4))]
    return {
        "name": f"{90000 + i}_A. Synthetic {i}",
        "description": _statement(rng, i),
        **groups,
        "source": 2,
        "difficulty": rng.choice([0, 7, 8, 9]),
        "solutions": {
            "language": [2, 1, *[3] * len(solutions)],
            "solution": ["int main(){}\n", "print 1\n", *solutions],
        },
        "incorrect_solutions": {"language": [3], "solution": [_program(k + 1, 0)]},
        "cf_contest_id": 90000 + i,
        "cf_index": "A",
        "cf_points": 0.0,
        "cf_rating": rng.choice([800, 1200, 1600, 2000]),
        "cf_tags": ["math"],
        "is_description_translated": False,
        "untranslated_description": "",
        "time_limit": {"seconds": 2, "nanos": 0} if i % 3 else None,
        "memory_limit_bytes": 256000000,
        "input_file": "",
        "output_file": "",
    }


def livecodebench_row(rng: random.Random, i: int) -> dict:
    k = rng.randint(2, 99)
    ins, outs = _tests(rng, k, 10)
    cases = [{"input": a, "output": b, "testtype": "stdin"} for a, b in zip(ins, outs)]
    private = encode_private_tests(cases[1:])  # as LiveCodeBench stores them
    return {
        "question_title": f"Synthetic {i}",
        "question_content": _statement(rng, i),
        "platform": "atcoder",
        "question_id": f"abc{9000 + i}_a",
        "contest_id": f"abc{9000 + i}",
        "contest_date": "2024-05-04T00:00:00",
        "starter_code": "",
        "difficulty": rng.choice(["easy", "medium", "hard"]),
        "public_test_cases": json.dumps(cases[:1]),
        "private_test_cases": private,
        "metadata": "{}",
    }


def apps_row(rng: random.Random, i: int) -> dict:
    k = rng.randint(2, 99)
    ins, outs = _tests(rng, k, rng.randint(3, 20))
    return {
        "problem_id": i,
        "question": _statement(rng, i),
        "solutions": json.dumps([_program(k, v) for v in range(rng.randint(1, 8))]),
        "input_output": json.dumps({"inputs": ins, "outputs": outs}),
        "difficulty": "interview",
        "url": f"https://codeforces.com/problemset/problem/{90000 + i}/A",
        "starter_code": "",
    }


MAKERS = {
    "taco": taco_row,
    "codecontests": codecontests_row,
    "livecodebench": livecodebench_row,
    "apps": apps_row,
}


def write_sources(root: Path, rows: int) -> dict[str, str]:
    """One folder per format; returns name -> --source spec."""
    specs = {}
    for name, make in MAKERS.items():
        folder = root / name
        folder.mkdir(parents=True)
        rng = random.Random(f"scale:{name}")
        path = folder / ("test.jsonl" if name == "livecodebench" else "train.jsonl")
        with path.open("w") as f:
            for i in range(rows):
                f.write(json.dumps(make(rng, i)) + "\n")
        specs[name] = f"{name}:{folder}" if name != "apps" else str(path)
    # TACO as the hub stores it: parquet under ALL/
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / "taco-parquet" / "ALL"
    folder.mkdir(parents=True)
    rng = random.Random("scale:taco")
    writer = None
    batch: list[dict] = []
    for i in range(rows):
        batch.append(taco_row(rng, i))
        if len(batch) == 1000 or i == rows - 1:
            table = pa.Table.from_pylist(batch)
            if writer is None:
                writer = pq.ParquetWriter(folder / "train-00000-of-00001.parquet", table.schema)
            writer.write_table(table)
            batch = []
    if writer is not None:
        writer.close()
    specs["taco (parquet)"] = f"taco:{folder.parent}"
    return specs


CHILD = """
import json, resource, sys, time
from appsplus.curate.normalize import normalize
from appsplus.schema import Problem
from appsplus.sources import open_source
marks = set(json.loads(sys.argv[2]))
start = time.monotonic()
kept = n = 0
for n, row in enumerate(open_source(sys.argv[1]).iter_rows(), start=1):
    kept += isinstance(normalize(row), Problem)
    if n in marks:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"rows": n, "s": time.monotonic() - start, "rss_mb": rss, "kept": kept}))
        sys.stdout.flush()
"""


CONTROL = CHILD.replace("kept = n = 0", "kept = n = 0\nheld = []").replace(
    "    kept += ", "    held.append(row)\n    kept += "
)


def normalization(spec: str, marks: list[int], child: str = CHILD) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-c", child, spec, json.dumps(marks)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


WRAP = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[2:], capture_output=True, text=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    json.dump({"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-2000:],
               "cpu_s": u.ru_utime + u.ru_stime, "rss_mb": u.ru_maxrss / 1024}, f)
"""


def build(spec: str, out: Path, limit: int, workers: int, extra: list[str]) -> dict:
    """One `appsplus build` in a wrapper process of its own, so that its peak RSS (the
    largest of the build and its workers) and CPU time are this build's alone."""
    started = time.monotonic()
    cmd = [
        shutil.which("appsplus") or str(Path(sys.executable).parent / "appsplus"), "build", "--source", spec, "--out", str(out),
        "--limit", str(limit), "--workers", str(workers), "--json", *extra,
    ]  # fmt: skip
    report = out.parent / f"{out.name}.usage.json"
    subprocess.run([sys.executable, "-c", WRAP, str(report), *cmd], check=True)
    wall = time.monotonic() - started
    done = json.loads(report.read_text())
    report.unlink()
    if done["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done['stderr']}")
    manifest = json.loads(done["stdout"])
    counts = manifest["counts"]
    return {
        "wall_s": wall,
        "cpu_s": done["cpu_s"],
        "read": counts["read"],
        "kept": counts["kept"],
        "rejected": manifest.get("rejected_by_reason", {}),
        "rss_mb": done["rss_mb"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=30_000, help="rows per synthetic source")
    ap.add_argument("--limit", type=int, default=200, help="--limit of the full builds")
    ap.add_argument("--workers", type=int, default=2, help="sandbox workers of the builds")
    ap.add_argument("--real-limit", type=int, default=40, help="real problems for the cost")
    ap.add_argument("--keep", type=Path, default=None, help="write the sources here, keep them")
    ap.add_argument("--skip-builds", action="store_true", help="normalization only")
    ap.add_argument(
        "--skip-synthetic-builds", action="store_true", help="no builds of the synthetic sources"
    )
    args = ap.parse_args()
    marks = [m for m in MARKS if m <= args.rows] or [args.rows]
    root = args.keep or Path(tempfile.mkdtemp(prefix="appsplus-scale-"))
    try:
        t0 = time.monotonic()
        specs = write_sources(root, args.rows)
        sizes = {
            n: sum(p.stat().st_size for p in (root / n.split()[0]).rglob("*") if p.is_file())
            for n in specs
        }
        print(f"wrote {len(specs)} sources of {args.rows} rows in {time.monotonic() - t0:.0f} s")
        print("\n## normalization alone (read + normalize, one child process per source)")
        print("| source | file MB | rows/s | " + " | ".join(f"RSS MB @{m}" for m in marks) + " |")
        print("|---|---|---|" + "---|" * len(marks))
        for name, spec in specs.items():
            points = normalization(spec, marks)
            rate = points[-1]["rows"] / points[-1]["s"] if points else 0
            rss = " | ".join(f"{p['rss_mb']:.0f}" for p in points)
            print(f"| {name} | {sizes[name] / 2**20:.0f} | {rate:,.0f} | {rss} |")
        # the control: the same reading, every row also held in a list (as a reader that
        # keeps what it read would): its RSS grows with the rows, so the measure can see it
        points = normalization(specs["taco"], marks, CONTROL)
        rss = " | ".join(f"{p['rss_mb']:.0f}" for p in points)
        print(f"| control: taco held in a list | {sizes['taco'] / 2**20:.0f} | - | {rss} |")
        if args.skip_builds:
            return 0
        if args.skip_synthetic_builds:
            specs = {}
        print(f"\n## appsplus build --limit {args.limit} --workers {args.workers}")
        print("| source | read | kept | wall s | rows/s | build RSS MB | CPU s | rejected |")
        print("|---|---|---|---|---|---|---|---|")
        for name, spec in specs.items():
            extra = ["--tests-only"] if name == "livecodebench" else []
            r = build(spec, root / f"out-{name.split()[0]}", args.limit, args.workers, extra)
            print(
                f"| {name} | {r['read']} | {r['kept']} | {r['wall_s']:.0f} | "
                f"{r['read'] / r['wall_s']:.1f} | {r['rss_mb']:.0f} | {r['cpu_s']:.0f} | "
                f"{r['rejected']} |"
            )
            shutil.rmtree(root / f"out-{name.split()[0]}", ignore_errors=True)
        real = SHARED / "apps-plus" / "stepcoder_apps_plus_sample.json"
        if not real.is_file():
            print(f"\n{real} is absent: no per-problem cost of real problems")
            return 0
        from appsplus.curate.normalize import normalize
        from appsplus.schema import Problem
        from appsplus.sources import open_source

        runs = 0  # solution x test executions that verification makes
        for n, row in enumerate(open_source(f"stepcoder:{real}").iter_rows()):
            if n >= args.real_limit:
                break
            p = normalize(row)
            runs += len(p.solutions) * len(p.tests) if isinstance(p, Problem) else 0
        print(f"\n## real problems: StepCoder APPS+ sample, --limit {args.real_limit}")
        print(f"verification runs (solutions x tests): {runs}")
        for label, extra in (("verification only", ["--no-mutation", "--no-rerun"]),
                             ("verification + quality", [])):  # fmt: skip
            r = build(f"stepcoder:{real}", root / "out-real", args.real_limit, args.workers, extra)
            shutil.rmtree(root / "out-real", ignore_errors=True)
            print(
                f"{label}: {r['kept']} kept of {r['read']}, wall {r['wall_s']:.0f} s, "
                f"CPU {r['cpu_s']:.0f} s = {r['cpu_s'] / max(r['kept'], 1):.2f} CPU s per kept "
                f"problem"
                + (
                    f", {1000 * r['cpu_s'] / max(runs, 1):.1f} CPU ms per verification run "
                    "(the build process's start included)"
                    if extra
                    else ""
                )
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
