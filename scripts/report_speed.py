"""Time `bench report --html` at APPS scale: synthetic results for N problems x S samples.

    python scripts/report_speed.py                 # 5,000 x 20, in a temp folder
    python scripts/report_speed.py --problems 500 --samples 20 --keep runs/speed

Writes a run folder (run.json, problems.jsonl, samples.jsonl, results.jsonl with first-failure
details, execution.json) of synthetic problems and results (no execution), then prints the
time of report.json and of report.html, the size of report.html and of report_files/, and,
where the system Chromium and playwright are installed, the time until the page has drawn
its problem table and the time to open one problem.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from appsplus.bench.execute import sample_keys
from appsplus.bench.files import (
    BenchProblem,
    Failure,
    ModelInfo,
    RunConfig,
    Sample,
    SampleResult,
    Sampling,
    SuiteInfo,
)
from appsplus.bench.html import write_html
from appsplus.bench.jsonl import write_models
from appsplus.bench.run import ExecutionState, RunFolder, make_report
from appsplus.execution import StdioTest

DIFFICULTIES = ("introductory", "interview", "competition")
VERDICTS = ("wrong_answer", "runtime_error", "timeout")


def synthetic_run(out: Path, n_problems: int, n_samples: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    problems = []
    for i in range(n_problems):
        tests = [StdioTest(input=f"{i} {t}\n", output=f"{i + t}\n") for t in range(5)]
        problems.append(
            BenchProblem(
                problem_id=f"apps/test/{i:04d}",
                difficulty=DIFFICULTIES[i % 3],
                prompt=f"Problem {i}.\n" + "Read two integers and print their sum.\n" * 20,
                chat_prompt="p",
                assembly="apps",
                tests=tests,
                time_limit_s=4.0,
            )
        )
    program = "a, b = map(int, input().split())\nprint(a + b{})\n"
    samples = [
        Sample(problem_id=p.problem_id, index=j, program=program.format(f" + {j}" if j else ""))
        for p in problems
        for j in range(n_samples)
    ]
    keys, _ = sample_keys({p.problem_id: p for p in problems}, samples, True)
    rate = {p.problem_id: rng.random() ** 2 for p in problems}
    results = []
    for sample, key in zip(samples, keys, strict=True):
        ok = rng.random() < rate[sample.problem_id]
        verdict = "passed" if ok else rng.choice(VERDICTS)
        failure = None
        if not ok:
            failure = Failure(
                test_index=0,
                verdict=verdict,
                input="1 2\n",
                expected="3\n",
                actual="4\n" if verdict == "wrong_answer" else "",
                error="ValueError: boom" if verdict == "runtime_error" else None,
            )
        results.append(
            SampleResult(
                key=key,
                problem_id=sample.problem_id,
                passed=ok,
                outcome=verdict,
                n_tests=5,
                n_passed=5 if ok else 0,
                n_skipped=0 if ok else 4,
                test_verdicts=["passed"] * 5 if ok else [verdict] + ["skipped"] * 4,
                test_durations_s=[0.01] * 5 if ok else [0.01] + [0.0] * 4,
                failure=failure,
            )
        )
    config = RunConfig(
        suite=SuiteInfo(
            name="apps", dataset_hash="sha256:synthetic", n_problems=n_problems, prompt_version="1"
        ),  # fmt: skip
        model=ModelInfo(backend="samples", model="synthetic"),
        sampling=Sampling(
            n=n_samples, temperature=0.8, top_p=0.95, max_new_tokens=512, batch_size=n_samples
        ),  # fmt: skip
        extraction_version="1",
    )
    folder = RunFolder(out)
    folder.start(config, problems)
    write_models(folder.samples_path, samples)
    write_models(folder.results_path, results)
    state = ExecutionState(stop_on_first_failure=True)
    folder.execution_path.write_text(state.model_dump_json(indent=2) + "\n")


def browser_times(
    page_path: Path, detail: str = "#problem details.sample"
) -> tuple[float, float] | None:
    """(seconds until the table is drawn, seconds until `detail` shows after opening the first
    problem), or None without a browser (scripts/quality_report_speed.py uses it too)."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(page_path.as_uri())
        page.locator("#problems tbody tr").first.wait_for()
        opened = time.perf_counter() - start
        start = time.perf_counter()
        page.locator("#problems tbody tr").first.click()
        page.locator(detail).first.wait_for()
        problem = time.perf_counter() - start
        browser.close()
    return opened, problem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="write the run folder here (must not exist)")
    args = parser.parse_args()
    tmp = None
    if args.keep:
        out = args.keep
        if out.exists():
            raise SystemExit(f"{out} exists; give a new folder")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="report-speed-"))
        out = tmp / "run"
    try:
        start = time.perf_counter()
        synthetic_run(out, args.problems, args.samples)
        made = time.perf_counter() - start
        start = time.perf_counter()
        report = make_report(RunFolder(out), [1, 5, 10] if args.samples >= 10 else [1])
        report_s = time.perf_counter() - start
        start = time.perf_counter()
        page = write_html(out, report)
        html_s = time.perf_counter() - start
        files = list((out / "report_files").iterdir())
        total = sum(f.stat().st_size for f in files)
        print(f"{args.problems} problems x {args.samples} samples (synthetic run: {made:.1f} s)")
        print(f"report.json: {report_s:.2f} s")
        print(f"report.html: {html_s:.2f} s, {page.stat().st_size / 1e6:.2f} MB")
        print(f"report_files/: {len(files)} files, {total / 1e6:.1f} MB (largest "
              f"{max(f.stat().st_size for f in files) / 1e3:.1f} kB)")  # fmt: skip
        times = browser_times(page)
        if times is None:
            print("chromium: not measured (no chromium or no playwright)")
        else:
            print(f"chromium: table drawn {times[0]:.2f} s after open; a problem opens in "
                  f"{times[1]:.2f} s")  # fmt: skip
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
