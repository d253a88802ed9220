"""`appsplus` command line: thin click commands over the library.

Progress and tables go to stderr/stdout through rich; `--json` output is machine-readable
on stdout. Library exceptions become friendly errors only here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from appsplus import __version__
from appsplus.cli_options import allow_unisolated_option, executor_option


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--time-limit", type=float, default=4.0, show_default=True, help="Seconds per test.")
@click.option("--memory-mb", type=int, default=2048, show_default=True, help="Address-space limit.")
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

    \b
    Example:
      appsplus exec solution.py --tests input_output.json
      appsplus exec solution.py --tests input_output.json --json | jq .passed
    """
    from appsplus.execution import Limits, SandboxError, Verdict, run_tests, tests_from_apps

    try:
        tests = tests_from_apps(tests_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise click.ClickException(f"{tests_path}: not a valid APPS input_output file: {e}") from e
    if not tests:
        raise click.ClickException(f"{tests_path}: contains no tests")
    try:
        source = program.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise click.ClickException(f"{program}: not UTF-8 text: {e}") from e
    try:
        result = run_tests(
            source,
            tests,
            limits=Limits(time_s=time_limit, memory_mb=memory_mb),
            stop_on_first_failure=stop_on_first_failure,
        )
    except SandboxError as e:
        raise click.ClickException(f"the sandbox failed (not your program): {e}") from e
    if as_json:
        payload = {
            "passed": result.passed,
            "compile_error": result.compile_error,
            "isolation": result.isolation.model_dump(),
            "tests": [t.model_dump(mode="json") for t in result.tests],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        from rich.table import Table

        table = Table(
            title=f"{program.name}: {sum(v is Verdict.PASSED for v in result.verdicts)}/{len(tests)} passed"
        )
        for col in ("test", "verdict", "time (s)", "detail"):
            table.add_column(col)
        for i, t in enumerate(result.tests):
            style = "green" if t.verdict is Verdict.PASSED else "red"
            detail = t.error or ("" if t.verdict is Verdict.PASSED else repr(t.output[:60]))
            table.add_row(
                str(i), f"[{style}]{t.verdict.value}[/{style}]", f"{t.duration_s:.3f}", detail
            )
        _console().print(table)
    sys.exit(0 if result.passed else 1)


# ---------------------------------------------------------------- build, validate, stats, push


def _manifest_dir_default() -> Path | None:
    candidate = Path.cwd() / "data_manifests"
    return candidate if candidate.is_dir() else None


class _BuildProgress:
    """Rich progress bars on stderr, one per stage, fed by `appsplus.build.build` events."""

    def __init__(self, limit: int | None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_console(stderr=True),
            transient=False,
        )
        self.read = self.progress.add_task("read + normalize rows", total=limit)
        self.verify = self.progress.add_task("verify solutions (jobs)", total=0)
        self.write = self.progress.add_task("write records", total=None, visible=False)
        self.kept = self.rejected = 0

    def __call__(self, event: str, n: int) -> None:
        p = self.progress
        if event == "read":
            p.advance(self.read, n)
        elif event == "jobs_queued":
            p.update(self.verify, total=(p.tasks[self.verify].total or 0) + n)
        elif event == "jobs_done":
            p.advance(self.verify, n)
        elif event in ("kept", "rejected"):
            setattr(self, event, getattr(self, event) + n)
            p.update(
                self.read,
                description=f"read + normalize rows ({self.kept} kept, {self.rejected} rejected)",
            )
        elif event == "written":
            p.update(self.write, visible=True, total=self.kept)
            p.advance(self.write, n)

    def __enter__(self) -> _BuildProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)


def _counts_table(manifest, title: str):
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
    reasons = Table(title="rejected rows by reason")
    reasons.add_column("reason")
    reasons.add_column("rows", justify="right")
    for reason, n in sorted(manifest.rejected_by_reason.items()):
        reasons.add_row(reason, str(n))
    c = manifest.counts
    reasons.add_row("[bold]total[/bold]", f"[bold]{c.rejected}[/bold]")
    return table, reasons


@main.command("build")
@click.option(
    "--source",
    default="sample",
    show_default=True,
    help="'sample', 'apps[@REVISION]' (codeparrot/apps on the hub), 'stepcoder:PATH', or a "
    "local PATH (APPS folder tree, or jsonl/parquet files in the codeparrot/apps row format).",
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder."
)
@click.option("--workers", type=int, default=None, help="Sandbox workers [default: CPU count].")
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
    type=float,
    default=4.0,
    show_default=True,
    help="Seconds per test when verifying.",
)
@click.option("--memory-mb", type=int, default=2048, show_default=True, help="Address-space limit.")
@click.option("--limit", type=int, default=None, help="Read at most N rows of the source.")
@click.option("--name", default=None, help="Dataset name [default: from the source].")
@click.option("--batch-size", type=int, default=32, show_default=True, help="Problems per batch.")
@click.option(
    "--manifest-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write the manifest to DIR/<name>.json [default: ./data_manifests if it exists].",
)
@click.option("--no-manifest-copy", is_flag=True, help="Do not copy the manifest anywhere.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON on stdout.")
def build_command(
    source: str,
    out: Path,
    workers: int | None,
    executor: str,
    canonical: str,
    repair_outputs: bool,
    time_limit: float,
    memory_mb: int,
    limit: int | None,
    name: str | None,
    batch_size: int,
    manifest_dir: Path | None,
    no_manifest_copy: bool,
    as_json: bool,
) -> None:
    """Curate a source into a verified APPS+ dataset in OUT.

    Writes OUT/train.parquet, OUT/test.parquet, OUT/rejections.jsonl, OUT/README.md (a
    dataset card), OUT/runtimes.parquet (measured runtimes: the one file that differs
    between builds) and OUT/manifest.json. Execution results are cached in OUT/.cache, so
    a killed build resumes where it stopped when run again with the same arguments.

    \b
    Example:
      appsplus build --source sample --out apps-plus-sample
      appsplus build --source ../data/apps --out apps-plus --workers 16 --repair-outputs
      appsplus build --source stepcoder:apps_plus.json --out stepcoder-plus --limit 100
    """
    from pydantic import ValidationError

    from appsplus.build import BuildConfig, build
    from appsplus.execution import ExecutorSpecError, Limits, SandboxError
    from appsplus.sources import SourceError
    from appsplus.verify import VerifyConfig

    try:
        config = BuildConfig(
            source=source,
            name=name,
            limit=limit,
            verify=VerifyConfig(
                limits=Limits(time_s=time_limit, memory_mb=memory_mb),
                canonical=canonical,
                repair_outputs=repair_outputs,
            ),
        )
    except ValidationError as e:
        raise click.BadParameter(str(e)) from e
    target = None if no_manifest_copy else (manifest_dir or _manifest_dir_default())
    try:
        with _BuildProgress(limit) as progress:
            report = build(
                config,
                out,
                workers=workers,
                executor=executor,
                batch_problems=batch_size,
                manifest_dir=target,
                progress=progress,
            )
    except (SourceError, ExecutorSpecError) as e:
        raise click.ClickException(str(e)) from e
    except SandboxError as e:
        raise click.ClickException(
            f"the sandbox failed (not a property of the data), build aborted: {e}\n"
            f"Finished executions are cached in {out / '.cache'}; run the same command to resume."
        ) from e
    manifest = report.manifest
    if as_json:
        from appsplus.manifest import manifest_json

        click.echo(manifest_json(manifest), nl=False)
        return
    console = _console()
    for table in _counts_table(manifest, f"{manifest.name}: {manifest.counts.kept} kept"):
        console.print(table)
    where = f" and {report.manifest_copy}" if report.manifest_copy else ""
    _console(stderr=True).print(
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
    from appsplus.dataset import DatasetError, validate_file

    try:
        rows, errors = validate_file(file)
    except DatasetError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        payload = {
            "file": str(file),
            "rows": rows,
            "invalid": len(errors),
            "errors": [{"row": n, "error": msg} for n, msg in errors],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        console = _console()
        for n, msg in errors[:max_errors]:
            console.print(f"[red]row {n}[/red]: {msg}", highlight=False, markup=True)
        if len(errors) > max_errors:
            console.print(f"... and {len(errors) - max_errors} more")
        style = "red" if errors else "green"
        console.print(f"[{style}]{file}: {rows} rows, {len(errors)} invalid[/{style}]")
    sys.exit(1 if errors else 0)


@main.command("stats")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON on stdout.")
def stats_command(out: Path, as_json: bool) -> None:
    """Print the counts of a built dataset (kept by split and difficulty, rejections by reason).

    \b
    Example:
      appsplus stats apps-plus-sample
      appsplus stats apps-plus-sample --json | jq .counts
    """
    from appsplus.dataset import DatasetError, manifest_summary, stats, verify_hashes

    try:
        manifest = stats(out)
    except DatasetError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(manifest_summary(manifest), indent=2, sort_keys=True))
        return
    console = _console()
    c = manifest.counts
    title = f"{manifest.name}: {c.kept} kept of {c.read} read ({c.rejected} rejected)"
    for table in _counts_table(manifest, title):
        console.print(table)
    bad = verify_hashes(out, manifest)
    if bad:
        console.print(f"[red]files differ from the manifest: {', '.join(bad)}[/red]")


@main.command("push")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo-id", required=True, help="Hugging Face dataset repo, e.g. me/apps-plus.")
@click.option("--private", is_flag=True, help="Create the repo as private.")
def push_command(out: Path, repo_id: str, private: bool) -> None:
    """Upload a built dataset folder to the Hugging Face hub (needs `hf auth login`).

    \b
    Example:
      appsplus push apps-plus-sample --repo-id me/apps-plus-sample --private
    """
    from appsplus.dataset import DatasetError, PushError, push

    try:
        url = push(out, repo_id, private=private)
    except (DatasetError, PushError) as e:
        raise click.ClickException(str(e)) from e
    click.echo(url)


if __name__ == "__main__":
    main()


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
    help="Output folder.",
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
    dataset: Path, out_dir: Path, split: str, fmt: str, as_json: bool
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
    from appsplus.curriculum import export_subtasks
    from appsplus.dataset import DatasetError, load
    from appsplus.manifest import dataset_hash

    try:
        ds = load(dataset, runtimes=False)
        source_hash = dataset_hash(dataset)
    except (DatasetError, OSError) as e:
        raise click.ClickException(str(e)) from e
    if split not in ds:
        raise click.ClickException(f"{dataset} has no split {split!r} (has: {', '.join(ds)})")
    manifest = export_subtasks(ds[split], str(out_dir), str(dataset), source_hash, split, fmt)
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
    _console().print(table)
    _console(stderr=True).print(f"wrote {out_dir}/subtasks.{fmt} and curriculum_manifest.json")
