"""The `humaneval+` and `mbpp+` suites: EvalPlus's HumanEval+ (v0.1.10) and MBPP+ (v0.2.0).

Input: `--dataset PATH` to HumanEvalPlus.jsonl(.gz) / MbppPlus.jsonl(.gz); without it the
release EvalPlus's own loader downloads (`RELEASE_URLS`), kept under the appsplus cache.

Prompt (EvalPlus's codegen): a base model continues the task's `prompt` (HumanEval: the
signature and docstring; MBPP+: a docstring with the task and one assert), stopping at
EvalPlus's end-of-solution strings for direct completion; with a chat template the user
message is EvalPlus's instruction with the prompt in a code block (EvalPlus also prefills
the assistant's reply with a fixed sentence and a code fence; `bench` does not prefill).
The executed program is the prompt continued (or the model's full function after the
prompt), in a standard Python environment, then the EvalPlus harness
(`appsplus.bench.suites.evalplus_judge`).

Judge, as evalplus 0.3.1's: two tests, "base" (the original tests' inputs: HumanEval /
MBPP) and "plus" (base and EvalPlus's extra inputs: HumanEval+ / MBPP+), each one process
calling the entry point on every input in order, stopping at the first failure. Expected
outputs are the canonical solution's (`prompt + canonical_solution`, each call on a deep
copy), computed once in the sandbox and cached under the data's hash with the time each
call took; each input may run max(`MIN_TIME_LIMIT_S`, `TIME_LIMIT_FACTOR` x that time),
a test min(60 s, the sum) + 1 s. Outputs compare by EvalPlus's rules
(`appsplus.execution.compare.evalplus_output_ok`: `==`, `atol`, the special oracles).
MBPP+ inputs are made tuples, sets or complex numbers per task (`mbpp_deserialize`).
`--time-limits fixed` gives every input `MIN_TIME_LIMIT_S` x `TIME_LIMIT_FACTOR` instead.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from appsplus.bench.files import BenchProblem, SuiteInfo
from appsplus.bench.programs import CHECK_FN
from appsplus.bench.suites import Suite, SuiteError, sha256_files
from appsplus.bench.suites.evalplus_judge import JUDGE_VERSION, encode, harness
from appsplus.bench.suites.humaneval import read_jsonl
from appsplus.execution import CallTest, Job, Limits, Verdict
from appsplus.execution.compare import EVALPLUS_RULES_VERSION, evalplus_oracle

logger = logging.getLogger(__name__)

PROMPT_VERSION = "evalplus-1"
REFERENCE_FN = "__bench_reference__"
MIN_TIME_LIMIT_S = 1.0  # evalplus.config.DEFAULT_MIN_TIME_LIMIT
TIME_LIMIT_FACTOR = 4.0  # evalplus.config.DEFAULT_GT_TIME_LIMIT_FACTOR
TASK_CAP_S = 60.0  # EVALPLUS_TIMEOUT_PER_TASK
MEMORY_MB = 4096  # EvalPlus's address-space limit
REFERENCE_LIMIT_S = 120.0  # the canonical solution on every input of one test, once
FIELDS = ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input")
EOS = ["<|endoftext|>", "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(", "\nprint("]
STOP = {
    "humaneval": EOS + ["\ndef ", "\nclass ", "\nimport ", "\nfrom ", "\nassert "],
    "mbpp": EOS + ['\n"""', "\nassert"],
}
INSTRUCTION = (
    "Please provide a self-contained Python script that solves the following problem "
    "in a markdown code block:"
)
RELEASE_URLS = {
    "humaneval": "https://github.com/evalplus/humanevalplus_release/releases/download/"
    "v0.1.10/HumanEvalPlus.jsonl.gz",
    "mbpp": "https://github.com/evalplus/mbppplus_release/releases/download/"
    "v0.2.0/MbppPlus.jsonl.gz",
}
SUITES = {"humaneval+": "humaneval", "mbpp+": "mbpp"}
PREFIX = {"humaneval": "HumanEval/", "mbpp": "Mbpp/"}
LABELS = {"humaneval": ("HumanEval", "HumanEval+"), "mbpp": ("MBPP", "MBPP+")}
TIME_LIMIT_MODES = ("derived", "fixed")


# --- MBPP+ inputs, as evalplus.data.mbpp.mbpp_deserialize_inputs converts them -------------
def _tuples(xs):
    return [tuple(x) for x in xs]


def _all_tuples(x):
    return tuple(_all_tuples(i) for i in x) if isinstance(x, list) else x


MBPP_INPUTS = {
    **dict.fromkeys(
        (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616,
         630, 726, 740, 744, 809),
        lambda inp: _tuples(inp),
    ),
    **dict.fromkeys(
        (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780),
        lambda inp: [_tuples(x) for x in inp],
    ),
    **dict.fromkeys((75, 413, 444, 753), lambda inp: [_tuples(inp[0])] + [inp[1]]),
    **dict.fromkeys((106, 750), lambda inp: [inp[0]] + [tuple(inp[1])]),
    115: lambda inp: [[set(i) if isinstance(i, list) and len(i) else {} for i in inp[0]]],
    124: lambda inp: (float(inp[0]), complex(inp[1])),
    **dict.fromkeys(
        (250, 405, 446, 617, 720, 763, 808), lambda inp: [tuple(inp[0])] + [inp[1]]
    ),
    **dict.fromkeys((259, 401, 445), lambda inp: _tuples([_tuples(x) for x in inp])),
    278: lambda inp: _tuples(
        [[tuple(i) if isinstance(i, list) else i for i in inp[0]]]
    ),
    307: lambda inp: [tuple(inp[0])] + [inp[1], inp[2]],
    722: lambda inp: [{k: tuple(v) for k, v in inp[0].items()}] + inp[1:],
    252: lambda inp: [complex(inp[0])],
    **dict.fromkeys((580, 615, 791), _all_tuples),
}  # fmt: skip


def mbpp_deserialize(task_id: str, inputs: list) -> list:
    """MBPP+ inputs as EvalPlus passes them (tuples, sets, complex numbers per task)."""
    convert = MBPP_INPUTS.get(int(task_id.split("/")[-1]))
    return inputs if convert is None else [convert(inp) for inp in inputs]


# --- loading ----------------------------------------------------------------------------------
def cache_dir() -> Path:
    from appsplus.curate.sample_dataset import cache_root

    return cache_root() / "evalplus"


def release_file(kind: str) -> Path:
    """EvalPlus's release file of `kind`, downloaded once into the cache; SuiteError offline."""
    url = RELEASE_URLS[kind]
    path = cache_dir() / url.rsplit("/", 2)[-2] / url.rsplit("/", 1)[-1]
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as f:
            while chunk := response.read(1 << 20):
                f.write(chunk)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        partial.unlink(missing_ok=True)
        reason = getattr(e, "reason", None) or e
        raise SuiteError(
            f"cannot download {url} ({reason}); pass --dataset PATH to a local copy"
        ) from None
    os.replace(partial, path)
    return path


def _problem_rows(kind: str, path: Path) -> list[dict]:
    rows = read_jsonl(path)
    for number, row in enumerate(rows, start=1):
        missing = [f for f in FIELDS if f not in row]
        if missing or not str(row.get("task_id", "")).startswith(PREFIX[kind]):
            raise SuiteError(
                f"{path}: row {number} ({row.get('task_id')!r}) is not a {LABELS[kind][1]} task"
                + (f": it lacks {', '.join(missing)}" if missing else "")
            )
    return rows


def time_limits(times: list[float], mode: str) -> list[float]:
    """Per-input limits: max(floor, factor x the canonical time), or the fixed floor x factor."""
    if mode == "fixed":
        return [MIN_TIME_LIMIT_S * TIME_LIMIT_FACTOR] * len(times)
    return [round(max(MIN_TIME_LIMIT_S, TIME_LIMIT_FACTOR * t), 6) for t in times]


def load_evalplus(
    name: str,
    dataset: str | None,
    *,
    limit: int | None = None,
    time_limits_mode: str = "derived",
    workers: int | None = None,
) -> Suite:
    """The first `limit` (default all) tasks of HumanEval+ or MBPP+, with expected outputs."""
    kind = SUITES[name]
    if time_limits_mode not in TIME_LIMIT_MODES:
        raise SuiteError(f"--time-limits must be derived or fixed, got {time_limits_mode!r}")
    if dataset:
        path = Path(dataset).expanduser()
        if not path.is_file():
            raise SuiteError(f"--dataset {dataset}: no such file")
    else:
        path = release_file(kind)
    rows = _problem_rows(kind, path)[:limit]
    data_hash = sha256_files([path])
    from appsplus.bench.suites.evalplus_expected import expected_outputs

    expected, failed = expected_outputs(kind, rows, data_hash, workers=workers)
    problems = [
        evalplus_problem(kind, row, expected[row["task_id"]], time_limits_mode)
        for row in rows
        if row["task_id"] not in failed
    ]
    if failed and not problems:
        raise SuiteError(
            f"every canonical solution failed in the sandbox: {next(iter(failed.values()))}"
        )
    base, plus = LABELS[kind]
    info = SuiteInfo(
        name=name,
        dataset=dataset or RELEASE_URLS[kind],
        dataset_hash=data_hash,
        n_problems=len(problems),
        skipped={"canonical solution failed in the sandbox": len(failed)} if failed else {},
        prompt_version=PROMPT_VERSION,
        description=(
            f"{plus} ({path.name}): {base} on the base inputs, {plus} on base + plus inputs; "
            f"EvalPlus's judge, time limits {time_limits_mode}"
            + (
                f" (max({MIN_TIME_LIMIT_S:g} s, {TIME_LIMIT_FACTOR:g} x canonical) per input)"
                if time_limits_mode == "derived"
                else f" ({MIN_TIME_LIMIT_S * TIME_LIMIT_FACTOR:g} s per input)"
            )
        ),
    )
    return Suite(info=info, problems=problems)


def inputs_of(kind: str, row: dict, which: str) -> list:
    """The encoded inputs (`which`: base or plus) of a task, deserialized as EvalPlus does."""
    inputs = row[f"{which}_input"]
    if kind == "mbpp":
        inputs = mbpp_deserialize(row["task_id"], inputs)
    return encode(list(inputs))


def evalplus_problem(kind: str, row: dict, expected: dict, mode: str) -> BenchProblem:
    """One task: the prompts, and the base and plus tests with their expected outputs."""
    for field in ("prompt", "entry_point", "canonical_solution"):
        if not isinstance(row[field], str):
            raise SuiteError(f"{row['task_id']}: {field} is not a string")
    oracle = evalplus_oracle(kind, row["entry_point"])
    atol = float(row.get("atol") or 0)
    tests, caps = [], []
    for which in ("base", "plus"):
        limits = time_limits(expected[f"{which}_time"], mode)
        caps.append(min(TASK_CAP_S, sum(limits)) + 1)
        args = [
            row["entry_point"],
            inputs_of(kind, row, which),
            expected[which],
            limits,
            atol,
            oracle,
        ]
        tests.append(CallTest(fn_name=CHECK_FN, args=args, expected=True))
    prompt = row["prompt"]
    return BenchProblem(
        problem_id=row["task_id"],
        prompt=prompt,
        chat_prompt=f"{INSTRUCTION}\n```\n{prompt.strip()}\n```\n",
        stop=list(STOP[kind]),
        assembly="humaneval",
        entry_point=row["entry_point"],
        harness=harness(CHECK_FN, REFERENCE_FN),
        tests=tests,
        time_limit_s=max(caps),
        canonical_solution=row["canonical_solution"],
    )


def reference_jobs(kind: str, row: dict) -> list[Job]:
    """The canonical solution on the base and on the plus inputs (one process each)."""
    from appsplus.bench.programs import standard_environment

    program = (
        standard_environment()
        + row["prompt"]
        + row["canonical_solution"]
        + "\n\n\n"
        + harness(CHECK_FN, REFERENCE_FN)
    )
    not_none = evalplus_oracle(kind, row["entry_point"]) == "not_none"
    return [
        Job(
            program=program,
            tests=[
                CallTest(
                    fn_name=REFERENCE_FN,
                    args=[row["entry_point"], inputs_of(kind, row, which), not_none],
                    expected=None,
                )
            ],
            limits=Limits(time_s=REFERENCE_LIMIT_S, memory_mb=MEMORY_MB, output_bytes=2**30),
            full_output=True,
        )
        for which in ("base", "plus")
    ]


def reference_output(task_id: str, which: str, result) -> tuple[list, list[float]]:
    """(encoded outputs, seconds per call) from a reference job's result; SuiteError if it failed."""
    test = result.tests[0] if result.tests else None
    if test is None or test.verdict not in (Verdict.PASSED, Verdict.WRONG_ANSWER):
        why = (test.error or test.verdict.value) if test else (result.compile_error or "no result")
        raise SuiteError(f"{task_id}: the canonical solution failed on the {which} inputs: {why}")
    data = json.loads(test.output)
    return data["outputs"], data["times"]


def versions() -> str:
    return f"judge-{JUDGE_VERSION}.rules-{EVALPLUS_RULES_VERSION}"


def read_gz_json(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)
