"""Execution rewards: judge prefix + completion on a problem's unit tests; say which tokens ran.

    from appsplus.trainers.judge import RewardTable, compute_reward
    result = compute_reward(record, prefix, completion)       # one program
    result.scalar, result.outcome, result.verdicts
    keep = result.token_mask(offsets)   # per completion token: did a test execute it (FGO)?

A plain function over plain data (no trainer state), so other RL frameworks can call it;
e.g. a TRL reward function is
`lambda prompts, completions, problem, prefix, **kw: [r.scalar for r in compute_rewards(problem, prefix, completions)]`.

The program judged is always `prefix + completion`, run with line tracing. Outcome of a
program, most severe first (the CodeRL reward classes): compile error; a runtime-class
failure on some test (runtime error, timeout, memory or output limit); a wrong answer on
some test; all tests passed. `RewardTable` maps each to the scalar reward.

Token-level mask data (StepCoder's FGO): `completion_ranges` are the character ranges of
the completion that some test executed (`appsplus.curriculum.masks.executed_ranges` on the whole
program, shifted by len(prefix)). It is None when the run says nothing about lines (a
compile error, or a program the executor ran but `ast` cannot parse), and then
`token_mask` keeps every token: the reward still judges them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from appsplus.curriculum.masks import executed_ranges, token_mask
from appsplus.curriculum.spans import SpanError
from appsplus.execution import ExecutionResult, Job, Limits, Verdict, WorkerPool, run_many
from appsplus.rewards import DEFAULT_TABLE, RewardTable, program_outcome


@dataclass(frozen=True)
class RewardResult:
    """The reward of one program and what its run says about the completion's tokens."""

    scalar: float
    outcome: Verdict  # the program's outcome (see the module docstring)
    verdicts: list[Verdict]  # one per test
    executed_lines: frozenset[int] | None  # 1-based lines of prefix + completion that ran
    completion_ranges: list[tuple[int, int]] | None  # executed [start, end) of the completion

    @property
    def passed(self) -> bool:
        return self.outcome is Verdict.PASSED

    def token_mask(self, offsets: Sequence[tuple[int, int]]) -> list[bool]:
        """Per completion token ([start, end) in the completion): did a test execute it?

        Every token is kept when the run has no line information (see the module docstring).
        """
        if self.completion_ranges is None:
            return [True] * len(offsets)
        return token_mask(offsets, self.completion_ranges)


def limits_for(problem: Any, time_limit_s: float | None = None, memory_mb: int = 2048) -> Limits:
    """Limits for a problem: `time_limit_s` if given, else the problem's own `time_limit_s`."""
    seconds = time_limit_s or getattr(problem, "time_limit_s", None) or Limits().time_s
    return Limits(time_s=seconds, memory_mb=memory_mb)


def reward_from_execution(
    result: ExecutionResult, prefix: str, completion: str, table: RewardTable = DEFAULT_TABLE
) -> RewardResult:
    """Turn the executor's result for prefix + completion into a RewardResult."""
    outcome = program_outcome(result)
    ranges = None
    if outcome is not Verdict.COMPILE_ERROR and result.executed_lines is not None:
        try:
            program_ranges = executed_ranges(prefix + completion, result.executed_lines)
        except SpanError:
            program_ranges = None
        if program_ranges is not None:
            p = len(prefix)
            ranges = [(max(a - p, 0), b - p) for a, b in program_ranges if b > p]
    return RewardResult(
        scalar=table.of(outcome),
        outcome=outcome,
        verdicts=result.verdicts,
        executed_lines=result.executed_lines,
        completion_ranges=ranges,
    )


def compute_rewards(
    problems: Sequence[Any],
    prefixes: Sequence[str],
    completions: Sequence[str],
    table: RewardTable = DEFAULT_TABLE,
    time_limit_s: float | None = None,
    memory_mb: int = 2048,
    pool: WorkerPool | None = None,
    workers: int | None = None,
) -> list[RewardResult]:
    """Rewards of many programs at once over `run_many` (results in input order).

    `problems[i]` needs `tests` (and may have `time_limit_s`). `pool` is reused if given;
    otherwise a pool of `workers` sandbox workers lives for this call.
    """
    if not len(problems) == len(prefixes) == len(completions):
        raise ValueError("problems, prefixes and completions differ in length")
    jobs = [
        Job(
            program=prefix + completion,
            tests=list(problem.tests),
            limits=limits_for(problem, time_limit_s, memory_mb),
            trace_lines=True,
        )
        for problem, prefix, completion in zip(problems, prefixes, completions)
    ]
    results = run_many(jobs, workers=workers, pool=pool)
    return [
        reward_from_execution(r, prefix, completion, table)
        for r, prefix, completion in zip(results, prefixes, completions)
    ]


def compute_reward(
    problem: Any,
    prefix: str,
    completion: str,
    table: RewardTable = DEFAULT_TABLE,
    time_limit_s: float | None = None,
    memory_mb: int = 2048,
    pool: WorkerPool | None = None,
) -> RewardResult:
    """The reward of one program, prefix + completion, on `problem.tests`."""
    from appsplus.execution import default_pool

    return compute_rewards(
        [problem], [prefix], [completion], table, time_limit_s, memory_mb, pool or default_pool()
    )[0]
