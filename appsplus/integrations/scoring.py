"""Completions -> rewards through the one executor: what every RL-library adapter shares.

    scorer = Scorer(RewardConfig(shape="fraction", max_tests=15))
    scores = scorer.score([Item(text=completion, tests=tests_json)])   # batched, in order
    scores[0].reward, scores[0].outcome, scores[0].verdicts

Rules:

* The program judged: `extract_code(text, fn_name)` (as `bench` does); for a curriculum
  subtask with a `prefix`, a fenced block that restates the prefix is taken as it is, any
  other code is the continuation: `prefix + code` (`prefix + text` when there is no fence).
* Tests: the first `max_tests` of the row (all by default); `ground_truth`/`tests` is the
  JSON of the typed tests (what `appsplus export` writes) or an APPS `input_output` object.
* Shapes: `binary` 1.0 if every test passed else 0.0; `fraction` the passed share;
  `table` the CodeRL/StepCoder outcome table (`appsplus.rewards.RewardTable`).
* A bad program is a verdict, never an exception. A sandbox failure is retried once
  (the worker is replaced), then raised: it must never become a silent negative reward.
* Each score carries its first failure (`Score.failure`: test index, verdict, input,
  expected and actual output, error; cut as `bench` cuts them, by
  `appsplus.execution.record.first_failure`), which each adapter hands to its library's
  extra info so an RL user can see why rewards are low. The reward never depends on it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from appsplus.execution import (
    ExecutionResult,
    Executor,
    Job,
    Limits,
    SandboxError,
    Test,
    TestsError,
    Verdict,
    open_executor,
    run_many,
    tests_from_apps,
)
from appsplus.execution.record import first_failure
from appsplus.extract import clean, extract_code, fenced_code
from appsplus.rewards import DEFAULT_TABLE, RewardTable, program_outcome
from appsplus.schema import TestItem

log = logging.getLogger(__name__)

_TESTS = TypeAdapter(list[TestItem])


class RewardConfig(BaseModel):
    """How completions become rewards; every adapter takes these fields as options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape: Literal["binary", "fraction", "table"] = Field(
        "binary", description="binary all-pass, pass fraction, or the outcome table"
    )
    table: RewardTable = Field(DEFAULT_TABLE, description="rewards of shape 'table'")
    max_tests: int | None = Field(None, ge=1, description="judge at most the first N tests")
    time_limit_s: float | None = Field(
        None, gt=0, description="seconds per test [default: the row's measured limit, else 4]"
    )
    memory_mb: int = Field(2048, ge=64, description="address-space limit per program")
    executor: str = Field("local", description="executor spec, as `--executor`")
    workers: int | None = Field(None, ge=1, description="sandbox workers [default: CPUs]")
    extract: bool = Field(True, description="extract code from fenced or prose text")


@dataclass(frozen=True)
class Item:
    """One completion to judge and what it is judged against."""

    text: str
    tests: Any  # JSON text or value of the typed tests, or an APPS input_output object
    prefix: str = ""
    fn_name: str | None = None
    time_limit_s: float | None = None


@dataclass(frozen=True)
class Score:
    """The reward of one completion and the verdicts behind it."""

    reward: float
    outcome: Verdict
    verdicts: list[Verdict]
    program: str
    failure: dict[str, Any] | None = None  # the first failing test (execution.record)

    @property
    def pass_fraction(self) -> float:
        return sum(v is Verdict.PASSED for v in self.verdicts) / len(self.verdicts)


FAILURE_FIELDS = ("test_index", "verdict", "input", "expected", "actual", "error")


def failure_fields(score: Score | None, prefix: str = "failure_") -> dict[str, str]:
    """The first failure as flat text fields, '' when every test passed (or no score).

    Text, test index included, so that libraries that average numeric extra info (verl's
    validation metrics) keep these as per-sample columns instead of averaging them.
    """
    failure = (score.failure if score is not None else None) or {}
    return {
        f"{prefix}{k}": "" if failure.get(k) is None else str(failure[k]) for k in FAILURE_FIELDS
    }


def failure_text(score: Score | None) -> str:
    """The first failure as a few readable lines ('' when every test passed, or no score)."""
    failure = score.failure if score is not None else None
    if not failure:
        return ""
    lines = [f"test {failure['test_index']}: {failure['verdict']}"]
    lines += [f"{k}: {failure[k]}" for k in ("input", "expected", "actual", "error") if failure[k]]
    return "\n".join(lines)


def parse_tests(value: Any) -> list[Test]:
    """Typed tests from export JSON (a list of tests) or an APPS input_output object; ValueError if neither."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        from appsplus.sources import loads_json

        value = loads_json(value)
    if isinstance(value, dict) and "tests" in value:
        value = value["tests"]
    if isinstance(value, dict):
        tests = tests_from_apps(value)
    elif isinstance(value, list | tuple):
        tests = _TESTS.validate_python(list(value))
    else:
        raise TestsError(f"tests must be a list of tests or an APPS object, got {type(value)}")
    if not tests:
        raise TestsError("no tests")
    return list(tests)


def tests_json(tests: Sequence[Test]) -> str:
    """The JSON text of typed tests (the `ground_truth` / `tests` / `label` of an export)."""
    from appsplus.record import dumps_json

    return dumps_json([t.model_dump() for t in tests], ensure_ascii=False)


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or the content of a list of chat messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, list | tuple):
        parts = [m.get("content") for m in completion if isinstance(m, dict)]
        assistant = [
            m.get("content")
            for m in completion
            if isinstance(m, dict) and m.get("role") in (None, "assistant")
        ]
        return "\n".join(str(p) for p in (assistant or parts) if p)
    return "" if completion is None else str(completion)


def program_of(
    text: str, prefix: str = "", fn_name: str | None = None, extract: bool = True
) -> str:
    """The program judged for a completion (see the module docstring)."""
    if not extract:
        return prefix + text
    if not prefix:
        return extract_code(text, fn_name)
    code = fenced_code(text, fn_name, dedent=False)
    if code is None:
        return prefix + clean(text)
    if code.lstrip().startswith(prefix.strip()) and prefix.strip():
        return code
    return prefix + code


def shaped(result: ExecutionResult, config: RewardConfig) -> tuple[float, Verdict]:
    """(reward, outcome) of one executed program under the configured shape."""
    outcome = program_outcome(result)
    if config.shape == "table":
        return config.table.of(outcome), outcome
    if config.shape == "fraction":
        return result.pass_fraction, outcome
    return (1.0 if result.passed else 0.0), outcome


def verdict_counts(scores: Sequence[Score]) -> dict[str, float]:
    """Namespaced metrics of a batch: pass rate and the share of each outcome."""
    n = len(scores) or 1
    counts = Counter(s.outcome.value for s in scores)
    metrics = {"appsplus/pass_rate": counts.get(Verdict.PASSED.value, 0) / n}
    metrics["appsplus/mean_pass_fraction"] = sum(s.pass_fraction for s in scores) / n
    for verdict in Verdict:
        if verdict is not Verdict.SKIPPED:
            metrics[f"appsplus/outcome/{verdict.value}"] = counts.get(verdict.value, 0) / n
    return metrics


class Scorer:
    """Judges batches of completions on one executor, opened on first use and kept."""

    def __init__(self, config: RewardConfig | None = None, executor: Executor | None = None):
        self.config = config or RewardConfig()
        self._executor = executor
        self._own = executor is None
        self._lock = threading.Lock()

    @property
    def executor(self) -> Executor:
        with self._lock:
            if self._executor is None:
                self._executor = open_executor(self.config.executor, self.config.workers)
            return self._executor

    def job(self, item: Item) -> tuple[Job, str]:
        """The executor job for an item and its program; ValueError when its tests are malformed."""
        tests = parse_tests(item.tests)
        if self.config.max_tests:
            tests = tests[: self.config.max_tests]
        fn_name = item.fn_name or next((t.fn_name for t in tests if t.kind == "call"), None)
        program = program_of(item.text, item.prefix, fn_name, self.config.extract)
        seconds = self.config.time_limit_s or item.time_limit_s or Limits().time_s
        return Job(
            program=program,
            tests=tests,
            limits=Limits(time_s=seconds, memory_mb=self.config.memory_mb),
        ), program

    def run(self, jobs: list[Job]) -> list[ExecutionResult]:
        """`run_many` on this scorer's executor; a sandbox failure is retried once, then raised."""
        if not jobs:
            return []
        try:
            return run_many(jobs, pool=self.executor)
        except SandboxError as e:
            log.warning("sandbox failure (%s): retrying the batch of %d once", e, len(jobs))
            return run_many(jobs, pool=self.executor)

    def score(self, items: Sequence[Item], strict: bool = True) -> list[Score | None]:
        """Scores in input order. Malformed tests: ValueError naming the item, or None if not strict."""
        built: list[tuple[Job, str] | None] = []
        for i, item in enumerate(items):
            try:
                built.append(self.job(item))
            except ValueError as e:
                if strict:
                    raise ValueError(f"item {i}: malformed tests: {e}") from e
                log.warning("item %d: malformed tests, no reward: %s", i, e)
                built.append(None)
        results = iter(self.run([b[0] for b in built if b is not None]))
        scores: list[Score | None] = []
        for b in built:
            if b is None:
                scores.append(None)
                continue
            result = next(results)
            reward, outcome = shaped(result, self.config)
            failure = first_failure(b[0].tests, result)
            scores.append(Score(reward, outcome, result.verdicts, b[1], failure))
        return scores

    def close(self) -> None:
        with self._lock:
            if self._own and self._executor is not None:
                self._executor.close()
            self._executor = None


_shared: dict[str, Scorer] = {}
_shared_lock = threading.Lock()


def shared_scorer(**options: Any) -> Scorer:
    """One process-wide Scorer per distinct option set (library hooks call in many times)."""
    config = RewardConfig(**options)
    key = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    with _shared_lock:
        scorer = _shared.get(key)
        if scorer is None:
            scorer = _shared[key] = Scorer(config)
            import atexit

            atexit.register(scorer.close)
        return scorer


tests_json.__test__ = False  # not a pytest test, despite its name
