"""The `humaneval` suite: OpenAI HumanEval in its released jsonl(.gz) format.

Prompt: the task's `prompt` (imports, signature and docstring), which the model
continues; completion-style stop sequences are the Codex paper's ("\\nclass", "\\ndef",
"\\n#", "\\nif", "\\nprint"). With a chat template the user message asks for the complete
function in a code block, showing the prompt. Judge (`appsplus.bench.programs`): prompt +
completion (or the full function the model wrote), then the task's `test` code and
`check(entry_point)`, in a standard Python environment, `HUMANEVAL_TIME_LIMIT_S` for the
whole program (`--time-limits derived`: max(1 s, 4 x the canonical solution's run time),
see `appsplus.bench.suites.time_limits`). The canonical solution is the task's
`canonical_solution` (a body).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from appsplus.bench.files import BenchProblem, SuiteInfo
from appsplus.bench.programs import CHECK_FN, humaneval_harness
from appsplus.bench.suites import Suite, SuiteError, sha256_files
from appsplus.execution import CallTest

PROMPT_VERSION = "humaneval-2"  # 2: a failed assert of the tests is a wrong answer
HUMANEVAL_STOP = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]
HUMANEVAL_TIME_LIMIT_S = 5.0
FIELDS = ("task_id", "prompt", "entry_point", "canonical_solution", "test")
CHAT_TEMPLATE = (
    "Complete the following Python function. Reply with the complete function, "
    "including its signature and the imports it needs, in a single ```python code block."
    "\n\n```python\n{prompt}```"
)


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a .jsonl or .jsonl.gz file; raises SuiteError naming the bad line."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as e:
                    raise SuiteError(f"{path}:{number}: not valid JSON: {e}") from e
                if not isinstance(row, dict):
                    raise SuiteError(f"{path}:{number}: not a JSON object")
                rows.append(row)
    except OSError as e:
        raise SuiteError(f"cannot read {path}: {e}") from e
    return rows


def humaneval_problem(row: dict) -> BenchProblem:
    """One HumanEval task as a benchmark problem."""
    missing = [f for f in FIELDS if not isinstance(row.get(f), str)]
    if missing:
        raise SuiteError(f"HumanEval task {row.get('task_id')!r} lacks {', '.join(missing)}")
    prompt = row["prompt"]
    return BenchProblem(
        problem_id=row["task_id"],
        prompt=prompt,
        chat_prompt=CHAT_TEMPLATE.format(prompt=prompt),
        stop=list(HUMANEVAL_STOP),
        assembly="humaneval",
        entry_point=row["entry_point"],
        harness=humaneval_harness(row["test"], row["entry_point"]),
        tests=[CallTest(fn_name=CHECK_FN, args=[], expected=True)],
        time_limit_s=HUMANEVAL_TIME_LIMIT_S,
        canonical_solution=row["canonical_solution"],
    )


def load_humaneval(dataset: str | None, time_limits: str = "fixed") -> Suite:
    """Every task of a HumanEval.jsonl(.gz), in file order (`time_limits`: the description's;
    `load_suite` derives the limits)."""
    from appsplus.bench.suites.time_limits import check_mode, describe

    time_limits = check_mode(time_limits, "fixed")
    if not dataset:
        raise SuiteError(
            "the humaneval suite needs --dataset PATH to HumanEval.jsonl.gz "
            "(from github.com/openai/human-eval, data/HumanEval.jsonl.gz)"
        )
    path = Path(dataset).expanduser()
    if not path.is_file():
        raise SuiteError(f"--dataset {dataset}: no such file")
    problems = [humaneval_problem(row) for row in read_jsonl(path)]
    info = SuiteInfo(
        name="humaneval",
        dataset=dataset,
        dataset_hash=sha256_files([path]),
        n_problems=len(problems),
        prompt_version=PROMPT_VERSION,
        description=(
            f"HumanEval ({path.name}); judged by check(entry_point), "
            + describe(time_limits, HUMANEVAL_TIME_LIMIT_S)
        ),
    )
    return Suite(info=info, problems=problems)
