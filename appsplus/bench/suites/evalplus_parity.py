"""Verdict parity with EvalPlus: deterministic mutants of canonical solutions, and EvalPlus's
own evaluator run offline on the same samples (for tests and `scripts/evalplus_parity.py`).

    programs = samples_for(kind, rows)            # [(task_id, name, program)]
    theirs = run_evalplus(kind, data_path, programs, workers=2, cache=tmp)
    # {(task_id, name): (base_status, plus_status)}, "pass" / "fail" / "timeout"

`run_evalplus` needs the `evalplus` package (`pip install evalplus`); it runs
`python -m evalplus.evaluate` in a subprocess with `HUMANEVAL_OVERRIDE_PATH` /
`MBPP_OVERRIDE_PATH` at the local file and its cache (XDG_CACHE_HOME) in `cache`.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

MUTANTS = ("canonical", "operator", "off_by_one", "deleted", "early_return", "infinite_loop")
EXTRA_MUTANTS = ("reads_stdin",)
_SWAPS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult, ast.Mod: ast.FloorDiv, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
    ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.And: ast.Or, ast.Or: ast.And,
}  # fmt: skip


def _entry(tree: ast.Module, entry_point: str) -> ast.FunctionDef | None:
    found = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            found = node  # the last definition wins, as at run time
    return found


def _body(fn: ast.FunctionDef) -> list[ast.stmt]:
    body = fn.body
    has_doc = body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    return body[1:] if has_doc else body


def mutant(program: str, entry_point: str, name: str) -> str | None:
    """The program with one deterministic fault (None when the fault does not apply)."""
    if name == "canonical":
        return program
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    tree = copy.deepcopy(tree)
    fn = _entry(tree, entry_point)
    if fn is None:
        return None
    if name in ("operator", "off_by_one"):
        for node in ast.walk(fn):
            if name == "operator":
                if isinstance(node, (ast.BinOp, ast.BoolOp)) and type(node.op) in _SWAPS:
                    node.op = _SWAPS[type(node.op)]()
                    return ast.unparse(tree)
                if isinstance(node, ast.Compare) and type(node.ops[0]) in _SWAPS:
                    node.ops[0] = _SWAPS[type(node.ops[0])]()
                    return ast.unparse(tree)
            elif (
                isinstance(node, ast.Constant)
                and type(node.value) is int
                and not isinstance(node, ast.JoinedStr)
            ):
                node.value += 1
                return ast.unparse(tree)
        return None
    body = _body(fn)
    offset = len(fn.body) - len(body)
    if name == "deleted":
        if len(body) < 2:
            return None
        del fn.body[offset + len(body) // 2 - (len(body) % 2 == 0)]
        return ast.unparse(tree)
    if name == "early_return":
        fn.body.insert(
            offset, ast.parse("if len(repr(locals())) % 3 == 0:\n    return None").body[0]
        )
        return ast.unparse(tree)
    if name == "reads_stdin":  # right answers, but it reads stdin first (unreadable there)
        fn.body.insert(offset, ast.parse("__import__('sys').stdin.read()").body[0])
        return ast.unparse(tree)
    if name == "infinite_loop":
        fn.body.insert(offset, ast.parse("while True:\n    pass").body[0])
        return ast.unparse(tree)
    raise ValueError(f"unknown mutant {name!r}")


def samples_for(rows: list[dict], names: tuple[str, ...] = MUTANTS) -> list[tuple[str, str, str]]:
    """(task_id, mutant name, program) for every row and every applicable mutant."""
    out = []
    for row in rows:
        program = row["prompt"] + row["canonical_solution"]
        for name in names:
            text = mutant(program, row["entry_point"], name)
            if text is not None:
                out.append((row["task_id"], name, text))
    return out


def write_dataset(rows: list[dict], path: Path) -> Path:
    """Rows as a .jsonl.gz dataset file (a subset of a release, bytes as json.dumps gives)."""
    import gzip

    with gzip.open(path, "wt", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


def run_evalplus(
    kind: str,
    data_path: Path,
    programs: list[tuple[str, str, str]],
    *,
    workers: int = 2,
    cache: Path,
    timeout_s: float | None = None,
) -> dict[tuple[str, str], tuple[str, str]]:
    """EvalPlus's evaluator on `programs` -> {(task_id, name): (base_status, plus_status)}."""
    cache.mkdir(parents=True, exist_ok=True)
    runs = len(list(cache.glob(f"samples-{kind}-*.jsonl")))  # a new name: EvalPlus would ask
    samples = cache / f"samples-{kind}-{runs}.jsonl"  # before writing over its results file
    with samples.open("w") as f:
        for task_id, _, program in programs:
            f.write(json.dumps({"task_id": task_id, "solution": program}) + "\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(cache / "xdg"), TOKENIZERS_PARALLELISM="false")
    env["HUMANEVAL_OVERRIDE_PATH" if kind == "humaneval" else "MBPP_OVERRIDE_PATH"] = str(data_path)
    command = [
        sys.executable, "-m", "evalplus.evaluate", "--dataset", kind, "--samples", str(samples),
        "--parallel", str(workers), "--i_just_wanna_run",
    ]  # fmt: skip
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout_s, cwd=cache
    )
    results_file = samples.with_name(samples.stem + "_eval_results.json")
    if done.returncode != 0 or not results_file.is_file():
        raise RuntimeError(f"evalplus failed ({done.returncode}): {done.stderr[-2000:]}")
    results = json.loads(results_file.read_text())["eval"]
    out = {}
    seen: dict[str, int] = {}
    for task_id, name, _ in programs:  # EvalPlus numbers the samples of a task in file order
        i = seen.get(task_id, 0)
        seen[task_id] = i + 1
        r = results[task_id][i]
        out[(task_id, name)] = (r["base_status"], r["plus_status"])
    return out


def run_bench(
    suite: str,
    data_path: Path,
    programs: list[tuple[str, str, str]],
    out: Path,
    *,
    workers: int = 2,
) -> dict[tuple[str, str], tuple[str, str]]:
    """`bench evaluate` on the same programs -> {(task_id, name): (base, plus)} as EvalPlus
    writes them ("pass" or "fail")."""
    from appsplus.bench import api
    from appsplus.bench.execute import read_results
    from appsplus.bench.files import Sample
    from appsplus.bench.jsonl import read_models

    out.mkdir(parents=True, exist_ok=True)
    samples = out.parent / f"{out.name}-samples.jsonl"
    with samples.open("w") as f:
        for task_id, _, program in programs:
            f.write(json.dumps({"problem_id": task_id, "program": program}) + "\n")
    api.evaluate(
        out,
        api.ExecutionSpec(workers=workers),
        suite=api.SuiteSpec(name=suite, dataset=str(data_path)),
        samples=api.SamplesSpec(path=samples, label="parity"),
    )
    from appsplus.bench.execute import sample_keys

    problems = {p.problem_id: p for p in read_models(out / "problems.jsonl", _problem_model())}
    rows = list(read_models(out / "samples.jsonl", Sample))
    keys, _ = sample_keys(problems, rows, True)
    results = read_results(out / "results.jsonl")
    verdicts = {}
    for (task_id, name, _), key in zip(programs, keys, strict=True):
        r = results[key]
        base = (r.test_verdicts or [r.outcome])[0] == "passed"
        verdicts[(task_id, name)] = ("pass" if base else "fail", "pass" if r.passed else "fail")
    return verdicts


def _problem_model():
    from appsplus.bench.files import BenchProblem

    return BenchProblem


def compare(
    ours: dict[tuple[str, str], tuple[str, str]], theirs: dict[tuple[str, str], tuple[str, str]]
) -> list[tuple[str, str, tuple[str, str], tuple[str, str]]]:
    """Samples whose base or plus verdict differs: (task_id, name, ours, theirs); EvalPlus's
    "timeout" counts as "fail", and its plus verdict needs base to pass too."""

    def norm(v: tuple[str, str]) -> tuple[str, str]:
        base = "pass" if v[0] == "pass" else "fail"
        return base, "pass" if base == "pass" and v[1] == "pass" else "fail"

    return [
        (task_id, name, ours[(task_id, name)], theirs[(task_id, name)])
        for task_id, name in theirs
        if norm(ours[(task_id, name)]) != norm(theirs[(task_id, name)])
    ]
