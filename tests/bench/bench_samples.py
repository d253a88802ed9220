"""Sample files for the bench trust tests: canonical solutions, and deliberately bugged ones."""

from __future__ import annotations

import json
from pathlib import Path


def canonical_samples_file(path: Path, problems, copies: int = 1, bug=None) -> Path:
    """A --samples file with each problem's canonical solution (or `bug(problem)`) as program."""
    with path.open("w") as f:
        for p in problems:
            program = bug(p) if bug else p.canonical_solution
            for _ in range(copies):
                f.write(json.dumps({"problem_id": p.problem_id, "program": program}) + "\n")
    return path


def bugged(problem) -> str:
    """The canonical solution with a deliberate bug that fails every problem's tests.

    stdio: one extra output line (wrong answer); call-based APPS: the function returns an
    object that is not JSON (wrong answer); HumanEval/MBPP: the entry point is redefined
    to return an object that equals nothing and supports nothing (assert or runtime error).
    """
    code = problem.canonical_solution
    if problem.assembly == "apps":
        if problem.tests[0].kind == "stdio":
            return code.rstrip("\n") + "\nprint('off by one')\n"
        fn = problem.entry_point
        return (
            code.rstrip("\n")
            + "\n\n\nclass _Bug:\n    pass\n\n\n"
            + "if 'Solution' in globals():\n"
            + f"    setattr(Solution, {fn!r}, lambda self, *a, **k: _Bug())\n"
            + "else:\n"
            + f"    def {fn}(*a, **k):\n        return _Bug()\n"
        )
    fn = problem.entry_point
    if problem.assembly == "humaneval":
        code = problem.prompt + code  # a full function, so the bug can follow it
    return (
        code.rstrip("\n")
        + "\n\n\nclass _Bug:\n    def __eq__(self, other):\n        return False\n\n\n"
        + f"def {fn}(*args, **kwargs):\n    return _Bug()\n"
    )
