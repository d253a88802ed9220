"""report.json: pass@k by difficulty with bootstrap intervals, APPS metrics, verdicts, per-problem (n, c).

The report is a pure function of the run's files (run.json, problems.jsonl, samples.jsonl,
results.jsonl) and the chosen k, bootstrap settings and isolation: it holds no timestamps
or timings, so an interrupted and resumed run gives the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from appsplus import __version__
from appsplus.bench.files import (
    SCHEMA_VERSION,
    BenchProblem,
    ModelInfo,
    RunConfig,
    Sample,
    SampleResult,
    Sampling,
    SuiteInfo,
)
from appsplus.bench.metrics import (
    MetricError,
    bootstrap_interval,
    per_problem_pass_at_k,
    strict_accuracy,
    test_case_average,
)
from appsplus.errors import AppsplusError
from appsplus.execution import COMPARATOR_VERSION, EXECUTOR_VERSION, Isolation
from appsplus.schema import StrictModel

logger = logging.getLogger(__name__)

DIFFICULTY_ORDER = ("introductory", "interview", "competition", "easy", "medium", "hard")
OUTCOMES = (
    "passed",
    "wrong_answer",
    "runtime_error",
    "timeout",
    "memory_exceeded",
    "output_limit_exceeded",
    "compile_error",
)
TOOL_NAME = "appsplus-bench"
APPS_SUITES = ("apps+", "apps", "sample")  # the suites APPS strict accuracy and test average fit
# EvalPlus suites: (base label, plus label); test 0 holds the base inputs, test 1 the plus ones
PLUS_SUITES = {"humaneval+": ("HumanEval", "HumanEval+"), "mbpp+": ("MBPP", "MBPP+")}


class Estimate(StrictModel):
    """A mean over problems with its bootstrap percentile interval."""

    value: float
    ci_low: float
    ci_high: float


class GroupMetrics(StrictModel):
    """Metrics of one group of problems (a difficulty, or all)."""

    n_problems: int
    n_samples: int
    pass_at_k: dict[str, Estimate] = Field(description="'pass@1' -> unbiased estimate and CI")
    apps_strict_accuracy: float = Field(
        description="APPS strict accuracy: share of samples passing all tests (mean per problem)"
    )
    apps_test_case_average: float = Field(
        description="APPS test-case average: share of tests passed per sample (mean per problem)"
    )
    verdicts: dict[str, int] = Field(
        description="samples by outcome: passed, or the verdict of the first failing test"
    )


class ProblemOutcome(StrictModel):
    """Per-problem counts: n samples, c passing."""

    problem_id: str
    difficulty: str | None
    month: str | None = None
    n: int
    c: int
    n_tests: int
    verdicts: dict[str, int]


class ToolInfo(StrictModel):
    name: str = TOOL_NAME
    version: str
    git_commit: str | None
    executor_version: str
    comparator_version: str


class ExecutionInfo(StrictModel):
    stop_on_first_failure: bool
    test_case_average_exact: bool = Field(
        description="False when tests after a first failure were skipped: the test-case "
        "average then counts them as failed (a lower bound)"
    )
    isolation: Isolation | None = None
    time_limits_s: dict[str, float] = Field(description="min and max per-test time limit")


class BootstrapInfo(StrictModel):
    resamples: int
    confidence: float
    seed: int


class Report(StrictModel):
    """The benchmark report (report.json)."""

    schema_version: str = SCHEMA_VERSION
    tool: ToolInfo
    suite: SuiteInfo
    model: ModelInfo
    sampling: Sampling | None
    execution: ExecutionInfo
    ks: list[int]
    bootstrap: BootstrapInfo
    overall: GroupMetrics
    by_difficulty: dict[str, GroupMetrics]
    by_month: dict[str, GroupMetrics] = Field(
        default_factory=dict, description="by contest month YYYY-MM (livecodebench)"
    )
    by_tests: dict[str, GroupMetrics] = Field(
        default_factory=dict,
        description="humaneval+/mbpp+: the base tests only ('HumanEval', 'MBPP') and base + "
        "plus ('HumanEval+', 'MBPP+', the same as overall)",
    )
    problems: list[ProblemOutcome]


def git_commit() -> str | None:
    """The commit of the checkout this tool runs from, '+dirty' if modified; None outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def tool_info() -> ToolInfo:
    """This tool's version, checkout commit, and executor and comparator versions."""
    return ToolInfo(
        version=__version__,
        git_commit=git_commit(),
        executor_version=EXECUTOR_VERSION,
        comparator_version=COMPARATOR_VERSION,
    )


def difficulty_key(d: str) -> tuple[int, str]:
    return (DIFFICULTY_ORDER.index(d) if d in DIFFICULTY_ORDER else len(DIFFICULTY_ORDER), d)


def _group(
    outcomes: list[ProblemOutcome],
    tests_passed: dict[str, list[float]],
    passed: dict[str, list[bool]],
    ks: list[int],
    boot: BootstrapInfo,
) -> GroupMetrics:
    counts = [(o.n, o.c) for o in outcomes]
    estimates = {}
    for k in ks:
        values = per_problem_pass_at_k(counts, k)
        low, high = bootstrap_interval(
            values, resamples=boot.resamples, confidence=boot.confidence, seed=boot.seed + k
        )
        estimates[f"pass@{k}"] = Estimate(value=float(values.mean()), ci_low=low, ci_high=high)
    verdicts: Counter[str] = Counter()
    for o in outcomes:
        verdicts.update(o.verdicts)
    return GroupMetrics(
        n_problems=len(outcomes),
        n_samples=sum(o.n for o in outcomes),
        pass_at_k=estimates,
        apps_strict_accuracy=strict_accuracy([passed[o.problem_id] for o in outcomes]),
        apps_test_case_average=test_case_average([tests_passed[o.problem_id] for o in outcomes]),
        verdicts={v: verdicts.get(v, 0) for v in OUTCOMES if verdicts.get(v, 0)},
    )


def build_report(
    config: RunConfig,
    problems: list[BenchProblem],
    samples: list[Sample],
    keys: list[str],
    results: dict[str, SampleResult],
    ks: list[int],
    *,
    stop_on_first_failure: bool = True,
    isolation: Isolation | None = None,
    resamples: int = 1000,
    confidence: float = 0.95,
    bootstrap_seed: int = 0,
) -> Report:
    """Compute every metric of the run; raises MetricError (k > n, missing results)."""
    if not ks:
        raise MetricError("no k given")
    per_problem: dict[str, list[SampleResult]] = {p.problem_id: [] for p in problems}
    for sample, key in zip(samples, keys, strict=True):
        if key not in results:
            raise MetricError(f"sample {sample.index} of {sample.problem_id} has no result yet")
        per_problem[sample.problem_id].append(results[key])
    outcomes, tests_passed, passed = [], {}, {}
    for p in problems:
        rs = per_problem[p.problem_id]
        outcomes.append(
            ProblemOutcome(
                problem_id=p.problem_id,
                difficulty=p.difficulty,
                month=p.month,
                n=len(rs),
                c=sum(r.passed for r in rs),
                n_tests=len(p.tests),
                verdicts=dict(sorted(Counter(r.outcome for r in rs).items())),
            )
        )
        tests_passed[p.problem_id] = [r.n_passed / r.n_tests if r.n_tests else 0.0 for r in rs]
        passed[p.problem_id] = [r.passed for r in rs]
    boot = BootstrapInfo(resamples=resamples, confidence=confidence, seed=bootstrap_seed)
    ks = sorted(set(ks))
    overall = _group(outcomes, tests_passed, passed, ks, boot)
    difficulties = sorted({o.difficulty for o in outcomes if o.difficulty}, key=difficulty_key)
    by_difficulty = {
        d: _group([o for o in outcomes if o.difficulty == d], tests_passed, passed, ks, boot)
        for d in difficulties
    }
    months = sorted({o.month for o in outcomes if o.month})
    by_month = {
        m: _group([o for o in outcomes if o.month == m], tests_passed, passed, ks, boot)
        for m in months
    }
    by_tests = {}
    if config.suite.name in PLUS_SUITES:
        base_label, plus_label = PLUS_SUITES[config.suite.name]
        base = [_base_outcome(o, per_problem[o.problem_id]) for o in outcomes]
        base_passed = {
            o.problem_id: [(r.test_verdicts or [r.outcome])[0] == "passed" for r in rs]
            for o in outcomes
            for rs in [per_problem[o.problem_id]]
        }
        by_tests = {
            base_label: _group(base, tests_passed, base_passed, ks, boot),
            plus_label: overall,
        }
    any_skipped = any(r.n_skipped for rs in per_problem.values() for r in rs)
    limits = [p.time_limit_s for p in problems]
    return Report(
        tool=tool_info(),
        suite=config.suite,
        model=config.model,
        sampling=config.sampling,
        execution=ExecutionInfo(
            stop_on_first_failure=stop_on_first_failure,
            test_case_average_exact=not any_skipped,
            isolation=isolation,
            time_limits_s={"min": min(limits), "max": max(limits)},
        ),
        ks=ks,
        bootstrap=boot,
        overall=overall,
        by_difficulty=by_difficulty,
        by_month=by_month,
        by_tests=by_tests,
        problems=outcomes,
    )


def _base_outcome(outcome: ProblemOutcome, results: list[SampleResult]) -> ProblemOutcome:
    """A problem's counts on its first test alone (the base inputs of HumanEval+ / MBPP+)."""
    firsts = [(r.test_verdicts or [r.outcome])[0] for r in results]
    return outcome.model_copy(
        update={
            "c": sum(v == "passed" for v in firsts),
            "verdicts": dict(sorted(Counter(firsts).items())),
        }
    )


def report_json(report: BaseModel) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"


def load_report(path: Path) -> Report:
    """A report.json (or a run folder holding one), validated; CompareError if it is not one."""
    from pydantic import ValidationError

    target = path / "report.json" if path.is_dir() else path
    if path.is_dir() and not target.is_file():
        raise CompareError(f"{path}: no report.json (run `bench report --out {path}` first)")
    try:
        return Report.model_validate_json(target.read_bytes())
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "file"
        raise CompareError(f"{target}: not a bench report ({where}: {first['msg']})") from e
    except OSError as e:
        raise CompareError(f"{target}: cannot read it ({e.strerror or e})") from e


# ---------------------------------------------------------------- terminal tables


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _cell(e: Estimate) -> str:
    return f"{_pct(e.value)}\n[{_pct(e.ci_low)},{_pct(e.ci_high)}]"


SHORT_OUTCOMES = {
    "passed": "pass",
    "wrong_answer": "WA",
    "runtime_error": "RE",
    "timeout": "TLE",
    "memory_exceeded": "MLE",
    "output_limit_exceeded": "OLE",
    "compile_error": "CE",
}


def has_apps_metrics(report: Report) -> bool:
    """Whether the APPS metrics (strict accuracy, test-case average) mean anything here.

    HumanEval and MBPP run as one check per program: strict accuracy would repeat pass@1
    and the test-case average would be meaningless, so their tables leave both out.
    """
    return report.suite.name in APPS_SUITES


def groups(report: Report) -> list[tuple[str, GroupMetrics]]:
    """(label, metrics) for each difficulty, each month (livecodebench), then overall (for
    humaneval+/mbpp+: base, then base + plus, e.g. HumanEval and HumanEval+)."""
    last = list(report.by_tests.items()) or [("overall", report.overall)]
    return [*report.by_difficulty.items(), *report.by_month.items(), *last]


def report_table(report: Report):
    """A rich Table: pass@k (%, with CI) and the APPS metrics per difficulty."""
    from rich.table import Table

    ci = int(round(report.bootstrap.confidence * 100))
    title = f"{report.suite.name}: {report.model.model} ({report.overall.n_problems} problems)"
    if report.suite.name == "livecodebench" and report.suite.split:
        title += f", contests {report.suite.split}"  # the date window
    exact = report.execution.test_case_average_exact
    apps = has_apps_metrics(report)
    caption = f"% with {ci}% bootstrap CI"
    if apps:
        caption += "; APPS strict accuracy and test-case average" + (
            "" if exact else " (≥: tests after a first failure were skipped)"
        )
    table = Table(title=title, caption=caption)
    table.add_column("difficulty", no_wrap=True)
    table.add_column("problems", justify="right", no_wrap=True)
    for k in report.ks:
        table.add_column(f"pass@{k}", justify="right", no_wrap=True)
    if apps:
        table.add_column("strict", justify="right", no_wrap=True)
        table.add_column("test avg" + ("" if exact else " ≥"), justify="right", no_wrap=True)
    for label, g in groups(report):
        apps_cells = [_pct(g.apps_strict_accuracy), _pct(g.apps_test_case_average)] if apps else []
        table.add_row(
            label,
            str(g.n_problems),
            *[_cell(g.pass_at_k[f"pass@{k}"]) for k in report.ks],
            *apps_cells,
            style="bold" if label == "overall" else None,
        )
    return table


def verdict_table(report: Report):
    """A rich Table of sample outcomes per difficulty."""
    from rich.table import Table

    legend = ", ".join(
        f"{short} {long.replace('_', ' ')}" for long, short in SHORT_OUTCOMES.items()
    )
    table = Table(title="samples by outcome (first failing test)", caption=legend)
    table.add_column("difficulty", no_wrap=True)
    for v in OUTCOMES:
        table.add_column(SHORT_OUTCOMES[v], justify="right")
    for label, g in groups(report):
        table.add_row(label, *[str(g.verdicts.get(v, 0)) for v in OUTCOMES])
    return table


# ---------------------------------------------------------------- compare


class CompareError(AppsplusError, ValueError):
    """Reports that must not be compared (different datasets) without --force."""


def check_comparable(reports: list[Report], names: list[str], force: bool = False) -> list[str]:
    """Warnings about differences; raises CompareError on different datasets unless forced.

    Different means another suite, dataset hash or split.
    """
    warnings = []
    identities = {(r.suite.name, r.suite.dataset_hash, r.suite.split) for r in reports}
    if len(identities) > 1:
        detail = ", ".join(
            f"{n}: {r.suite.name}/{r.suite.split or '-'} {r.suite.dataset_hash[:19]}"
            for n, r in zip(names, reports)
        )
        if not force:
            raise CompareError(
                f"the reports ran on different datasets ({detail}); pass --force to compare anyway"
            )
        warnings.append(f"different datasets: {detail}")
    for field in ("executor_version", "comparator_version"):
        if len({getattr(r.tool, field) for r in reports}) > 1:
            warnings.append(f"different {field.replace('_', ' ')}s")
    if len({r.suite.n_problems for r in reports}) > 1:
        warnings.append("different numbers of problems (--limit?)")
    return warnings


def compare_table(reports: list[Report], names: list[str]):
    """A rich Table: one column per report, one row per (difficulty, metric)."""
    from rich.table import Table

    table = Table(title="pass@k (%) side by side")
    table.add_column("difficulty")
    table.add_column("metric")
    for name in names:
        table.add_column(name, justify="right")
    labels = []
    for r in reports:
        for label, _ in groups(r):
            if label not in labels:
                labels.append(label)
    labels = sorted(labels, key=lambda x: (x == "overall", difficulty_key(x)))
    ks = sorted({k for r in reports for k in r.ks})
    strict = ["strict accuracy"] if any(has_apps_metrics(r) for r in reports) else []
    for label in labels:
        for metric in [f"pass@{k}" for k in ks] + strict:
            cells = []
            for r in reports:
                g = dict(groups(r)).get(label)
                if g is None or (metric == "strict accuracy" and not has_apps_metrics(r)):
                    cells.append("-")
                elif metric == "strict accuracy":
                    cells.append(_pct(g.apps_strict_accuracy))
                elif metric in g.pass_at_k:
                    cells.append(_cell(g.pass_at_k[metric]))
                else:
                    cells.append("-")
            table.add_row(label, metric, *cells, style="bold" if label == "overall" else None)
    return table
