"""Benchmark suites: problems with prompts, tests and time limits, plus the hash of their input.

    suite = load_suite("humaneval", dataset="HumanEval.jsonl.gz")
    suite.problems[0].prompt, suite.info.dataset_hash

| suite       | input (`--dataset`)                                  | prompt format |
|-------------|------------------------------------------------------|---------------|
| `apps+`     | a built APPS+ folder (`appsplus build`) or a hub id  | `appsplus.prompts.build_prompt` |
| `apps`      | raw APPS: a local folder tree / jsonl / parquet; default the hub | `build_prompt` |
| `sample`    | none: the embedded sample, built as APPS+ once and cached | `build_prompt` |
| `humaneval` | HumanEval.jsonl(.gz)                                 | the task's prompt, continued |
| `mbpp`      | the original mbpp.jsonl                              | the MBPP paper's prompt with the tests |
| `livecodebench` | code_generation_lite jsonl/parquet files or a folder | LiveCodeBench's generic prompt |
| `humaneval+` | HumanEvalPlus.jsonl(.gz); default EvalPlus's release    | EvalPlus's codegen prompt |
| `mbpp+`     | MbppPlus.jsonl(.gz); default EvalPlus's release         | EvalPlus's codegen prompt |

Each module documents its prompt, stop sequences, time limit and judge.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from appsplus.bench.files import BenchProblem, SuiteInfo
from appsplus.errors import AppsplusError
from appsplus.schema import StrictModel

SUITE_NAMES = (
    "apps+", "apps", "sample", "humaneval", "mbpp", "livecodebench", "humaneval+", "mbpp+"
)  # fmt: skip


class SuiteError(AppsplusError, ValueError):
    """A suite cannot be loaded (missing or invalid input); the message says what to pass."""


class Suite(StrictModel):
    """The problems of a run and where they came from."""

    info: SuiteInfo
    problems: list[BenchProblem]


def sha256_files(paths: list[Path]) -> str:
    """'sha256:<hex>' over the bytes of the given files, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def load_suite(
    name: str,
    dataset: str | None = None,
    *,
    split: str | None = None,
    limit: int | None = None,
    time_limit_s: float | None = None,
    since: str | None = None,
    until: str | None = None,
    lcb_version: str | None = None,
    time_limits: str | None = None,
    lcb_examples: str | None = None,
) -> Suite:
    """Load suite `name` (see the table above); `limit` keeps the first N problems in suite order.

    `time_limit_s` overrides every problem's per-test limit; `since`/`until` (YYYY-MM-DD,
    inclusive) keep the livecodebench problems of that contest-date window; `lcb_version`
    picks its release files (hub, or a --dataset folder), `lcb_examples` the folder of
    LiveCodeBench's one-shot examples (its base-model prompt). `time_limits` ("derived" or
    "fixed"; humaneval, mbpp and the EvalPlus suites): limits from the canonical solution's
    measured runtime (`appsplus.bench.suites.time_limits`), or the suite's fixed ones;
    default fixed for humaneval and mbpp, derived for humaneval+ and mbpp+. Raises SuiteError.
    """
    if (since or until) and name != "livecodebench":
        raise SuiteError(
            "--since/--until select contest dates: only the livecodebench suite has them"
        )
    if lcb_version and name != "livecodebench":
        raise SuiteError("--lcb-version selects LiveCodeBench releases: only for livecodebench")
    if lcb_examples and name != "livecodebench":
        raise SuiteError(
            "--lcb-examples is LiveCodeBench's base-model prompt: only for livecodebench"
        )
    if time_limits and name not in ("humaneval", "mbpp", "humaneval+", "mbpp+"):
        raise SuiteError("--time-limits applies to humaneval, mbpp, humaneval+ and mbpp+ only")
    if name == "apps+":
        from appsplus.bench.suites.apps import load_apps_plus

        suite = load_apps_plus(dataset, split or "test")
    elif name == "sample":
        from appsplus.bench.suites.apps import load_sample

        suite = load_sample(split or "test")
    elif name == "apps":
        from appsplus.bench.suites.apps import load_apps

        suite = load_apps(dataset, split or "test")
    elif name == "humaneval":
        from appsplus.bench.suites.humaneval import load_humaneval

        suite = load_humaneval(dataset, time_limits or "fixed")
    elif name == "mbpp":
        from appsplus.bench.suites.mbpp import load_mbpp

        suite = load_mbpp(dataset, split or "test", time_limits or "fixed")
    elif name == "livecodebench":
        from appsplus.bench.suites.livecodebench import load_livecodebench

        suite = load_livecodebench(dataset, since, until, lcb_version, examples=lcb_examples)
    elif name in ("humaneval+", "mbpp+"):
        from appsplus.bench.suites.evalplus import load_evalplus

        suite = load_evalplus(name, dataset, limit=limit, time_limits_mode=time_limits or "derived")
    else:
        raise SuiteError(f"unknown suite {name!r}; choose one of {', '.join(SUITE_NAMES)}")
    problems = suite.problems
    if limit is not None:
        problems = problems[:limit]
    if name in ("humaneval", "mbpp") and time_limits == "derived":
        from appsplus.bench.suites.time_limits import derive

        problems = derive(name, suite.info.dataset_hash, problems)
    if time_limit_s is not None:
        problems = [p.model_copy(update={"time_limit_s": time_limit_s}) for p in problems]
    if not problems:
        raise SuiteError(f"suite {name!r} has no problems (split {split or 'default'})")
    info = suite.info.model_copy(
        update={"n_problems": len(problems), "limit": limit, "time_limit_s": time_limit_s}
    )
    return Suite(info=info, problems=problems)
