"""The `bench` commands as Python functions: typed settings in, typed results out.

    from appsplus.bench import api

    result = api.run(
        api.RunSpec(
            out="runs/sample",
            suite=api.SuiteSpec(name="sample", limit=5),
            model=api.ModelSpec(model="./my-model"),
            sampling=api.SamplingSpec(n=5),
            ks=[1, 5],
        )
    )
    result.report.overall.pass_at_k["pass@1"].value

`run` = `generate` + `evaluate` + `report` (+ critic sampling); `compare` puts reports side
by side. Each function checks every setting first (k against n, the output folder, the
model folder or the hub, the critic folder), so a mistake fails before a model is loaded
or a program runs. Errors are the library's (`SettingsError`, `RunError`, `BackendError`,
`SuiteError`, ...: one-line messages); progress goes to an optional `stage` callback.
The settings and results are defined in `appsplus.bench.settings`, the checks in
`appsplus.bench.preflight`; this module re-exports the settings and results.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from appsplus.bench.preflight import check_ks, check_model, check_out, check_run, default_ks
from appsplus.bench.report import Report
from appsplus.bench.run import RunFolder, check_out_folder
from appsplus.bench.settings import (
    Advance,
    Comparison,
    CriticSamplingResult,
    CriticSamplingSpec,
    EvaluateResult,
    ExecutionSpec,
    GenerateResult,
    ModelSpec,
    ReportResult,
    RunResult,
    RunSpec,
    SamplesSpec,
    SamplingSpec,
    SettingsError,
    Stage,
    SuiteSpec,
)

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _quiet(description: str, total: int) -> Iterator[Advance]:
    yield lambda n: None


# ---------------------------------------------------------------- stages


def _sampling(spec: SamplingSpec):
    from appsplus.bench.files import Sampling

    n = spec.n
    return Sampling(
        n=n,
        temperature=spec.temperature,
        top_p=spec.top_p,
        max_new_tokens=spec.max_new_tokens,
        seed=spec.seed,
        batch_size=spec.batch_size or min(max(n, 16), 64),
        extra_stop=list(spec.stop),
    )


def _load_suite(spec: SuiteSpec, limit: int | None = None):
    from appsplus.bench.suites import load_suite

    return load_suite(
        spec.name,
        spec.dataset,
        split=spec.split,
        limit=spec.limit if limit is None else limit,
        time_limit_s=spec.time_limit_s,
        time_limits=spec.time_limits,
        since=spec.since,
        until=spec.until,
        lcb_version=spec.lcb_version,
        lcb_examples=spec.lcb_examples,
    )


def _samples_per_problem(samples) -> int:
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.problem_id] = counts.get(s.problem_id, 0) + 1
    return min(counts.values(), default=0)


def import_samples(out: Path, suite: SuiteSpec, samples: SamplesSpec) -> GenerateResult:
    """Start the run folder `out` from a file of generations (or resume it)."""
    from appsplus.bench.files import ModelInfo, RunConfig
    from appsplus.bench.generate import import_samples as read_samples_file
    from appsplus.bench.jsonl import write_models
    from appsplus.bench.suites import sha256_files
    from appsplus.extract import EXTRACTION_VERSION

    folder = RunFolder(out)
    loaded = _load_suite(suite)
    known = None
    if suite.limit is not None:  # samples of the problems --limit leaves out are skipped
        everything = _load_suite(suite.model_copy(update={"limit": None}))
        known = {p.problem_id for p in everything.problems}
    rows = read_samples_file(
        loaded.problems, samples.path, allow_missing=samples.allow_missing, known_ids=known
    )
    present = {s.problem_id for s in rows}
    problems = [p for p in loaded.problems if p.problem_id in present]
    info = loaded.info
    if len(problems) < len(loaded.problems):
        skipped = dict(info.skipped, no_samples=len(loaded.problems) - len(problems))
        info = info.model_copy(update={"n_problems": len(problems), "skipped": skipped})
    model = ModelInfo(
        backend="samples",
        model=samples.label or samples.path.stem,
        samples_file=str(samples.path),
        samples_sha256=sha256_files([samples.path]),
    )
    config = RunConfig(
        suite=info, model=model, sampling=None, extraction_version=EXTRACTION_VERSION
    )
    fresh = not folder.exists()
    folder.start(config, problems)
    written = 0
    if fresh or not folder.samples_path.is_file():
        write_models(folder.samples_path, rows)
        written = len(rows)
    return GenerateResult(folder.samples_path, _samples_per_problem(rows), written, 0.0)


def _check_resume(folder: RunFolder, suite_info, model: ModelSpec, sampling) -> None:
    """Refuse a folder of other settings before spending minutes loading a model."""
    from appsplus.bench.run import RunError
    from appsplus.extract import EXTRACTION_VERSION

    old = folder.config()
    same_model = (old.model.backend, old.model.model) == (model.backend, model.model)
    diffs = [
        name
        for name, same in (
            ("suite", old.suite == suite_info),
            ("sampling", old.sampling == sampling),
            ("model", same_model),
        )
        if not same
    ]
    if diffs:
        raise RunError(
            f"{folder.out} holds a run with other settings ({', '.join(diffs)}); "
            "use another --out, or the same settings to resume"
        )
    if old.extraction_version != EXTRACTION_VERSION:
        raise RunError(f"{folder.out} was made with another code-extraction version")


def _check_out_folder(out: Path, suite: SuiteSpec, samples: SamplesSpec | None) -> None:
    """`out` is new, empty or a run folder, and no input file is a file the run writes there."""
    inputs = [samples.path] if samples is not None else []
    if suite.dataset and Path(suite.dataset).is_file():
        inputs.append(Path(suite.dataset))
    check_out_folder(out, inputs)


def _model_info(backend, problems):
    """The backend's ModelInfo; with a chat template and problems with a system prompt, it
    says whether the system turn was sent as one or joined into the user message."""
    info = backend.info()
    if backend.chat and any(p.system_prompt is not None for p in problems):
        info = info.model_copy(update={"system_turn": backend.system_turn})
    return info


def _open_backend(spec: ModelSpec, from_cache: bool):
    from appsplus.bench.backends import open_backend

    return open_backend(
        spec.backend,
        spec.model,
        chat=spec.chat,
        revision=spec.revision,
        device=spec.device,
        dtype=spec.dtype,
        base_url=spec.base_url,
        trust_remote_code=spec.trust_remote_code,
        local_files_only=from_cache,
    )


def _generate(
    out: Path,
    suite: SuiteSpec,
    model: ModelSpec,
    sampling_spec: SamplingSpec,
    stage: Stage,
    keep_backend: bool = False,
) -> tuple[GenerateResult, object, bool]:
    """Start or resume generation (settings already checked) -> (result, the backend if
    kept, whether the model loads from the hub cache)."""
    from appsplus.bench.files import RunConfig
    from appsplus.bench.generate import generate_samples
    from appsplus.extract import EXTRACTION_VERSION

    folder = RunFolder(out)
    loaded = _load_suite(suite)
    from_cache = check_model(model)
    sampling = _sampling(sampling_spec)
    if folder.exists():
        _check_resume(folder, loaded.info, model, sampling)
        if folder.missing_samples(folder.problems(), sampling.n) == 0:
            return GenerateResult(folder.samples_path, sampling.n, 0, 0.0), None, from_cache
    backend = _open_backend(model, from_cache)
    try:
        config = RunConfig(
            suite=loaded.info,
            model=_model_info(backend, loaded.problems),
            sampling=sampling,
            extraction_version=EXTRACTION_VERSION,
        )
        folder.start(config, loaded.problems)
        problems = folder.problems()
        todo = folder.missing_samples(problems, sampling.n)
        started = time.monotonic()
        with stage("generating", len(problems) * sampling.n) as advance:
            advance(len(problems) * sampling.n - todo)
            written = generate_samples(
                problems, backend, sampling, folder.samples_path, progress=advance
            )
        elapsed = time.monotonic() - started
        logger.info("generated %d samples in %.1f s", written, elapsed)
    except BaseException:
        backend.close()
        raise
    result = GenerateResult(folder.samples_path, sampling.n, written, elapsed)
    if keep_backend:
        return result, backend, from_cache
    backend.close()
    return result, None, from_cache


def generate(
    out: Path | str,
    suite: SuiteSpec,
    model: ModelSpec | None = None,
    sampling: SamplingSpec | None = None,
    *,
    samples: SamplesSpec | None = None,
    stage: Stage | None = None,
) -> GenerateResult:
    """`bench generate`: the samples of run folder `out`, from `model` (or a `samples` file)."""
    spec = RunSpec(
        out=Path(out),
        suite=suite,
        model=model,
        samples=samples,
        sampling=sampling or SamplingSpec(),
    )
    check_run(spec)
    _check_out_folder(spec.out, suite, spec.samples)
    if spec.samples is not None:
        return import_samples(spec.out, suite, spec.samples)
    assert spec.model is not None
    result, _, _ = _generate(spec.out, suite, spec.model, spec.sampling, stage or _quiet)
    return result


def _execute(out: Path, execution: ExecutionSpec, stage: Stage) -> EvaluateResult:
    from appsplus.bench.run import evaluate as evaluate_folder

    folder = RunFolder(out)
    n_samples = len(folder.samples())
    started = time.monotonic()
    with stage("executing", n_samples) as advance:
        evaluate_folder(
            folder,
            workers=execution.workers,
            executor=execution.executor,
            stop_on_first_failure=not execution.all_tests,
            progress=advance,
        )
    return EvaluateResult(folder.results_path, n_samples, time.monotonic() - started)


def evaluate(
    out: Path | str,
    execution: ExecutionSpec | None = None,
    *,
    suite: SuiteSpec | None = None,
    samples: SamplesSpec | None = None,
    stage: Stage | None = None,
) -> EvaluateResult:
    """`bench evaluate`: execute the samples of run folder `out` (first importing `samples`,
    which needs `suite`); results are cached, so only new samples run."""
    from appsplus.bench.run import RunError

    out = Path(out)
    execution = execution or ExecutionSpec()
    if samples is not None:
        if suite is None:
            raise SettingsError("--samples needs --suite")
        check_out(out)
        _check_out_folder(out, suite, samples)
        import_samples(out, suite, samples)
    elif not RunFolder(out).exists():
        raise RunError(f"{out} is not a run folder; give --suite and --samples FILE")
    else:
        RunFolder(out).config()  # a damaged run.json is reported before anything runs
    return _execute(out, execution, stage or _quiet)


def report(out: Path | str, ks: list[int] | None = None, *, bootstrap: int = 1000) -> ReportResult:
    """`bench report`: pass@k of run folder `out` into report.json (and pass_at_k.png); with
    critic sampling in the folder, its report too. Default ks: 1, 5, 10 up to n."""
    from appsplus.bench.critic_sampling import cs_folder, make_cs_report
    from appsplus.bench.plot import plot_report
    from appsplus.bench.run import make_report

    folder = RunFolder(Path(out))
    folder.config()  # a missing or damaged run.json is reported first
    n = _samples_per_problem(folder.samples()) or 1
    made = make_report(folder, default_ks(ks, n), resamples=bootstrap)
    plot = plot_report(made, folder.plot_path)
    cs = None
    if (cs_folder(folder.out) / "config.json").is_file():
        sampling = folder.config().sampling
        budget = sampling.n if sampling is not None else n
        cs = make_cs_report(folder, default_ks(ks, budget), resamples=bootstrap)
    return ReportResult(made, folder.report_path, plot, cs)


def _critic_sampling(
    spec: RunSpec, n: int, backend, from_cache: bool, stage: Stage
) -> CriticSamplingResult:
    """The critic-sampling stage of `run` (after the plain samples are executed)."""
    from appsplus.bench.critic import critic_fingerprint, load_critic
    from appsplus.bench.critic_sampling import (
        CSConfig,
        check_config,
        complete_problems,
        cs_folder,
        execute_generations,
        make_cs_report,
        read_generations,
        run_critic_sampling,
    )

    cs = spec.critic_sampling
    assert cs is not None and spec.model is not None
    folder = RunFolder(spec.out)
    ks = default_ks(spec.ks, n)
    started = time.monotonic()
    config = CSConfig(
        critic=str(cs.critic),
        critic_fingerprint=critic_fingerprint(cs.critic),
        budget=n,
        initial=cs.initial or max(1, -(-n // 4)),
        rounds=cs.rounds,
        refine=cs.refine,
        repair=cs.repair,
        enough=cs.enough or max(ks),
    )
    problems = folder.problems()
    path = cs_folder(folder.out)
    check_config(path, config)  # a folder of other settings is refused even when complete
    todo = len(problems) - len(complete_problems(read_generations(path / "generations.jsonl")))
    critic = None
    try:
        if todo:
            critic = load_critic(cs.critic)
            if backend is None:
                backend = _open_backend(spec.model, from_cache)
            with stage("critic sampling", len(problems)) as advance:
                rows = run_critic_sampling(
                    problems,
                    folder.samples(),
                    backend,
                    critic,
                    config,
                    folder.config().sampling,
                    path,
                    workers=spec.execution.workers,
                    executor=spec.execution.executor,
                    progress=advance,
                )
        else:
            rows = read_generations(path / "generations.jsonl")
    finally:
        if backend is not None:
            backend.close()
        if critic is not None:
            critic.close()
    with stage("executing refinements", len(rows)) as advance:
        execute_generations(
            folder,
            rows,
            workers=spec.execution.workers,
            executor=spec.execution.executor,
            stop_on_first_failure=not spec.execution.all_tests,
            progress=advance,
        )
    made = make_cs_report(folder, ks, resamples=spec.bootstrap)
    extra = sum(r.origin != "sample" for r in rows)
    return CriticSamplingResult(made, path / "report.json", extra, time.monotonic() - started)


def run(spec: RunSpec, *, stage: Stage | None = None) -> RunResult:
    """`bench run`: generate (or import `spec.samples`), execute, report, and with
    `spec.critic_sampling` compare critic sampling with plain sampling at equal budget.

    Resumable: the same spec on the same folder continues where it stopped and gives the
    same report. Every setting is checked before the first model call.
    """
    stage = stage or _quiet
    check_run(spec)
    _check_out_folder(spec.out, spec.suite, spec.samples)
    backend, from_cache = None, False
    if spec.samples is not None:
        generation = import_samples(spec.out, spec.suite, spec.samples)
        check_ks(spec.ks, generation.n, what="the samples per problem")
    else:
        assert spec.model is not None
        keep = spec.critic_sampling is not None
        generation, backend, from_cache = _generate(
            spec.out, spec.suite, spec.model, spec.sampling, stage, keep
        )
    try:
        evaluation = _execute(spec.out, spec.execution, stage)
        from appsplus.bench.plot import plot_report
        from appsplus.bench.run import make_report

        folder = RunFolder(spec.out)
        made = make_report(folder, default_ks(spec.ks, generation.n), resamples=spec.bootstrap)
        plot = plot_report(made, folder.plot_path)
    except BaseException:
        if backend is not None:
            backend.close()
        raise
    cs = None
    if spec.critic_sampling is not None:
        cs = _critic_sampling(spec, generation.n, backend, from_cache, stage)
    return RunResult(made, folder.report_path, plot, generation, evaluation, cs)


def compare(paths: list[Path | str], *, force: bool = False) -> Comparison:
    """`bench compare`: reports (report.json files or run folders) with labels and warnings;
    CompareError for reports of different datasets unless `force`."""
    from appsplus.bench.report import check_comparable, load_report

    paths = [Path(p) for p in paths]
    loaded = [load_report(p) for p in paths]
    names = [_label(p, r) for p, r in zip(paths, loaded)]
    warnings = check_comparable(loaded, names, force=force)
    return Comparison(loaded, names, warnings)


def _label(path: Path, report: Report) -> str:
    folder = path if path.is_dir() else path.parent
    return f"{folder.name} ({Path(report.model.model).name})"


__all__ = [
    "Comparison",
    "CriticSamplingResult",
    "CriticSamplingSpec",
    "EvaluateResult",
    "ExecutionSpec",
    "GenerateResult",
    "ModelSpec",
    "ReportResult",
    "RunResult",
    "RunSpec",
    "SamplesSpec",
    "SamplingSpec",
    "SettingsError",
    "Stage",
    "SuiteSpec",
    "compare",
    "evaluate",
    "generate",
    "report",
    "run",
]
