"""`bench` command line: generate -> evaluate -> report, and compare.

Thin commands over `benchmarks.*`; progress bars go to stderr, tables (or `--json`) to
stdout; library errors become friendly messages only here.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from pathlib import Path

import click

from appsplus import __version__
from appsplus.cli_options import allow_unisolated_option, executor_option

DEFAULT_KS = (1, 5, 10)


def _console(stderr: bool = False):
    """A rich console; 120 columns when not a terminal (tables piped to a file stay whole)."""
    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=max(console.width, 120))
    return console


def _friendly(fn):
    """Turn the library's expected errors into click errors (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from appsplus.execution import ExecutorSpecError, SandboxError
        from benchmarks.backends import BackendError
        from benchmarks.critic import CriticError
        from benchmarks.critic_sampling import CriticSamplingError
        from benchmarks.generate import SamplesFileError
        from benchmarks.jsonl import JsonlError
        from benchmarks.metrics import MetricError
        from benchmarks.report import CompareError
        from benchmarks.run import RunError
        from benchmarks.suites import SuiteError

        try:
            return fn(*args, **kwargs)
        except SandboxError as e:
            raise click.ClickException(f"the sandbox failed (not the model's programs): {e}") from e
        except (
            BackendError,
            CompareError,
            CriticError,
            CriticSamplingError,
            ExecutorSpecError,
            JsonlError,
            MetricError,
            RunError,
            SamplesFileError,
            SuiteError,
        ) as e:
            raise click.ClickException(str(e)) from e

    return wrapper


def _parse_ks(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        ks = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from None
    if not ks or ks[0] < 1:
        raise click.BadParameter("k values must be positive integers")
    return ks


def _default_ks(ks: list[int] | None, n: int) -> list[int]:
    """Explicit ks are kept as given (k > n fails later, loudly); the default stops at n."""
    return ks if ks is not None else [k for k in DEFAULT_KS if k <= n] or [1]


def _progress(description: str, total: int):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_console(stderr=True),
        transient=False,
    )
    task = progress.add_task(description, total=total)
    return progress, (lambda n: progress.advance(task, n))


# ---------------------------------------------------------------- shared options


def _options(*decorators):
    """One decorator applying `decorators` so that options show in the order given."""

    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


suite_options = _options(
    click.option(
        "--suite",
        required=True,
        type=click.Choice(["apps+", "apps", "sample", "humaneval", "mbpp"]),
        help="Benchmark suite (see the README for each prompt format).",
    ),
    click.option(
        "--dataset",
        help="apps+: a build folder or hub id; apps: an APPS folder/jsonl (default: the hub); "
        "humaneval: HumanEval.jsonl(.gz); mbpp: mbpp.jsonl.",
    ),
    click.option(
        "--split",
        help="Split to use (default test; mbpp: prompt/test/validation/train/all).",
    ),
    click.option("--limit", type=click.IntRange(min=1), help="Only the first N problems."),
    click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        help="Per-test seconds for every problem (default: the suite's, e.g. APPS+ "
        "reference runtimes).",
    ),
)


sampling_options = _options(
    click.option("--model", help="Local path or hub id (hf, vllm), or the served name (openai)."),
    click.option(
        "--backend",
        type=click.Choice(["hf", "vllm", "openai"]),
        default="hf",
        show_default=True,
    ),
    click.option(
        "--n",
        "n",
        type=click.IntRange(min=1),
        default=20,
        show_default=True,
        help="Samples per problem.",
    ),
    click.option(
        "--temperature",
        type=click.FloatRange(min=0),
        default=0.8,
        show_default=True,
        help="0 means greedy.",
    ),
    click.option(
        "--top-p",
        type=click.FloatRange(min=0, max=1, min_open=True),
        default=0.95,
        show_default=True,
    ),
    click.option("--max-new-tokens", type=click.IntRange(min=1), default=1024, show_default=True),
    click.option("--seed", type=int, default=0, show_default=True),
    click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        help="Samples per generate call (default min(max(n, 16), 64)); part of the "
        "run's identity, since it decides the random draws.",
    ),
    click.option("--stop", multiple=True, help="Extra stop sequence (repeatable)."),
    click.option(
        "--chat-template/--no-chat-template",
        "chat",
        default=None,
        help="Wrap prompts in the tokenizer's chat template (default: when it has one; "
        "openai: use /chat/completions).",
    ),
    click.option("--revision", help="Hub revision of the model (hf, vllm)."),
    click.option("--device", default="auto", show_default=True, help="hf: cpu, cuda, cuda:1, mps."),
    click.option("--dtype", default="auto", show_default=True, help="float32, bfloat16, float16."),
    click.option(
        "--base-url", help="openai: the server's base URL, e.g. http://localhost:8000/v1."
    ),
    click.option("--trust-remote-code", is_flag=True, help="Allow model code from the hub."),
    click.option(
        "--samples",
        "samples_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Evaluate generations made elsewhere: jsonl of {problem_id, completion | program}.",
    ),
    click.option(
        "--allow-missing",
        is_flag=True,
        help="--samples: leave out problems without samples.",
    ),
)


strategy_options = _options(
    click.option(
        "--strategy",
        type=click.Choice(["sampling", "critic-sampling"]),
        default="sampling",
        show_default=True,
        help="critic-sampling: after the plain samples, refine and repair failing "
        "programs with a CodeRL critic and compare at equal budget (see the README).",
    ),
    click.option(
        "--critic",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="critic-sampling: a critic folder written by `python -m trainers.coderl "
        "train-critic`.",
    ),
    click.option(
        "--cs-initial",
        type=click.IntRange(min=1),
        help="critic-sampling: plain samples to start from (default: a quarter of --n).",
    ),
    click.option(
        "--cs-rounds",
        type=click.IntRange(min=0),
        default=2,
        show_default=True,
        help="critic-sampling: refine/repair rounds.",
    ),
    click.option(
        "--cs-enough",
        type=click.IntRange(min=1),
        help="critic-sampling: stop a problem once this many programs pass its public "
        "tests (default: the largest k).",
    ),
    click.option(
        "--refine/--no-refine",
        default=True,
        show_default=True,
        help="critic-sampling: resample failing programs from the critic's failure point.",
    ),
    click.option(
        "--repair/--no-repair",
        default=True,
        show_default=True,
        help="critic-sampling: regenerate failing programs from their test feedback.",
    ),
)


def out_option(fn):
    return click.option(
        "--out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Run folder (created; an existing one is resumed).",
    )(fn)


eval_options = _options(
    click.option("--workers", type=click.IntRange(min=1), help="Sandbox workers (default: CPUs)."),
    executor_option,
    click.option(
        "--all-tests",
        is_flag=True,
        help="Run every test even after a failure (exact APPS test-case average; slower).",
    ),
)


report_options = _options(
    click.option("--k", "ks", help="Comma-separated k for pass@k (default 1,5,10 up to n)."),
    click.option(
        "--bootstrap",
        type=click.IntRange(min=100),
        default=1000,
        show_default=True,
        help="Bootstrap resamples.",
    ),
    click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print report.json to stdout instead of tables.",
    ),
)


# ---------------------------------------------------------------- stages


def _sampling(opts: dict):
    from benchmarks.schema import Sampling

    n = opts["n"]
    return Sampling(
        n=n,
        temperature=opts["temperature"],
        top_p=opts["top_p"],
        max_new_tokens=opts["max_new_tokens"],
        seed=opts["seed"],
        batch_size=opts["batch_size"] or min(max(n, 16), 64),
        extra_stop=list(opts["stop"]),
    )


def _load_suite(opts: dict):
    from benchmarks.suites import load_suite

    return load_suite(
        opts["suite"],
        opts["dataset"],
        split=opts["split"],
        limit=opts["limit"],
        time_limit_s=opts["time_limit"],
    )


def _import_samples(opts: dict, folder) -> int:
    """--samples FILE: start the run from a file of generations; returns the samples' n."""
    from benchmarks.extract import EXTRACTION_VERSION
    from benchmarks.generate import import_samples
    from benchmarks.jsonl import write_models
    from benchmarks.schema import ModelInfo, RunConfig
    from benchmarks.suites import sha256_files

    path: Path = opts["samples_file"]
    suite = _load_suite(opts)
    known = None
    if opts["limit"] is not None:  # samples of the problems --limit leaves out are skipped
        known = {p.problem_id for p in _load_suite(dict(opts, limit=None)).problems}
    samples = import_samples(
        suite.problems, path, allow_missing=opts["allow_missing"], known_ids=known
    )
    present = {s.problem_id for s in samples}
    problems = [p for p in suite.problems if p.problem_id in present]
    info = suite.info
    if len(problems) < len(suite.problems):
        skipped = dict(info.skipped, no_samples=len(suite.problems) - len(problems))
        info = info.model_copy(update={"n_problems": len(problems), "skipped": skipped})
    model = ModelInfo(
        backend="samples",
        model=opts["model"] or path.stem,
        samples_file=str(path),
        samples_sha256=sha256_files([path]),
    )
    config = RunConfig(
        suite=info, model=model, sampling=None, extraction_version=EXTRACTION_VERSION
    )
    fresh = not folder.exists()
    folder.start(config, problems)
    if fresh or not folder.samples_path.is_file():
        write_models(folder.samples_path, samples)
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.problem_id] = counts.get(s.problem_id, 0) + 1
    return min(counts.values())


def _open_backend(opts: dict):
    from benchmarks.backends import open_backend

    return open_backend(
        opts["backend"],
        opts["model"],
        chat=opts["chat"],
        revision=opts["revision"],
        device=opts["device"],
        dtype=opts["dtype"],
        base_url=opts["base_url"],
        trust_remote_code=opts["trust_remote_code"],
    )


def _generate(opts: dict, folder, keep_backend: bool = False) -> tuple[int, float, object]:
    """Start or resume generation; returns (n, seconds spent generating, the backend if
    `keep_backend` and one was opened, else None)."""
    from benchmarks.extract import EXTRACTION_VERSION
    from benchmarks.generate import generate_samples
    from benchmarks.run import RunError
    from benchmarks.schema import RunConfig

    if opts["samples_file"] is not None:
        return _import_samples(opts, folder), 0.0, None
    if not opts["model"]:
        raise click.UsageError("give --model (or --samples FILE)")
    suite = _load_suite(opts)
    sampling = _sampling(opts)
    if folder.exists():  # refuse a mismatch before spending minutes loading a model
        old = folder.config()
        same_model = (old.model.backend, old.model.model) == (opts["backend"], opts["model"])
        if old.suite != suite.info or old.sampling != sampling or not same_model:
            diffs = [
                name
                for name, same in (
                    ("suite", old.suite == suite.info),
                    ("sampling", old.sampling == sampling),
                    ("model", same_model),
                )
                if not same
            ]
            raise RunError(
                f"{folder.out} holds a run with other settings ({', '.join(diffs)}); "
                "use another --out, or the same settings to resume"
            )
        if old.extraction_version != EXTRACTION_VERSION:
            raise RunError(f"{folder.out} was made with another code-extraction version")
        if folder.missing_samples(folder.problems(), sampling.n) == 0:
            return sampling.n, 0.0, None
    backend = _open_backend(opts)
    try:
        config = RunConfig(
            suite=suite.info,
            model=backend.info(),
            sampling=sampling,
            extraction_version=EXTRACTION_VERSION,
        )
        folder.start(config, suite.problems)
        problems = folder.problems()
        todo = folder.missing_samples(problems, sampling.n)
        started = time.monotonic()
        progress, advance = _progress("generating", len(problems) * sampling.n)
        with progress:
            advance(len(problems) * sampling.n - todo)
            written = generate_samples(
                problems, backend, sampling, folder.samples_path, progress=advance
            )
        elapsed = time.monotonic() - started
        logging.getLogger(__name__).info("generated %d samples in %.1f s", written, elapsed)
    except BaseException:
        backend.close()
        raise
    if keep_backend:
        return sampling.n, elapsed, backend
    backend.close()
    return sampling.n, elapsed, None


def _evaluate(folder, workers: int | None, executor: str, all_tests: bool) -> float:
    from benchmarks.run import evaluate

    samples = folder.samples()
    started = time.monotonic()
    progress, advance = _progress("executing", len(samples))
    with progress:
        evaluate(
            folder,
            workers=workers,
            executor=executor,
            stop_on_first_failure=not all_tests,
            progress=advance,
        )
    return time.monotonic() - started


def _report(
    folder, ks: list[int] | None, n: int | None, bootstrap: int, as_json: bool, show: bool = True
) -> None:
    from benchmarks.plot import plot_report
    from benchmarks.report import report_json, report_table, verdict_table
    from benchmarks.run import make_report

    if n is None:
        counts: dict[str, int] = {}
        for s in folder.samples():
            counts[s.problem_id] = counts.get(s.problem_id, 0) + 1
        n = min(counts.values(), default=1)
    report = make_report(folder, _default_ks(ks, n), resamples=bootstrap)
    plot = plot_report(report, folder.plot_path)
    if not show:
        return
    if as_json:
        click.echo(report_json(report), nl=False)
        return
    console = _console()
    console.print(report_table(report))
    console.print(verdict_table(report))
    err = _console(stderr=True)
    if not report.execution.test_case_average_exact:
        err.print(
            "test-case average (≥): tests after a sample's first failure were skipped and "
            "count as failed; use --all-tests for the exact APPS figure"
        )
    err.print(f"report: {folder.report_path}" + (f"\nplot: {plot}" if plot else ""))


# ---------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bench")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def main(verbose: int) -> None:
    """Benchmark code models with execution: pass@k by difficulty.

    \b
    Example:
      bench run --model ./my-model --suite sample --n 5 --out runs/sample
      bench compare runs/a/report.json runs/b/report.json
    """
    from rich.logging import RichHandler

    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=_console(stderr=True), show_path=False)],
        force=True,
    )


@main.command("run")
@allow_unisolated_option
@suite_options
@sampling_options
@strategy_options
@eval_options
@report_options
@out_option
@_friendly
def run_command(out: Path, workers, executor, all_tests, ks, bootstrap, as_json, **opts) -> None:
    """Generate, execute and report in one go (resumable: rerun the same command).

    Samples are appended to OUT/samples.jsonl as they are generated and results cached
    in OUT/results.jsonl, so an interrupted run continues where it stopped and gives the
    same report. Writes OUT/report.json and OUT/pass_at_k.png.

    With --strategy critic-sampling (APPS-style suites), the --n plain samples are the
    budget: critic sampling starts from the first --cs-initial of them and spends the rest
    on refine/repair; OUT/critic_sampling/report.json compares it with plain sampling at
    the same budget (--json prints that report).

    \b
    Example:
      bench run --model ./my-model --suite sample --n 5 --k 1,5 --out runs/sample
      bench run --model Qwen/Qwen2.5-Coder-1.5B --suite apps+ --dataset apps-plus \\
          --n 20 --k 1,5,10 --temperature 0.8 --out runs/qwen-apps
      bench run --suite humaneval --dataset HumanEval.jsonl.gz --samples gens.jsonl --out runs/he
      bench run --model runs/coderl/actor/checkpoints/step_000100/model --suite sample --n 8 \\
          --k 1,5 --strategy critic-sampling --critic runs/coderl/critic --out runs/cs
    """
    from benchmarks.run import RunFolder

    critic_sampling = opts.pop("strategy") == "critic-sampling"
    cs_opts = {
        k: opts.pop(k)
        for k in ("critic", "cs_initial", "cs_rounds", "cs_enough", "refine", "repair")
    }
    if critic_sampling:
        if opts["samples_file"] is not None or not opts["model"]:
            raise click.UsageError(
                "--strategy critic-sampling generates: give --model, not --samples"
            )
        if cs_opts["critic"] is None:
            raise click.UsageError("--strategy critic-sampling needs --critic PATH")
        if opts["suite"] not in ("apps+", "apps", "sample"):
            raise click.UsageError(
                "--strategy critic-sampling needs an APPS-style suite (apps+, apps, sample)"
            )
        from benchmarks.critic import check_critic_folder

        check_critic_folder(cs_opts["critic"])
    elif cs_opts["critic"] is not None:
        raise click.UsageError("--critic is only used with --strategy critic-sampling")
    folder = RunFolder(out)
    ks_list = _parse_ks(ks)
    n, gen_s, backend = _generate(opts, folder, keep_backend=critic_sampling)
    exec_s = _evaluate(folder, workers, executor, all_tests)
    _report(folder, ks_list, n, bootstrap, as_json, show=not (critic_sampling and as_json))
    samples = len(folder.samples())
    _console(stderr=True).print(
        f"wall time: generation {gen_s:.1f} s, execution {exec_s:.1f} s "
        f"({samples / exec_s if exec_s > 0 else float('inf'):.1f} samples/s)"
    )
    if critic_sampling:
        _critic_sampling(
            folder,
            opts,
            cs_opts,
            backend,
            n,
            ks_list,
            workers,
            executor,
            all_tests,
            bootstrap,
            as_json,
        )


def _critic_sampling(
    folder, opts, cs, backend, n, ks, workers, executor, all_tests, bootstrap, as_json
):
    """The critic-sampling stage of `bench run` (after the plain samples are executed)."""
    from benchmarks.critic import critic_fingerprint, load_critic
    from benchmarks.critic_sampling import (
        CSConfig,
        check_config,
        complete_problems,
        cs_folder,
        cs_table,
        execute_generations,
        make_cs_report,
        origin_line,
        read_generations,
        run_critic_sampling,
    )
    from benchmarks.report import report_json

    ks = _default_ks(ks, n)
    started = time.monotonic()
    initial = cs["cs_initial"] or max(1, -(-n // 4))
    if initial > n:
        raise click.UsageError(f"--cs-initial {initial} is more than the budget --n {n}")
    config = CSConfig(
        critic=str(cs["critic"]),
        critic_fingerprint=critic_fingerprint(cs["critic"]),
        budget=n,
        initial=initial,
        rounds=cs["cs_rounds"],
        refine=cs["refine"],
        repair=cs["repair"],
        enough=cs["cs_enough"] or max(ks),
    )
    problems = folder.problems()
    path = cs_folder(folder.out)
    check_config(path, config)  # a folder of other settings is refused even when complete
    todo = len(problems) - len(complete_problems(read_generations(path / "generations.jsonl")))
    critic = None
    try:
        if todo:
            critic = load_critic(cs["critic"])
            if backend is None:
                backend = _open_backend(opts)
            progress, advance = _progress("critic sampling", len(problems))
            with progress:
                rows = run_critic_sampling(
                    problems,
                    folder.samples(),
                    backend,
                    critic,
                    config,
                    folder.config().sampling,
                    path,
                    workers=workers,
                    executor=executor,
                    progress=advance,
                )
        else:
            rows = read_generations(path / "generations.jsonl")
    finally:
        if backend is not None:
            backend.close()
        if critic is not None:
            critic.close()
    extra = [r for r in rows if r.origin != "sample"]
    progress, advance = _progress("executing refinements", len(rows))
    with progress:
        execute_generations(
            folder,
            rows,
            workers=workers,
            executor=executor,
            stop_on_first_failure=not all_tests,
            progress=advance,
        )
    report = make_cs_report(folder, ks, resamples=bootstrap)
    if as_json:
        click.echo(report_json(report), nl=False)
    else:
        _console().print(cs_table(report))
        _console(stderr=True).print(origin_line(report))
    _console(stderr=True).print(
        f"critic sampling: {len(extra)} refine/repair programs, "
        f"{time.monotonic() - started:.1f} s; report: {path / 'report.json'}"
    )


@main.command("generate")
@suite_options
@sampling_options
@out_option
@_friendly
def generate_command(out: Path, **opts) -> None:
    """Generate samples into OUT/samples.jsonl (appended as they come; resumable).

    \b
    Example:
      bench generate --model ./my-model --suite sample --n 5 --out runs/sample
      bench generate --backend openai --base-url http://localhost:8000/v1 \\
          --model my-served-model --suite mbpp --dataset mbpp.jsonl --out runs/mbpp
    """
    from benchmarks.run import RunFolder

    folder = RunFolder(out)
    _, seconds, _ = _generate(opts, folder)
    _console(stderr=True).print(f"samples: {folder.samples_path} ({seconds:.1f} s generating)")


@main.command("evaluate")
@allow_unisolated_option
@out_option
@click.option(
    "--suite",
    type=click.Choice(["apps+", "apps", "sample", "humaneval", "mbpp"]),
    help="With --samples: the suite the samples answer.",
)
@click.option("--dataset", help="With --samples: the suite's input (as for `bench run`).")
@click.option("--split", help="With --samples: the split.")
@click.option(
    "--limit", type=click.IntRange(min=1), help="With --samples: only the first N problems."
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    help="With --samples: per-test seconds.",
)
@click.option(
    "--samples",
    "samples_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="jsonl of {problem_id, completion | program} made elsewhere.",
)
@click.option("--model", help="With --samples: a label for the model in the report.")
@click.option(
    "--allow-missing", is_flag=True, help="With --samples: leave out problems without samples."
)
@eval_options
@_friendly
def evaluate_command(out: Path, workers, executor, all_tests, **opts) -> None:
    """Execute the samples of OUT (or of --samples FILE) in the sandbox; results are cached.

    \b
    Example:
      bench evaluate --out runs/sample --workers 8
      bench evaluate --suite humaneval --dataset HumanEval.jsonl.gz --samples gens.jsonl --out runs/he
    """
    from benchmarks.run import RunFolder

    folder = RunFolder(out)
    if opts["samples_file"] is not None:
        if not opts["suite"]:
            raise click.UsageError("--samples needs --suite")
        _import_samples(opts, folder)
    elif not folder.exists():
        raise click.UsageError(f"{out} is not a run folder; give --suite and --samples FILE")
    seconds = _evaluate(folder, workers, executor, all_tests)
    _console(stderr=True).print(f"results: {folder.results_path} ({seconds:.1f} s executing)")


@main.command("report")
@out_option
@report_options
@_friendly
def report_command(out: Path, ks, bootstrap, as_json) -> None:
    """Compute pass@k by difficulty from OUT; write OUT/report.json and OUT/pass_at_k.png.

    A run with critic sampling also gets OUT/critic_sampling/report.json (printed instead
    of report.json with --json).

    \b
    Example:
      bench report --out runs/sample --k 1,5
      bench report --out runs/sample --json | jq .overall.pass_at_k
    """
    from benchmarks.critic_sampling import cs_folder, cs_table, make_cs_report
    from benchmarks.report import report_json
    from benchmarks.run import RunFolder

    folder = RunFolder(out)
    critic_sampling = (cs_folder(out) / "config.json").is_file()
    _report(folder, _parse_ks(ks), None, bootstrap, as_json, show=not (critic_sampling and as_json))
    if critic_sampling:
        n = folder.config().sampling.n
        report = make_cs_report(folder, _default_ks(_parse_ks(ks), n), resamples=bootstrap)
        if as_json:
            click.echo(report_json(report), nl=False)
        else:
            _console().print(cs_table(report))


@main.command("compare")
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Compare even if the dataset hashes differ.")
@_friendly
def compare_command(reports: tuple[Path, ...], force: bool) -> None:
    """Put reports (report.json files or run folders) side by side.

    Refuses reports of different datasets (suite or dataset hash) unless --force.

    \b
    Example:
      bench compare runs/base/report.json runs/tuned/report.json
      bench compare runs/a runs/b --force
    """
    from benchmarks.report import check_comparable, compare_table, load_report

    loaded = [load_report(p) for p in reports]
    names = [_label(p, r) for p, r in zip(reports, loaded)]
    for warning in check_comparable(loaded, names, force=force):
        _console(stderr=True).print(f"[yellow]warning:[/yellow] {warning}")
    _console().print(compare_table(loaded, names))


def _label(path: Path, report) -> str:
    folder = path if path.is_dir() else path.parent
    return f"{folder.name} ({Path(report.model.model).name})"


if __name__ == "__main__":
    sys.exit(main())
