"""Per-sample results a person can read: `bench show DIR [--problem ID] [--failed] [--json]`.

results.jsonl is keyed by the content hash of each job; this module joins it back to the
samples (problem id, sample index, program) and the problems (difficulty), so that each
evaluated sample reads as: its verdict, each test's verdict and time, and for the first
failing test its input, the expected output, the program's actual output and the error.

Results written before these details were recorded (no `test_verdicts`) still show their
verdict and short error; `details_recorded` is False for them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from appsplus.bench.files import Failure
from appsplus.errors import AppsplusError
from appsplus.schema import StrictModel


class ShowError(AppsplusError, ValueError):
    """A run folder that cannot be shown (not evaluated, unknown problem)."""


class SampleRecord(StrictModel):
    """One evaluated sample, for a person to read."""

    problem_id: str
    index: int
    difficulty: str | None
    verdict: str = Field(description="'passed' or the verdict of the first failing test")
    passed: bool
    n_tests: int
    n_passed: int
    test_verdicts: list[str] | None
    test_durations_s: list[float] | None
    error: str | None = Field(description="the first failure's error, shortened")
    failure: Failure | None
    details_recorded: bool = Field(description="False for results of an older version")
    program: str
    key: str = Field(description="the result's key in results.jsonl")


def sample_records(
    out: Path, *, problem: str | None = None, failed: bool = False
) -> list[SampleRecord]:
    """The evaluated samples of run folder `out`, by problem (as in problems.jsonl) and index.

    `problem` keeps one problem (ShowError if the run has none of that id); `failed` keeps
    the samples that did not pass. Samples not evaluated yet are left out.
    """
    from appsplus.bench.execute import read_results, sample_keys
    from appsplus.bench.run import RunError, RunFolder

    folder = RunFolder(Path(out))
    folder.config()  # RunError if it is not a run folder
    state = folder.execution()
    if state is None:
        raise RunError(f"{out}: not evaluated yet (run `bench evaluate --out {out}`)")
    problems = folder.problems()
    by_id = {p.problem_id: p for p in problems}
    if problem is not None and problem not in by_id:
        near = ", ".join(sorted(by_id)[:5])
        raise ShowError(f"{out}: no problem {problem!r} in this run (problems: {near}, ...)")
    order = {pid: i for i, pid in enumerate(by_id)}
    samples = [s for s in folder.samples() if problem is None or s.problem_id == problem]
    samples.sort(key=lambda s: (order.get(s.problem_id, len(order)), s.index))
    keys, _ = sample_keys(by_id, samples, state.stop_on_first_failure)
    results = read_results(folder.results_path)
    records = []
    for sample, key in zip(samples, keys, strict=True):
        r = results.get(key)
        if r is None or (failed and r.passed):
            continue
        records.append(
            SampleRecord(
                problem_id=sample.problem_id,
                index=sample.index,
                difficulty=by_id[sample.problem_id].difficulty,
                verdict=r.outcome,
                passed=r.passed,
                n_tests=r.n_tests,
                n_passed=r.n_passed,
                test_verdicts=r.test_verdicts,
                test_durations_s=r.test_durations_s,
                error=r.error,
                failure=r.failure,
                details_recorded=r.test_verdicts is not None,
                program=sample.program,
                key=key,
            )
        )
    return records


# ---------------------------------------------------------------- terminal

MARKS = {
    "passed": "✓",
    "wrong_answer": "W",
    "runtime_error": "R",
    "timeout": "T",
    "memory_exceeded": "M",
    "output_limit_exceeded": "O",
    "compile_error": "C",
    "skipped": "·",
}
LEGEND = "✓ passed, W wrong answer, R runtime error, T timeout, M memory, O output limit, "
LEGEND += "C compile error, · not run (after the first failure)"


def test_strip(record: SampleRecord) -> str:
    """One mark per test, e.g. '✓✓W···'."""
    return "".join(MARKS.get(v, "?") for v in record.test_verdicts or [])


test_strip.__test__ = False  # not a pytest test, despite its name


def render(record: SampleRecord, *, program: bool = False):
    """A rich renderable of one sample: verdict line, test strip, the first failure."""
    from rich.console import Group
    from rich.syntax import Syntax
    from rich.text import Text

    style = "green" if record.passed else "red"
    head = Text()
    head.append(f"{record.problem_id}", style="bold")
    head.append(f" sample {record.index}")
    if record.difficulty:
        head.append(f" ({record.difficulty})", style="dim")
    head.append(": ")
    head.append(record.verdict.replace("_", " "), style=f"bold {style}")
    head.append(f"  {record.n_passed}/{record.n_tests} tests passed")
    parts: list = [head]
    if record.test_verdicts:
        total = sum(record.test_durations_s or [])
        parts.append(Text(f"  tests: {test_strip(record)}  ({total:.3f} s)"))
    if program:
        parts.append(Syntax(record.program.rstrip("\n"), "python", line_numbers=True))
    if record.failure is not None:
        parts.append(failure_panel(record.failure))
    elif not record.passed and record.error:
        parts.append(Text(f"  error: {record.error}", style="yellow"))
    if not record.details_recorded:
        parts.append(
            Text(
                "  (no per-test details: this result was recorded by an older version; "
                "evaluate the samples into a new run folder to record them)",
                style="dim",
            )
        )
    return Group(*parts)


def failure_panel(f: Failure):
    """A rich panel of a first failure: input, expected, actual output and error (as cut)."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("input", Text(f.input))
    table.add_row("expected", Text(f.expected, style="green"))
    table.add_row("actual", Text(f.actual, style="red"))
    if f.error:
        table.add_row("error", Text(f.error, style="yellow"))
    title = f"first failure: test {f.test_index} ({f.verdict.replace('_', ' ')})"
    return Panel(table, title=title, title_align="left", border_style="red", expand=False)
