"""The `livecodebench` suite: LiveCodeBench code generation in the `code_generation_lite` format.

Input (`--dataset`): one or more local `.jsonl` / `.jsonl.gz` / `.parquet` files (the
release files of the hub dataset `livecodebench/code_generation_lite`, e.g.
`test.jsonl` ... `test6.jsonl`), or a folder of them, read in name order. Each row has
`question_title`, `question_content`, `platform`, `question_id`, `contest_id`,
`contest_date` (ISO datetime), `starter_code`, `difficulty` (easy/medium/hard),
`public_test_cases` (JSON text), `private_test_cases` (JSON text, or base64/zlib/pickled
JSON text, decoded without unpickling: `appsplus.bench.suites.lcb_tests`) and `metadata`
(JSON text; `func_name` for LeetCode problems).

Date window (`since`, `until`, "YYYY-MM-DD"; the suite's `split` is "SINCE..UNTIL", "any" for an
open end, so reports of different windows do not compare): as LiveCodeBench's loader does, a problem is
kept when since <= contest_date <= until, both dates read as midnight, so both ends are
inclusive and a problem dated on `until` after midnight is left out (LiveCodeBench's
own behaviour; its problem dates are midnights).

Prompt: LiveCodeBench's generic template (`get_generic_question_template_answer`):
"### Question:", the statement, "### Format:" with the starter code (functional problems)
or the stdin instruction and a `# YOUR CODE HERE` block, then "### Answer: (use the provided
format with backticks)". With a chat template it is the user message; without one the
model continues it after "```python\\n" and stops at the closing fence.

Judge: the executor's APPS conventions. Stdin problems: each test's `input` on stdin,
stdout compared by `appsplus.execution.compare`. Functional problems (`testtype`
"functional"): each input line is one JSON argument, `Solution().<func_name>(*args)` is
called, the return value is JSON round-tripped (tuples compare as lists) and compared with
the JSON-decoded output. The report groups pass@k by difficulty and by contest month
(`by_month`, "YYYY-MM"). Public tests first, then private ones, stop at the first failure,
`LCB_TIME_LIMIT_S` (LiveCodeBench's default timeout, 6 s) per test. Where this differs
from LiveCodeBench's grader is listed in the README (suites table).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from appsplus.bench.files import BenchProblem, SuiteInfo
from appsplus.bench.suites import Suite, SuiteError, sha256_files
from appsplus.bench.suites.humaneval import read_jsonl
from appsplus.bench.suites.lcb_tests import LcbTestsError, decode_tests
from appsplus.execution import CallTest, StdioTest

PROMPT_VERSION = "livecodebench-1"
LCB_TIME_LIMIT_S = 6.0
DIFFICULTIES = ("easy", "medium", "hard")
FIELDS = (
    "question_content",
    "question_id",
    "contest_date",
    "difficulty",
    "public_test_cases",
    "private_test_cases",
)
SYSTEM_MESSAGE = (
    "You are an expert Python programmer. You will be given a question (problem "
    "specification) and will generate a correct Python program that matches the "
    "specification and passes all tests."
)
WITH_STARTER = (
    "You will use the following starter code to write the solution to the problem and "
    "enclose your code within delimiters."
)
WITHOUT_STARTER = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not "
    "directly test on the sample inputs). Enclose your code within delimiters as follows. "
    "Ensure that when the python program runs, it reads the inputs, runs the algorithm and "
    "writes output to STDOUT."
)
LCB_STOP = ["\n```"]
SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


def question_prompt(content: str, starter_code: str) -> str:
    """LiveCodeBench's generic code-generation prompt for one question."""
    prompt = f"### Question:\n{content}\n\n"
    if starter_code:
        prompt += f"### Format: {WITH_STARTER}\n```python\n{starter_code}\n```\n\n"
    else:
        prompt += f"### Format: {WITHOUT_STARTER}\n```python\n# YOUR CODE HERE\n```\n\n"
    return prompt + "### Answer: (use the provided format with backticks)\n\n"


def parse_day(value: str | date | None, option: str) -> datetime | None:
    """'YYYY-MM-DD' -> midnight of that day (None stays None); SuiteError otherwise."""
    if value is None:
        return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError as e:
        raise SuiteError(f"{option} must be a date YYYY-MM-DD, got {value!r}") from e


def contest_datetime(row: dict) -> datetime:
    value = row.get("contest_date")
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError as e:
        raise SuiteError(
            f"LiveCodeBench problem {row.get('question_id')!r}: contest_date {value!r} "
            "is not an ISO date"
        ) from e


def _tests(tests: list[dict], fn_name: str | None, qid: str) -> list[StdioTest | CallTest]:
    out: list[StdioTest | CallTest] = []
    for test in tests:
        if test["testtype"] == "stdin":
            out.append(StdioTest(input=test["input"], output=test["output"]))
            continue
        if not fn_name:
            raise SuiteError(f"LiveCodeBench problem {qid!r}: functional test but no func_name")
        try:
            args = [json.loads(line) for line in test["input"].split("\n")]
            expected = json.loads(test["output"])
        except ValueError as e:
            raise SuiteError(
                f"LiveCodeBench problem {qid!r}: functional test is not JSON: {e}"
            ) from e
        out.append(CallTest(fn_name=fn_name, args=args, expected=expected))
    return out


def lcb_problem(row: dict, month: str | None = None) -> BenchProblem:
    """One `code_generation_lite` row as a benchmark problem; raises SuiteError."""
    qid = row.get("question_id")
    missing = [f for f in FIELDS if row.get(f) in (None, "")]
    if missing:
        raise SuiteError(f"LiveCodeBench problem {qid!r} lacks {', '.join(missing)}")
    qid = str(qid)
    difficulty = str(row["difficulty"]).lower()
    if difficulty not in DIFFICULTIES:
        raise SuiteError(f"LiveCodeBench problem {qid!r}: difficulty {difficulty!r}")
    try:
        metadata = json.loads(row.get("metadata") or "{}")
        public = decode_tests(row["public_test_cases"])
        private = decode_tests(row["private_test_cases"])
    except (ValueError, LcbTestsError) as e:
        raise SuiteError(f"LiveCodeBench problem {qid!r}: {e}") from e
    fn_name = metadata.get("func_name") if isinstance(metadata, dict) else None
    tests = _tests(public + private, fn_name, qid)
    if not tests:
        raise SuiteError(f"LiveCodeBench problem {qid!r} has no tests")
    if len({t.kind for t in tests}) != 1:
        raise SuiteError(f"LiveCodeBench problem {qid!r} mixes stdin and functional tests")
    starter = row.get("starter_code") or ""
    prompt = question_prompt(row["question_content"], starter)
    return BenchProblem(
        problem_id=qid,
        difficulty=difficulty,
        month=month,
        prompt=f"{SYSTEM_MESSAGE}\n\n{prompt}```python\n",
        chat_prompt=prompt,
        stop=list(LCB_STOP),
        assembly="apps",
        entry_point=fn_name if tests[0].kind == "call" else None,
        tests=tests,
        time_limit_s=LCB_TIME_LIMIT_S,
    )


def _read_rows(path: Path) -> list[dict]:
    if path.name.endswith(".parquet"):
        try:
            import pyarrow.parquet as pq
        except ImportError as e:  # pragma: no cover - pyarrow comes with datasets
            raise SuiteError("reading .parquet needs pyarrow (pip install pyarrow)") from e
        try:
            return pq.read_table(path).to_pylist()
        except Exception as e:  # pyarrow raises its own error types
            raise SuiteError(f"cannot read {path}: {e}") from e
    return read_jsonl(path)


def dataset_files(dataset: str) -> list[Path]:
    path = Path(dataset).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.endswith(SUFFIXES))
        if not files:
            raise SuiteError(f"--dataset {dataset}: no .jsonl, .jsonl.gz or .parquet files in it")
        return files
    if path.is_file():
        return [path]
    raise SuiteError(f"--dataset {dataset}: no such file or folder")


def load_livecodebench(
    dataset: str | None, since: str | date | None = None, until: str | date | None = None
) -> Suite:
    """The problems of the given files dated in [since, until], in file order."""
    if not dataset:
        raise SuiteError(
            "the livecodebench suite needs --dataset PATH: the code_generation_lite release "
            "files (test.jsonl ... from huggingface.co/datasets/livecodebench/"
            "code_generation_lite) or a folder of them"
        )
    start, end = parse_day(since, "--since"), parse_day(until, "--until")
    if start and end and start > end:
        raise SuiteError(f"--since {since} is after --until {until}")
    files = dataset_files(dataset)
    problems: list[BenchProblem] = []
    skipped: Counter[str] = Counter()
    seen: set[str] = set()
    for path in files:
        for row in _read_rows(path):
            when = contest_datetime(row)
            if start is not None and when < start:
                skipped["before --since"] += 1
                continue
            if end is not None and when > end:
                skipped["after --until"] += 1
                continue
            problem = lcb_problem(row, when.strftime("%Y-%m"))
            if problem.problem_id in seen:
                skipped["duplicate question_id"] += 1
                continue
            seen.add(problem.problem_id)
            problems.append(problem)
    window = f"{since or 'any'}..{until or 'any'}"
    info = SuiteInfo(
        name="livecodebench",
        dataset=dataset,
        dataset_hash=sha256_files(files),
        split=window,  # `bench compare` refuses reports of different windows
        n_problems=len(problems),
        skipped=dict(skipped),
        prompt_version=PROMPT_VERSION,
        description=(
            f"LiveCodeBench code_generation_lite ({', '.join(p.name for p in files)}), "
            f"contest dates {window} (inclusive); public + private tests, "
            f"{LCB_TIME_LIMIT_S:g} s per test"
        ),
    )
    return Suite(info=info, problems=problems)
