"""Settings and results of the `bench` functions (`appsplus.bench.api`): typed, unknown fields
rejected; each setting mirrors a command-line option."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from appsplus.bench.critic_sampling import CSReport
from appsplus.bench.report import Report
from appsplus.schema import StrictModel

SuiteName = Literal["apps+", "apps", "sample", "humaneval", "mbpp"]
APPS_STYLE = ("apps+", "apps", "sample")
DEFAULT_KS = (1, 5, 10)

Advance = Callable[[int], None]
Stage = Callable[[str, int], AbstractContextManager[Advance]]
"""(description, total) -> a context manager yielding `advance(k)`: shows one stage's progress."""


class SettingsError(ValueError):
    """Settings that cannot work together (caught before any model call or execution)."""


# ---------------------------------------------------------------- settings


class SuiteSpec(StrictModel):
    """Which problems (`--suite`, `--dataset`, `--split`, `--limit`, `--time-limit`)."""

    name: SuiteName
    dataset: str | None = None
    split: str | None = None
    limit: int | None = Field(None, ge=1)
    time_limit_s: float | None = Field(None, gt=0)


class ModelSpec(StrictModel):
    """The model that generates (`--model`, `--backend` and the backend's options)."""

    model: str = Field(min_length=1)
    backend: Literal["hf", "vllm", "openai"] = "hf"
    chat: bool | None = Field(None, description="chat template: None = when the tokenizer has one")
    revision: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    base_url: str | None = None
    trust_remote_code: bool = False

    @model_validator(mode="after")
    def _openai_needs_url(self) -> ModelSpec:
        if self.backend == "openai" and not self.base_url:
            raise ValueError("the openai backend needs --base-url (e.g. http://host:8000/v1)")
        return self


class SamplingSpec(StrictModel):
    """How to sample (`--n`, `--temperature`, ...); `batch_size` None = min(max(n, 16), 64)."""

    n: int = Field(20, ge=1)
    temperature: float = Field(0.8, ge=0)
    top_p: float = Field(0.95, gt=0, le=1)
    max_new_tokens: int = Field(1024, ge=1)
    seed: int = 0
    batch_size: int | None = Field(None, ge=1)
    stop: list[str] = Field(default_factory=list)


class SamplesSpec(StrictModel):
    """Generations made elsewhere (`--samples`): jsonl of {problem_id, completion | program}."""

    path: Path
    label: str | None = Field(None, description="the model's name in the report (default: stem)")
    allow_missing: bool = False


class ExecutionSpec(StrictModel):
    """Where and how the programs run (`--workers`, `--executor`, `--all-tests`)."""

    workers: int | None = Field(None, ge=1)
    executor: str = "local"
    all_tests: bool = False


class CriticSamplingSpec(StrictModel):
    """`--strategy critic-sampling`: the critic folder and the refine/repair settings."""

    critic: Path
    initial: int | None = Field(None, ge=1, description="default: a quarter of n")
    rounds: int = Field(2, ge=0)
    enough: int | None = Field(None, ge=1, description="default: the largest k")
    refine: bool = True
    repair: bool = True


class RunSpec(StrictModel):
    """Everything `bench run` takes: one of `model` or `samples`."""

    out: Path
    suite: SuiteSpec
    model: ModelSpec | None = None
    samples: SamplesSpec | None = None
    sampling: SamplingSpec = Field(default_factory=SamplingSpec)
    execution: ExecutionSpec = Field(default_factory=ExecutionSpec)
    critic_sampling: CriticSamplingSpec | None = None
    ks: list[int] | None = Field(None, description="default: 1, 5, 10 up to n")
    bootstrap: int = Field(1000, ge=100)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class GenerateResult:
    """Samples of a run folder: where, how many per problem, how many new, generation time."""

    samples_path: Path
    n: int
    written: int
    seconds: float


@dataclass(frozen=True)
class EvaluateResult:
    """Results of a run folder: where, for how many samples, execution time."""

    results_path: Path
    n_samples: int
    seconds: float


@dataclass(frozen=True)
class CriticSamplingResult:
    """The critic-sampling stage: its report and what it generated."""

    report: CSReport
    report_path: Path
    extra_programs: int
    seconds: float


@dataclass(frozen=True)
class ReportResult:
    """report.json (and the plot, None without matplotlib); the critic-sampling report if any."""

    report: Report
    report_path: Path
    plot: Path | None
    critic_sampling: CSReport | None = None


@dataclass(frozen=True)
class RunResult:
    """What `run` did: the report, and the time spent generating and executing."""

    report: Report
    report_path: Path
    plot: Path | None
    generation: GenerateResult
    evaluation: EvaluateResult
    critic_sampling: CriticSamplingResult | None = None


@dataclass(frozen=True)
class Comparison:
    """Reports to put side by side, their labels, and warnings about their differences."""

    reports: list[Report]
    names: list[str]
    warnings: list[str]
