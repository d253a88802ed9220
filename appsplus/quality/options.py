"""The `appsplus build` options of the quality steps, gathered into one `quality` argument."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

_OPTIONS = [
    click.option(
        "--min-tests",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Reject problems with fewer tests (DeepCoder uses 5; test strength is measured "
        "by mutation score either way).",
    ),
    click.option(
        "--decontaminate",
        "decontaminate",
        multiple=True,
        metavar="SUITE_OR_PATH",
        help="A bench suite (humaneval, humaneval+, mbpp, mbpp+, livecodebench[:SINCE]; its "
        "data from NAME=PATH or $APPSPLUS_DATA_DIR) or a benchmark file (HumanEval/MBPP "
        ".jsonl[.gz], jsonl of statements, or .txt, one per line); problems whose statement "
        "or code overlaps an item are rejected. Repeatable.",
    ),
    click.option("--no-dedupe", is_flag=True, help="Keep duplicate and near-duplicate problems."),
    click.option("--no-mutation", is_flag=True, help="Skip mutation analysis (no mutation_score)."),
    click.option(
        "--no-rerun", is_flag=True, help="Skip the second canonical run (nondeterminism)."
    ),
    click.option(
        "--augment-tests",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Add up to N generated tests per problem where all verified solutions agree.",
    ),
    click.option(
        "--max-mutants",
        type=click.IntRange(min=1),
        default=24,
        show_default=True,
        help="Mutants per problem (a seeded sample).",
    ),
    click.option(
        "--weak-threshold",
        type=click.FloatRange(0, 1),
        default=0.8,
        show_default=True,
        help="Flag weak_tests below this mutation score.",
    ),
]


def quality_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the quality options to a click command; it receives `quality: QualityConfig`."""

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        from appsplus.quality.models import QualityConfig

        kwargs["quality"] = QualityConfig(
            min_tests=kwargs.pop("min_tests"),
            decontaminate=[str(p) for p in kwargs.pop("decontaminate")],
            dedupe=not kwargs.pop("no_dedupe"),
            mutation=not kwargs.pop("no_mutation"),
            nondeterminism=not kwargs.pop("no_rerun"),
            augment_tests=kwargs.pop("augment_tests"),
            max_mutants=kwargs.pop("max_mutants"),
            weak_threshold=kwargs.pop("weak_threshold"),
        )
        return command(**kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper
