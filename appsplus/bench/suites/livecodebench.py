"""The `livecodebench` suite: LiveCodeBench code generation in the `code_generation_lite` format.

Input (`--dataset`): one or more local `.jsonl` / `.jsonl.gz` / `.parquet` files (the
release files of the hub dataset `livecodebench/code_generation_lite`, e.g.
`test.jsonl` ... `test6.jsonl`), or a folder of them, read in name order. Each row has
`question_title`, `question_content`, `platform`, `question_id`, `contest_id`,
`contest_date` (ISO datetime), `starter_code`, `difficulty` (easy/medium/hard),
`public_test_cases` (JSON text), `private_test_cases` (JSON text, or base64/zlib/pickled
JSON text, decoded without unpickling: `appsplus.bench.suites.lcb_tests`) and `metadata`
(JSON text; `func_name` for LeetCode problems).

Release versions (`version`, the `--lcb-version` option), as the dataset's loading script
maps them to files (LiveCodeBench's loader passes `version_tag` to it): `release_vN` is
test.jsonl ... testN.jsonl (N = 1..6, cumulative), `release_latest` all six, `vN` the Nth
file alone and `vA_vB` files A to B. Without `--dataset` the version's files (default
`release_latest`, LiveCodeBench's default) are fetched from the hub repo
`livecodebench/code_generation_lite` into the Hugging Face cache (the dataset's loading
script does not run under current `datasets`, so its files are read directly, as the apps
hub source does); with a `--dataset` folder, `--lcb-version` picks the same files from it.

Date window (`since`, `until`, "YYYY-MM-DD"; the suite's `split` is "SINCE..UNTIL", "any" for an
open end, so reports of different windows do not compare): as LiveCodeBench's loader does, a problem is
kept when since <= contest_date <= until, both dates read as midnight, so both ends are
inclusive and a problem dated on `until` after midnight is left out (LiveCodeBench's
own behaviour; its problem dates are midnights).

Prompt: LiveCodeBench's generic template (`get_generic_question_template_answer`):
"### Question:", the statement, "### Format:" with the starter code (functional problems)
or the stdin instruction and a `# YOUR CODE HERE` block, then "### Answer: (use the provided
format with backticks)". Chat models get it as the user turn after LiveCodeBench's system
message (`SYSTEM_MESSAGE`, its `SYSTEM_MESSAGE_GENERIC`) as a system turn
(`BenchProblem.system_prompt`): its generic chat format (`OpenAIChat`, `LLaMa3`, ...). A
chat template that rejects a system role gets one user message, system message + "\n\n" +
template: its format for chat models without a system turn (`OpenAIReasonPreview`,
`Grok`); the run's `model.system_turn` says which. Base models (no chat template, or
`--no-chat-template`): with `examples` (`--lcb-examples`, the folder
`lcb_runner/prompts/few_shot_examples/generation` of a LiveCodeBench checkout, holding
`func.json` and `stdin.json`; bench ships no copy) LiveCodeBench's one-shot prompt
(`GenericBase`, `get_base_model_question_template_answer`: the first example of
`func.json` for problems with starter code, of `stdin.json` otherwise, then the question
with an empty answer), stopped at "###" (its runner's default `--stop`); without them the
system message + template, continued after "```python\n" and stopped at the closing fence.
The suite's `prompt_version` and description say which base prompt a run used.

Judge: LiveCodeBench's rules, `LCB_RULES` of `appsplus.execution.compare` (every test
carries `rules="livecodebench"`): programs run after LiveCodeBench's import preamble with its
recursion limit; stdout and the expected text compare stripped, line by line, then token by
token as exact Decimals (`12.500000` equals `12.5`, `0.3333333` does not equal
`0.33333333`). Functional problems (`testtype` "functional"): each input line is one JSON
argument, `Solution().<func_name>(*args)` is called and the value compared with Python's ==
(a top-level tuple as a list). The report groups pass@k by difficulty and by contest month
(`by_month`, "YYYY-MM"). Public tests first, then private ones, stop at the first failure,
`LCB_TIME_LIMIT_S` (LiveCodeBench's default timeout, 6 s) per test. Where this still
differs from LiveCodeBench's grader is listed in the README (suites table) and pinned in
tests/bench/test_lcb_rules.py.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from appsplus.bench.files import BenchProblem, SuiteInfo
from appsplus.bench.suites import Suite, SuiteError, sha256_files
from appsplus.bench.suites.humaneval import read_jsonl
from appsplus.bench.suites.lcb_tests import LcbTestsError, decode_tests
from appsplus.errors import shorten
from appsplus.execution import CallTest, StdioTest

# 2: the system message in the chat prompt too; 3: it is a system turn
PROMPT_VERSION = "livecodebench-3"
RULES = "livecodebench"  # the judge rules of appsplus.execution.compare (LCB_RULES)
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
BASE_STOP = ["###"]  # LiveCodeBench's runner default --stop (its one-shot base prompt)
EXAMPLE_FILES = {"func": "func.json", "stdin": "stdin.json"}
SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
HUB_REPO = "livecodebench/code_generation_lite"
HUB_REVISION = "main"
N_RELEASE_FILES = 6  # test.jsonl, test2.jsonl ... test6.jsonl (release_v6)
DEFAULT_VERSION = "release_latest"  # LiveCodeBench's runner default
_VERSION = re.compile(r"release_v(\d+)|release_latest|v(\d+)(?:_v(\d+))?")


def release_file(n: int) -> str:
    """The name of the nth release file (1: test.jsonl, 2: test2.jsonl ...)."""
    return "test.jsonl" if n == 1 else f"test{n}.jsonl"


def version_files(version: str) -> list[str]:
    """The release files of a version, as the dataset's loading script maps them."""
    match = _VERSION.fullmatch(version)
    known = N_RELEASE_FILES
    if match is None:
        first = last = 0
    elif version == "release_latest":
        first, last = 1, known
    elif match.group(1):
        first, last = 1, int(match.group(1))
    else:
        first = int(match.group(2))
        last = int(match.group(3)) if match.group(3) else first
        if match.group(3) and last <= first:
            first = last = 0
    if not 1 <= first <= last <= known:
        raise SuiteError(
            f"--lcb-version {version!r}: expected release_v1 ... release_v{known}, "
            f"release_latest, v1 ... v{known} or vA_vB (A < B)"
        )
    return [release_file(n) for n in range(first, last + 1)]


Fetch = Callable[[str, str, str], Path]
"""(repo_id, filename, revision) -> the local file (appsplus.sources.hub.hf_fetch)."""


def hub_files(version: str, fetch: Fetch | None = None) -> list[Path]:
    """The version's files from the hub (the HF cache first); SuiteError when unavailable."""
    from appsplus.sources import SourceUnavailable

    if fetch is None:
        from appsplus.sources.hub import hf_fetch as fetch
    paths = []
    for name in version_files(version):
        try:
            paths.append(fetch(HUB_REPO, name, HUB_REVISION))
        except SourceUnavailable as e:
            raise SuiteError(
                f"cannot load {HUB_REPO} --lcb-version {version} ({shorten(str(e), 160)}); "
                "download its release files elsewhere and pass them with --dataset FOLDER "
                "(with --lcb-version to pick that version's files)"
            ) from e
    return paths


def question_prompt(content: str, starter_code: str) -> str:
    """LiveCodeBench's generic code-generation prompt for one question."""
    prompt = f"### Question:\n{content}\n\n"
    if starter_code:
        prompt += f"### Format: {WITH_STARTER}\n```python\n{starter_code}\n```\n\n"
    else:
        prompt += f"### Format: {WITHOUT_STARTER}\n```python\n# YOUR CODE HERE\n```\n\n"
    return prompt + "### Answer: (use the provided format with backticks)\n\n"


def chat_prompt(question: str) -> str:
    """The one user message: the system message, a blank line, the question's template."""
    return f"{SYSTEM_MESSAGE}\n\n{question}"


Examples = dict[str, list[dict]]
"""{"func": the examples of func.json, "stdin": those of stdin.json} (LiveCodeBench's format)."""


def read_examples(folder: str | Path) -> tuple[Examples, str]:
    """LiveCodeBench's one-shot examples from `folder` (its func.json and stdin.json) and
    the sha256 over both files; SuiteError (one line) when a file is missing or malformed."""
    import hashlib

    path = Path(folder).expanduser()
    if not path.is_dir():
        raise SuiteError(
            f"--lcb-examples {folder}: not a folder (give LiveCodeBench's "
            "lcb_runner/prompts/few_shot_examples/generation)"
        )
    examples: Examples = {}
    digest = hashlib.sha256()
    for kind, name in EXAMPLE_FILES.items():
        file = path / name
        try:
            data = file.read_bytes()
            rows = json.loads(data)
        except OSError as e:
            raise SuiteError(f"--lcb-examples {folder}: cannot read {name} ({e.strerror})") from e
        except ValueError as e:
            raise SuiteError(f"--lcb-examples {file}: not JSON: {shorten(str(e), 120)}") from e
        keys = ("question", "sample_code", "answer") if kind == "func" else ("question", "answer")
        first = rows[0] if isinstance(rows, list) and rows else None
        if not isinstance(first, dict) or not all(isinstance(first.get(k), str) for k in keys):
            raise SuiteError(
                f"--lcb-examples {file}: expected a JSON list whose first item has the "
                f"strings {', '.join(keys)}"
            )
        examples[kind] = rows
        digest.update(name.encode() + b"\0" + data + b"\0")
    return examples, digest.hexdigest()


def _example_prompt(example: dict, with_starter: bool) -> str:
    prompt = f"### Question\n{example['question']}\n\n"
    if with_starter:
        prompt += f"### Starter Code\n{example['sample_code']}\n\n"
    prompt += f"### Answer\n\n{example['answer']}"
    if example["answer"]:
        prompt += "\n\n"
    return prompt


def base_prompt(content: str, starter_code: str, examples: Examples) -> str:
    """LiveCodeBench's one-shot prompt for base models (`GenericBase`): the first example of
    func.json (with starter code) or stdin.json, then the question with an empty answer."""
    example = examples["func" if starter_code else "stdin"][0]
    question = {"question": content, "sample_code": starter_code, "answer": ""}
    return _example_prompt(example, bool(starter_code)) + _example_prompt(
        question, bool(starter_code)
    )


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
            out.append(StdioTest(input=test["input"], output=test["output"], rules=RULES))
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
        out.append(CallTest(fn_name=fn_name, args=args, expected=expected, rules=RULES))
    return out


def lcb_problem(
    row: dict, month: str | None = None, examples: Examples | None = None
) -> BenchProblem:
    """One `code_generation_lite` row as a benchmark problem (with `examples`: LiveCodeBench's
    one-shot prompt for base models); raises SuiteError."""
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
    question = question_prompt(row["question_content"], starter)
    if examples is None:
        prompt, stop = f"{chat_prompt(question)}```python\n", LCB_STOP
    else:
        prompt, stop = base_prompt(row["question_content"], starter, examples), BASE_STOP
    return BenchProblem(
        problem_id=qid,
        difficulty=difficulty,
        month=month,
        prompt=prompt,
        chat_prompt=question,
        system_prompt=SYSTEM_MESSAGE,
        stop=list(stop),
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


def dataset_files(dataset: str, version: str | None = None) -> list[Path]:
    """The files of --dataset: a file, a folder's files in name order, or with `version`
    the folder's files of that release version (as the hub version would pick them)."""
    path = Path(dataset).expanduser()
    if path.is_dir():
        if version is not None:
            names = version_files(version)
            missing = [n for n in names if not (path / n).is_file()]
            if missing:
                raise SuiteError(
                    f"--dataset {dataset} --lcb-version {version}: no {', '.join(missing)} "
                    f"in it (the version's files: {', '.join(names)})"
                )
            return [path / n for n in names]
        files = sorted(p for p in path.iterdir() if p.name.endswith(SUFFIXES))
        if not files:
            raise SuiteError(f"--dataset {dataset}: no .jsonl, .jsonl.gz or .parquet files in it")
        return files
    if path.is_file():
        if version is not None:
            raise SuiteError(
                f"--lcb-version picks release files from a folder; --dataset {dataset} is a file"
            )
        return [path]
    raise SuiteError(f"--dataset {dataset}: no such file or folder")


def load_livecodebench(
    dataset: str | None,
    since: str | date | None = None,
    until: str | date | None = None,
    version: str | None = None,
    fetch: Fetch | None = None,
    examples: str | Path | None = None,
) -> Suite:
    """The problems of the given files (or of the hub's release `version`) dated in
    [since, until], in file order. `fetch`: how hub files are fetched (tests pass local ones);
    `examples`: a folder of LiveCodeBench's func.json/stdin.json (its base-model prompt)."""
    start, end = parse_day(since, "--since"), parse_day(until, "--until")
    if start and end and start > end:
        raise SuiteError(f"--since {since} is after --until {until}")
    shots, shots_sha = read_examples(examples) if examples is not None else (None, None)
    if dataset:
        files = dataset_files(dataset, version)
    else:
        version = version or DEFAULT_VERSION
        files = hub_files(version, fetch)
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
            problem = lcb_problem(row, when.strftime("%Y-%m"), shots)
            if problem.problem_id in seen:
                skipped["duplicate question_id"] += 1
                continue
            seen.add(problem.problem_id)
            problems.append(problem)
    window = f"{since or 'any'}..{until or 'any'}"
    release = f" ({version})" if version else ""
    if shots_sha is None:
        prompt_version = PROMPT_VERSION
        base = "base models: the chat text continued in a ```python block (no --lcb-examples)"
    else:  # the examples decide the base prompt: their hash is part of the run's identity
        prompt_version = f"{PROMPT_VERSION}+oneshot-{shots_sha[:12]}"
        base = f"base models: LiveCodeBench's one-shot prompt, examples from {examples}"
    info = SuiteInfo(
        name="livecodebench",
        dataset=dataset or f"{HUB_REPO}@{version}",
        dataset_hash=sha256_files(files),
        split=window + release,  # `bench compare` refuses other windows and versions
        n_problems=len(problems),
        skipped=dict(skipped),
        prompt_version=prompt_version,
        description=(
            f"LiveCodeBench code_generation_lite{' ' + version if version else ''} "
            f"({', '.join(p.name for p in files)}), contest dates {window} (inclusive); "
            f"public + private tests, {LCB_TIME_LIMIT_S:g} s per test, LiveCodeBench's judge; "
            f"chat models: system turn + question; {base}"
        ),
    )
    return Suite(info=info, problems=problems)
