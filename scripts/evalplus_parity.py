"""Verdict parity of `bench evaluate` with EvalPlus's evaluator over every task (developer script).

For each task of HumanEval+ and/or MBPP+: the canonical solution and its deterministic
mutants (wrong operator, off-by-one, deleted statement, early return; --infinite-loops adds
the infinite loop, 1 s+ per task in each evaluator), judged by `bench evaluate` and by
`python -m evalplus.evaluate` (PyPI `evalplus`, offline: HUMANEVAL_OVERRIDE_PATH /
MBPP_OVERRIDE_PATH at the local files). Prints counts, both pass rates and every sample
whose base or plus verdict differs.

    python scripts/evalplus_parity.py                      # both suites, all tasks (minutes)
    python scripts/evalplus_parity.py --suite humaneval --limit 20 --workers 2
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
    MUTANTS,
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", choices=["humaneval", "mbpp", "both"], default="both")
    parser.add_argument("--limit", type=int, help="only the first N tasks")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--infinite-loops", action="store_true", help="add the infinite-loop mutant"
    )
    parser.add_argument("--data", type=Path, default=DATA / "evalplus", help="the evalplus folder")
    args = parser.parse_args()
    names = MUTANTS if args.infinite_loops else tuple(m for m in MUTANTS if m != "infinite_loop")
    total_diff = 0
    with tempfile.TemporaryDirectory(prefix="evalplus-parity-") as tmp:
        os.environ.setdefault("APPSPLUS_CACHE", str(Path(tmp) / "appsplus-cache"))
        for kind in ("humaneval", "mbpp") if args.suite == "both" else (args.suite,):
            with gzip.open(args.data / FILES[kind], "rt", encoding="utf-8") as f:
                rows = [json.loads(line) for line in f][: args.limit]
            work = Path(tmp) / kind
            work.mkdir()
            data = write_dataset(rows, work / FILES[kind])
            programs = samples_for(rows, names)
            t0 = time.perf_counter()
            theirs = run_evalplus(kind, data, programs, workers=args.workers, cache=work / "ep")
            t1 = time.perf_counter()
            ours = run_bench(f"{kind}+", data, programs, work / "bench", workers=args.workers)
            t2 = time.perf_counter()
            diffs = compare(ours, theirs)
            total_diff += len(diffs)
            by_name = {}
            for (_, name), verdict in ours.items():
                by_name.setdefault(name, []).append(verdict)
            print(
                f"{kind}+: {len(rows)} tasks, {len(programs)} samples; evalplus {t1 - t0:.0f} s "
                f"(expected outputs included), bench {t2 - t1:.0f} s (expected outputs included)"
            )
            for name, verdicts in by_name.items():
                base = sum(v[0] == "pass" for v in verdicts)
                plus = sum(v[1] == "pass" for v in verdicts)
                print(
                    f"  {name:14s} {len(verdicts):4d} samples: base pass {base}, plus pass {plus}"
                )
            canon = [k for k in theirs if k[1] == "canonical"]
            print(
                f"  canonical passing plus: bench {sum(ours[k][1] == 'pass' for k in canon)}"
                f"/{len(canon)}, evalplus {sum(theirs[k] == ('pass', 'pass') for k in canon)}/{len(canon)}"
            )
            print(f"  differences: {len(diffs)}")
            for task_id, name, a, b in diffs:
                print(f"    {task_id} {name}: bench {a}, evalplus {b}")
    return 1 if total_diff else 0


if __name__ == "__main__":
    sys.exit(main())
