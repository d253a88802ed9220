"""`appsplus` command line: thin click commands over the library.

Progress and tables go to stderr/stdout through `appsplus.cli.output` (rich on a terminal,
unwrapped plain text elsewhere); `--json` output is machine-readable on stdout. The
library's errors (`AppsplusError`) become one-line errors in one place, `CliGroup`; Ctrl-C
exits with status 130.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import click

from appsplus import __version__
from appsplus.cli.options import allow_unisolated_option, executor_option
from appsplus.cli.output import CliGroup, Progress, console, one_line
from appsplus.errors import shorten
from appsplus.quality.options import quality_options

POSITIVE = click.IntRange(min=1)
SECONDS = click.FloatRange(min=0, min_open=True)
MEMORY_MB = click.IntRange(min=64)


@click.group(cls=CliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="appsplus")
def main() -> None:
    """APPS+ toolkit: curate APPS into a verified dataset, run programs in the sandbox.

    \b
    Example:
      appsplus exec solution.py --tests input_output.json
    """


@main.command("exec")
@allow_unisolated_option
@click.argument("program", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tests",
    "tests_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Tests in the APPS input_output.json format.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option(
    "--time-limit", type=SECONDS, default=4.0, show_default=True, help="Seconds per test."
)
@click.option(
    "--memory-mb", type=MEMORY_MB, default=2048, show_default=True, help="Address-space limit."
)
@click.option(
    "--stop-on-first-failure", is_flag=True, help="Skip the tests after the first failure."
)
def exec_command(
    program: Path,
    tests_path: Path,
    as_json: bool,
    time_limit: float,
    memory_mb: int,
    stop_on_first_failure: bool,
) -> None:
    """Run PROGRAM against APPS-format tests in the sandbox; exit 0 only if all pass.

    Stdio programs get each test's input on stdin; with `fn_name` in the tests the
    program's function (or `Solution().fn_name`) is called with each input's arguments.
    A failing test shows what was expected and what the program gave (`expected` and
    `output` in the JSON). The first failing test is shown as `bench show` shows a
    sample: its input, expected and actual output (each cut to 1500 characters) and the
    end of its error and stderr (1500), each cut marked; in the JSON, `failure`, with
    `outcome`, `test_verdicts` and `test_durations_s` as in bench's results.jsonl.

    \b
    Example:
      appsplus exec solution.py --tests input_output.json
      appsplus exec solution.py --tests input_output.json --json | jq .passed
    """
    from appsplus.execution import Limits, Verdict, run_tests, tests_from_apps
    from appsplus.execution.record import first_failure, test_record

    try:
        tests = tests_from_apps(tests_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise click.ClickException(
            f"{tests_path}: not a valid APPS input_output file: {one_line(str(e))}"
        ) from e
    if not tests:
        raise click.ClickException(f"{tests_path}: contains no tests")
    try:
        source = program.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise click.ClickException(f"{program}: not UTF-8 text: {one_line(str(e))}") from e
    result = run_tests(  # a SandboxError (not the program's fault) keeps its traceback
        source,
        tests,
        limits=Limits(time_s=time_limit, memory_mb=memory_mb),
        stop_on_first_failure=stop_on_first_failure,
    )
    expected = [_expected(test) for test in tests]
    failure = first_failure(tests, result)  # the same record as bench's results.jsonl
    if as_json:
        payload = {
            **test_record(result),
            "failure": failure,
            "compile_error": result.compile_error,
            "isolation": result.isolation.model_dump(),
            "tests": [
                {**t.model_dump(mode="json"), "expected": want}
                for t, want in zip(result.tests, expected)
            ],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        from rich.table import Table

        passed = sum(v is Verdict.PASSED for v in result.verdicts)
        table = Table(title=f"{program.name}: {passed}/{len(tests)} passed")
        for col in ("test", "verdict", "time (s)", "expected", "got"):
            table.add_column(col)
        for i, (t, want) in enumerate(zip(result.tests, expected)):
            ok = t.verdict is Verdict.PASSED
            style = "green" if ok else "red"
            shown = "" if ok or t.verdict is Verdict.SKIPPED else shorten(want, 60, quote=True)
            got = "" if ok else (t.error or shorten(t.output, 60, quote=True))
            table.add_row(
                str(i), f"[{style}]{t.verdict.value}[/{style}]", f"{t.duration_s:.3f}", shown, got
            )
        if result.compile_error:
            table.caption = one_line(result.compile_error)[:300]
        console().print(table)
        if failure is not None:
            from appsplus.bench.files import Failure
            from appsplus.bench.show import failure_panel

            console().print(failure_panel(Failure(**failure)))
    sys.exit(0 if result.passed else 1)


def _expected(test) -> str:
    """What a test expects, as text: the stdout of a stdio test, the JSON of a call's value."""
    if test.kind == "stdio":
        return test.output
    return json.dumps(test.expected, ensure_ascii=False)


# ---------------------------------------------------------------- build, validate, stats, push


class _BuildProgress:
    """The progress of `appsplus.curate.pipeline.build` on stderr (`cli_output.Progress`).

    The bar counts rows decided (kept or rejected) of the rows read; its total is final once
    the source is read to the end ("all read"; with --limit N it is N from the start), and
    from then on, once a first batch is verified, the time left is estimated. The label has
    the live counts (a row rejected before verification counts at once), the verification
    jobs done of those queued so far, and the problem whose job has been running longest
    when that is over `SLOW_S` seconds. A ticker refreshes it every second, so a line
    appears even while one slow job runs.
    """

    SLOW_S = 5.0

    def __init__(self, limit: int | None = None) -> None:
        self.bar = Progress("build", total=limit)
        self.limit = limit
        self.read = self.kept = self.rejected = self.written = 0
        self.jobs_queued = self.jobs_done = 0
        self.read_done = False
        self._longest = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="build-progress", daemon=True)

    def track(self, longest) -> None:
        """`build` hands over its `longest()` -> (problem id, seconds) | None."""
        self._longest = longest

    def label(self) -> str:
        if self.written:
            return f"build: writing records {self.written}/{self.kept}; rows decided"
        read = f"{self.read} read" + (" (all)" if self.read_done else "")
        label = (
            f"build: {read}, {self.kept} kept, {self.rejected} rejected; "
            f"jobs {self.jobs_done}/{self.jobs_queued}"
        )
        longest = self._longest() if self._longest else None
        if longest is not None and longest[1] >= self.SLOW_S:
            label += f"; longest running: {longest[0]} ({longest[1]:.0f} s)"
        return label + "; rows decided"

    def _refresh(self) -> None:
        # the time left is estimated once the total is final and a batch has been verified
        # (rows rejected before verification are decided at once and say nothing of speed)
        final = (self.read_done or self.limit is not None) and self.kept > 0
        total = self.read if self.read_done or self.limit is None else max(self.limit, self.read)
        self.bar.update(total=total, description=self.label(), final=final)
        self.bar.advance(self.kept + self.rejected - self.bar.completed)

    def __call__(self, event: str, n: int) -> None:
        with self._lock:
            if event == "read_done":
                self.read, self.read_done = n, True
            elif event in ("read", "kept", "rejected", "written", "jobs_queued", "jobs_done"):
                setattr(self, event, getattr(self, event) + n)
            else:
                return
            self._refresh()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._refresh()

    def __enter__(self) -> _BuildProgress:
        self.bar.__enter__()
        self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._ticker.join()
        self.bar.__exit__(*exc)


def _kept_line(manifest) -> str:
    """'NAME: 27 kept of 43 rows read (train 14, test 13), 16 rejected'."""
    c = manifest.counts
    by_split = ", ".join(
        f"{split} {sum(by.values())}" for split, by in manifest.kept_by_split_difficulty.items()
    )
    return (
        f"{manifest.name}: {c.kept} kept of {c.read} rows read ({by_split}), {c.rejected} rejected"
    )


def _kept_table(manifest, title: str):
    from rich.table import Table

    from appsplus.schema import DIFFICULTIES, SPLITS

    table = Table(title=title)
    table.add_column("split")
    for d in DIFFICULTIES:
        table.add_column(d, justify="right")
    table.add_column("total", justify="right")
    by = manifest.kept_by_split_difficulty
    for split in SPLITS:
        row = [by.get(split, {}).get(d, 0) for d in DIFFICULTIES]
        table.add_row(split, *map(str, row), str(sum(row)))
    return table


def _rejections_table(manifest):
    """Rejected rows by reason, or None when nothing was rejected (no table of one 0)."""
    from rich.table import Table

    if not manifest.counts.rejected:
        return None
    reasons = Table(title="rejected rows by reason")
    reasons.add_column("reason")
    reasons.add_column("rows", justify="right")
    for reason, n in sorted(manifest.rejected_by_reason.items()):
        reasons.add_row(reason, str(n))
    reasons.add_row("[bold]total[/bold]", f"[bold]{manifest.counts.rejected}[/bold]")
    return reasons


@main.command("build")
@click.option(
    "--source",
    "sources",
    multiple=True,
    default=("sample",),
    show_default=True,
    help="'sample', 'apps[@REVISION]' (codeparrot/apps on the hub), 'stepcoder:PATH', "
    "'taco:PATH', 'codecontests[,tests=GROUPS]:PATH', 'livecodebench[,until=DATE]:PATH', or a "
    "local PATH (APPS folder tree, or jsonl/parquet files in the codeparrot/apps row format). "
    "Repeat it for a mixed build: ids name their source, and of a cross-source duplicate the "
    "test-split copy is kept, else the source listed first.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: new, empty, or an earlier build of the same source and options "
    "(which resumes it).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Build into a folder that holds something else, replacing the files a build writes "
    "(other files are left alone).",
)
@click.option(
    "--workers",
    type=POSITIVE,
    default=None,
    help="Sandbox workers [default: the CPUs this process may use].",
)
@executor_option
@allow_unisolated_option
@click.option(
    "--canonical",
    type=click.Choice(["first", "shortest"]),
    default="first",
    show_default=True,
    help="Which passing solution becomes canonical.",
)
@click.option(
    "--repair-outputs",
    is_flag=True,
    help="Replace disputed expected outputs by the solutions' consensus instead of rejecting.",
)
@click.option(
    "--time-limit",
    type=SECONDS,
    default=4.0,
    show_default=True,
    help="Seconds per test when verifying.",
)
@click.option(
    "--memory-mb", type=MEMORY_MB, default=2048, show_default=True, help="Address-space limit."
)
@click.option(
    "--limit",
    type=POSITIVE,
    default=None,
    help="Read at most N rows of the source (of each source, in a mixed build).",
)
@click.option("--name", default=None, help="Dataset name [default: from the source].")
@click.option(
    "--batch-size", type=POSITIVE, default=32, show_default=True, help="Problems per batch."
)
@click.option(
    "--publish-manifest",
    "publish_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Also write the manifest to DIR/<name>.json (e.g. the repo's data_manifests/); "
    "without it nothing is written outside OUT.",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    metavar="F",
    help="Make a test split of about this share of the problems, for a source without one "
    "(StepCoder's release); refused for sources with their own split.",
)
@click.option(
    "--split-seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the --test-fraction split.",
)
@click.option(
    "--tests-only",
    is_flag=True,
    help="Keep problems without a reference solution (e.g. LiveCodeBench's), unverified and "
    "flagged, in OUT/tests_only.parquet for RL (rewards need tests, not solutions); "
    "without it they are rejected as no_solutions.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON on stdout.")
@quality_options
def build_command(
    sources: tuple[str, ...],
    out: Path,
    overwrite: bool,
    workers: int | None,
    executor: str,
    canonical: str,
    repair_outputs: bool,
    time_limit: float,
    memory_mb: int,
    limit: int | None,
    name: str | None,
    batch_size: int,
    publish_dir: Path | None,
    test_fraction: float | None,
    split_seed: int,
    tests_only: bool,
    as_json: bool,
    quality,
) -> None:
    """Curate a source into a verified APPS+ dataset in OUT.

    Writes OUT/train.parquet, OUT/test.parquet, OUT/rejections.jsonl, OUT/README.md (a
    dataset card), OUT/runtimes.parquet (measured runtimes: the one file that differs
    between builds) and OUT/manifest.json, and nothing outside OUT unless
    --publish-manifest is given. Execution results are cached in OUT/.cache, so a killed
    build resumes where it stopped when run again with the same arguments. A folder
    holding anything else is refused unless --overwrite is given.

    \b
    Example:
      appsplus build --source sample --out apps-plus-sample
      appsplus build --source ../data/apps --out apps-plus --workers 16 --repair-outputs
      appsplus build --source stepcoder:apps_plus.json --out stepcoder-plus --limit 100
      appsplus build --source stepcoder:apps_plus.json --out sc-split --test-fraction 0.1
      appsplus build --source sample --out apps-plus-sample --publish-manifest data_manifests
    """
    from pydantic import ValidationError

    from appsplus.curate.pipeline import BuildConfig, build
    from appsplus.curate.verify import VerifyConfig
    from appsplus.execution import IsolationUnavailable, Limits, SandboxError

    try:
        config = BuildConfig(
            source=sources[0] if len(sources) == 1 else list(sources),
            name=name,
            limit=limit,
            verify=VerifyConfig(
                limits=Limits(time_s=time_limit, memory_mb=memory_mb),
                canonical=canonical,
                repair_outputs=repair_outputs,
            ),
            quality=quality,
            test_fraction=test_fraction,
            split_seed=split_seed,
            tests_only=tests_only,
        )
    except ValidationError as e:  # one line, exit 2 (as click's own option checks)
        error = click.ClickException(_pydantic_line(e))
        error.exit_code = 2
        raise error from e
    try:
        with _BuildProgress(limit) as progress:
            report = build(
                config,
                out,
                workers=workers,
                executor=executor,
                batch_problems=batch_size,
                manifest_dir=publish_dir,
                progress=progress,
                overwrite=overwrite,
            )
    except IsolationUnavailable:  # an AppsplusError: one line, naming the remedy
        raise
    except SandboxError:  # a bug or a broken environment: the traceback stays (see errors.py)
        click.echo(
            f"build aborted: the sandbox failed (not a property of the data); finished "
            f"executions are cached in {out / '.cache'}: run the same command to resume",
            err=True,
        )
        raise
    except OSError as e:
        raise click.ClickException(f"cannot write the build: {e}") from e
    manifest = report.manifest
    if as_json:
        from appsplus.curate.manifest import manifest_json

        click.echo(manifest_json(manifest), nl=False)
        return
    out_console = console()
    out_console.print(_kept_line(manifest), highlight=False)  # the tables: `appsplus stats`
    rejections = _rejections_table(manifest)
    if rejections is not None:
        out_console.print(rejections)
    where = f" and {report.manifest_copy}" if report.manifest_copy else ""
    console(stderr=True).print(
        f"read {manifest.counts.read}, kept {manifest.counts.kept}, rejected "
        f"{manifest.counts.rejected}; {report.executed_jobs} jobs executed, {report.cache_hits} "
        f"from the cache, {report.wall_s:.1f} s; manifest in {out / 'manifest.json'}{where}"
    )


@main.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the errors as JSON on stdout.")
@click.option("--max-errors", type=int, default=50, show_default=True, help="Errors to print.")
def validate_command(file: Path, as_json: bool, max_errors: int) -> None:
    """Check every row of a .parquet or .jsonl file of APPS+ records; exit 1 on any error.

    \b
    Example:
      appsplus validate apps-plus-sample/train.parquet
      appsplus validate records.jsonl --json | jq '.errors[0]'
    """
    from appsplus.dataset import validate_file

    rows, errors = validate_file(file)
    if as_json:
        payload = {
            "file": str(file),
            "rows": rows,
            "invalid": len(errors),
            "errors": [{"row": n, "error": msg} for n, msg in errors],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        from rich.markup import escape

        out = console()
        for n, msg in errors[:max_errors]:
            out.print(f"[red]row {n}[/red]: {escape(one_line(msg))}", highlight=False)
        if len(errors) > max_errors:
            out.print(f"... and {len(errors) - max_errors} more")
        style = "red" if errors else "green"
        out.print(f"[{style}]{escape(str(file))}: {rows} rows, {len(errors)} invalid[/{style}]")
    sys.exit(1 if errors else 0)


@main.command("stats")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON on stdout.")
def stats_command(dataset: Path, as_json: bool) -> None:
    """Print the counts of DATASET, an `appsplus build` folder (kept by split and difficulty,
    rejections by reason), after checking its files against the manifest's hashes.

    \b
    Example:
      appsplus stats apps-plus-sample
      appsplus stats apps-plus-sample --json | jq .counts
    """
    from appsplus.dataset import manifest_summary, stats

    manifest = stats(dataset)
    if as_json:
        click.echo(json.dumps(manifest_summary(manifest), indent=2, sort_keys=True))
        return
    c = manifest.counts
    title = f"{manifest.name}: {c.kept} kept of {c.read} read ({c.rejected} rejected)"
    out = console()
    out.print(_kept_table(manifest, title))
    rejections = _rejections_table(manifest)
    out.print(rejections if rejections is not None else "no rows rejected")
    if manifest.test_split:
        split = manifest.test_split
        out.print(
            f"test split made by --test-fraction {split['test_fraction']} (seed "
            f"{split['seed']}): {split['problems']['test']} of "
            f"{split['problems']['train'] + split['problems']['test']} problems",
            highlight=False,
        )


@main.command("push")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo-id", required=True, help="Hugging Face dataset repo, e.g. me/apps-plus.")
@click.option("--private", is_flag=True, help="Create the repo as private.")
def push_command(dataset: Path, repo_id: str, private: bool) -> None:
    """Upload DATASET, an `appsplus build` folder, to the Hugging Face hub (needs
    `hf auth login`); its files must match the manifest's hashes.

    \b
    Example:
      appsplus push apps-plus-sample --repo-id me/apps-plus-sample --private
    """
    from appsplus.dataset import push

    url = push(dataset, repo_id, private=private)
    click.echo(url)


@main.group("curriculum")
def curriculum_group() -> None:
    """StepCoder's curriculum of code-completion subtasks (CCCS).

    \b
    Example:
      appsplus curriculum export apps-plus-sample --out curriculum-sample
    """


@curriculum_group.command("export")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: new, empty, or an earlier export of the same dataset, split and format.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Export into a folder that holds something else, replacing the files an export "
    "writes (other files are left alone).",
)
@click.option("--split", default="train", show_default=True, help="Split of the dataset to export.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "jsonl"]),
    default="parquet",
    show_default=True,
    help="File format.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the curriculum manifest as JSON on stdout."
)
def curriculum_export_command(
    dataset: Path, out_dir: Path, overwrite: bool, split: str, fmt: str, as_json: bool
) -> None:
    """Write the subtasks of every record of DATASET (an `appsplus build` folder).

    Each record with E conditional statements gives ceil(sqrt(E)) + 1 subtasks, easiest
    first: the canonical solution up to a line where a conditional statement starts,
    then earlier and earlier starts, and finally the empty prefix (full generation).
    Writes OUT/subtasks.parquet (or .jsonl) and OUT/curriculum_manifest.json with the
    counts per stage and difficulty and the hash of DATASET.

    \b
    Example:
      appsplus curriculum export apps-plus-sample --out curriculum-sample
      appsplus curriculum export apps-plus-sample --out cur --split test --format jsonl
    """
    from appsplus.curate.manifest import dataset_hash
    from appsplus.curriculum.subtasks import export_subtasks
    from appsplus.dataset import checked_manifest, load

    checked_manifest(dataset)
    if split == "tests_only":  # tests_only.parquet of a --tests-only build
        raise click.ClickException(
            f"--split tests_only: {dataset}'s tests-only problems have no canonical solution, "
            "and a curriculum's subtasks are prefixes of one; export train or test"
        )
    ds = load(dataset, runtimes=False)
    source_hash = dataset_hash(dataset)
    if split not in ds:
        raise click.ClickException(f"{dataset} has no split {split!r} (has: {', '.join(ds)})")
    try:
        manifest = export_subtasks(
            ds[split], str(out_dir), str(dataset), source_hash, split, fmt, overwrite=overwrite
        )
    except OSError as e:
        raise click.ClickException(f"cannot write the export: {e}") from e
    if as_json:
        click.echo(manifest.model_dump_json(indent=2))
        return
    from rich.table import Table

    table = Table(
        title=f"{manifest.n_subtasks} subtasks from {manifest.n_records} records ({split})"
    )
    table.add_column("stage")
    table.add_column("subtasks", justify="right")
    for stage, count in manifest.by_stage.items():
        table.add_row(stage, str(count))
    console().print(table)
    console(stderr=True).print(f"wrote {out_dir}/subtasks.{fmt} and curriculum_manifest.json")


@main.command("export")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["trl", "verl", "openrlhf"]),
    required=True,
    help="The RL library whose dataset format to write.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (must be empty unless --overwrite).",
)
@click.option(
    "--split",
    "splits",
    multiple=True,
    help="Split to export (repeatable) [default: every verified split]; `tests_only` (the "
    "unsolved problems of a --tests-only build, for RL rewards) only when named.",
)
@click.option("--curriculum", is_flag=True, help="Export the StepCoder curriculum subtasks.")
@click.option(
    "--prompt-style",
    type=click.Choice(["chat", "text"]),
    default="chat",
    show_default=True,
    help="Prompts as chat messages or plain text (verl needs chat).",
)
@click.option("--overwrite", is_flag=True, help="Replace an export already in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print the export manifest as JSON.")
def export_command(
    dataset: Path,
    fmt: str,
    out_dir: Path,
    splits: tuple[str, ...],
    curriculum: bool,
    prompt_style: str,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Write DATASET (an `appsplus build` folder) in the format TRL, verl or OpenRLHF loads.

    Prompts come from the one prompt builder; the tests ride along as the reward's ground
    truth, and OUT/export_manifest.json records the dataset hash. Train with the matching
    reward of `appsplus.integrations` (see the README).

    \b
    Example:
      appsplus export apps-plus-sample --format verl --out verl-data
      appsplus export apps-plus-sample --format trl --out trl-cur --curriculum --split train
      appsplus export deepcoder-mix --format verl --out verl-rl --split train --split tests_only
    """
    from appsplus.integrations.export import export_dataset

    manifest = export_dataset(
        dataset,
        out_dir,
        fmt,
        splits=list(splits) or None,
        curriculum=curriculum,
        prompt_style=prompt_style,
        overwrite=overwrite,
    )
    if as_json:
        click.echo(manifest.model_dump_json(indent=2))
        return
    rows = ", ".join(f"{split} {n}" for split, n in manifest.rows.items())
    console(stderr=True).print(f"wrote {fmt} rows ({rows}) to {out_dir}; reward: {manifest.reward}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to bind.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Sandbox workers [default: the CPUs this process may use].",
)
@executor_option
@allow_unisolated_option
@click.option(
    "--token-env",
    default=None,
    metavar="VAR",
    help="Require `Authorization: Bearer $VAR` (the token is read from this variable).",
)
@click.option(
    "--max-pending",
    type=int,
    default=None,
    help="Jobs queued or running at once; more get 504 (/run_code) or 429 [default: 4096].",
)
@click.option(
    "--max-queue-mb",
    type=float,
    default=512.0,
    show_default=True,
    help="Request bodies queued or running at once (the queue's memory bound).",
)
@click.option(
    "--max-wait-s",
    type=SECONDS,
    default=15.0,
    show_default=True,
    help="A /run_code request not started by then gets 504 (verl and SandboxFusion retry it).",
)
@click.option(
    "--max-body-mb", type=float, default=16.0, show_default=True, help="Request size limit."
)
def serve_command(
    host: str,
    port: int,
    workers: int | None,
    executor: str,
    token_env: str | None,
    max_pending: int | None,
    max_queue_mb: float,
    max_wait_s: float,
    max_body_mb: float,
) -> None:
    """Serve the sandbox over HTTP: a batch endpoint and SandboxFusion's /run_code.

    POST /v1/run judges programs on APPS-style tests; POST /run_code speaks SandboxFusion's
    schema for Python, so verl's sandbox_fusion reward can point at it; GET /health.
    Binds 127.0.0.1 unless told otherwise; Ctrl-C or SIGTERM lets in-flight work finish.
    Needs the `serve` extra: pip install "appsplus[serve]".

    \b
    Example:
      appsplus serve --port 8080 --workers 8
      APPSPLUS_TOKEN=s3cret appsplus serve --host 0.0.0.0 --token-env APPSPLUS_TOKEN
    """
    import os

    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise click.ClickException(
            f"appsplus serve needs the serve extra ({e.name} is missing): "
            'pip install "appsplus[serve]"'
        ) from e
    from pydantic import ValidationError

    from appsplus.integrations.serve import ServeConfig, bind, serve

    token = None
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise click.ClickException(f"--token-env {token_env}: that variable is empty or unset")
    try:
        config = ServeConfig(
            host=host,
            port=port,
            workers=workers,
            executor=executor,
            token=token,
            max_pending=max_pending,
            max_queue_bytes=int(max_queue_mb * 2**20),
            max_wait_s=max_wait_s,
            max_body_bytes=int(max_body_mb * 2**20),
        )
    except ValidationError as e:
        raise click.ClickException(_pydantic_line(e)) from e
    sock = bind(config)  # before any worker or executor: a port in use is one line, exit 2
    from appsplus.execution import ExecutorSpecError, open_executor

    try:
        open_executor(executor, workers).close()  # a bad spec fails here, not in the server
    except ExecutorSpecError as e:
        sock.close()
        raise click.ClickException(str(e)) from e
    serve(config, sock)


@main.command("quality")
@click.argument(
    "dataset",
    required=False,
    metavar="DATASET",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--survivors", type=int, default=0, help="List the N weakest problems' survivors.")
@click.option(
    "--markdown",
    is_flag=True,
    help="Print Markdown text and tables (the default when stdout is not a terminal).",
)
@click.option(
    "--html",
    "html_path",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[OUT.html]",
    help="Write the report as one self-contained page (problem details in OUT_files/): "
    "counts, rejections with examples, the mutation-score histogram, the weakest problems' "
    "surviving mutants as diffs, duplicate and contamination pairs, generated tests. "
    "Default OUT: DATASET.quality.html beside the dataset folder.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="With --html: replace OUT.html (and OUT_files/) even if this command did not write it.",
)
def quality_command(
    dataset: Path | None,
    as_json: bool,
    survivors: int,
    markdown: bool,
    html_path: str | None,
    overwrite: bool,
) -> None:
    """Report what the quality steps found in DATASET (an `appsplus build` folder).

    Kept/rejected by reason, duplicates and contamination, the mutation-score histogram,
    weak-test and needs-checker counts, tests added, and the tests near the time limit.
    Tables on a terminal; Markdown with --markdown or when stdout is piped or redirected;
    an HTML page with --html.

    \b
    Example:
      appsplus quality apps-plus-sample
      appsplus quality apps-plus-sample --markdown > quality.md
      appsplus quality apps-plus-sample --json | jq .mutation.histogram
      appsplus quality apps-plus-sample --html quality.html
    """
    from appsplus.quality.report import quality_report

    if dataset is None and html_path and Path(html_path).is_dir():
        # `quality --html DATASET`: --html takes an optional value, so click gave it the
        # dataset folder; a folder is never the page, so it is the dataset
        dataset, html_path = Path(html_path), ""
    if dataset is None:
        raise click.UsageError("Missing argument 'DATASET' (an `appsplus build` folder).")
    if overwrite and html_path is None:
        raise click.UsageError("--overwrite goes with --html")
    if html_path is not None:
        from appsplus.quality.html import write_quality_html

        page = write_quality_html(dataset, Path(html_path) if html_path else None, overwrite)
        console(stderr=True).print(f"html: {page}")
        if not (as_json or markdown or survivors):
            return
    report = quality_report(dataset, weakest=survivors)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    from appsplus.cli.output import is_terminal
    from appsplus.quality.report import render_markdown, render_tables

    if markdown or not is_terminal(sys.stdout):
        click.echo(render_markdown(report))
        return
    out = console()
    for part in render_tables(report):
        out.print(part)


def _pydantic_line(error) -> str:
    """A pydantic ValidationError as one line: 'field: message; ...'."""
    parts = [
        f"{'.'.join(str(x) for x in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()[:3]
    ]
    return "; ".join(parts)


if __name__ == "__main__":  # after every command is registered: `python -m appsplus.cli.app`
    main()
