"""Completion -> the program that is executed, per suite format (`BenchProblem.assembly`).

- `apps`: the extracted code is the program (stdin/stdout, or `class Solution` / a
  function for call-based problems), run under the executor's APPS conventions.
- `humaneval`: a continuation is appended to the prompt (prompt + completion); code that
  defines the entry point itself is appended after the prompt (which keeps the prompt's
  imports and helpers). Then the suite's `test` code and a check function.
- `mbpp`: the extracted code, then `test_setup_code`, then the asserts in a check function.

HumanEval and MBPP are judged in a standard Python environment, as their own harnesses do:
the program first removes the names the executor pre-imports for APPS (`List`, `math`,
`Counter`, ...), so a completion that forgets an import fails as it would there. Their
tests run in one call-based test of `CHECK_FN`, which returns True when every assert
passes and False when an assert of the tests fails (a wrong answer); any other exception,
an AssertionError raised by the program itself included, is a runtime error. Output printed
by the program is ignored, and a program that exits early never returns True.
"""

from __future__ import annotations

import functools
import textwrap

from appsplus.bench.files import BenchProblem
from appsplus.extract import clean, defines, extract_code, fenced_code

CHECK_FN = "__bench_check__"
FROM_TESTS_FN = "__bench_from_tests__"
# First lines of every harness: tells an assert of the tests (below this function, in the
# program's own file) from an AssertionError raised by the program under test (above it).
HARNESS_HEAD = f"""def {FROM_TESTS_FN}(error):
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    here = {FROM_TESTS_FN}.__code__
    return tb.tb_frame.f_code.co_filename == here.co_filename and tb.tb_lineno > here.co_firstlineno


"""


@functools.lru_cache(maxsize=1)
def preamble_names() -> tuple[str, ...]:
    """Names the executor puts into builtins for APPS programs."""
    from appsplus.execution import preamble_names as executor_preamble_names

    return executor_preamble_names()


def standard_environment() -> str:
    """Program lines that remove the APPS pre-imported names from builtins."""
    names = ", ".join(repr(n) for n in preamble_names())
    return (
        "import builtins as __bench_builtins\n"
        f"for __bench_name in ({names}):\n"
        "    __bench_builtins.__dict__.pop(__bench_name, None)\n"
        "del __bench_builtins, __bench_name\n"
    )


def check_function(asserts: str) -> str:
    """`def CHECK_FN(): <asserts>; return True`, returning False when an assert of the tests fails."""
    body = textwrap.indent(asserts.strip("\n") or "pass", "        ")
    return (
        f"def {CHECK_FN}():\n    try:\n{body}\n"
        "    except AssertionError as error:\n"
        f"        if {FROM_TESTS_FN}(error):\n"
        "            return False\n"
        "        raise\n"
        "    return True\n"
    )


def humaneval_harness(test: str, entry_point: str) -> str:
    return f"{HARNESS_HEAD}{test.strip()}\n\n\n{check_function(f'check({entry_point})')}"


def mbpp_harness(setup: str, asserts: list[str]) -> str:
    setup = setup.replace("\r\n", "\n").strip()
    parts = [setup + "\n\n"] if setup else []
    return HARNESS_HEAD + "".join(parts) + check_function("\n".join(asserts))


def _indented(code: str) -> bool:
    first = next((line for line in code.split("\n") if line.strip()), "")
    return first[:1] in (" ", "\t")


def _humaneval_candidate(prompt: str, code: str, entry_point: str) -> str:
    flat = textwrap.dedent(code)
    if defines(flat, entry_point) or not _indented(code):
        return prompt + "\n" + flat  # a full function (or other top-level code) after the prompt
    return prompt + code  # a continuation of the prompt: the function's body


def assemble_program(problem: BenchProblem, code: str) -> str:
    """A candidate solution without prose -> the executed program."""
    if problem.assembly == "apps":
        return code
    if problem.assembly == "humaneval":
        candidate = _humaneval_candidate(problem.prompt, code, problem.entry_point or "")
    else:
        candidate = code
    return (
        standard_environment()
        + candidate.rstrip("\n")
        + "\n\n\n"
        + problem.harness.rstrip("\n")
        + "\n"
    )


def assemble(problem: BenchProblem, completion: str) -> str:
    """Model text -> the executed program (the text was already cut at the stop sequences)."""
    if problem.assembly == "humaneval":
        code = fenced_code(completion, problem.entry_point, dedent=False)
        if code is None:
            text = clean(completion)
            code = text if _indented(text) else extract_code(text, problem.entry_point)
        return assemble_program(problem, code)
    return assemble_program(problem, extract_code(completion, problem.entry_point))
