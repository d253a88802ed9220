"""Pydantic models for every file `bench` writes or reads: problems, samples, results, run config.

A run folder (`--out DIR`) holds:

    run.json          RunConfig: suite, dataset hash, model, sampling (checked on resume)
    problems.jsonl    BenchProblem per line: the exact prompts, tests and limits of the run
    samples.jsonl     Sample per line, appended (and flushed) as they are generated
    results.jsonl     SampleResult per line, keyed by the content hash of the executed job
    report.json       appsplus.bench.report.Report
    pass_at_k.png     pass@k by difficulty
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from appsplus.schema import StrictModel, TestItem

SCHEMA_VERSION = "1"
Assembly = Literal["apps", "humaneval", "mbpp"]


def _drop_none(fields: tuple[str, ...]):
    """A serializer that leaves `fields` out while they are None, so files (and the hashes
    over them) written before those fields existed stay byte for byte the same."""

    @model_serializer(mode="wrap")
    def serialize(self, handler: SerializerFunctionWrapHandler):
        data = handler(self)
        for name in fields:
            if isinstance(data, dict) and data.get(name, 0) is None:
                del data[name]
        return data

    return serialize


class BenchProblem(StrictModel):
    """One problem of a suite: what the model sees, how its text becomes a program, the tests."""

    problem_id: str
    difficulty: str | None = Field(None, description="APPS difficulty; None for unrated suites")
    month: str | None = Field(
        None, description="contest month YYYY-MM (livecodebench): the report groups by it"
    )
    prompt: str = Field(description="completion-style prompt (a base model continues it)")
    chat_prompt: str = Field(description="the user message when the model has a chat template")
    system_prompt: str | None = Field(
        None,
        description="the system turn before `chat_prompt` (livecodebench); a chat template "
        "without a system role gets one user message, system_prompt + blank line + chat_prompt",
    )
    stop: list[str] = Field(default_factory=list, description="stops for completion-style prompts")
    assembly: Assembly = Field(
        description="how a completion becomes a program (appsplus.bench.suites)"
    )
    entry_point: str | None = Field(None, description="function under test (humaneval, mbpp)")
    harness: str = Field("", description="test code appended to the candidate (humaneval, mbpp)")
    tests: list[TestItem] = Field(min_length=1)
    time_limit_s: float = Field(gt=0, description="per-test wall-clock limit")
    canonical_solution: str | None = Field(
        None, description="a reference solution as a program (`Sample.program` form)"
    )

    _serialize = _drop_none(("system_prompt",))


class Sample(StrictModel):
    """One generation: the model's raw text and the program assembled from it."""

    problem_id: str
    index: int = Field(ge=0, description="0-based sample index within the problem")
    completion: str | None = Field(None, description="raw model text (None if given as a program)")
    program: str = Field(description="the program that is executed")
    finish_reason: str | None = None


class Failure(StrictModel):
    """The first failing test of a sample, for a person to read (appsplus.bench.show).

    Texts longer than their limit (appsplus.bench.execute.DETAIL_CHARS) are cut and end with
    a marker saying how many characters were left out; `error` keeps the tail (the end of
    a traceback or of stderr is where the cause is).
    """

    test_index: int = Field(ge=0, description="0-based index of the test in the problem")
    verdict: str
    input: str = Field(description="stdin (stdio test) or the JSON of the arguments (call test)")
    expected: str = Field(description="expected stdout, or the JSON of the expected value")
    actual: str = Field(description="the program's stdout, or the JSON of its return value")
    error: str | None = Field(None, description="exception, signal or compile error, and stderr")


class SampleResult(StrictModel):
    """The executor's verdicts for one distinct (problem, program) job."""

    key: str = Field(description="content hash of the job (program, tests, limits, versions)")
    problem_id: str
    passed: bool
    outcome: str = Field(description="'passed' or the verdict of the first failing test")
    n_tests: int
    n_passed: int
    n_skipped: int = Field(0, description="tests not run after a failure (stop_on_first_failure)")
    error: str | None = Field(None, description="the first failure's error, shortened")
    duration_s: float = Field(0.0, description="the program's own run time, summed over tests")
    test_verdicts: list[str] | None = Field(
        None, description="verdict of each test, in order (None: written by an older version)"
    )
    test_durations_s: list[float] | None = Field(None, description="run time of each test")
    failure: Failure | None = Field(None, description="the first failing test, when one failed")


class SuiteInfo(StrictModel):
    """Which problems a run used."""

    name: str
    dataset: str | None = Field(None, description="--dataset as given (path or hub id)")
    dataset_hash: str = Field(description="manifest hash (apps+) or sha256 of the input files")
    split: str | None = None
    n_problems: int
    limit: int | None = None
    time_limit_s: float | None = Field(None, description="--time-limit override, if given")
    skipped: dict[str, int] = Field(
        default_factory=dict, description="input rows left out of the suite, by reason"
    )
    prompt_version: str
    description: str = ""


class ModelInfo(StrictModel):
    """Which model (or which samples file) produced the samples."""

    backend: Literal["hf", "vllm", "openai", "samples"]
    model: str = Field(description="path, hub id, served model name, or a label for --samples")
    revision: str | None = Field(None, description="hub commit, or None for a local path")
    config_sha256: str | None = Field(None, description="sha256 of the model's config.json")
    weights_fingerprint: str | None = Field(
        None, description="sha256 over the weight files' names and sizes (local models)"
    )
    chat_template: bool = False
    system_turn: bool | None = Field(
        None,
        description="problems with a system prompt, chat template: True = sent as a system "
        "turn, False = the template rejects a system role, joined into the user message",
    )
    base_url: str | None = None
    samples_file: str | None = None
    samples_sha256: str | None = None

    _serialize = _drop_none(("system_turn",))


class Sampling(StrictModel):
    """Sampling parameters: everything that decides the generated text besides the model."""

    n: int = Field(ge=1)
    temperature: float = Field(ge=0)
    top_p: float = Field(gt=0, le=1)
    max_new_tokens: int = Field(ge=1)
    seed: int = 0
    batch_size: int = Field(ge=1, description="samples per generate call (decides the RNG draws)")
    extra_stop: list[str] = Field(default_factory=list, description="--stop, added to the suite's")


class RunConfig(StrictModel):
    """OUT/run.json: a resumed run must match it exactly."""

    schema_version: str = SCHEMA_VERSION
    suite: SuiteInfo
    model: ModelInfo
    sampling: Sampling | None = Field(description="None for samples made elsewhere (--samples)")
    extraction_version: str

    def differences(self, other: RunConfig) -> list[str]:
        """Dotted names of the fields that differ from `other`."""
        return _diff(self.model_dump(mode="json"), other.model_dump(mode="json"))


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            out += _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        return out
    return [] if a == b else [path]
