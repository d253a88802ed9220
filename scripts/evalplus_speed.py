"""`bench evaluate` vs EvalPlus's evaluator on the same samples, 2 workers each (developer script).

The samples are the canonical solutions of the first --limit tasks and their deterministic
mutants (wrong operator, off-by-one, deleted statement, early return; see
`appsplus.bench.suites.evalplus_parity`). Each evaluator first computes its expected outputs
once (not timed: both cache them), then judges every sample: EvalPlus with
`python -m evalplus.evaluate --parallel W --i_just_wanna_run` (offline, the local file),
`bench` with `bench evaluate --workers W` into a fresh run folder. Both timings come from
the same run of this script, so load from other processes affects both; the ratio is what
to compare.

    python scripts/evalplus_speed.py --suite humaneval --limit 164
    python scripts/evalplus_speed.py --suite mbpp --limit 100 --workers 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from appsplus.bench.suites.evalplus_parity import (
    compare,
    run_bench,
    run_evalplus,
    samples_for,
    write_dataset,
)

DATA = Path(
    os.environ.get("APPSPLUS_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
FILES = {"humaneval": "HumanEvalPlus.jsonl.gz", "mbpp": "MbppPlus.jsonl.gz"}
MUTANTS = ("canonical", "operator", "off_by_one", "deleted", "early_return")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", choices=list(FILES), default="humaneval")
    parser.add_argument("--limit", type=int, default=164, help="the first N tasks")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DATA / "evalplus", help="the evalplus folder")
    args = parser.parse_args()
    from appsplus.bench.suites import load_suite

    with tempfile.TemporaryDirectory(prefix="evalplus-speed-") as tmp:
        os.environ["APPSPLUS_CACHE"] = str(Path(tmp) / "appsplus-cache")
        with gzip.open(args.data / FILES[args.suite], "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f][: args.limit]
        data = write_dataset(rows, Path(tmp) / FILES[args.suite])
        programs = samples_for(rows, MUTANTS)
        ep_cache = Path(tmp) / "evalplus"
        # expected outputs, once each (both evaluators cache them): not timed
        t0 = time.perf_counter()
        run_evalplus(args.suite, data, programs[:0] + [p for p in programs if p[1] == "canonical"],
                     workers=args.workers, cache=ep_cache)  # fmt: skip
        t1 = time.perf_counter()
        load_suite(f"{args.suite}+", str(data))
        t2 = time.perf_counter()
        print(f"{args.suite}+: {len(rows)} tasks, {len(programs)} samples, {args.workers} workers")
        print(f"  expected outputs (once, cached): evalplus {t1 - t0:.1f} s (with its first "
              f"evaluation of the canonical solutions), bench {t2 - t1:.1f} s")  # fmt: skip
        t3 = time.perf_counter()
        theirs = run_evalplus(args.suite, data, programs, workers=args.workers, cache=ep_cache)
        t4 = time.perf_counter()
        ours = run_bench(f"{args.suite}+", data, programs, Path(tmp) / "run", workers=args.workers)
        t5 = time.perf_counter()
        theirs_s, ours_s = t4 - t3, t5 - t4
        print(f"  evalplus evaluate: {theirs_s:.1f} s ({len(programs) / theirs_s:.1f} samples/s)")
        print(f"  bench evaluate:    {ours_s:.1f} s ({len(programs) / ours_s:.1f} samples/s)")
        print(f"  ratio evalplus / bench: {theirs_s / ours_s:.2f}x")
        diffs = compare(ours, theirs)
        print(f"  verdict differences: {len(diffs)}")
        for task_id, name, a, b in diffs:
            print(f"    {task_id} {name}: bench {a}, evalplus {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
