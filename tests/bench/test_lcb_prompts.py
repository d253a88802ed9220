"""LiveCodeBench prompts: bench's text for a fixture question, exactly, and next to the text
LiveCodeBench's own `format_prompt_generation` builds (its functions taken from the fetched
repository and run here: the module itself imports `datasets` and its few-shot files):
the system + user turns of chat models, the joined user message of chat templates without a
system role, and the one-shot prompt of base models (with our own example files, and with
LiveCodeBench's real ones read from the fetched repository)."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_suite_livecodebench import LCB_MIRROR, row, stdin_test

from appsplus.bench.backends import Request, chat_messages
from appsplus.bench.suites import SuiteError, load_suite
from appsplus.bench.suites.livecodebench import PROMPT_VERSION, SYSTEM_MESSAGE, chat_prompt

EXAMPLES = Path(__file__).parents[1] / "data" / "fixtures" / "lcb_examples"

SYSTEM = (
    "You are an expert Python programmer. You will be given a question (problem "
    "specification) and will generate a correct Python program that matches the "
    "specification and passes all tests."
)
STDIN_FORMAT = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not "
    "directly test on the sample inputs). Enclose your code within delimiters as follows. "
    "Ensure that when the python program runs, it reads the inputs, runs the algorithm and "
    "writes output to STDOUT."
)
STARTER_FORMAT = (
    "You will use the following starter code to write the solution to the problem and "
    "enclose your code within delimiters."
)
QUESTION = "Given $N$ integers $A_i$, print their sum.\n\nConstraints\n\n- $1 \\le N \\le 100$"
STARTER = "class Solution:\n    def total(self, nums: List[int]) -> int:\n        "


def fixture_file(tmp_path) -> Path:
    tests = [stdin_test("1\n5\n", "5\n")]
    func = [{"input": "[5]", "output": "5", "testtype": "functional"}]
    rows = [
        row("s1", "2024-05-01T00:00:00", "easy", QUESTION, tests, tests),
        row("f1", "2024-05-02T00:00:00", "easy", QUESTION, func, func, STARTER, "total"),
    ]
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def problems(tmp_path):
    return {
        p.problem_id: p for p in load_suite("livecodebench", str(fixture_file(tmp_path))).problems
    }


def messages(problem, system_turn: bool = True) -> list[dict]:
    """What a chat backend sends for the problem (generate.py's request)."""
    request = Request(text=problem.chat_prompt, count=1, system=problem.system_prompt)
    return chat_messages(request, system_turn)


def test_the_exact_prompts_of_a_fixture_question(problems):
    stdin, functional = problems["s1"], problems["f1"]
    assert SYSTEM_MESSAGE == SYSTEM
    stdin_user = (
        f"### Question:\n{QUESTION}\n\n### Format: {STDIN_FORMAT}\n"
        "```python\n# YOUR CODE HERE\n```\n\n### Answer: (use the provided format with "
        "backticks)\n\n"
    )
    functional_user = (
        f"### Question:\n{QUESTION}\n\n### Format: {STARTER_FORMAT}\n"
        f"```python\n{STARTER}\n```\n\n### Answer: (use the provided format with "
        "backticks)\n\n"
    )
    for p, user in ((stdin, stdin_user), (functional, functional_user)):
        # chat models: a system turn, then the question
        assert p.system_prompt == SYSTEM and p.chat_prompt == user
        assert messages(p) == [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": user},
        ]
        # a chat template without a system role: one user message, the two texts joined
        assert messages(p, system_turn=False) == [
            {"role": "user", "content": f"{SYSTEM}\n\n{user}"}
        ]
        # base models without --lcb-examples continue the joined text inside a fence
        assert p.prompt == f"{SYSTEM}\n\n{user}```python\n"
        assert p.stop == ["\n```"]
    assert PROMPT_VERSION == "livecodebench-3"


# The one-shot prompts of the fixture question with tests/data/fixtures/lcb_examples, written
# out by hand from LiveCodeBench's get_base_model_question_template_answer: the first example
# (func.json with starter code, stdin.json without), then the question with an empty answer.
STDIN_ONE_SHOT = (
    "### Question\nYou are given two integers A and B on one line.\nPrint their product.\n\n"
    "Sample Input 1\n\n6 7\n\nSample Output 1\n\n42\n\n\n"
    "### Answer\n\na, b = map(int, input().split())\nprint(a * b)\n\n"
    f"### Question\n{QUESTION}\n\n### Answer\n\n"
)
FUNC_ONE_SHOT = (
    "### Question\nGiven a list of integers nums, return the largest one.\n\nExample 1:\n\n"
    "Input: nums = [3,9,2]\nOutput: 9\n\nConstraints:\n\n1 <= nums.length <= 50\n\n\n"
    "### Starter Code\nclass Solution:\n    def largest(self, nums: List[int]) -> int:\n"
    "        \n\n"
    "### Answer\n\nclass Solution:\n    def largest(self, nums: List[int]) -> int:\n"
    "        best = nums[0]\n        for x in nums:\n            best = max(best, x)\n"
    "        return best\n\n"
    f"### Question\n{QUESTION}\n\n### Starter Code\n{STARTER}\n\n### Answer\n\n"
)


def test_lcb_examples_give_base_models_its_one_shot_prompt(tmp_path, problems):
    suite = load_suite("livecodebench", str(fixture_file(tmp_path)), lcb_examples=str(EXAMPLES))
    shot = {p.problem_id: p for p in suite.problems}
    assert shot["s1"].prompt == STDIN_ONE_SHOT
    assert shot["f1"].prompt == FUNC_ONE_SHOT
    for qid in ("s1", "f1"):
        assert shot[qid].stop == ["###"]  # LiveCodeBench's runner default --stop
        # chat models get the same turns as without the examples
        assert messages(shot[qid]) == messages(problems[qid])
    # the run's settings say which base prompt it used (and the examples' hash is in them)
    assert suite.info.prompt_version.startswith(f"{PROMPT_VERSION}+oneshot-")
    assert "one-shot prompt, examples from" in suite.info.description
    plain = load_suite("livecodebench", str(fixture_file(tmp_path)))
    assert plain.info.prompt_version == PROMPT_VERSION
    assert "no --lcb-examples" in plain.info.description


@pytest.mark.parametrize(
    "files, message",
    [
        ({}, "not a folder"),
        ({"func.json": "[]", "stdin.json": "[]"}, "expected a JSON list"),
        ({"func.json": "{", "stdin.json": "[]"}, "func.json: not JSON"),
        ({"stdin.json": '[{"question": "q", "answer": "a"}]'}, "cannot read func.json"),
        (
            {"func.json": '[{"question": "q", "answer": "a"}]', "stdin.json": "[]"},
            "sample_code",
        ),
    ],
)
def test_bad_lcb_examples_are_one_line_errors(tmp_path, files, message):
    folder = tmp_path / "examples"
    if files:
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text)
    with pytest.raises(SuiteError, match=message) as e:
        load_suite("livecodebench", str(fixture_file(tmp_path)), lcb_examples=str(folder))
    assert "\n" not in str(e.value)


def test_lcb_examples_belong_to_livecodebench():
    with pytest.raises(SuiteError, match="only for livecodebench"):
        load_suite("humaneval", "unused.jsonl", lcb_examples=str(EXAMPLES))


EXAMPLES_IN_LCB = "lcb_runner/prompts/few_shot_examples/generation"


def _lcb_source(path: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(LCB_MIRROR), "show", f"HEAD:{path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def _lcb_prompt_functions() -> dict | None:
    """LiveCodeBench's PromptConstants, prompt templates, format_prompt_generation and
    LMStyle, from its repository, run in one namespace (None without the fetched mirror);
    `func` and `stdin` (the one-shot examples its module reads at import) are its files."""
    if not (LCB_MIRROR / "HEAD").exists():
        return None
    source = _lcb_source
    ns: dict = {
        "func": json.loads(source(f"{EXAMPLES_IN_LCB}/func.json")),
        "stdin": json.loads(source(f"{EXAMPLES_IN_LCB}/stdin.json")),
    }
    exec(compile(source("lcb_runner/lm_styles.py"), "lm_styles.py", "exec"), ns)
    tree = ast.parse(source("lcb_runner/prompts/code_generation.py"))
    keep = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        or (isinstance(node, ast.FunctionDef) and node.name != "test")
    ]
    exec(compile(ast.Module(body=keep, type_ignores=[]), "code_generation.py", "exec"), ns)
    return ns


@pytest.mark.parametrize("qid", ["s1", "f1"])
def test_prompts_equal_livecodebench_format_prompt_generation(problems, qid):
    lcb = _lcb_prompt_functions()
    if lcb is None:
        pytest.skip("LiveCodeBench's repository is not fetched here: only our text checked")
    question = SimpleNamespace(
        question_content=QUESTION, starter_code=STARTER if qid == "f1" else ""
    )
    style = lcb["LMStyle"]
    # its generic chat format (OpenAIChat): bench's system and user turns
    assert lcb["format_prompt_generation"](question, style.OpenAIChat) == messages(problems[qid])
    # one user message (its format for chat models without a system turn): what a chat
    # template without a system role gets
    assert lcb["format_prompt_generation"](question, style.OpenAIReasonPreview) == messages(
        problems[qid], system_turn=False
    )
    assert problems[qid].prompt == chat_prompt(problems[qid].chat_prompt) + "```python\n"


@pytest.mark.parametrize("qid", ["s1", "f1"])
def test_one_shot_prompt_equals_livecodebench_generic_base(tmp_path, qid):
    """With LiveCodeBench's real example files (from its repository, into a temp folder, as a
    user passes --lcb-examples) the base prompt is its GenericBase prompt, exactly."""
    lcb = _lcb_prompt_functions()
    if lcb is None:
        pytest.skip("LiveCodeBench's repository is not fetched here: only our own examples checked")
    folder = tmp_path / "generation"
    folder.mkdir()
    for name in ("func.json", "stdin.json"):
        (folder / name).write_text(_lcb_source(f"{EXAMPLES_IN_LCB}/{name}"))
    suite = load_suite("livecodebench", str(fixture_file(tmp_path)), lcb_examples=str(folder))
    problem = {p.problem_id: p for p in suite.problems}[qid]
    question = SimpleNamespace(
        question_content=QUESTION, starter_code=STARTER if qid == "f1" else ""
    )
    expected = lcb["format_prompt_generation"](question, lcb["LMStyle"].GenericBase)
    assert problem.prompt == expected
    # and with our hand-written examples, its builder gives our hand-written text too
    lcb["func"] = json.loads((EXAMPLES / "func.json").read_text())
    lcb["stdin"] = json.loads((EXAMPLES / "stdin.json").read_text())
    ours = lcb["format_prompt_generation"](question, lcb["LMStyle"].GenericBase)
    assert ours == (FUNC_ONE_SHOT if qid == "f1" else STDIN_ONE_SHOT)
