"""Time `appsplus quality DATASET --html` at APPS+ size: a synthetic build folder of N kept
problems (default 7,413, the released APPS+) and R rejections, then the page.

    python scripts/quality_report_speed.py                  # 7,413 problems, in a temp folder
    python scripts/quality_report_speed.py --problems 500 --keep /tmp/q-speed

Writes a build folder (train/test.parquet of records with quality data, rejections.jsonl,
manifest.json with the file hashes, as `appsplus build` writes them; nothing is executed):
canonical programs of 20-40 lines, 6-14 tests, mutation scores drawn from a skewed
distribution, surviving mutants picked among the seeded mutants the build would have made
(so the report regenerates each one), 2 generated tests for most problems, and duplicate,
contamination and other rejections. Prints the time to write the page, the size of the page
and of OUT_files/, and, where the system Chromium and playwright are installed, the time
until the problem table is drawn and until a weak problem's mutant diff shows.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from appsplus import __version__
from appsplus.curate.manifest import Counts, FileInfo, Manifest, SourceInfo, sha256_file
from appsplus.curate.pipeline import record_schema
from appsplus.execution import StdioTest
from appsplus.quality import mutate
from appsplus.quality.html import write_quality_html
from appsplus.quality.models import GeneratedTest, Quality, QualityConfig
from appsplus.quality.report import summarize
from appsplus.record import Provenance, Record, compute_content_hash

DIFFICULTIES = ("introductory", "interview", "competition")
REASONS = {  # rejections of a full APPS build, roughly in proportion
    "no_passing_solution": 0.45,
    "no_solutions": 0.2,
    "disputed_expected_output": 0.1,
    "duplicate_problem": 0.1,
    "contaminated": 0.05,
    "too_few_tests": 0.1,
}


def program(i: int, rng: random.Random) -> str:
    body = [
        "import sys",
        "",
        "def solve(n, xs):",
        "    best = 0",
        "    total = 0",
    ]
    for k in range(rng.randint(4, 12)):
        op = rng.choice(["+", "-", "*", "//", "%"])
        cmp = rng.choice(["<", "<=", ">", ">=", "==", "!="])
        body += [
            f"    for j in range({k + 1}, n):",
            f"        if xs[j] {cmp} xs[j - 1] and j % {k + 2} != 0:",
            f"            total = (total {op} xs[j]) % 1000000007",
        ]
    body += [
        "    best = max(best, total)",
        "    return best",
        "",
        "data = sys.stdin.read().split()",
        "n = int(data[0])",
        "xs = list(map(int, data[1:n + 1]))",
        f"print(solve(n, xs) + {i % 7})",
    ]
    return "\n".join(body) + "\n"


def point_ids(canonical: str, k: int, seed: str) -> list[str]:
    """The ids of the seeded sample of mutation points a build draws (`mutate.mutants`),
    without building the mutants (a point whose mutant equals the original is rare)."""
    points = list(mutate._points(ast.parse(canonical)))
    chosen = range(len(points))
    if len(points) > k:
        chosen = sorted(random.Random(seed).sample(range(len(points)), k))
    ids = [f"{points[i][0]}@{points[i][1].lineno}:{points[i][1].col_offset}" for i in chosen]
    return [i for i in dict.fromkeys(ids)]  # the first of repeated ids (no #k suffix)


def synthetic_build(out: Path, n_problems: int, n_rejected: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    config = QualityConfig(augment_tests=2)
    rows: dict[str, list[dict]] = {"train": [], "test": []}
    kept = Counter()
    qualities = []
    for i in range(n_problems):
        split = "train" if i % 2 else "test"
        pid = f"apps/{split}/{i:05d}"
        canonical = program(i, rng)
        tests = [
            StdioTest(input=f"5\n{' '.join(str(rng.randint(1, 99)) for _ in range(5))}\n", output="0\n")
            for _ in range(rng.randint(6, 14))
        ]  # fmt: skip
        points = point_ids(canonical, config.max_mutants, f"{config.seed}:{pid}")
        survived = []
        if rng.random() < 0.5:  # half the problems keep 1-6 survivors, as weak tests do
            k = rng.choice([1, 1, 1, 2, 2, 3, 4, 6])
            survived = rng.sample(points, min(k, len(points) - 1))
        killed = len(points) - len(survived)
        score = round(killed / len(points), 4)
        generated = []
        if rng.random() < 0.8:
            for _ in range(2):
                generated.append(
                    GeneratedTest(test_index=len(tests), seed=f"0:{pid}", parent_test=0)
                )
                tests.append(StdioTest(input="5\n1 2 3 4 5\n", output="0\n"))
        quality = Quality(
            mutation_score=score,
            mutants_counted=len(points),
            mutants_killed=killed,
            surviving_mutants=survived,
            mutants_equivalent=rng.randint(0, 3),
            equivalence_checked=True,
            flags=["weak_tests"] if score < config.weak_threshold else [],
            generated_tests=generated,
            mutation_score_augmented=min(1.0, score + 0.05) if generated else None,
        )
        fields = {
            "problem_id": pid,
            "source_id": i,
            "split": split,
            "difficulty": DIFFICULTIES[i % 3],
            "question": f"Problem {i}.\n" + "Read n integers and print the answer.\n" * 40,
            "starter_code": "",
            "url": "",
            "kind": "stdio",
            "fn_name": None,
            "tests": tests,
            "canonical_solution": canonical,
            "canonical_index": 0,
            "solutions": [canonical],
            "solution_indices": [0],
            "spans": [],
            "provenance": Provenance(
                source="synthetic",
                revision="sha256:synthetic",
                locator=f"rows.jsonl:{i}",
                format="apps_row",
            ),  # fmt: skip
        }
        fields["content_hash"] = compute_content_hash(fields)
        record = Record(**fields, quality=quality)
        rows[split].append(record.to_row())
        kept[(split, record.difficulty)] += 1
        qualities.append(quality)
    out.mkdir(parents=True)
    files = {}
    for split, split_rows in rows.items():
        path = out / f"{split}.parquet"
        pq.write_table(pa.Table.from_pylist(split_rows, schema=record_schema()), path)
        files[path.name] = FileInfo(
            sha256=sha256_file(path), bytes=path.stat().st_size, rows=len(split_rows)
        )
    reasons = list(REASONS)
    rejected = Counter()
    lines = []
    for j in range(n_rejected):
        reason = rng.choices(reasons, weights=list(REASONS.values()))[0]
        pid = f"apps/train/{n_problems + j:05d}"
        detail = {
            "duplicate_problem": f"exact statement of apps/test/{2 * rng.randrange(n_problems // 2):05d} "
            "(test split), which is kept",
            "contaminated": "statement shares 90 8-grams with HumanEval HumanEval/1 (80% of that "
            "item's statement 8-grams)",
        }.get(reason, f"synthetic {reason.replace('_', ' ')}")
        lines.append(
            json.dumps(
                {
                    "problem_id": pid,
                    "locator": f"rows.jsonl:{n_problems + j}",
                    "source": "synthetic",
                    "reason": reason,
                    "detail": detail,
                    "stage": "verify",
                }  # fmt: skip
            )
        )
        rejected[reason] += 1
    path = out / "rejections.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    files[path.name] = FileInfo(
        sha256=sha256_file(path), bytes=path.stat().st_size, rows=n_rejected
    )
    quality = summarize(config, qualities, {"rejected": rejected["duplicate_problem"]}, {})
    by_split: dict[str, dict[str, int]] = {}
    for (split, difficulty), n in sorted(kept.items()):
        by_split.setdefault(split, {})[difficulty] = n
    manifest = Manifest(
        name="apps-plus-synthetic",
        tool_version=__version__,
        executor_version="synthetic",
        comparator_version="synthetic",
        source=SourceInfo(spec="synthetic", name="synthetic", revision="sha256:synthetic"),
        counts=Counts(read=n_problems + n_rejected, kept=n_problems, rejected=n_rejected),
        kept_by_split_difficulty=by_split,
        rejected_by_reason=dict(sorted(rejected.items())),
        rejected_by_stage={"verify": n_rejected},
        totals={},
        limits={},
        config={"source": "synthetic", "quality": config.model_dump(mode="json")},
        runtime_policy="synthetic: no runtimes",
        measurements={},
        files=files,
        quality=quality.model_dump(mode="json"),
    )
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n")


def browser_times(page_path: Path) -> tuple[float, float] | None:
    """(seconds until the table is drawn, seconds until the weakest problem's mutant diff
    shows), or None without a browser."""
    from report_speed import browser_times as page_times  # scripts/ is on sys.path

    return page_times(page_path, "#problem details.mutant table.diff")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=7413)
    parser.add_argument("--rejected", type=int, default=2587, help="rejections (default: 10k read)")
    parser.add_argument("--keep", type=Path, help="write the build and page here (must not exist)")
    args = parser.parse_args()
    tmp = None
    if args.keep:
        root = args.keep
        if root.exists():
            raise SystemExit(f"{root} exists; give a new folder")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="quality-report-speed-"))
        root = tmp
    try:
        start = time.perf_counter()
        synthetic_build(root / "build", args.problems, args.rejected)
        made = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        page = write_quality_html(root / "build", root / "quality.html")
        html_s, html_cpu = time.perf_counter() - start, time.process_time() - cpu
        files = list((root / "quality_files").iterdir())
        total = sum(f.stat().st_size for f in files)
        manifest = json.loads((root / "build" / "manifest.json").read_text())
        survivors = manifest["quality"]["mutation"]["mutants"]["survivors"]
        print(f"{args.problems} kept problems, {args.rejected} rejections, {survivors} surviving "
              f"mutants (synthetic build: {made:.1f} s)")  # fmt: skip
        print(f"quality.html: {html_s:.2f} s ({html_cpu:.2f} s CPU: the figure a busy machine "
              f"does not inflate), {page.stat().st_size / 1e6:.2f} MB")  # fmt: skip
        print(f"quality_files/: {len(files)} files, {total / 1e6:.1f} MB (largest "
              f"{max(f.stat().st_size for f in files) / 1e3:.1f} kB)")  # fmt: skip
        times = browser_times(page)
        if times is None:
            print("chromium: not measured (no chromium or no playwright)")
        else:
            print(f"chromium: table drawn {times[0]:.2f} s after open; the weakest problem's "
                  f"mutant diff shows {times[1]:.2f} s after the click")  # fmt: skip
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
