"""Code extraction from model text, and completion -> program assembly per suite format."""

from __future__ import annotations

import pytest

from appsplus.bench.files import BenchProblem
from appsplus.bench.programs import CHECK_FN, assemble, assemble_program, humaneval_harness
from appsplus.execution import CallTest, StdioTest
from appsplus.extract import extract_code, fenced_blocks, parses, truncate_at_stop

SOLUTION = "n = int(input())\nprint(n * 2)\n"

# (name, model text, expected program, entry point)
CASES = [
    ("plain code, base model", SOLUTION, SOLUTION, None),
    ("code with trailing blank lines", SOLUTION + "\n\n\n", SOLUTION, None),
    ("CRLF newlines", SOLUTION.replace("\n", "\r\n"), SOLUTION, None),
    ("python fence", f"```python\n{SOLUTION}```", SOLUTION, None),
    ("py fence", f"```py\n{SOLUTION}```\n", SOLUTION, None),
    ("Python3 fence, capitalised", f"```Python3\n{SOLUTION}```", SOLUTION, None),
    ("fence without language", f"```\n{SOLUTION}```", SOLUTION, None),
    ("tilde fence", f"~~~python\n{SOLUTION}~~~", SOLUTION, None),
    ("four-backtick fence", f"````python\n{SOLUTION}````", SOLUTION, None),
    (
        "prose around a fence",
        f"Here is my solution:\n\n```python\n{SOLUTION}```\n\nIt reads n and prints twice n.",
        SOLUTION,
        None,
    ),
    (
        "chat answer with explanation list",
        "Sure! Let's think.\n1. Read n.\n2. Double it.\n\n"
        f"```python\n{SOLUTION}```\n\n**Complexity:** O(1).",
        SOLUTION,
        None,
    ),
    (
        "truncated output: no closing fence",
        f"Here you go:\n```python\n{SOLUTION}",
        SOLUTION,
        None,
    ),
    (
        "truncated mid-line: kept as is (fails to compile, as it should)",
        "```python\nn = int(input())\nprint(n *",
        "n = int(input())\nprint(n *\n",
        None,
    ),
    (
        "solution block, then a usage block: the longest parseable wins",
        "```python\nimport sys\n\ndef main():\n    n = int(sys.stdin.readline())\n"
        "    print(n * 2)\n\nmain()\n```\n\nExample:\n```python\nmain()\n```",
        "import sys\n\ndef main():\n    n = int(sys.stdin.readline())\n    print(n * 2)\n\nmain()\n",
        None,
    ),
    (
        "sample input in an unlabelled block is ignored beside a python block",
        f"Input:\n```\n3\n1 2 3\n```\nCode:\n```python\n{SOLUTION}```\nOutput:\n```\n6\n```",
        SOLUTION,
        None,
    ),
    (
        "other languages are ignored",
        f"In C++:\n```cpp\nint main() {{ return 0; }}\n```\nIn Python:\n```python\n{SOLUTION}```",
        SOLUTION,
        None,
    ),
    (
        "block that defines the entry point preferred over a longer helper block",
        "```python\nclass Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n```\n"
        "Test it:\n```python\nimport unittest\nclass T(unittest.TestCase):\n"
        "    def test(self):\n        self.assertEqual(Solution().twoSum([1, 2], 3), [0, 1])\n"
        "    def test2(self):\n        self.assertTrue(True)\n```",
        "class Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n",
        "twoSum",
    ),
    (
        "unparseable block loses to a parseable one",
        "```python\nprint 'hello'\nprint 'python 2 style'\nprint 'longer'\n```\n"
        f"Python 3:\n```python\n{SOLUTION}```",
        SOLUTION,
        None,
    ),
    (
        "closing fence glued to the last line",
        f"```python\n{SOLUTION.rstrip()}```\nDone.",
        SOLUTION,
        None,
    ),
    (
        "indented block in a list item is dedented",
        "1. Solution:\n\n    ```python\n    n = int(input())\n    print(n * 2)\n    ```\n",
        SOLUTION,
        None,
    ),
    (
        "reasoning in <think> is dropped",
        f"<think>\nmaybe print(n)?\n```python\nprint(1)\n```\n</think>\n```python\n{SOLUTION}```",
        SOLUTION,
        None,
    ),
    (
        "unclosed <think> drops everything after it",
        f"{SOLUTION}<think>\nnow let me reconsider",
        SOLUTION,
        None,
    ),
    (
        "unfenced code with leading prose",
        f"Here is the Python solution:\n{SOLUTION}",
        SOLUTION,
        None,
    ),
    (
        "unfenced code with trailing prose",
        f"{SOLUTION}\nThis solution runs in constant time.\n",
        SOLUTION,
        None,
    ),
    (
        "unfenced: prose between two pieces, the longer one wins",
        f"First attempt:\nprint(1)\nA better solution is this one:\n{SOLUTION}",
        SOLUTION,
        None,
    ),
    (
        "comments are code, not prose",
        "# read the number of items\nn = int(input())\n# print twice\nprint(n * 2)\n",
        "# read the number of items\nn = int(input())\n# print twice\nprint(n * 2)\n",
        None,
    ),
    (
        "docstrings and strings with sentences stay",
        'def f():\n    """Return the answer to the question."""\n    return 42\nprint(f())\n',
        'def f():\n    """Return the answer to the question."""\n    return 42\nprint(f())\n',
        None,
    ),
    (
        "else/except lines are not taken for prose",
        "try:\n    x = int(input())\nexcept ValueError:\n    x = 0\nif x:\n    print(x)\nelse:\n    print('none')\n",
        "try:\n    x = int(input())\nexcept ValueError:\n    x = 0\nif x:\n    print(x)\nelse:\n    print('none')\n",
        None,
    ),
    (
        "top-level return of APPS stdio code is valid",
        "n = int(input())\nif n < 0:\n    print(0)\n    return\nprint(n)\n",
        "n = int(input())\nif n < 0:\n    print(0)\n    return\nprint(n)\n",
        None,
    ),
    ("empty output", "", "", None),
    ("only prose", "I cannot solve this problem.", "I cannot solve this problem.\n", None),
    (
        "a string containing backticks does not close the fence",
        "```python\ns = '```'\nprint(s)\n```",
        "s = '```'\nprint(s)\n",
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "entry"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_extract_code(text, expected, entry):
    assert extract_code(text, entry) == expected


def test_fenced_blocks_marks_unclosed_block():
    blocks = fenced_blocks("a\n```python\nx = 1\n```\n```\ny = 2")
    assert [(b.lang, b.code, b.closed) for b in blocks] == [
        ("python", "x = 1", True),
        ("", "y = 2", False),
    ]


@pytest.mark.parametrize(
    ("text", "stops", "expected"),
    [
        ("    return x\ndef g():\n    pass", ["\ndef"], "    return x"),
        ("    return x\n#\nif True:", ["\ndef", "\n#", "\nif"], "    return x"),
        ("code\nQUESTION:\nnext problem", ["\nQUESTION:"], "code"),
        ("no stop here", ["\nQUESTION:"], "no stop here"),
        ("x[DONE]y", ["[DONE]", ""], "x"),
    ],
)
def test_truncate_at_stop_cuts_at_earliest(text, stops, expected):
    assert truncate_at_stop(text, stops) == expected


# ---------------------------------------------------------------- assembly


HE_PROMPT = 'def add(a, b):\n    """Add two numbers.\n    >>> add(1, 2)\n    3\n    """\n'
HE_TEST = (
    "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"
)


def _humaneval() -> BenchProblem:
    return BenchProblem(
        problem_id="HumanEval/x",
        prompt=HE_PROMPT,
        chat_prompt="...",
        assembly="humaneval",
        entry_point="add",
        harness=humaneval_harness(HE_TEST, "add"),
        tests=[CallTest(fn_name=CHECK_FN, args=[], expected=True)],
        time_limit_s=5,
    )


@pytest.mark.parametrize(
    "completion",
    [
        "    return a + b\n",  # a base model continuing the prompt
        "    return a + b",  # no final newline
        "\n    return a + b\n",
        "```python\ndef add(a, b):\n    return a + b\n```",  # a chat model's full function
        "Here it is:\n```python\n    return a + b\n```",  # a chat model's body only
        "def add(a, b):\n    return a + b\n",  # the function again, unfenced
        "Sure:\n\ndef add(a, b):\n    return a + b\n\nThis adds the numbers.",
    ],
)
def test_humaneval_assembly_passes_for_each_answer_style(completion, pool):
    from appsplus.execution import run_tests

    problem = _humaneval()
    program = assemble(problem, completion)
    assert parses(program)
    result = run_tests(program, problem.tests, pool=pool)
    assert result.passed, (program, result.tests)


@pytest.mark.parametrize(
    ("completion", "verdict"),
    [
        ("    return a - b\n", "wrong_answer"),  # a failed assert of the tests
        ("    print(a + b)\n    return a - b\n", "wrong_answer"),  # printing does not help
        ("    assert a < 0\n    return a + b\n", "runtime_error"),  # the program's own assert
        ("    raise ValueError(a)\n", "runtime_error"),
        ("    exit()\n", "wrong_answer"),  # exiting early never returns True
        ("    return math.fsum([a, b])\n", "runtime_error"),  # no implicit `import math`
        ("    return a +\n", "compile_error"),
    ],
)
def test_humaneval_failures(completion, verdict, pool):
    from appsplus.execution import run_tests

    problem = _humaneval()
    result = run_tests(assemble(problem, completion), problem.tests, pool=pool)
    assert result.tests[0].verdict.value == verdict


def test_apps_assembly_is_the_extracted_code():
    problem = BenchProblem(
        problem_id="p",
        prompt="QUESTION:\nq\nUse Standard Input format\nANSWER:\n",
        chat_prompt="...",
        assembly="apps",
        tests=[StdioTest(input="1\n", output="2\n")],
        time_limit_s=1,
    )
    assert assemble(problem, f"```python\n{SOLUTION}```") == SOLUTION
    assert assemble_program(problem, SOLUTION) == SOLUTION
