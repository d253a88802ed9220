"""Does a weaker test set ever score higher? (issue 24.5), before vs after format probes.

    python scripts/subset_scores.py [--problems N] [--keep 1] [--max-tests 6] [--workers 2]
                                    [--configs before,after]

Real APPS+ problems (the StepCoder release sample in ../shared/data, when present) and the
embedded sample: each problem's first `--max-tests` tests are verified, then it is scored
(mutation score) on all of them and on its first `--keep` test(s), two ways: `alone` (only
the subset is known, as for a source that ships few tests: probes come from the subset and
the statement) and `known` (the full set known: `assess(known_tests=...)`). Each under two
quality configs, in the same run: `before` (format_probes=0: probes only mutate the tests)
and `after` (the default: probes also drawn from the inferred input format). Prints, per
config, way and score (`mutation_score`, and `mutation_score_min`: (killed + timed out) /
compiled, which can never rise on a subset), the share of problems whose score rose /
fell / stayed against all the tests, the problems that rose, and the number of possibly
equivalent mutants. Wall time is printed too; it is noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

SHARED = Path(
    os.environ.get("APPSPLUS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


def problems(max_tests: int, limit: int | None) -> list:
    from appsplus.curate.normalize import normalize
    from appsplus.schema import Problem
    from appsplus.sources import open_source

    specs = ["sample"]
    path = SHARED / "apps-plus" / "stepcoder_apps_plus_sample.json"
    if path.is_file():
        specs.insert(0, f"stepcoder:{path}")
    else:
        print(f"note: {path} is absent; the embedded sample only", file=sys.stderr)
    found = []
    for spec in specs:
        for row in open_source(spec).iter_rows():
            p = normalize(row)
            if isinstance(p, Problem) and len(p.tests) >= 2 and p.solutions:
                found.append(p.model_copy(update={"tests": p.tests[:max_tests]}))
    return found[:limit] if limit else found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", type=int, default=None, help="at most this many problems")
    ap.add_argument("--keep", type=int, default=1, help="tests in the subset (the first ones)")
    ap.add_argument("--max-tests", type=int, default=6, help="tests per problem (the first)")
    ap.add_argument("--workers", type=int, default=2, help="sandbox workers")
    ap.add_argument(
        "--configs", default="before,after", help="which quality configs (before, after)"
    )
    args = ap.parse_args()
    chosen = [c.strip() for c in args.configs.split(",") if c.strip()]
    if not chosen or set(chosen) - {"before", "after"}:
        ap.error(f"--configs: one or both of before, after (got {args.configs!r})")

    from appsplus.curate.cache import CachedRunner
    from appsplus.curate.verify import Verified, VerifyConfig, verify_problems
    from appsplus.execution import Limits, WorkerPool
    from appsplus.quality.assess import assess
    from appsplus.quality.models import QualityConfig

    verify = VerifyConfig(limits=Limits(time_s=2.0))
    started = time.monotonic()
    with WorkerPool(args.workers) as pool:
        run = CachedRunner(pool)
        full = [v for v in verify_problems(problems(args.max_tests, args.problems), verify, run)]
        full = [v for v in full if isinstance(v, Verified) and len(v.problem.tests) > args.keep]
        subsets = [
            v.problem.model_copy(update={"tests": v.problem.tests[: args.keep]}) for v in full
        ]
        pairs = [(a, b) for a, b in zip(full, verify_problems(subsets, verify, run))]
        pairs = [(a, b) for a, b in pairs if isinstance(b, Verified)]
        known = {a.problem.problem_id: a.problem.tests for a, _ in pairs}
        print(f"{len(pairs)} problems verified with all and with {args.keep} test(s)")
        configs = {"before": QualityConfig(format_probes=0), "after": QualityConfig()}
        for name, config in ((c, configs[c]) for c in chosen):
            t0 = time.monotonic()
            scored = assess([a for a, _ in pairs], config, verify, run)
            ways = {
                "alone": assess([b for _, b in pairs], config, verify, run),
                "known": assess([b for _, b in pairs], config, verify, run, known_tests=known),
            }
            for (way, weak), field in itertools.product(
                ways.items(), ("mutation_score", "mutation_score_min")
            ):
                rose, fell, same, risen = 0, 0, 0, []
                for (a, _), x, y in zip(pairs, scored, weak):
                    sx, sy = getattr(x.quality, field), getattr(y.quality, field)
                    if sx is None or sy is None:
                        continue
                    if sy > sx:
                        rose += 1
                        risen.append(f"{a.problem.problem_id} {sx}->{sy}")
                    elif sy < sx:
                        fell += 1
                    else:
                        same += 1
                n = max(rose + fell + same, 1)
                eq = sum(y.quality.mutants_equivalent for y in weak)
                print(
                    f"{name:6} {way:5} {field:18}: {rose + fell + same} scored; rose {rose} "
                    f"({100 * rose / n:.1f}%), fell {fell} ({100 * fell / n:.1f}%), stayed "
                    f"{same} ({100 * same / n:.1f}%); possibly equivalent mutants {eq}"
                )
                for line in risen:
                    print(f"    rose: {line}")
            mean_full = [x.quality.mutation_score for x in scored if x.quality.mutation_score]
            mean_min = [
                x.quality.mutation_score_min
                for x in scored
                if x.quality.mutation_score_min is not None
            ]
            print(
                f"{name:6} all tests: mean score "
                f"{sum(mean_full) / max(len(mean_full), 1):.3f}, mean min score "
                f"{sum(mean_min) / max(len(mean_min), 1):.3f}, possibly equivalent "
                f"{sum(x.quality.mutants_equivalent for x in scored)} "
                f"({time.monotonic() - t0:.0f} s)"
            )
    print(f"wall {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
