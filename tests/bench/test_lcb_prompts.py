"""LiveCodeBench prompts: bench's text for a fixture question, exactly, and next to the text
LiveCodeBench's own `format_prompt_generation` builds (its functions taken from the fetched
repository and run here: the module itself imports `datasets` and its few-shot files)."""

from __future__ import annotations

import ast
import json
import subprocess
from types import SimpleNamespace

import pytest
from test_suite_livecodebench import LCB_MIRROR, row, stdin_test

from appsplus.bench.suites import load_suite
from appsplus.bench.suites.livecodebench import PROMPT_VERSION, SYSTEM_MESSAGE, chat_prompt

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


@pytest.fixture
def problems(tmp_path):
    tests = [stdin_test("1\n5\n", "5\n")]
    func = [{"input": "[5]", "output": "5", "testtype": "functional"}]
    rows = [
        row("s1", "2024-05-01T00:00:00", "easy", QUESTION, tests, tests),
        row("f1", "2024-05-02T00:00:00", "easy", QUESTION, func, func, STARTER, "total"),
    ]
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {p.problem_id: p for p in load_suite("livecodebench", str(path)).problems}


def test_the_exact_prompts_of_a_fixture_question(problems):
    stdin, functional = problems["s1"], problems["f1"]
    assert SYSTEM_MESSAGE == SYSTEM
    assert stdin.chat_prompt == (
        f"{SYSTEM}\n\n### Question:\n{QUESTION}\n\n### Format: {STDIN_FORMAT}\n"
        "```python\n# YOUR CODE HERE\n```\n\n### Answer: (use the provided format with "
        "backticks)\n\n"
    )
    assert functional.chat_prompt == (
        f"{SYSTEM}\n\n### Question:\n{QUESTION}\n\n### Format: {STARTER_FORMAT}\n"
        f"```python\n{STARTER}\n```\n\n### Answer: (use the provided format with "
        "backticks)\n\n"
    )
    # base models continue the same text inside a fence and stop at its end
    for p in (stdin, functional):
        assert p.prompt == p.chat_prompt + "```python\n"
        assert p.stop == ["\n```"]
    assert PROMPT_VERSION == "livecodebench-2"


def _lcb_prompt_functions() -> dict | None:
    """LiveCodeBench's PromptConstants, prompt templates, format_prompt_generation and
    LMStyle, from its repository, run in one namespace (None without the fetched mirror)."""
    if not (LCB_MIRROR / "HEAD").exists():
        return None

    def source(path: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(LCB_MIRROR), "show", f"HEAD:{path}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    ns: dict = {}
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
    # one user message (its format for chat models without a system turn): bench's chat text
    (message,) = lcb["format_prompt_generation"](question, style.OpenAIReasonPreview)
    assert message == {"role": "user", "content": problems[qid].chat_prompt}
    # its generic chat format: the same two texts as a system and a user turn
    system, user = lcb["format_prompt_generation"](question, style.OpenAIChat)
    assert chat_prompt(user["content"]) == problems[qid].chat_prompt
    assert system == {"role": "system", "content": SYSTEM_MESSAGE}
