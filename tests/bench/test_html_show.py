"""`bench show`: every evaluated sample reads as verdict, per-test verdicts and times, and the
first failing test's input, expected output, actual output and error (real sandbox runs on
the embedded sample suite)."""

from __future__ import annotations

import json

from bench_samples import bugged
from click.testing import CliRunner

from appsplus.bench.cli import main as bench
from appsplus.bench.execute import DETAIL_CHARS


def invoke(*args: str, ok: bool = True):
    result = CliRunner().invoke(bench, list(args))
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def _stdio_problems(suite, count: int):
    return [p for p in suite.problems if p.tests[0].kind == "stdio"][:count]


def test_show_gives_the_first_failure_input_expected_and_actual(sample_suite, tmp_path):
    problems = _stdio_problems(sample_suite, 3)
    crash = "import sys\nprint('partial')\nraise ValueError('boom at line 3')\n"
    flood = "print('x' * 10000)\n"
    rows = []
    for p in problems:
        for program in (p.canonical_solution, bugged(p), crash, flood):
            rows.append({"problem_id": p.problem_id, "program": program})
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    ids = {p.problem_id for p in problems}
    args = ["--suite", "sample", "--samples", str(samples), "--allow-missing", "--out", str(out)]
    invoke("evaluate", *args)

    records = [json.loads(line) for line in invoke("show", str(out), "--json").stdout.splitlines()]
    assert {r["problem_id"] for r in records} == ids and len(records) == 4 * len(problems)
    by_problem = {p.problem_id: p for p in problems}
    for r in records:
        problem = by_problem[r["problem_id"]]
        assert len(r["test_verdicts"]) == len(problem.tests) == len(r["test_durations_s"])
        if r["index"] == 0:  # the canonical solution
            assert r["passed"] and r["failure"] is None and set(r["test_verdicts"]) == {"passed"}
            continue
        f = r["failure"]
        test = problem.tests[f["test_index"]]
        assert r["test_verdicts"][f["test_index"]] == f["verdict"] == r["verdict"]
        assert f["input"] == test.input and f["expected"] == test.output
        if r["index"] == 1:  # one extra line after the right answer
            assert f["verdict"] == "wrong_answer"
            assert f["actual"].endswith("off by one\n") and test.output.strip() in f["actual"]
        elif r["index"] == 2:  # a crash: its output so far and the exception's tail
            assert f["verdict"] == "runtime_error" and f["actual"] == "partial\n"
            assert "boom at line 3" in f["error"]
        else:  # 10,001 characters of output, cut to the stated size with the cut marked
            assert f["verdict"] == "wrong_answer"
            assert f["actual"].startswith("x" * DETAIL_CHARS)
            # (the executor keeps a 2,000-character preview: the count is a lower bound)
            assert f["actual"].endswith(f"[... {2000 - DETAIL_CHARS}+ characters cut]")
            assert len(f["actual"]) < DETAIL_CHARS + 40

    failed = invoke("show", str(out), "--failed", "--json").stdout.splitlines()
    assert len(failed) == 3 * len(problems)
    assert all(not json.loads(line)["passed"] for line in failed)

    one = problems[1].problem_id
    text = invoke("show", str(out), "--problem", one, "--failed").stdout
    assert text.count(one) == 3 and "expected" in text and "actual" in text
    assert "off by one" in text and "boom at line 3" in text
    assert "characters cut]" in text and "raise ValueError" in text  # the programs are shown
    assert problems[0].problem_id not in text


def test_show_refuses_what_it_cannot_show(sample_suite, tmp_path):
    result = invoke("show", str(tmp_path), ok=False)
    assert result.exit_code != 0 and "run.json" in result.output
    assert "Traceback" not in result.output

    problem = _stdio_problems(sample_suite, 1)[0]
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"problem_id": problem.problem_id, "program": "print(1)"}) + "\n")
    out = tmp_path / "run"
    invoke("evaluate", "--suite", "sample", "--samples", str(samples), "--allow-missing",
           "--out", str(out))  # fmt: skip
    result = invoke("show", str(out), "--problem", "no/such/problem", ok=False)
    assert result.exit_code != 0 and "no problem 'no/such/problem'" in result.output
    assert len(result.output.strip().splitlines()) == 1
