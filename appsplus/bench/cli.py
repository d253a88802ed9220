"""`bench` command line: generate -> evaluate -> report, and compare.

Each command turns its options into `appsplus.bench.api` settings, calls the matching function
and prints its result: progress bars on stderr, tables (or `--json`) on stdout. The library's
errors (`AppsplusError`) become one-line messages in one place, `cli_output.CliGroup`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

import click

from appsplus import __version__
from appsplus.cli import output as cli_output
from appsplus.cli.options import allow_unisolated_option, executor_option


def _parse_ks(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        ks = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers, got {value!r}", param_hint="'--k'"
        ) from None
    if not ks or ks[0] < 1:
        raise click.BadParameter("k values must be positive integers", param_hint="'--k'")
    return ks


# ---------------------------------------------------------------- shared options


def _options(*decorators):
    """One decorator applying `decorators` so that options show in the order given."""

    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


SUITE_CHOICES = [
    "apps+", "apps", "sample", "humaneval", "mbpp", "livecodebench", "humaneval+", "mbpp+"
]  # fmt: skip
suite_options = _options(
    click.option(
        "--suite",
        required=True,
        type=click.Choice(SUITE_CHOICES),
        help="Benchmark suite (see the README for each prompt format).",
    ),
    click.option(
        "--dataset",
        help="apps+: a build folder or hub id; apps: an APPS folder/jsonl (default: the hub); "
        "humaneval: HumanEval.jsonl(.gz); mbpp: mbpp.jsonl; livecodebench: code_generation_lite "
        "jsonl/parquet files or a folder of them; humaneval+ / mbpp+: HumanEvalPlus.jsonl.gz / "
        "MbppPlus.jsonl.gz (default: EvalPlus's release, downloaded once).",
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
    click.option(
        "--time-limits",
        type=click.Choice(["derived", "fixed"]),
        help="humaneval, mbpp, humaneval+, mbpp+: per-task limits derived from the canonical "
        "solution's measured runtime, max(1 s, 4 x it), measured once and cached; or the "
        "suite's fixed ones (default: fixed for humaneval/mbpp, derived for the + suites).",
    ),
    click.option(
        "--since",
        help="livecodebench: only contests on or after this date (YYYY-MM-DD).",
    ),
    click.option(
        "--until",
        help="livecodebench: only contests on or before this date (YYYY-MM-DD, as midnight).",
    ),
    click.option(
        "--lcb-version",
        help="livecodebench: release version, release_v1 ... release_v6, release_latest, vN "
        "or vA_vB (default without --dataset: release_latest from the hub; with a --dataset "
        "folder: that version's files in it).",
    ),
    click.option(
        "--lcb-examples",
        type=click.Path(file_okay=False),
        help="livecodebench: folder holding LiveCodeBench's func.json and stdin.json "
        "(lcb_runner/prompts/few_shot_examples/generation of its repository); base models "
        "then get its one-shot prompt (default: the chat text continued in a code block).",
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
        help="Take generations made elsewhere instead of a model: jsonl of "
        "{problem_id, completion | program}.",
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
        help="critic-sampling: a critic folder written by `python -m appsplus.trainers.coderl "
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
    """--out of the commands that make a run folder (run, generate, evaluate --samples)."""
    return click.option(
        "--out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Run folder: a new or empty folder, or an existing run folder (resumed); a "
        "folder holding other files is refused.",
    )(fn)


def run_folder_option(help: str):
    """--out of the commands that work on a run folder made earlier (evaluate, report)."""
    return click.option(
        "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help=help
    )


eval_options = _options(
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        help="Sandbox workers (default: the CPUs this process may use).",
    ),
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


# ---------------------------------------------------------------- options -> settings


@contextlib.contextmanager
def _stage(description: str, total: int):
    """The library's progress hook: one progress bar per stage, on stderr."""
    with cli_output.Progress(description, total) as bar:
        yield bar.advance


def _suite_spec(opts: dict):
    from appsplus.bench.api import SuiteSpec

    return SuiteSpec(
        name=opts["suite"],
        dataset=opts["dataset"],
        split=opts["split"],
        limit=opts["limit"],
        time_limit_s=opts["time_limit"],
        time_limits=opts.get("time_limits"),
        since=opts.get("since"),
        until=opts.get("until"),
        lcb_version=opts.get("lcb_version"),
        lcb_examples=opts.get("lcb_examples"),
    )


def _source_specs(opts: dict):
    """(ModelSpec or None, SamplesSpec or None) from --model/--samples and the backend options."""
    from appsplus.bench.api import ModelSpec, SamplesSpec, SettingsError

    if opts["samples_file"] is not None:
        samples = SamplesSpec(
            path=opts["samples_file"], label=opts["model"], allow_missing=opts["allow_missing"]
        )
        return None, samples
    if not opts["model"]:
        raise SettingsError("give --model (or --samples FILE)")
    model = ModelSpec(
        model=opts["model"],
        backend=opts["backend"],
        chat=opts["chat"],
        revision=opts["revision"],
        device=opts["device"],
        dtype=opts["dtype"],
        base_url=opts["base_url"],
        trust_remote_code=opts["trust_remote_code"],
    )
    return model, None


def _sampling_spec(opts: dict):
    from appsplus.bench.api import SamplingSpec

    return SamplingSpec(
        n=opts["n"],
        temperature=opts["temperature"],
        top_p=opts["top_p"],
        max_new_tokens=opts["max_new_tokens"],
        seed=opts["seed"],
        batch_size=opts["batch_size"],
        stop=list(opts["stop"]),
    )


def _show_report(result, as_json: bool) -> None:
    """Tables of report.json on stdout (or its JSON), notes and paths on stderr."""
    from appsplus.bench.report import has_apps_metrics, report_json, report_table, verdict_table

    report = result.report
    if as_json:
        click.echo(report_json(report), nl=False)
        return
    console = cli_output.console()
    console.print(report_table(report))
    console.print(verdict_table(report))
    err = cli_output.console(stderr=True)
    if has_apps_metrics(report) and not report.execution.test_case_average_exact:
        err.print(
            "test-case average (≥): tests after a sample's first failure were skipped and "
            "count as failed; use --all-tests for the exact APPS figure"
        )
    plot = result.plot
    err.print(f"report: {result.report_path}" + (f"\nplot: {plot}" if plot else ""))


def _show_cs_report(report, as_json: bool) -> None:
    from appsplus.bench.critic_sampling import cs_table, origin_line
    from appsplus.bench.report import report_json

    if as_json:
        click.echo(report_json(report), nl=False)
        return
    cli_output.console().print(cs_table(report))
    cli_output.console(stderr=True).print(origin_line(report))


# ---------------------------------------------------------------- commands


@click.group(cls=cli_output.CliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bench")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def main(verbose: int) -> None:
    """Benchmark code models with execution: pass@k by difficulty.

    \b
    Example:
      bench run --model ./my-model --suite sample --n 5 --out runs/sample
      bench compare runs/a/report.json runs/b/report.json
    """
    if verbose:
        cli_output.setup_logging((logging.INFO, logging.DEBUG)[min(verbose, 2) - 1])


@main.command("run")
@allow_unisolated_option
@suite_options
@sampling_options
@strategy_options
@eval_options
@report_options
@out_option
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help="Also write OUT/report.html (as `bench report --html`): each failure's input, "
    "expected and actual output one click from the problem table.",
)
def run_command(
    out: Path, workers, executor, all_tests, ks, bootstrap, as_json, as_html, **opts
) -> None:
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
    from appsplus.bench import api

    critic_sampling = opts.pop("strategy") == "critic-sampling"
    cs_opts = {
        k: opts.pop(k)
        for k in ("critic", "cs_initial", "cs_rounds", "cs_enough", "refine", "repair")
    }
    if not critic_sampling and cs_opts["critic"] is not None:
        raise api.SettingsError("--critic is only used with --strategy critic-sampling")
    if critic_sampling and cs_opts["critic"] is None:
        raise api.SettingsError("--strategy critic-sampling needs --critic PATH")
    model, samples = _source_specs(opts)
    spec = api.RunSpec(
        out=out,
        suite=_suite_spec(opts),
        model=model,
        samples=samples,
        sampling=_sampling_spec(opts),
        execution=api.ExecutionSpec(workers=workers, executor=executor, all_tests=all_tests),
        critic_sampling=api.CriticSamplingSpec(
            critic=cs_opts["critic"],
            initial=cs_opts["cs_initial"],
            rounds=cs_opts["cs_rounds"],
            enough=cs_opts["cs_enough"],
            refine=cs_opts["refine"],
            repair=cs_opts["repair"],
        )
        if critic_sampling
        else None,
        ks=_parse_ks(ks),
        bootstrap=bootstrap,
    )
    result = api.run(spec, stage=_stage)
    if not (result.critic_sampling is not None and as_json):
        _show_report(result, as_json)
    if as_html:
        from appsplus.bench.html import write_html

        cli_output.console(stderr=True).print(f"html: {write_html(out, result.report)}")
    gen_s, exec_s = result.generation.seconds, result.evaluation.seconds
    rate = result.evaluation.n_samples / exec_s if exec_s > 0 else float("inf")
    cli_output.console(stderr=True).print(
        f"wall time: generation {gen_s:.1f} s, execution {exec_s:.1f} s ({rate:.1f} samples/s)"
    )
    cs = result.critic_sampling
    if cs is not None:
        _show_cs_report(cs.report, as_json)
        cli_output.console(stderr=True).print(
            f"critic sampling: {cs.extra_programs} refine/repair programs, "
            f"{cs.seconds:.1f} s; report: {cs.report_path}"
        )


@main.command("generate")
@suite_options
@sampling_options
@out_option
def generate_command(out: Path, **opts) -> None:
    """Generate samples into OUT/samples.jsonl (appended as they come; resumable).

    \b
    Example:
      bench generate --model ./my-model --suite sample --n 5 --out runs/sample
      bench generate --backend openai --base-url http://localhost:8000/v1 \\
          --model my-served-model --suite mbpp --dataset mbpp.jsonl --out runs/mbpp
    """
    from appsplus.bench import api

    model, samples = _source_specs(opts)
    result = api.generate(
        out, _suite_spec(opts), model, _sampling_spec(opts), samples=samples, stage=_stage
    )
    cli_output.console(stderr=True).print(
        f"samples: {result.samples_path} ({result.seconds:.1f} s generating)"
    )


@main.command("evaluate")
@allow_unisolated_option
@run_folder_option(
    "Run folder whose samples to execute (made by `bench generate`); with --samples it is "
    "created, or resumed if it holds the same samples."
)
@click.option(
    "--suite",
    type=click.Choice(SUITE_CHOICES),
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
    "--time-limits",
    type=click.Choice(["derived", "fixed"]),
    help="With --samples (humaneval, mbpp, humaneval+, mbpp+): limits derived from the "
    "canonical solution's runtime, or the suite's fixed ones.",
)
@click.option("--since", help="With --samples (livecodebench): first contest date, YYYY-MM-DD.")
@click.option("--until", help="With --samples (livecodebench): last contest date, YYYY-MM-DD.")
@click.option(
    "--lcb-version", help="With --samples (livecodebench): release version, e.g. release_v5."
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
def evaluate_command(out: Path, workers, executor, all_tests, **opts) -> None:
    """Execute the samples of OUT (or of --samples FILE) in the sandbox; results are cached.

    \b
    Example:
      bench evaluate --out runs/sample --workers 8
      bench evaluate --suite humaneval --dataset HumanEval.jsonl.gz --samples gens.jsonl --out runs/he
    """
    from appsplus.bench import api

    suite = samples = None
    if opts["samples_file"] is not None:
        if not opts["suite"]:
            raise api.SettingsError("--samples needs --suite")
        suite = _suite_spec(opts)
        samples = api.SamplesSpec(
            path=opts["samples_file"], label=opts["model"], allow_missing=opts["allow_missing"]
        )
    execution = api.ExecutionSpec(workers=workers, executor=executor, all_tests=all_tests)
    result = api.evaluate(out, execution, suite=suite, samples=samples, stage=_stage)
    cli_output.console(stderr=True).print(
        f"results: {result.results_path} ({result.seconds:.1f} s executing)"
    )


@main.command("report")
@run_folder_option("Run folder to report on (generated and evaluated); it must exist.")
@report_options
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help="Also write OUT/report.html (+ OUT/report_files/): chart, outcomes, a problem "
    "table, and each sample's code and first failure; opens from file://, no network.",
)
def report_command(out: Path, ks, bootstrap, as_json, as_html) -> None:
    """Compute pass@k by difficulty from OUT; write OUT/report.json and OUT/pass_at_k.png.

    A run with critic sampling also gets OUT/critic_sampling/report.json (printed instead
    of report.json with --json).

    \b
    Example:
      bench report --out runs/sample --k 1,5
      bench report --out runs/sample --json | jq .overall.pass_at_k
      bench report --out runs/sample --html
    """
    from appsplus.bench import api

    result = api.report(out, _parse_ks(ks), bootstrap=bootstrap)
    if as_html:
        from appsplus.bench.html import write_html

        page = write_html(out, result.report)
        cli_output.console(stderr=True).print(f"html: {page}")
    if not (result.critic_sampling is not None and as_json):
        _show_report(result, as_json)
    if result.critic_sampling is not None:
        _show_cs_report(result.critic_sampling, as_json)


@main.command("show")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--problem", help="Only this problem (its problem_id); also prints each program.")
@click.option("--failed", is_flag=True, help="Only the samples that did not pass.")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON record per sample (jsonl) on stdout."
)
def show_command(out: Path, problem: str | None, failed: bool, as_json: bool) -> None:
    """Show each evaluated sample of run folder OUT: verdict, per-test verdicts and times,
    and for the first failing test its input, expected output, actual output and error.

    \b
    Example:
      bench show runs/sample --failed
      bench show runs/sample --problem 4242
      bench show runs/sample --json | jq 'select(.verdict == "wrong_answer") | .failure'
    """
    from appsplus.bench.show import LEGEND, render, sample_records

    records = sample_records(out, problem=problem, failed=failed)
    if as_json:
        for record in records:
            click.echo(record.model_dump_json())
        return
    console = cli_output.console()
    for record in records:
        console.print(render(record, program=problem is not None))
    passed = sum(r.passed for r in records)
    err = cli_output.console(stderr=True)
    err.print(f"{len(records)} samples shown ({passed} passed); tests: {LEGEND}")


@main.command("compare")
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Compare even if the dataset hashes differ.")
@click.option(
    "--bootstrap",
    type=click.IntRange(min=100),
    default=1000,
    show_default=True,
    help="Paired bootstrap resamples (two reports).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Two reports: print the paired comparison as JSON."
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Two reports: also write the paired comparison as a self-contained HTML page here "
    "(a new file, or one an earlier --html wrote).",
)
def compare_command(
    reports: tuple[Path, ...], force: bool, bootstrap: int, as_json: bool, html_path: Path | None
) -> None:
    """Put reports (report.json files or run folders) side by side.

    With two reports A B, also the paired per-problem difference B - A of pass@k with a
    paired bootstrap 95% interval, and the problems solved by only one of them.
    Refuses reports of different datasets (suite or dataset hash) unless --force.

    \b
    Example:
      bench compare runs/base/report.json runs/tuned/report.json
      bench compare runs/a runs/b --force
      bench compare runs/base runs/tuned --html runs/tuned-vs-base.html
    """
    from appsplus.bench import api
    from appsplus.bench.report import compare_table

    comparison = api.compare(list(reports), force=force)
    err = cli_output.console(stderr=True)
    for warning in comparison.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")
    paired = None
    if len(comparison.reports) == 2:
        from appsplus.bench.paired import paired_comparison, paired_table, solved_lines
        from appsplus.bench.report import CompareError

        a, b = comparison.reports
        names = (comparison.names[0], comparison.names[1])
        try:
            paired = paired_comparison(a, b, names, resamples=bootstrap)
        except CompareError as e:
            if as_json or html_path is not None:
                raise
            err.print(f"[yellow]warning:[/yellow] no paired comparison: {e}")
    elif as_json or html_path is not None:
        raise api.SettingsError("--json and --html need exactly two reports (a paired comparison)")
    if html_path is not None:
        from appsplus.bench.html import HTML_FILE, write_compare_html

        pages = []
        for path in reports:
            page = (path if path.is_dir() else path.parent) / HTML_FILE
            pages.append(page if page.is_file() else None)
        written = write_compare_html(html_path, paired, (pages[0], pages[1]))
        err.print(f"html: {written}")
    if as_json:
        click.echo(paired.model_dump_json(indent=2))
        return
    console = cli_output.console()
    console.print(compare_table(comparison.reports, comparison.names))
    if paired is not None:
        console.print(paired_table(paired))
        for line in solved_lines(paired):
            console.print(line, highlight=False, soft_wrap=True)
        if any(paired.unpaired.values()):
            left = ", ".join(f"{n}: {c}" for n, c in paired.unpaired.items() if c)
            err.print(f"[yellow]warning:[/yellow] problems in only one report, not paired ({left})")


if __name__ == "__main__":
    sys.exit(main())
