"""Verify problems by execution: run every solution on every test, choose the canonical one.

    results = verify_problems(problems, VerifyConfig(), run)   # Verified | Rejection each

`run` executes a list of `Job`s and returns their results in order (`cached_runner` in
appsplus.curate.cache adds the content-addressed cache). Each phase below is one `run` call over
all the problems of the batch, so the workers stay busy across problems.

Rules, for each problem:

1. Run every solution on the tests, a solution stopping at its first failed test (what a
   failing solution does afterwards is not needed; a passing one runs every test).
2. Some pass: they are the passing solutions.
3. None pass: rerun, on every test, the solutions whose first failure was a wrong answer,
   and look for a *disputed expected output*: the tests F that no solution passes, with
   1 <= |F| <= `max_disputed_tests` and |F| < the number of tests, and at least
   `min_agreeing_solutions` solutions that pass every test outside F and give, on each
   test of F, a wrong answer that they all agree on (under the comparator, complete output
   previews only). Default: reject `disputed_expected_output`. With `repair_outputs`: the
   expected outputs of F become the consensus (a `Correction` each) and the agreeing
   solutions are the passing ones. Otherwise reject `no_passing_solution`.
4. Call-based tests still flagged `apps_list_quirk` (raw APPS outputs that are all
   one-element lists) are resolved once per problem: 'unwrapped' (the stored output is
   [value]) if at least as many passing solutions match that reading on every test as
   match the literal 'wrapped' reading, else 'wrapped'. Solutions that do not match the
   chosen reading stop counting as passing; the tests store the chosen value, flag off.
5. When tests changed and a decision was not exact (a repair, or a returned value too long
   for its output preview to be re-judged), the kept solutions are re-run on the final
   tests and only those that pass stay.
6. Canonical: the first passing solution in source order (`canonical="first"`), or the
   shortest, ties to the earlier (`"shortest"`).
7. Runtimes: the canonical's wall time on each test (as the sandbox measured it, to the
   microsecond) is its reference runtime; `time_limit_s` = min(max(time_limit_cap_s,
   limits.time_s), max(time_limit_floor_s, time_limit_factor x slowest reference runtime)),
   rounded up to 0.1 s: by default max(1 s, 5 x slowest), capped at 10 s. These are
   measurements, so they differ between builds; the build keeps them out of the hashed
   dataset files (see `appsplus.curate.pipeline`).
8. Timeouts are confirmed: a solution's timed-out tests run again under twice the limit
   times the machine's load factor (`appsplus.quality.timeouts`), and that rerun decides,
   so a loaded machine does not drop a solution that finishes (nor change the canonical,
   the passing list or a rejection) and the hashed dataset files do not change with load.

A failure of the sandbox itself (`SandboxError`) propagates: it is never a rejection.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from appsplus.errors import shorten
from appsplus.execution import (
    CallTest,
    ExecutionResult,
    Job,
    Limits,
    StdioTest,
    Verdict,
    stdout_matches,
    values_match,
)
from appsplus.execution.pool import PREVIEW_CHARS
from appsplus.quality.timeouts import confirm_timeouts
from appsplus.record import Correction
from appsplus.schema import Problem, Rejection, RejectReason
from appsplus.sources import loads_json

logger = logging.getLogger(__name__)

Runner = Callable[[Sequence[Job]], list[ExecutionResult]]
"""Runs jobs and returns one result per job, in order (e.g. `appsplus.curate.cache.CachedRunner`)."""

_UNKNOWN = object()


class VerifyConfig(BaseModel):
    """How problems are verified; part of the build config saved in the manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limits: Limits = Field(default_factory=Limits, description="sandbox limits for every run")
    canonical: Literal["first", "shortest"] = "first"
    repair_outputs: bool = Field(False, description="replace disputed outputs by the consensus")
    max_disputed_tests: int = Field(1, ge=1, description="most tests one dispute may cover")
    min_agreeing_solutions: int = Field(2, ge=1, description="fewest solutions for a consensus")
    time_limit_factor: float = Field(5.0, ge=1.0)
    time_limit_floor_s: float = Field(1.0, gt=0)
    time_limit_cap_s: float = Field(10.0, gt=0)


class Verified(BaseModel):
    """A problem that passed verification: its final tests and what the build decided."""

    model_config = ConfigDict(extra="forbid")

    problem: Problem = Field(description="the problem with its final (resolved/repaired) tests")
    passing: list[int] = Field(description="source indices of the passing solutions")
    canonical_index: int
    reference_runtimes_s: list[float]
    time_limit_s: float
    call_outputs: Literal["unwrapped", "wrapped"] | None = None
    corrections: list[Correction] = Field(default_factory=list)


def time_limit_for(runtimes: Sequence[float], config: VerifyConfig) -> float:
    """The per-test time limit of a problem from its reference runtimes (rule 7)."""
    slowest = max(runtimes, default=0.0)
    cap = max(config.time_limit_cap_s, config.limits.time_s)
    limit = min(cap, max(config.time_limit_floor_s, config.time_limit_factor * slowest))
    return math.ceil(round(limit * 10, 6)) / 10


# ---------------------------------------------------------------- judging from previews


def _complete(output: str) -> bool:
    return len(output) < PREVIEW_CHARS


def _value(output: str) -> Any:
    """The returned value from a call test's output preview, or _UNKNOWN if truncated/invalid."""
    if not _complete(output):
        return _UNKNOWN
    try:
        return loads_json(output)
    except (ValueError, RecursionError):
        return _UNKNOWN


def _agree(kind: str, a: str, b: str) -> bool:
    if kind == "stdio":
        return stdout_matches(a, b) and stdout_matches(b, a)
    va, vb = _value(a), _value(b)
    return va is not _UNKNOWN and vb is not _UNKNOWN and values_match(va, vb)


def _first_failure(result: ExecutionResult) -> tuple[int, Verdict] | None:
    for i, t in enumerate(result.tests):
        if t.verdict is not Verdict.PASSED:
            return i, t.verdict
    return None


def _summary(problem: Problem, results: Sequence[ExecutionResult], limit: int = 4) -> str:
    parts = []
    for i, r in enumerate(results[:limit]):
        failure = _first_failure(r)
        if failure is None:
            parts.append(f"solution {i} passes")
            continue
        t, verdict = failure
        error = r.tests[t].error or r.compile_error
        why = f": {error.strip().splitlines()[-1][:80]}" if error and error.strip() else ""
        parts.append(f"solution {i} fails test {t} ({verdict.value}{why})")
    more = f", ... ({len(results) - limit} more)" if len(results) > limit else ""
    n, m = len(problem.solutions), len(problem.tests)
    return f"none of {n} solution(s) passes all {m} test(s): " + "; ".join(parts) + more


def _reject(problem: Problem, reason: RejectReason, detail: str) -> Rejection:
    return Rejection(
        problem_id=problem.problem_id,
        locator=str(problem.provenance.get("locator", problem.problem_id)),
        source=str(problem.provenance.get("source", "")),
        reason=reason,
        detail=detail,
        stage="verify",
    )


def _unsendable(problem: Problem) -> str | None:
    """Why the executor cannot be given these tests (it JSON-encodes call arguments), or None."""
    for i, test in enumerate(problem.tests):
        if isinstance(test, CallTest):
            try:
                json.dumps(test.args)
            except (ValueError, TypeError) as e:
                return f"test {i}: the arguments cannot be sent to the executor ({str(e)[:120]})"
    return None


# ---------------------------------------------------------------- disputes and the list quirk


class _Dispute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tests: list[int]
    agreeing: list[int]
    outputs: dict[int, str] = Field(
        description="test index -> the first agreeing solution's output"
    )


def _find_dispute(
    problem: Problem,
    gated: Sequence[ExecutionResult],
    full: dict[int, ExecutionResult],
    config: VerifyConfig,
) -> tuple[_Dispute | None, str]:
    """Look for a disputed expected output; (dispute, '') or (None, why there is none)."""
    n = len(problem.tests)
    passed_somewhere = [False] * n
    for i, r in enumerate(gated):
        for t, res in enumerate((full.get(i) or r).tests):
            if res.verdict is Verdict.PASSED:
                passed_somewhere[t] = True
    disputed = [t for t in range(n) if not passed_somewhere[t]]
    if not disputed or len(disputed) >= n or len(disputed) > config.max_disputed_tests:
        return None, ""
    agreeing = [
        i
        for i, r in sorted(full.items())
        if all(
            (r.tests[t].verdict is Verdict.WRONG_ANSWER and _complete(r.tests[t].output))
            if t in disputed
            else r.tests[t].verdict is Verdict.PASSED
            for t in range(n)
        )
    ]
    where = ", ".join(map(str, disputed))
    if len(agreeing) < config.min_agreeing_solutions:
        return None, (
            f"; test {where} fails for every solution, but only {len(agreeing)} solution(s) "
            f"pass all other tests (a consensus needs {config.min_agreeing_solutions})"
        )
    first = full[agreeing[0]]
    for t in disputed:
        for i in agreeing[1:]:
            if not _agree(problem.kind, first.tests[t].output, full[i].tests[t].output):
                return None, (
                    f"; test {where} fails for every solution and the {len(agreeing)} solutions "
                    "passing all other tests disagree on its output"
                )
    outputs = {t: first.tests[t].output for t in disputed}
    return _Dispute(tests=disputed, agreeing=agreeing, outputs=outputs), ""


def _repair(problem: Problem, dispute: _Dispute) -> tuple[list[Any], list[Correction]]:
    tests = list(problem.tests)
    corrections = []
    for t in dispute.tests:
        test = tests[t]
        if isinstance(test, StdioTest):
            new_value: Any = dispute.outputs[t]
            tests[t] = StdioTest(input=test.input, output=new_value)
            stored: Any = test.output
        else:
            new_value = _value(dispute.outputs[t])
            tests[t] = test.model_copy(update={"expected": new_value, "apps_list_quirk": False})
            stored = test.expected
        corrections.append(
            Correction(
                test_index=t,
                stored=stored,
                replaced_with=new_value,
                agreeing_solutions=dispute.agreeing,
            )
        )
    return tests, corrections


def _reading_votes(output: str, expected: Any) -> tuple[bool | None, bool | None]:
    """Does a returned value match the unwrapped / the literal reading? None: cannot tell.

    A complete preview is judged exactly (as the executor would). A truncated one only
    votes when exactly one reading's JSON starts with the preview; the solution is then
    re-run on the final tests anyway.
    """
    wrapped = isinstance(expected, list) and len(expected) == 1
    value = _value(output)
    if value is not _UNKNOWN:
        return wrapped and values_match(value, expected[0]), values_match(value, expected)
    if _complete(output):
        return None, None
    try:
        prefix_u = wrapped and json.dumps(expected[0]).startswith(output)
        prefix_w = json.dumps(expected).startswith(output)
    except (ValueError, TypeError):
        return None, None
    return (prefix_u, prefix_w) if prefix_u != prefix_w else (None, None)


def _resolve_quirk(
    tests: list[Any], solutions: list[int], results: dict[int, ExecutionResult]
) -> tuple[list[Any], Literal["unwrapped", "wrapped"], list[int], list[int]]:
    """Pick the reading of apps_list_quirk tests -> (tests, reading, consistent, needs_rerun)."""
    quirky = [
        t for t, test in enumerate(tests) if isinstance(test, CallTest) and test.apps_list_quirk
    ]
    matches: dict[str, list[int]] = {"unwrapped": [], "wrapped": []}
    inexact: set[int] = set()
    for i in solutions:
        ok = {"unwrapped": True, "wrapped": True}
        for t in quirky:
            output = results[i].tests[t].output
            if not _complete(output):
                inexact.add(i)
            votes = _reading_votes(output, tests[t].expected)
            for reading, vote in zip(("unwrapped", "wrapped"), votes):
                if vote is False:
                    ok[reading] = False
        for reading, good in ok.items():
            if good:
                matches[reading].append(i)
    reading: Literal["unwrapped", "wrapped"] = (
        "unwrapped" if len(matches["unwrapped"]) >= len(matches["wrapped"]) else "wrapped"
    )
    new_tests = list(tests)
    for t in quirky:
        test = tests[t]
        wrapped = isinstance(test.expected, list) and len(test.expected) == 1
        value = test.expected[0] if reading == "unwrapped" and wrapped else test.expected
        new_tests[t] = test.model_copy(update={"expected": value, "apps_list_quirk": False})
    consistent = matches[reading]
    return new_tests, reading, consistent, sorted(inexact & set(consistent))


# ---------------------------------------------------------------- the phases


class _State:
    """Per-problem working state across the phases."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.tests: list[Any] = list(problem.tests)
        self.gated: list[ExecutionResult] = []
        self.full: dict[int, ExecutionResult] = {}
        self.passing: list[int] = []
        self.results: dict[int, ExecutionResult] = {}  # solution -> result on self.tests
        self.corrections: list[Correction] = []
        self.reading: Literal["unwrapped", "wrapped"] | None = None
        self.confirm: list[int] = []
        self.outcome: Verified | Rejection | None = None


def _jobs(
    states: Sequence[_State],
    which: Callable[[_State], Sequence[int]],
    config: VerifyConfig,
    gate: bool,
) -> tuple[list[Job], list[tuple[_State, int]]]:
    jobs, owners = [], []
    for state in states:
        if state.outcome is not None:
            continue
        for i in which(state):
            jobs.append(
                Job(
                    program=state.problem.solutions[i],
                    tests=state.tests,
                    limits=config.limits,
                    stop_on_first_failure=gate,
                )
            )
            owners.append((state, i))
    return jobs, owners


def _after_first_run(state: _State) -> None:
    state.passing = [i for i, r in enumerate(state.gated) if r.passed]
    state.results = {i: state.gated[i] for i in state.passing}


def _rerun_candidates(state: _State) -> list[int]:
    """Solutions without a pass whose first failure is a wrong answer: they may disagree with a test."""
    if state.passing:
        return []
    out = []
    for i, r in enumerate(state.gated):
        failure = _first_failure(r)
        if failure is not None and failure[1] is Verdict.WRONG_ANSWER:
            out.append(i)
    return out


def _after_full_run(state: _State, config: VerifyConfig) -> None:
    if state.passing:
        return
    problem = state.problem
    dispute, why = _find_dispute(problem, state.gated, state.full, config)
    if dispute is None:
        state.outcome = _reject(
            problem, RejectReason.NO_PASSING_SOLUTION, _summary(problem, state.gated) + why
        )
        return
    if not config.repair_outputs:
        t = dispute.tests[0]
        stored = state.tests[t].output if problem.kind == "stdio" else state.tests[t].expected
        agreed, stored = (
            shorten(v if isinstance(v, str) else json.dumps(v), 60, quote=True)
            for v in (dispute.outputs[t], stored)
        )
        state.outcome = _reject(
            problem,
            RejectReason.DISPUTED_EXPECTED_OUTPUT,
            f"test {', '.join(map(str, dispute.tests))} fails for every solution, but "
            f"solutions {dispute.agreeing} pass every other test and agree on "
            f"{agreed} there (stored: {stored}); "
            "--repair-outputs would use the consensus",
        )
        return
    state.tests, state.corrections = _repair(problem, dispute)
    state.passing = dispute.agreeing
    state.results = {i: state.full[i] for i in dispute.agreeing}
    state.confirm = list(dispute.agreeing)


def _resolve(state: _State) -> None:
    if state.outcome is not None:
        return
    if any(isinstance(t, CallTest) and t.apps_list_quirk for t in state.tests):
        tests, reading, consistent, unknown = _resolve_quirk(
            state.tests, state.passing, state.results
        )
        state.tests, state.reading, state.passing = tests, reading, consistent
        if unknown:
            state.confirm = sorted(set(state.confirm) | set(unknown))
        state.confirm = [i for i in state.confirm if i in consistent]
    if not state.passing:
        state.outcome = _reject(
            state.problem,
            RejectReason.NO_PASSING_SOLUTION,
            "no solution passes every test under one reading of the call-based outputs",
        )


def _after_confirm(state: _State, confirmed: dict[int, ExecutionResult]) -> None:
    if state.outcome is not None or not state.confirm:
        return
    failed = [i for i in state.confirm if not confirmed[i].passed]
    state.results.update(confirmed)
    state.passing = [i for i in state.passing if i not in failed]
    if not state.passing:
        state.outcome = _reject(
            state.problem,
            RejectReason.NO_PASSING_SOLUTION,
            "no solution passes the final tests when re-run after resolving them",
        )


def _finish(state: _State, config: VerifyConfig) -> Verified | Rejection:
    if state.outcome is not None:
        return state.outcome
    problem = state.problem
    if config.canonical == "shortest":
        canonical = min(state.passing, key=lambda i: (len(problem.solutions[i]), i))
    else:
        canonical = state.passing[0]
    result = state.results[canonical]
    runtimes = [t.duration_s for t in result.tests]
    return Verified(
        problem=problem.model_copy(update={"tests": state.tests}),
        passing=state.passing,
        canonical_index=canonical,
        reference_runtimes_s=runtimes,
        time_limit_s=time_limit_for(runtimes, config),
        call_outputs=state.reading,
        corrections=state.corrections,
    )


def verify_problems(
    problems: Sequence[Problem], config: VerifyConfig, run: Runner
) -> list[Verified | Rejection]:
    """Verify each problem (see the module docstring); one result per problem, in order."""
    run = confirm_timeouts(run, config.limits.time_s)  # rule 8
    states = [_State(p) for p in problems]
    for state in states:
        why = _unsendable(state.problem)
        if why:
            state.outcome = _reject(state.problem, RejectReason.MALFORMED_INPUT_OUTPUT, why)

    # 1. every solution, stopping at its first failure
    jobs, owners = _jobs(states, lambda s: range(len(s.problem.solutions)), config, gate=True)
    for (state, _), result in zip(owners, run(jobs)):
        state.gated.append(result)
    for state in states:
        if state.outcome is None:
            _after_first_run(state)

    # 2-3. no pass: rerun wrong answers on every test and look for a disputed output
    jobs, owners = _jobs(states, _rerun_candidates, config, gate=False)
    for (state, i), result in zip(owners, run(jobs)):
        state.full[i] = result
    for state in states:
        if state.outcome is None:
            _after_full_run(state, config)

    # 4. the APPS one-element-list quirk
    for state in states:
        _resolve(state)

    # 5. confirm on the final tests where a decision was not exact
    jobs, owners = _jobs(states, lambda s: s.confirm, config, gate=True)
    confirmed: dict[int, dict[int, ExecutionResult]] = {}
    for (state, i), result in zip(owners, run(jobs)):
        confirmed.setdefault(id(state), {})[i] = result
    for state in states:
        _after_confirm(state, confirmed.get(id(state), {}))

    # 6-7. canonical, runtimes and time limit
    return [_finish(state, config) for state in states]
