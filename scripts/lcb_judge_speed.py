"""The cost of LiveCodeBench's judge rules against the APPS rules, in one run.

    python scripts/lcb_judge_speed.py [--programs 200] [--tests 3] [--workers 2] [--rounds 2]

The same small stdio program (N programs x T tests each) is judged under the "apps" rules
and the "livecodebench" rules (LiveCodeBench's import preamble run before every test, its
comparator), alternating in rounds on one pool. Prints ms per program for each and the ratio
(livecodebench / apps) per round: on a busy machine compare the ratio, not the times.
"""

from __future__ import annotations

import argparse
import time

from appsplus.execution import Job, Limits, StdioTest, WorkerPool, run_many

PROGRAM = "n = int(input())\nprint(n * 2)\n"


def jobs(rules: str, programs: int, tests: int) -> list[Job]:
    return [
        Job(
            program=PROGRAM,
            tests=[
                StdioTest(input=f"{i + t}\n", output=f"{2 * (i + t)}\n", rules=rules)
                for t in range(tests)
            ],
            limits=Limits(time_s=4),
        )
        for i in range(programs)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=200)
    parser.add_argument("--tests", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with WorkerPool(args.workers) as pool:
        for rules in ("apps", "livecodebench"):  # warm up both
            run_many(jobs(rules, 10, args.tests), pool=pool)
        for r in range(args.rounds):
            ms = {}
            for rules in ("apps", "livecodebench"):
                t0 = time.perf_counter()
                results = run_many(jobs(rules, args.programs, args.tests), pool=pool)
                ms[rules] = (time.perf_counter() - t0) / args.programs * 1000
                assert all(res.passed for res in results), rules
            print(
                f"round {r}: apps {ms['apps']:.1f} ms/program, livecodebench "
                f"{ms['livecodebench']:.1f} ms/program, ratio "
                f"{ms['livecodebench'] / ms['apps']:.2f} ({args.programs} programs x "
                f"{args.tests} tests, {args.workers} workers)"
            )


if __name__ == "__main__":
    main()
