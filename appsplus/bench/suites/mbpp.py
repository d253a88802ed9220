"""The `mbpp` suite: the original MBPP release (mbpp.jsonl: text, code, test_list, test_setup_code).

Splits by task id, as released: prompt 1-10, test 11-510 (the usual benchmark split),
validation 511-600, train 601-974; `--split all` keeps every task.

Prompt (the MBPP paper's, zero-shot): "You are an expert Python programmer, and here is
your task: {text} Your code should pass these tests:\\n\\n{tests}\\n[BEGIN]\\n", so a base
model writes the code and ends it with "[DONE]" (the completion-style stop). With a chat
template the user message shows the task and tests and asks for a code block. Judge
(`appsplus.bench.programs`): code, then `test_setup_code`, then the three asserts of
`test_list` (not `challenge_test_list`), in a standard Python environment,
`MBPP_TIME_LIMIT_S` (10 s) for the whole program: every task's reference code passes
its own asserts under this judge, but task 123's (amicable numbers below 10,000, O(n^2))
needs 3-5 s on a busy 2-core machine, so a tighter limit would fail a correct reference
(`--time-limits derived`: max(1 s, 4 x the task's own reference run time), see
`appsplus.bench.suites.time_limits`).
The canonical solution is the task's `code`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from appsplus.bench.files import BenchProblem, SuiteInfo
from appsplus.bench.programs import CHECK_FN, mbpp_harness
from appsplus.bench.suites import Suite, SuiteError, sha256_files
from appsplus.bench.suites.humaneval import read_jsonl
from appsplus.execution import CallTest

PROMPT_VERSION = "mbpp-2"  # 2: a failed assert of the tests is a wrong answer
MBPP_STOP = ["[DONE]", "\n[BEGIN]", "\nYou are an expert"]
MBPP_TIME_LIMIT_S = 10.0  # task 123's reference alone takes 3-5 s on a busy 2-core machine
SPLITS = {
    "prompt": range(1, 11),
    "test": range(11, 511),
    "validation": range(511, 601),
    "train": range(601, 975),
}
TASK = "You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n{tests}\n"
_WRAPPERS = frozenset(
    {"set", "sorted", "list", "tuple", "abs", "round", "math", "str", "int", "float", "len"}
)
CHAT_SUFFIX = "\nReply with the complete code in a single ```python code block."


def entry_point(test: str) -> str | None:
    """The function an assert calls: `assert f(1) == 2` -> 'f'."""
    try:
        tree = ast.parse(test.strip())
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id not in _WRAPPERS
        ):
            return node.func.id
    return None


def mbpp_problem(row: dict) -> BenchProblem:
    """One MBPP task as a benchmark problem."""
    tests = row.get("test_list")
    if not isinstance(row.get("text"), str) or not isinstance(tests, list) or not tests:
        raise SuiteError(f"MBPP task {row.get('task_id')!r} lacks text or test_list")
    shown = "\n".join(t.strip() for t in tests)
    task = TASK.format(text=row["text"].strip(), tests=shown)
    return BenchProblem(
        problem_id=f"mbpp/{row['task_id']}",
        prompt=task + "[BEGIN]\n",
        chat_prompt=task + CHAT_SUFFIX,
        stop=list(MBPP_STOP),
        assembly="mbpp",
        entry_point=entry_point(tests[0]),
        harness=mbpp_harness(row.get("test_setup_code") or "", [t.strip() for t in tests]),
        tests=[CallTest(fn_name=CHECK_FN, args=[], expected=True)],
        time_limit_s=MBPP_TIME_LIMIT_S,
        canonical_solution=(row.get("code") or "").replace("\r\n", "\n") or None,
    )


def load_mbpp(dataset: str | None, split: str = "test", time_limits: str = "fixed") -> Suite:
    """The tasks of one MBPP split (by task id), in task-id order (`time_limits`: the
    description's; `load_suite` derives the limits)."""
    from appsplus.bench.suites.time_limits import check_mode, describe

    time_limits = check_mode(time_limits, "fixed")
    if not dataset:
        raise SuiteError(
            "the mbpp suite needs --dataset PATH to the original mbpp.jsonl "
            "(github.com/google-research/google-research, mbpp/mbpp.jsonl)"
        )
    if split != "all" and split not in SPLITS:
        raise SuiteError(f"MBPP split must be one of {', '.join(SPLITS)} or all, got {split!r}")
    path = Path(dataset).expanduser()
    if not path.is_file():
        raise SuiteError(f"--dataset {dataset}: no such file")
    rows = [r for r in read_jsonl(path) if isinstance(r.get("task_id"), int)]
    keep = [r for r in rows if split == "all" or r["task_id"] in SPLITS[split]]
    keep.sort(key=lambda r: r["task_id"])
    problems = [mbpp_problem(r) for r in keep]
    info = SuiteInfo(
        name="mbpp",
        dataset=dataset,
        dataset_hash=sha256_files([path]),
        split=split,
        n_problems=len(problems),
        prompt_version=PROMPT_VERSION,
        description=(
            f"MBPP {split} split ({path.name}); judged by test_setup_code + test_list asserts, "
            + describe(time_limits, MBPP_TIME_LIMIT_S)
        ),
    )
    return Suite(info=info, problems=problems)
