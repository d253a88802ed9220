"""Quality counts for the manifest, the dataset card section, and filtering at load time.

summary = QualityTally(config); summary.add(record); ...; summary.summary(...)
keep = record_filter(exclude_flags=["weak_tests"], min_mutation_score=0.5)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from appsplus.dataset import DatasetError, data_files, iter_rows, stats
from appsplus.quality.models import FLAGS, Quality, QualityConfig

BINS = 10


class QualitySummary(BaseModel):
    """The `quality` section of the manifest: what each quality step found (kept records)."""

    model_config = ConfigDict(extra="forbid")

    steps: dict[str, Any] = Field(description="the quality config of the build")
    duplicates: dict[str, int] = Field(default_factory=dict)
    contamination: dict[str, Any] = Field(default_factory=dict)
    flags: dict[str, int] = Field(default_factory=dict, description="kept records per flag")
    mutation: dict[str, Any] = Field(default_factory=dict)
    augmentation: dict[str, Any] = Field(default_factory=dict)


def _bin(score: float) -> str:
    k = min(int(score * BINS), BINS - 1)
    return f"{k / BINS:.1f}-{(k + 1) / BINS:.1f}"


def histogram(scores: Iterable[float]) -> dict[str, int]:
    """Mutation scores in ten bins [0.0-0.1) ... [0.9-1.0], every bin present."""
    counts = Counter(_bin(s) for s in scores)
    return {_bin(k / BINS): counts.get(_bin(k / BINS), 0) for k in range(BINS)}


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(
    config: QualityConfig,
    qualities: Iterable[Quality | None],
    duplicates: dict[str, int],
    contamination: dict[str, Any],
) -> QualitySummary:
    """The manifest section from the kept records' Quality and the rejection counts."""
    flags: Counter[str] = Counter()
    scores: list[float] = []
    mins: list[float] = []
    before: list[float] = []
    after: list[float] = []
    totals: Counter[str] = Counter()
    added = augmented = 0
    for q in qualities:
        if q is None:
            continue
        flags.update(q.flags)
        totals["counted"] += q.mutants_counted
        totals["killed"] += q.mutants_killed
        totals["survivors"] += len(q.surviving_mutants)
        totals["equivalent"] += q.mutants_equivalent
        totals["uncounted"] += q.mutants_uncounted
        if q.mutation_score_min is not None:
            mins.append(q.mutation_score_min)
        if q.mutation_score is not None:
            scores.append(q.mutation_score)
            if q.mutation_score_augmented is not None:
                before.append(q.mutation_score)
                after.append(q.mutation_score_augmented)
        else:
            totals["unscored"] += 1
        if q.generated_tests:
            augmented += 1
            added += len(q.generated_tests)
    mutation: dict[str, Any] = {}
    if config.mutation:
        mutation = {
            "problems_scored": len(scores),
            "problems_unscored": totals["unscored"],
            "mean_score": _mean(scores),
            # (killed + timed out) / compiled: never higher with fewer tests (assess.py)
            "mean_score_min": _mean(mins),
            "histogram": histogram(scores),
            "weak_threshold": config.weak_threshold,
            "weak_tests": flags["weak_tests"],
            # equivalent: possibly equivalent (passed every test and no probe told them
            # apart), reported apart from killed and survived and not counted
            "mutants": {k: totals[k] for k in ("counted", "killed", "survivors")}
            | {k: totals[k] for k in ("equivalent", "uncounted")},
        }
    augmentation: dict[str, Any] = {}
    if config.augment_tests:
        augmentation = {
            "per_problem": config.augment_tests,
            "problems_augmented": augmented,
            "tests_added": added,
            "mean_score_before": _mean(before),
            "mean_score_after": _mean(after),
            "problems_compared": len(before),
        }
    return QualitySummary(
        steps=config.model_dump(mode="json"),
        duplicates=duplicates,
        contamination=contamination,
        flags={f: flags[f] for f in FLAGS},
        mutation=mutation,
        augmentation=augmentation,
    )


def _lines(summary: QualitySummary) -> list[str]:
    """The one-line bullets of the quality section (duplicates, contamination, flags, ...)."""
    lines = []
    d = summary.duplicates
    if d:
        lines.append(
            f"- Duplicates rejected: {d.get('rejected', 0)} ({d.get('exact', 0)} exact, "
            f"{d.get('near', 0)} near); train/test overlaps: {d.get('train_test_overlaps', 0)}"
        )
    c = summary.contamination
    if c:
        by = ", ".join(f"{k}: {v}" for k, v in c.get("rejected_by_benchmark", {}).items())
        lines.append(
            f"- Contaminated (rejected): {c.get('rejected', 0)}"
            + (f" ({by})" if by else "")
            + f"; problems sharing any {c.get('ngram')}-gram with an item: "
            + ", ".join(f"{k} {v}" for k, v in c.get("problems_sharing_an_ngram", {}).items())
        )
    lines.append(
        "- Flags (kept records): " + ", ".join(f"`{k}` {v}" for k, v in summary.flags.items())
    )
    m = summary.mutation
    if m:
        lines.append(
            f"- Mutation score: {m['problems_scored']} problems scored, mean {m['mean_score']}, "
            f"{m['weak_tests']} below {m['weak_threshold']} (`weak_tests`)"
            + (
                f"; conservative score (killed or timed out / compiled, never higher with "
                f"fewer tests): mean {m['mean_score_min']}"
                if m.get("mean_score_min") is not None
                else ""
            )
        )
        lines.append(_mutants_line(m.get("mutants", {})))
    a = summary.augmentation
    if a:
        lines.append(
            f"- Tests added: {a['tests_added']} to {a['problems_augmented']} problems; mean "
            f"mutation score {a['mean_score_before']} -> {a['mean_score_after']} "
            f"({a['problems_compared']} problems)"
        )
    return lines


def _mutants_line(mutants: dict[str, int]) -> str:
    """Killed, survived and possibly equivalent mutants (the manifest's `equivalent`)."""
    eq = mutants.get("equivalent", 0)
    return (
        f"- Mutants: {mutants.get('killed', 0)} killed, {mutants.get('survivors', 0)} survived, "
        f"{eq} possibly equivalent (passed every test and every probe input; not counted), "
        f"{mutants.get('uncounted', 0)} uncounted (no compile or timeout)"
    )


def card_section(summary: QualitySummary) -> str:
    """The dataset card's '## Quality' section (markdown)."""
    lines = ["## Quality", ""]
    bullets = _lines(summary)
    m = summary.mutation
    for line in bullets:
        lines.append(line)
        if m and line.startswith("- Mutation score:"):
            lines += [
                "",
                "| mutation score | problems |",
                "|---|---|",
                *[f"| {k} | {v} |" for k, v in m["histogram"].items()],
                "",
            ]
    lines += [
        "",
        "Each record's `quality` column (JSON) holds its flags, mutation score, surviving "
        "mutant ids and generated tests; `appsplus.load(path, exclude_flags=[...], "
        "min_mutation_score=...)` filters on them.",
    ]
    return "\n".join(lines) + "\n"


def quality_report(folder: Path, weakest: int = 0) -> dict[str, Any]:
    """What `appsplus quality` prints: manifest counts and quality section, near-limit tests.

    Raises DatasetError when `folder` is not a finished build.
    """
    manifest = stats(folder)
    report: dict[str, Any] = {
        "name": manifest.name,
        "counts": manifest.counts.model_dump(),
        "kept_percent": round(100 * manifest.counts.kept / max(manifest.counts.read, 1), 1),
        "rejected_by_reason": manifest.rejected_by_reason,
        "quality": manifest.quality or None,
    }
    runtimes = folder / "runtimes.parquet"
    if runtimes.is_file():
        near = [len(r.get("near_limit_tests") or []) for r in iter_rows(runtimes)]
        report["near_time_limit"] = {"problems": sum(n > 0 for n in near), "tests": sum(near)}
    if weakest:
        rows = []
        for path in data_files(folder).values():
            for row in iter_rows(Path(path)):
                raw = row.get("quality")
                if not isinstance(raw, str):
                    continue
                try:
                    q = Quality.model_validate_json(raw)
                except ValueError as e:
                    raise DatasetError(f"{path}: invalid quality column: {e}") from None
                if q.mutation_score is not None:
                    rows.append(
                        (q.mutation_score, row["problem_id"], q.surviving_mutants,
                         q.mutation_score_min)
                    )  # fmt: skip
        rows.sort(key=lambda r: r[:2])
        report["weakest"] = [
            {
                "problem_id": pid,
                "mutation_score": score,
                "mutation_score_min": low,
                "surviving_mutants": surv,
            }
            for score, pid, surv, low in rows[:weakest]
        ]
    return report


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown text (`appsplus quality --markdown`, or stdout not a terminal)."""
    c = report["counts"]
    lines = [
        f"{report['name']}: kept {c['kept']} of {c['read']} ({report['kept_percent']}%), "
        f"rejected {c['rejected']}",
        "rejected by reason: "
        + (", ".join(f"{k} {v}" for k, v in report["rejected_by_reason"].items()) or "none"),
    ]
    q = report.get("quality")
    if not q:
        lines.append(NO_QUALITY)
    else:
        summary = QualitySummary.model_validate(q)
        lines.append(card_section(summary).split("\n\nEach record")[0].removeprefix("## Quality\n"))
    near = report.get("near_time_limit")
    if near:
        lines.append(_near_line(near))
    for w in report.get("weakest", []):
        lines.append(
            f"{w['problem_id']}: score {w['mutation_score']}"
            + (
                f" (conservative {w['mutation_score_min']})"
                if w.get("mutation_score_min") is not None
                else ""
            )
            + ", survivors "
            + (", ".join(w["surviving_mutants"]) or "none")
        )
    return "\n".join(lines)


render_report = render_markdown  # the name before --markdown existed


NO_QUALITY = "no quality section: the dataset was built without the quality steps"


def _near_line(near: dict[str, int]) -> str:
    return (
        f"near the time limit (reference runtime >= half of it, measured): "
        f"{near['tests']} tests in {near['problems']} problems"
    )


def render_tables(report: dict[str, Any]) -> list[Any]:
    """The report as rich renderables (tables and lines) for a terminal, in Markdown's order."""
    from rich.table import Table
    from rich.text import Text

    def table(title: str, *columns: str) -> Table:
        t = Table(title=title, title_justify="left")
        for i, name in enumerate(columns):
            t.add_column(name, justify="left" if i == 0 else "right")
        return t

    c = report["counts"]
    out: list[Any] = [
        Text.assemble(
            (report["name"], "bold"),
            f": kept {c['kept']} of {c['read']} ({report['kept_percent']}%), "
            f"rejected {c['rejected']}",
        )
    ]
    reasons = table("rejections", "reason", "rows")
    for reason, n in report["rejected_by_reason"].items():
        reasons.add_row(reason, str(n))
    reasons.add_row("[bold]total[/bold]", f"[bold]{c['rejected']}[/bold]")
    out.append(reasons)
    q = report.get("quality")
    if not q:
        out.append(Text(NO_QUALITY))
    else:
        summary = QualitySummary.model_validate(q)
        flags = table("flags", "flag", "kept records")
        for flag, n in summary.flags.items():
            flags.add_row(flag, str(n))
        out.append(flags)
        for line in _lines(summary):
            if not line.startswith(("- Flags", "- Mutants:")):  # their own tables
                out.append(Text(line.removeprefix("- ").replace("`", "")))
        m = summary.mutation
        if m:
            hist = table("mutation scores", "mutation score", "problems")
            for k, v in m["histogram"].items():
                hist.add_row(k, str(v))
            out.append(hist)
            names = {"survivors": "survived", "equivalent": "possibly equivalent"}
            mutants = table("mutants", *(names.get(k, k) for k in m["mutants"]))
            mutants.columns[0].justify = "right"
            mutants.add_row(*(str(v) for v in m["mutants"].values()))
            out.append(mutants)
    near = report.get("near_time_limit")
    if near:
        out.append(Text(_near_line(near)))
    weakest = report.get("weakest", [])
    if weakest:
        weak = table(
            "weakest problems", "problem", "mutation score", "conservative", "surviving mutants"
        )
        weak.columns[3].justify = "left"
        for w in weakest:
            low = w.get("mutation_score_min")
            weak.add_row(
                w["problem_id"],
                str(w["mutation_score"]),
                "" if low is None else str(low),
                ", ".join(w["surviving_mutants"]) or "none",
            )
        out.append(weak)
    return out
