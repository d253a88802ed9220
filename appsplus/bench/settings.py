"""Settings and results of the `bench` functions (`appsplus.bench.api`): typed, unknown fields
rejected; each setting mirrors a command-line option.

A settings model that cannot be built raises `SettingsError` with one line naming the
field and the problem, when constructed directly in Python too:

    SamplingSpec(n=2, temprature=0.2)
    # SettingsError: SamplingSpec: unknown setting 'temprature' (did you mean 'temperature'?)
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from appsplus.bench.critic_sampling import CSReport
from appsplus.bench.report import Report
from appsplus.errors import AppsplusError
from appsplus.schema import StrictModel

SuiteName = Literal[
    "apps+", "apps", "sample", "humaneval", "mbpp", "livecodebench", "humaneval+", "mbpp+"
]
APPS_STYLE = ("apps+", "apps", "sample")
DEFAULT_KS = (1, 5, 10)

Advance = Callable[[int], None]
Stage = Callable[[str, int], AbstractContextManager[Advance]]
"""(description, total) -> a context manager yielding `advance(k)`: shows one stage's progress."""


class SettingsError(AppsplusError, ValueError):
    """Settings that cannot work together (caught before any model call or execution)."""

    exit_status = 2  # a usage mistake, as click and argparse exit for bad options


# ---------------------------------------------------------------- settings


class Settings(StrictModel):
    """Base of the settings models: a value they refuse is a `SettingsError` (one line)."""

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise SettingsError(settings_error_line(type(self), e)) from None

    # as pydantic's own __init__: nested settings are validated by pydantic directly, so
    # their problems reach the outer model's one line with their dotted names
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as e:
            raise SettingsError(settings_error_line(cls, e)) from None


def settings_error_line(cls: type[BaseModel], error: ValidationError) -> str:
    """'<Model>: <problem>; ...' for each problem of `error`, naming the field (dotted for
    nested settings) and, for an unknown one, the closest known name."""
    problems = []
    for err in error.errors():
        loc = [str(part) for part in err["loc"]]
        name = ".".join(loc)
        prefix = "".join(f"{part}." for part in loc[:-1])
        if err["type"] == "extra_forbidden":
            owner = _model_at(cls, loc[:-1])
            close = difflib.get_close_matches(loc[-1], list(owner.model_fields) if owner else [], 1)
            hint = f" (did you mean {prefix + close[0]!r}?)" if close else ""
            problems.append(f"unknown setting {name!r}{hint}")
        elif err["type"] == "missing":
            problems.append(f"missing setting {name!r}")
        else:
            message = err["msg"].removeprefix("Value error, ")
            got = f" (got {err['input']!r})" if err["type"] != "value_error" else ""
            problems.append(f"{name}: {message}{got}" if name else message)
    return f"{cls.__name__}: {'; '.join(problems)}"


def _model_at(cls: type[BaseModel], loc: list[str]) -> type[BaseModel] | None:
    """The settings class of the nested field at `loc` (through `X | None`), else None."""
    model: Any = cls
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            return None
        options = typing.get_args(field.annotation) or (field.annotation,)
        models = [t for t in options if isinstance(t, type) and issubclass(t, BaseModel)]
        if not models:
            return None
        model = models[0]
    return model


class SuiteSpec(Settings):
    """Which problems (`--suite`, `--dataset`, `--split`, `--limit`, `--time-limit`)."""

    name: SuiteName
    dataset: str | None = None
    split: str | None = None
    limit: int | None = Field(None, ge=1)
    time_limit_s: float | None = Field(None, gt=0)
    time_limits: Literal["derived", "fixed"] | None = Field(
        None,
        description="humaneval, mbpp (default fixed), humaneval+, mbpp+ (default derived): "
        "limits from the canonical solution's measured runtime, or the suite's fixed ones",
    )
    since: str | None = Field(None, description="livecodebench: first contest date, YYYY-MM-DD")
    until: str | None = Field(None, description="livecodebench: last contest date, YYYY-MM-DD")
    lcb_version: str | None = Field(
        None, description="livecodebench: release version (release_v1..release_v6, release_latest)"
    )
    lcb_examples: str | None = Field(
        None,
        description="livecodebench: folder of LiveCodeBench's one-shot examples (func.json, "
        "stdin.json): base models get its one-shot prompt",
    )


class ModelSpec(Settings):
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
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"--base-url {self.base_url!r}: not an http:// or https:// URL "
                "(e.g. http://host:8000/v1)"
            )
        return self


class SamplingSpec(Settings):
    """How to sample (`--n`, `--temperature`, ...); `batch_size` None = min(max(n, 16), 64)."""

    n: int = Field(20, ge=1)
    temperature: float = Field(0.8, ge=0)
    top_p: float = Field(0.95, gt=0, le=1)
    max_new_tokens: int = Field(1024, ge=1)
    seed: int = 0
    batch_size: int | None = Field(None, ge=1)
    stop: list[str] = Field(default_factory=list)


class SamplesSpec(Settings):
    """Generations made elsewhere (`--samples`): jsonl of {problem_id, completion | program}."""

    path: Path
    label: str | None = Field(None, description="the model's name in the report (default: stem)")
    allow_missing: bool = False


class ExecutionSpec(Settings):
    """Where and how the programs run (`--workers`, `--executor`, `--all-tests`)."""

    workers: int | None = Field(None, ge=1)
    executor: str = "local"
    all_tests: bool = False


class CriticSamplingSpec(Settings):
    """`--strategy critic-sampling`: the critic folder and the refine/repair settings."""

    critic: Path
    initial: int | None = Field(None, ge=1, description="default: a quarter of n")
    rounds: int = Field(2, ge=0)
    enough: int | None = Field(None, ge=1, description="default: the largest k")
    refine: bool = True
    repair: bool = True


class RunSpec(Settings):
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
