"""`bench` throughput: 300 APPS+ problems x 20 samples through generate -> execute -> report.

    python scripts/bench_speed.py [--problems 300] [--samples 20] [--workers 2]
                                     [--naive-problems 30] [--dataset BUILD_DIR]

Problems: the real StepCoder APPS+ sample (../shared/data/apps-plus), built into APPS+
with `appsplus.curate.pipeline` (StepCoder reader -> normalize -> verify), or `--dataset` a build.
Samples per problem (each program distinct, so nothing is deduplicated): 13-14 canonical
solutions, 3 wrong answers, 2 runtime errors, 1 syntax error and, on every
`--hang-every`-th problem, 1 infinite loop; every one wrapped in a chat-style answer
(prose and a fenced block). Time limits are short, so hanging variants cost little:
max(0.5 s, 2 x the slowest reference runtime) per test.

Generation is a replay backend that returns those answers instantly: its time is the
harness's own (code extraction, program assembly, samples.jsonl). Execution runs through
`appsplus.bench.execute` (run_many, stop on first failure, results.jsonl). The naive
evaluator runs one fresh `python prog.py` subprocess per test (stopping at the first
failure too; call-based tests through a small driver) on all samples of
`--naive-problems` problems drawn at random (seeded), once as `python` and once as `python -S` (no
site-packages scan: a tuned baseline); our executor runs the same samples again from a
cold cache, and the ratios of the wall times are printed, for the samples that finish and
for all of them (hanging samples cost their time limit in any harness).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from appsplus.bench.backends import Backend, Completion, Request, SamplingParams
from appsplus.bench.execute import evaluate_samples
from appsplus.bench.files import BenchProblem, ModelInfo, RunConfig, Sample, Sampling, SuiteInfo
from appsplus.bench.generate import generate_samples
from appsplus.execution import stdout_matches, values_match

SHARED = Path(
    os.environ.get("APPSPLUS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
STEPCODER = SHARED / "apps-plus" / "stepcoder_apps_plus_sample.json"


# ---------------------------------------------------------------- problems and samples


def load_problems(dataset: Path | None, n: int, workdir: Path) -> tuple[list[BenchProblem], str]:
    """n APPS+ problems (a build folder, or the StepCoder sample built here) with short limits."""
    from appsplus.bench.suites.apps import apps_problem, manifest_hash, read_records

    if dataset is None:
        if not STEPCODER.is_file():
            sys.exit(f"no {STEPCODER}: pass --dataset BUILD_DIR (an `appsplus build` output)")
        from appsplus.curate.pipeline import BuildConfig, build

        dataset = workdir / "apps-plus"
        t0 = time.perf_counter()
        report = build(BuildConfig(source=f"stepcoder:{STEPCODER}"), dataset)
        print(
            f"built APPS+ from the StepCoder sample: {report.manifest.counts.kept} kept of "
            f"{report.manifest.counts.read} in {time.perf_counter() - t0:.1f} s"
        )
    records = []
    for split in ("test", "train"):
        try:
            records += read_records(dataset, split)
        except ValueError:
            continue
    records = records[:n]
    problems = []
    for r in records:
        limit = max(0.5, 2 * max(r.reference_runtimes_s or [0.0]))
        problems.append(
            apps_problem(
                r.problem_id,
                r.difficulty,
                r.question,
                r.starter_code,
                r.kind,
                r.fn_name,
                list(r.tests),
                limit,
                r.canonical_solution,
            )
        )
    return problems, manifest_hash(dataset)


def variants(problem: BenchProblem, n: int, hang: bool) -> list[tuple[str, str]]:
    """(kind, program) for each of n samples: canonical, wrong, runtime error, syntax error, hang."""
    code = problem.canonical_solution.rstrip("\n") + "\n"
    call = problem.tests[0].kind == "call"
    if call:
        fn = problem.entry_point
        wrong = (
            code
            + "\n\nclass _Wrong:\n    pass\n\n\nif 'Solution' in globals():\n"
            + f"    setattr(Solution, {fn!r}, lambda self, *a, **k: _Wrong())\n"
            + f"else:\n    def {fn}(*a, **k):\n        return _Wrong()\n"
        )
    else:
        wrong = code + "print('off by one')\n"
    broken = ["wrong"] * 3 + ["runtime"] * 2 + ["syntax"] + (["hang"] if hang else [])
    kinds = ["canonical"] * (n - len(broken)) + broken
    out = []
    for i, kind in enumerate(kinds):
        tag = f"# sample {i}\n"
        program = {
            "canonical": tag + code,
            "wrong": tag + wrong,
            "runtime": tag + "raise RuntimeError('bug')\n" + code,
            "syntax": tag + code + "print(\n",
            "hang": tag + "while True:\n    pass\n" + code,
        }[kind]
        out.append((kind, program))
    return out


class ReplayBackend(Backend):
    """Answers each prompt with prepared chat-style texts, instantly."""

    chat = True

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.cursor: dict[str, int] = {}

    def info(self) -> ModelInfo:
        return ModelInfo(backend="openai", model="replay", chat_template=True)

    def generate(self, requests: list[Request], params: SamplingParams, seed: int):
        out = []
        for r in requests:
            texts = self.answers[r.text]
            start = self.cursor.get(r.text, 0)
            self.cursor[r.text] = start + r.count
            out.append([Completion(t, "stop") for t in texts[start : start + r.count]])
        return out


def chat_answer(program: str) -> str:
    return f"Here is a solution.\n\n```python\n{program}```\n\nIt reads the input and prints the answer."


# ---------------------------------------------------------------- the naive evaluator

CALL_DRIVER = """import sys, json
from typing import *
from collections import *
from math import *
from heapq import *
from bisect import *
import itertools, functools, re, string
g = {"__name__": "solution"}
g.update({k: v for k, v in globals().items() if not k.startswith("__")})
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), g)
args = json.loads(sys.stdin.read())
fn = getattr(g["Solution"](), sys.argv[2]) if "Solution" in g else g[sys.argv[2]]
print(json.dumps(fn(*args)))
"""


def naive(
    problems: dict[str, BenchProblem], samples: list[Sample], workers: int, flags: list[str]
) -> tuple[float, list[bool]]:
    """A fresh `python FLAGS prog.py` per test, stopping at the first failure -> (wall s, passed)."""
    with tempfile.TemporaryDirectory() as tmp:
        driver = Path(tmp) / "call_driver.py"
        driver.write_text(CALL_DRIVER)

        def one(i: int) -> bool:
            sample = samples[i]
            problem = problems[sample.problem_id]
            path = Path(tmp) / f"p{i}.py"
            path.write_text(sample.program)
            for t in problem.tests:
                if t.kind == "stdio":
                    argv, stdin = [str(path)], t.input
                else:
                    argv, stdin = [str(driver), str(path), t.fn_name], json.dumps(t.args)
                try:
                    r = subprocess.run(
                        [sys.executable, *flags, *argv],
                        input=stdin,
                        capture_output=True,
                        text=True,
                        timeout=problem.time_limit_s,
                        cwd=tmp,
                    )
                except subprocess.TimeoutExpired:
                    return False
                if r.returncode != 0:
                    return False
                if t.kind == "stdio":
                    ok = stdout_matches(r.stdout, t.output)
                else:
                    try:
                        ok = values_match(json.loads(r.stdout.strip().splitlines()[-1]), t.expected)
                    except (ValueError, IndexError):
                        ok = False
                if not ok:
                    return False
            return True

        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            passed = list(ex.map(one, range(len(samples))))
        return time.perf_counter() - t0, passed


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", type=int, default=300)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--naive-problems", type=int, default=30)
    ap.add_argument(
        "--hang-every", type=int, default=3, help="a hanging sample on every Nth problem"
    )
    ap.add_argument(
        "--dataset",
        type=Path,
        help="an `appsplus build` folder (default: build the StepCoder sample)",
    )
    args = ap.parse_args()
    if args.samples < 8:
        sys.exit("--samples must be at least 8 (the mix has 7 broken variants)")

    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        problems, dataset_hash = load_problems(args.dataset, args.problems, work)
        answers, kinds = {}, {}
        for i, p in enumerate(problems):
            mix = variants(p, args.samples, hang=args.hang_every > 0 and i % args.hang_every == 0)
            answers[p.chat_prompt] = [chat_answer(program) for _, program in mix]
            for j, (kind, _) in enumerate(mix):
                kinds[(p.problem_id, j)] = kind
        n_samples = len(problems) * args.samples
        mix_counts: dict[str, int] = {}
        for kind in kinds.values():
            mix_counts[kind] = mix_counts.get(kind, 0) + 1
        n_tests = sum(len(p.tests) for p in problems)
        limits = sorted(p.time_limit_s for p in problems)
        print(
            f"{len(problems)} problems ({n_tests} tests, {n_tests / len(problems):.1f} per problem; "
            f"time limits {limits[0]:g}-{limits[-1]:g} s, median {limits[len(limits) // 2]:g} s) "
            f"x {args.samples} samples = {n_samples}; {args.workers} workers"
        )
        print("mix: " + ", ".join(f"{k} {v}" for k, v in sorted(mix_counts.items())))
        print(f"load average: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs")

        from appsplus.bench.run import RunFolder, evaluate, make_report
        from appsplus.extract import EXTRACTION_VERSION

        folder = RunFolder(work / "run")
        sampling = Sampling(
            n=args.samples,
            temperature=0.8,
            top_p=0.95,
            max_new_tokens=1024,
            batch_size=args.samples,
        )
        backend = ReplayBackend(answers)
        config = RunConfig(
            suite=SuiteInfo(
                name="apps+",
                dataset_hash=dataset_hash,
                n_problems=len(problems),
                prompt_version="1",
            ),
            model=backend.info(),
            sampling=sampling,
            extraction_version=EXTRACTION_VERSION,
        )
        folder.start(config, problems)

        t0 = time.perf_counter()
        generate_samples(problems, backend, sampling, folder.samples_path)
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        samples, keys, results = evaluate(folder, workers=args.workers)
        t_exec = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = make_report(folder, [1, 5, 10])
        t_report = time.perf_counter() - t0

        wrong = [
            (s.problem_id, s.index, kinds[(s.problem_id, s.index)], results[k].outcome)
            for s, k in zip(samples, keys)
            if (kinds[(s.problem_id, s.index)] == "canonical") != results[k].passed
        ]
        total = t_gen + t_exec + t_report
        own = sum(r.duration_s for r in results.values())
        hang_own = sum(
            results[k].duration_s
            for s, k in zip(samples, keys)
            if kinds[(s.problem_id, s.index)] == "hang"
        )
        print("\n== bench pipeline (generate -> execute -> report)")
        print(
            f"generation : {t_gen:8.2f} s  ({t_gen / total:5.1%} of wall; replayed answers: harness cost only)"
        )
        print(
            f"execution  : {t_exec:8.2f} s  ({t_exec / total:5.1%} of wall)  {n_samples / t_exec:8.1f} samples/s"
        )
        print(
            f"             programs' own run time {own:.1f} s summed over samples "
            f"({hang_own:.1f} s of it waiting out hanging ones); harness overhead "
            f"{(t_exec * args.workers - own) / n_samples * 1000:.1f} ms per sample "
            f"(wall x workers - own time)"
        )
        print(f"report     : {t_report:8.2f} s  ({t_report / total:5.1%} of wall)")
        print(f"overall    : {total:8.2f} s  {n_samples / total:8.1f} samples/s end to end")
        print(
            "outcomes   : "
            + ", ".join(f"{k} {v}" for k, v in report.overall.verdicts.items())
            + f"; pass@1 {report.overall.pass_at_k['pass@1'].value:.3f}"
        )
        print(
            f"mismatches : {len(wrong)} samples whose outcome differs from their variant {wrong[:5]}"
        )

        # ------------------------------------------------ same samples: naive vs ours, cold
        picked = sorted(
            random.Random(0).sample(range(len(problems)), min(args.naive_problems, len(problems)))
        )
        sub_problems = [problems[i] for i in picked]
        by_id = {p.problem_id: p for p in sub_problems}
        subset = [s for s in samples if s.problem_id in by_id]
        parts = {
            "finishing": [s for s in subset if kinds[(s.problem_id, s.index)] != "hang"],
            "hanging": [s for s in subset if kinds[(s.problem_id, s.index)] == "hang"],
        }
        print(
            f"\n== the same {len(subset)} samples of {len(sub_problems)} random problems "
            f"({len(parts['hanging'])} hanging), {args.workers} workers, cold cache; "
            "hanging samples timed apart (both harnesses just wait out their time limit)"
        )
        by_key = dict(zip([(s.problem_id, s.index) for s in samples], keys))
        walls: dict[str, dict[str, float]] = {}
        for part, chunk in parts.items():
            if not chunk:
                continue
            t0 = time.perf_counter()
            evaluate_samples(sub_problems, chunk, work / f"cold-{part}.jsonl", workers=args.workers)
            walls.setdefault("ours", {})[part] = time.perf_counter() - t0
            for label, flags in (("naive python", []), ("naive python -S", ["-S"])):
                t_naive, passed = naive(by_id, chunk, args.workers, flags)
                walls.setdefault(label, {})[part] = t_naive
                agree = sum(
                    results[by_key[(s.problem_id, s.index)]].passed == ok
                    for s, ok in zip(chunk, passed)
                )
                if agree != len(chunk):
                    print(f"  {label}: judged {len(chunk) - agree} {part} samples differently")
        n_fin, n_all = len(parts["finishing"]), len(subset)
        ours = walls["ours"]
        print(f"{'':17}{'finishing':>24}{'all (with hanging)':>30}")
        for label, w in walls.items():
            total = sum(w.values())
            line = f"{label:<17}{w['finishing']:7.2f} s {n_fin / w['finishing']:7.1f}/s"
            line += f"{total:11.2f} s {n_all / total:7.1f}/s"
            if label != "ours":
                line += (
                    f"   ratio {w['finishing'] / ours['finishing']:5.1f}x finishing, "
                    f"{total / sum(ours.values()):5.1f}x all"
                )
            print(line)
        print(f"load average   : {os.getloadavg()[0]:.1f} (1 min) at the end")


if __name__ == "__main__":
    main()
