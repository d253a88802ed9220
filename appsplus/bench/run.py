"""A run folder (`--out DIR`): its files, and the three stages over them.

    folder = RunFolder(out)
    folder.start(config, problems)          # writes run.json + problems.jsonl, or checks them
    generate_samples(folder.problems(), backend, config.sampling, folder.samples_path)
    samples, keys, results = evaluate(folder, workers=2)
    report = make_report(folder, ks=[1, 5, 10])

A folder holds one run: resuming with other settings (model, suite, dataset, sampling) is
refused with the differing fields named, so samples of two configurations never mix.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from appsplus.bench.execute import evaluate_samples
from appsplus.bench.files import BenchProblem, RunConfig, Sample, SampleResult
from appsplus.bench.generate import read_samples
from appsplus.bench.jsonl import read_models, write_atomic, write_models
from appsplus.bench.report import Report, build_report, report_json
from appsplus.errors import AppsplusError
from appsplus.execution import Isolation
from appsplus.outdir import OutputError, prepare_out
from appsplus.schema import StrictModel

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=StrictModel)

RUN_FILE = "run.json"
PROBLEMS_FILE = "problems.jsonl"
SAMPLES_FILE = "samples.jsonl"
RESULTS_FILE = "results.jsonl"
EXECUTION_FILE = "execution.json"
REPORT_FILE = "report.json"
PLOT_FILE = "pass_at_k.png"
CS_DIR = "critic_sampling"  # appsplus.bench.critic_sampling.cs_folder
START_DIR = ".bench-start"  # a start in progress (`RunFolder.start`)


class ExecutionState(StrictModel):
    """OUT/execution.json: the evaluation settings the report must use, and the sandbox's isolation."""

    stop_on_first_failure: bool
    isolation: Isolation | None = None


class RunError(AppsplusError, ValueError):
    """The folder holds another run, or is not a run folder."""


def read_model(path: Path, model: type[M]) -> M:
    """A JSON file of this tool, validated; RunError (one line) if damaged or of another kind."""
    try:
        return model.model_validate_json(path.read_bytes())
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "file"
        raise RunError(
            f"{path}: damaged or not a bench {path.name} ({where}: {first['msg']}); "
            "it was left as it is"
        ) from e
    except OSError as e:
        raise RunError(f"{path}: cannot read it ({e.strerror or e})") from e


class RunFolder:
    """The files of one run."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.run_path = out / RUN_FILE
        self.problems_path = out / PROBLEMS_FILE
        self.samples_path = out / SAMPLES_FILE
        self.results_path = out / RESULTS_FILE
        self.execution_path = out / EXECUTION_FILE
        self.report_path = out / REPORT_FILE
        self.plot_path = out / PLOT_FILE

    def exists(self) -> bool:
        return self.run_path.is_file()

    def config(self) -> RunConfig:
        if not self.exists():
            raise RunError(f"{self.out}: no {RUN_FILE} (not a bench run folder)")
        return read_model(self.run_path, RunConfig)

    def check(self, config: RunConfig) -> None:
        """Raise RunError if the folder holds a run with other settings."""
        if not self.exists():
            return
        diffs = self.config().differences(config)
        if diffs:
            raise RunError(
                f"{self.out} holds a run with other settings ({', '.join(diffs)}); "
                "use another --out, or the same settings to resume"
            )

    def start(self, config: RunConfig, problems: list[BenchProblem]) -> None:
        """Write run.json and problems.jsonl for a new run, or check them for a resumed one."""
        if self.exists():
            self.check(config)
            return
        # both files are written (and synced) in a folder of our own, then moved into place:
        # a start killed while writing leaves only that folder, which the next start clears
        staging = self.out / START_DIR
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        write_models(staging / PROBLEMS_FILE, problems)
        text = json.dumps(config.model_dump(mode="json"), indent=2) + "\n"
        write_atomic(staging / RUN_FILE, text.encode())
        os.replace(staging / PROBLEMS_FILE, self.problems_path)
        os.replace(staging / RUN_FILE, self.run_path)  # last: a run.json means a complete start
        staging.rmdir()

    def problems(self) -> list[BenchProblem]:
        return list(read_models(self.problems_path, BenchProblem))

    def samples(self) -> list[Sample]:
        return read_samples(self.samples_path)

    def missing_samples(self, problems: list[BenchProblem], n: int) -> int:
        """How many of the n samples per problem are not in samples.jsonl yet."""
        have = {(s.problem_id, s.index) for s in self.samples()}
        return sum((p.problem_id, i) not in have for p in problems for i in range(n))

    def execution(self) -> ExecutionState | None:
        """How the samples were last evaluated (None before the first evaluation)."""
        if not self.execution_path.is_file():
            return None
        return read_model(self.execution_path, ExecutionState)


def check_out_folder(out: Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse (RunError, one line) an --out the run would write over files it did not make:
    one of the `inputs` (the --samples file, a --dataset file) is a file the run writes
    there, or `out` exists and is neither empty nor a run folder (a resume: its settings are
    checked by `RunFolder.check`). Creates and writes nothing."""
    folder = RunFolder(out)
    written = [
        folder.run_path,
        folder.problems_path,
        folder.samples_path,
        folder.results_path,
        folder.execution_path,
        folder.report_path,
        folder.plot_path,
    ]
    if (out / CS_DIR).is_dir():
        written += [p for p in (out / CS_DIR).rglob("*") if p.is_file()]
    for path in inputs:
        if any(_same_file(path, mine) for mine in written):
            raise RunError(
                f"{path}: an input of this run, and --out {out} would write over it; "
                "use another --out, or copy the input out of that folder first"
            )
    if not out.is_dir():
        return  # preflight.check_out made sure it can be created
    try:
        prepare_out(
            out,
            is_resume=folder.exists,
            overwrite=False,
            what="a bench run folder",
            scratch=(START_DIR,),  # what a killed start left in a new folder
            remedy="use a new or empty folder (or a run folder, to resume it); nothing was written",
        )
    except OutputError as e:
        raise RunError(str(e)) from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # through links, and hard links
    except OSError:  # either does not exist (or cannot be read): not the same file
        return False


def evaluate(
    folder: RunFolder,
    *,
    workers: int | None = None,
    executor: str | None = None,
    stop_on_first_failure: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Sample], list[str], dict[str, SampleResult]]:
    """Execute the folder's samples that have no cached result; returns (samples, keys, results)."""
    problems = folder.problems()
    samples = sorted(folder.samples(), key=lambda s: (s.problem_id, s.index))
    keys, results, isolation = evaluate_samples(
        problems,
        samples,
        folder.results_path,
        workers=workers,
        executor=executor,
        stop_on_first_failure=stop_on_first_failure,
        progress=progress,
    )
    previous = folder.execution()
    if isolation is None and previous is not None:
        isolation = previous.isolation
    state = ExecutionState(stop_on_first_failure=stop_on_first_failure, isolation=isolation)
    write_atomic(folder.execution_path, state.model_dump_json(indent=2).encode() + b"\n")
    return samples, keys, results


def make_report(
    folder: RunFolder,
    ks: list[int],
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Report:
    """Build report.json from the folder (every sample must have a result) and write it."""
    from appsplus.bench.execute import read_results, sample_keys

    state = folder.execution()
    if state is None:
        raise RunError(f"{folder.out}: not evaluated yet (run `bench evaluate --out {folder.out}`)")
    stop_on_first_failure = state.stop_on_first_failure
    problems = folder.problems()
    samples = sorted(folder.samples(), key=lambda s: (s.problem_id, s.index))
    keys, _ = sample_keys({p.problem_id: p for p in problems}, samples, stop_on_first_failure)
    report = build_report(
        folder.config(),
        problems,
        samples,
        keys,
        read_results(folder.results_path),
        ks,
        stop_on_first_failure=stop_on_first_failure,
        isolation=state.isolation,
        resamples=resamples,
        confidence=confidence,
        bootstrap_seed=seed,
    )
    write_atomic(folder.report_path, report_json(report).encode())
    return report
