"""The quality fields of a record and the quality config of a build (pydantic, strict)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Flag = Literal[
    "weak_tests",
    "needs_checker",
    "quoted_string_args",
    "loose_expected_output",
    "nondeterministic",
]
FLAGS: tuple[str, ...] = (
    "weak_tests",
    "needs_checker",
    "quoted_string_args",
    "loose_expected_output",
    "nondeterministic",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GeneratedTest(_Strict):
    """Provenance of one test added by `--augment-tests`: where it sits and how it was made."""

    test_index: int = Field(ge=0, description="index of the test in the record's `tests`")
    origin: Literal["generated"] = "generated"
    seed: str = Field(description="the generator seed (build seed and problem id)")
    parent_test: int = Field(ge=0, description="the existing test whose input was mutated")


class Quality(_Strict):
    """What the quality steps measured about a kept record (stored as a JSON column)."""

    flags: list[Flag] = Field(default_factory=list, description="sorted; see appsplus.quality")
    mutation_score: float | None = Field(
        None, description="killed / counted mutants of the canonical on the source tests"
    )
    mutants_counted: int = 0
    mutants_killed: int = 0
    mutants_uncounted: int = Field(0, description="mutants that did not compile or timed out")
    mutants_equivalent: int = Field(
        0, description="passed every test and agreed with the solutions on every probe input"
    )
    surviving_mutants: list[str] = Field(default_factory=list, description="ids of survivors")
    equivalence_checked: bool = Field(
        False, description="whether probe inputs could tell survivors from equivalent mutants"
    )
    mutation_score_min: float | None = Field(
        None,
        description="conservative, monotone in the tests: (killed + timed out) / compiled "
        "mutants; possibly equivalent mutants count as not killed (None: old builds)",
    )
    mutation_score_augmented: float | None = Field(
        None, description="the same mutants judged on the source tests plus the generated ones"
    )
    generated_tests: list[GeneratedTest] = Field(default_factory=list)
    needs_checker_phrase: str | None = Field(None, description="the statement's wording")
    detail: dict[str, str] = Field(default_factory=dict, description="flag -> why, briefly")


class QualityConfig(BaseModel):
    """The quality steps of a build; part of the build config saved in the manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_tests: int = Field(
        1, ge=1, description="reject problems with fewer tests (after duplicate tests go)"
    )
    dedupe: bool = Field(True, description="reject exact and near-duplicate statements")
    dedupe_threshold: float = Field(0.8, gt=0, le=1, description="word 5-gram Jaccard")
    decontaminate: list[str] = Field(
        default_factory=list, description="benchmark files to decontaminate against"
    )
    decontaminate_ngram: int = Field(8, ge=3, description="n of the word n-grams compared")
    decontaminate_threshold: float = Field(
        0.5, gt=0, le=1, description="share of a benchmark item's n-grams found in a problem"
    )
    mutation: bool = Field(True, description="measure test strength by mutation analysis")
    max_mutants: int = Field(24, ge=1, description="mutants per problem, a seeded sample")
    weak_threshold: float = Field(0.8, ge=0, le=1, description="weak_tests below this score")
    probe_inputs: int = Field(
        10, ge=0, description="generated inputs that tell survivors from equivalent mutants"
    )
    format_probes: int = Field(
        10,
        ge=0,
        description="probe inputs drawn from the input format inferred from every known test "
        "and the statement (0: probes only mutate the tests)",
    )
    probe_solutions: int = Field(4, ge=1, description="verified solutions run on probe inputs")
    quality_time_s: float = Field(
        0.5, gt=0, description="per-test limit for mutants and generated inputs"
    )
    augment_tests: int = Field(0, ge=0, description="tests to add per problem (0: none)")
    nondeterminism: bool = Field(True, description="run the canonical twice and compare")
    seed: int = 0

    def measures(self) -> bool:
        """Whether any step needs the per-problem executions (mutants, probes, reruns)."""
        return self.mutation or self.augment_tests > 0 or self.nondeterminism


def record_filter(
    exclude_flags: Iterable[str] = (), min_mutation_score: float | None = None
) -> Callable[[dict[str, Any]], bool]:
    """A row predicate for `datasets.Dataset.filter` over the `quality` JSON column.

    Records without quality data pass the flag test; with `min_mutation_score`, only
    records with a score at least that high pass.
    """
    unknown = set(exclude_flags) - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown flag(s) {sorted(unknown)}; known: {', '.join(FLAGS)}")
    excluded = set(exclude_flags)

    def keep(row: dict[str, Any]) -> bool:
        raw = row.get("quality")
        q = Quality.model_validate_json(raw) if isinstance(raw, str) else None
        if q is None:
            return min_mutation_score is None
        if excluded & set(q.flags):
            return False
        if min_mutation_score is not None:
            return q.mutation_score is not None and q.mutation_score >= min_mutation_score
        return True

    return keep
