"""The outcome of a judged program and the scalar reward of each outcome (CodeRL's classes).

    from appsplus.rewards import RewardTable, program_outcome
    RewardTable().of(program_outcome(result))      # 1.0 / -0.3 / -0.6 / -1.0

Outcome of a program, most severe first: compile error; a runtime-class failure on some
test (runtime error, timeout, memory or output limit; the first such test decides which);
a wrong answer on some test; all tests passed. Shared by the trainers and the reward
adapters of `appsplus.integrations`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from appsplus.execution import ExecutionResult, Verdict

RUNTIME_CLASS = (
    Verdict.RUNTIME_ERROR,
    Verdict.TIMEOUT,
    Verdict.MEMORY_EXCEEDED,
    Verdict.OUTPUT_LIMIT_EXCEEDED,
)


class RewardTable(BaseModel):
    """Scalar reward of each program outcome (defaults: CodeRL's, as StepCoder uses them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    passed: float = Field(1.0, description="every test passed")
    wrong_answer: float = Field(-0.3, description="some test gave a wrong answer, none crashed")
    runtime_error: float = Field(-0.6, description="some test raised or was killed")
    timeout: float = Field(-0.6, description="some test ran past the time limit")
    memory_exceeded: float = Field(-0.6, description="some test ran out of memory")
    output_limit_exceeded: float = Field(-0.6, description="some test printed too much")
    compile_error: float = Field(-1.0, description="the program does not compile")

    def of(self, outcome: Verdict) -> float:
        if outcome is Verdict.SKIPPED:
            return self.wrong_answer
        return getattr(self, outcome.value)


DEFAULT_TABLE = RewardTable()


def program_outcome(result: ExecutionResult) -> Verdict:
    """The outcome class of a program from its verdicts, most severe first."""
    verdicts = result.verdicts
    if result.compile_error is not None or Verdict.COMPILE_ERROR in verdicts:
        return Verdict.COMPILE_ERROR
    crashed = [v for v in verdicts if v in RUNTIME_CLASS]
    if crashed:
        return crashed[0]  # the first test's crash decides which runtime-class reward applies
    if result.passed:
        return Verdict.PASSED
    return Verdict.WRONG_ANSWER
