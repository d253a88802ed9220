"""Cost and findings of the quality steps of `appsplus build`, in one run.

    python scripts/quality_speed.py [--source stepcoder:PATH] [--workers 2] [--out DIR]
                                    [--augment 5] [--limit N]

Builds the same source three times, each into a fresh folder (so a fresh cache), one after
the other in this run: (1) `base`: the quality steps off (no dedupe, no mutation, no
rerun); (2) `quality`: the default steps plus decontamination against HumanEval and MBPP
(from ../shared/data when present); then (3) `augmented`: the same as (2) with
`--augment-tests N`, built into a copy of (2)'s folder so only the new work executes.
Prints wall times and the ratio quality/base (absolute times are noisy on a shared
machine: compare the ratio), and the figures of the quality manifest: kept problems and
solutions, rejections by reason, duplicates, contamination, mutation-score histogram,
flags, and the mutation score before and after augmentation. Default source: the
StepCoder APPS+ sample from ../shared/data (the script exits with a message if absent).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(
    os.environ.get("APPSPLUS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


def benchmarks() -> list[str]:
    found = [SHARED / "humaneval" / "HumanEval.jsonl.gz", SHARED / "mbpp" / "mbpp.jsonl"]
    return [str(p) for p in found if p.is_file()]


def run(source: str, out: Path, quality, workers: int, limit: int | None) -> dict:
    from appsplus.curate.pipeline import BuildConfig, build

    config = BuildConfig(source=source, limit=limit, quality=quality)
    started = time.monotonic()
    report = build(config, out, workers=workers)
    wall = time.monotonic() - started
    return {"wall_s": round(wall, 1), "report": report}


def figures(report) -> dict:
    m = report.manifest
    q = m.quality
    return {
        "read": m.counts.read,
        "kept": m.counts.kept,
        "kept_percent": round(100 * m.counts.kept / max(m.counts.read, 1), 1),
        "rejected_by_reason": m.rejected_by_reason,
        "duplicates": q.get("duplicates"),
        "contamination": q.get("contamination"),
        "flags": q.get("flags"),
        "mutation": q.get("mutation"),
        "augmentation": q.get("augmentation"),
        "executed_jobs": report.executed_jobs,
        "cache_hits": report.cache_hits,
    }


def solutions_kept(out: Path) -> tuple[int, int]:
    """(solutions kept, solutions in the source rows of the kept problems)."""
    import pyarrow.parquet as pq

    kept = total = 0
    for split in ("train", "test"):
        for row in pq.read_table(out / f"{split}.parquet").to_pylist():
            kept += len(row["solutions"])
            total += json.loads(row["provenance"])["n_source_solutions"]
    return kept, total


def main() -> None:
    from appsplus.quality.models import QualityConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = SHARED / "apps-plus" / "stepcoder_apps_plus_sample.json"
    parser.add_argument("--source", default=f"stepcoder:{default}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--augment", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="keep the builds here")
    args = parser.parse_args()
    if args.source.startswith("stepcoder:") and not Path(args.source[10:]).is_file():
        sys.exit(f"{args.source[10:]} is absent: nothing to measure")
    root = args.out or Path(tempfile.mkdtemp(prefix="quality_speed_"))
    for name in ("base", "quality", "augmented"):
        shutil.rmtree(root / name, ignore_errors=True)
    off = QualityConfig(dedupe=False, mutation=False, nondeterminism=False)
    full = QualityConfig(decontaminate=benchmarks())
    base = run(args.source, root / "base", off, args.workers, args.limit)
    print(f"base (quality steps off): {base['wall_s']} s", file=sys.stderr)
    quality = run(args.source, root / "quality", full, args.workers, args.limit)
    print(f"quality (default steps + decontamination): {quality['wall_s']} s", file=sys.stderr)
    shutil.copytree(root / "quality", root / "augmented")
    augmented_config = full.model_copy(update={"augment_tests": args.augment})
    augmented = run(args.source, root / "augmented", augmented_config, args.workers, args.limit)
    result = {
        "source": args.source,
        "workers": args.workers,
        "wall_s": {k: v["wall_s"] for k, v in (("base", base), ("quality", quality))},
        "ratio_quality_over_base": round(quality["wall_s"] / max(base["wall_s"], 1e-9), 2),
        "augment_extra_wall_s": augmented["wall_s"],
        "base": figures(base["report"]),
        "quality": figures(quality["report"]),
        "augmented": figures(augmented["report"]),
    }
    for name in ("base", "quality", "augmented"):
        kept, total = solutions_kept(root / name)
        result[name]["solutions_kept"] = kept
        result[name]["solutions_of_kept_problems"] = total
    print(json.dumps(result, indent=2))
    print(f"builds in {root}", file=sys.stderr)


if __name__ == "__main__":
    main()
