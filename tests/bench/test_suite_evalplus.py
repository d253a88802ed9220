"""The humaneval+ and mbpp+ suites on EvalPlus's real releases: loading, prompts, the value
codec, MBPP+ input conversion, and verdict parity with EvalPlus's own evaluator (PyPI
`evalplus`, run offline on the same subset) for canonical solutions and deterministic
mutants, sample by sample, on a fixed subset holding every special-check task."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from testkit import require

from appsplus.bench.cli import main as bench
from appsplus.bench.report import Report
from appsplus.bench.suites import SuiteError, load_suite
from appsplus.bench.suites import evalplus as ep
from appsplus.bench.suites.evalplus_judge import decode, encode, expected_entry
from appsplus.bench.suites.evalplus_parity import (
    compare,
    run_bench,
    run_evalplus,
    samples_for,
    write_dataset,
)
from appsplus.execution.compare import evalplus_output_ok

EVALPLUS_HINT = "install it with `pip install evalplus` (see the README's developer notes)"
# Every special check of EvalPlus 0.3.1 that applies to these releases (HumanEval/32's
# poly root; MBPP+'s set comparisons, not-None checks and alternative formulas), the
# float-tolerance tasks, and tasks whose inputs become tuples, dicts or complex numbers.
HUMANEVAL_IDS = ("HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/32", "HumanEval/53")
MBPP_IDS = (
    "Mbpp/2", "Mbpp/7", "Mbpp/111", "Mbpp/140", "Mbpp/232", "Mbpp/579", "Mbpp/769",
    "Mbpp/737", "Mbpp/787", "Mbpp/794", "Mbpp/558", "Mbpp/581",
    "Mbpp/82", "Mbpp/124", "Mbpp/259", "Mbpp/722", "Mbpp/580", "Mbpp/252",
)  # fmt: skip
# Mutants run on every task but the infinite loop (1 s per input list in both evaluators)
# and a right program that reads stdin first, which run on the first task of each subset.
QUICK_MUTANTS = ("canonical", "operator", "off_by_one", "deleted", "early_return")


def release_rows(shared_data: Path, kind: str, ids: tuple[str, ...]) -> list[dict]:
    name = {"humaneval": "HumanEvalPlus", "mbpp": "MbppPlus"}[kind]
    path = shared_data / "evalplus" / f"{name}.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"{path} is not present (see shared/data/evalplus/README.md)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = {row["task_id"]: row for row in map(json.loads, f)}
    return [rows[i] for i in ids]


def invoke(*args: str, ok: bool = True):
    result = CliRunner().invoke(bench, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result


def test_codec_keeps_types_equality_sees():
    values = [
        (1, [2, 3]), {1, 2}, frozenset({"a"}), {(1, 2): [3.5]}, 1 + 2j, float("inf"),
        b"\x00\xff", 7**5000, None, True, "x", [[(), {}]],
    ]  # fmt: skip
    for value in values:
        back = decode(json.loads(json.dumps(encode(value))))
        assert back == value and type(back) is type(value), value
    assert math.isnan(decode(encode(float("nan"))))
    assert decode(encode([1, 2])) != (1, 2)  # a list is not a tuple, as for EvalPlus's ==
    big = ["x" * 1000 + str(i) for i in range(1100)]  # over DIGEST_OVER characters
    digest = decode(expected_entry(big))
    assert digest.matches(list(big)) and not digest.matches(big[:-1])
    assert not digest.matches(tuple(big))


def test_mbpp_inputs_convert_as_evalplus_does(shared_data):
    mbpp = require("evalplus.data.mbpp", EVALPLUS_HINT)
    path = shared_data / "evalplus" / "MbppPlus.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    converted = 0
    for row in rows:
        for which in ("base_input", "plus_input"):
            theirs = mbpp.mbpp_deserialize_inputs(row["task_id"], row[which])
            ours = ep.mbpp_deserialize(row["task_id"], row[which])
            assert encode(list(ours)) == encode(list(theirs)), row["task_id"]
            converted += ours is not row[which]
    assert converted > 100  # about 70 tasks, base and plus


def test_rules_special_oracles():
    assert evalplus_output_ok([3, 1], [1, 3], [], 0, "set")
    assert not evalplus_output_ok([3, 1], [1, 3], [], 0, "exact")
    assert evalplus_output_ok("match", True, [], 0, "not_none")
    assert not evalplus_output_ok(False, True, [], 0, "not_none")
    assert evalplus_output_ok(1.0000001, 1.0, [], 1e-6, "exact")
    assert not evalplus_output_ok(1.00001, 1.0, [], 1e-6, "exact")
    assert not evalplus_output_ok(1, 1.5, [], 1e-6, "exact")  # inexact needs the same type
    assert evalplus_output_ok(-1.0, 5.0, [[1, 1]], 1e-4, "poly_root")  # 1 + x = 0
    assert evalplus_output_ok(3, 4, [3, 0], 1e-4, "digit_distance")  # alternative formula
    assert not evalplus_output_ok(2, 4, [3, 0], 1e-4, "digit_distance")


def test_suites_load_with_evalplus_prompts_and_expected_outputs(shared_data, tmp_path, bench_cache):
    rows = release_rows(shared_data, "humaneval", ("HumanEval/0",))
    data = write_dataset(rows, tmp_path / "he.jsonl.gz")
    suite = load_suite("humaneval+", str(data))
    (p,) = suite.problems
    assert p.prompt == rows[0]["prompt"] and "\ndef " in p.stop and "\nif __name__" in p.stop
    assert p.chat_prompt.startswith(ep.INSTRUCTION) and rows[0]["prompt"].strip() in p.chat_prompt
    base, plus = p.tests
    assert len(base.args[1]) == len(rows[0]["base_input"])
    assert len(plus.args[1]) == len(rows[0]["plus_input"])
    assert base.args[2][:2] == [True, False]  # the canonical solution's outputs, run here
    assert all(t >= ep.MIN_TIME_LIMIT_S for t in plus.args[3])
    assert "time limits derived" in suite.info.description
    mrows = release_rows(shared_data, "mbpp", ("Mbpp/2",))
    mdata = write_dataset(mrows, tmp_path / "mbpp.jsonl.gz")
    (m,) = load_suite("mbpp+", str(mdata)).problems
    assert m.problem_id == "Mbpp/2" and m.prompt == mrows[0]["prompt"] and '\n"""' in m.stop
    assert decode(m.tests[0].args[1])[0][0] == (3, 4, 5, 6)  # tuples, as EvalPlus calls it


def test_bad_rows_and_offline_release_are_one_line_errors(tmp_path, bench_cache, monkeypatch):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"task_id": "HumanEval/0", "prompt": "x"}) + "\n")
    with pytest.raises(SuiteError, match="lacks entry_point") as e:
        load_suite("humaneval+", str(bad))
    assert "\n" not in str(e.value)
    with pytest.raises(SuiteError, match="not a MBPP\\+ task"):
        load_suite("mbpp+", str(bad))
    # no --dataset: the release URL; a closed local port stands for being offline
    monkeypatch.setitem(ep.RELEASE_URLS, "humaneval", "http://127.0.0.1:9/HumanEvalPlus.jsonl.gz")
    with pytest.raises(SuiteError) as e:
        load_suite("humaneval+")
    assert "cannot download http://127.0.0.1:9/" in str(e.value) and "--dataset" in str(e.value)
    assert "\n" not in str(e.value)
    assert not list((Path(bench_cache) / "evalplus").rglob("*.partial"))


def _parity(kind, rows, tmp_path):
    require("evalplus.evaluate", EVALPLUS_HINT)
    data = write_dataset(rows, tmp_path / f"{kind}.jsonl.gz")
    programs = samples_for(rows, QUICK_MUTANTS)
    programs += samples_for(rows[:1], ("infinite_loop", "reads_stdin"))
    theirs = run_evalplus(kind, data, programs, workers=2, cache=tmp_path / "evalplus")
    ours = run_bench(f"{kind}+", data, programs, tmp_path / "bench", workers=2)
    return programs, ours, theirs


def test_humaneval_plus_verdicts_equal_evalplus(shared_data, tmp_path, bench_cache):
    rows = release_rows(shared_data, "humaneval", HUMANEVAL_IDS)
    programs, ours, theirs = _parity("humaneval", rows, tmp_path)
    assert len(programs) >= 20
    differences = compare(ours, theirs)
    # The one documented difference (README): EvalPlus 0.3.1's poly-root check never marks
    # an input passed, so it fails every HumanEval/32 program; bench applies the check.
    assert {d[0] for d in differences} <= {"HumanEval/32"}, differences
    assert theirs[("HumanEval/32", "canonical")][0] == "fail"
    assert ours[("HumanEval/32", "canonical")] == ("pass", "pass")
    assert all(ours[(t, "canonical")] == ("pass", "pass") for t in HUMANEVAL_IDS)
    # the mutants are not all caught by the base tests alone: plus finds more
    assert any(v == ("pass", "fail") for v in ours.values())
    assert ours[(HUMANEVAL_IDS[0], "infinite_loop")] == ("fail", "fail")
    assert ours[(HUMANEVAL_IDS[0], "reads_stdin")] == ("fail", "fail")  # stdin is unreadable


def test_mbpp_plus_verdicts_equal_evalplus(shared_data, tmp_path, bench_cache):
    rows = release_rows(shared_data, "mbpp", MBPP_IDS)
    programs, ours, theirs = _parity("mbpp", rows, tmp_path)
    assert len(programs) >= 45
    assert compare(ours, theirs) == []
    assert all(ours[(t, "canonical")] == ("pass", "pass") for t in MBPP_IDS)
    assert any(v == ("fail", "fail") for v in ours.values())


def test_report_shows_base_and_plus(shared_data, tmp_path, bench_cache):
    rows = release_rows(shared_data, "humaneval", ("HumanEval/53",))
    data = write_dataset(rows, tmp_path / "he.jsonl.gz")
    samples = tmp_path / "samples.jsonl"
    program = rows[0]["prompt"] + rows[0]["canonical_solution"]
    # right on the base inputs (small numbers), wrong on some plus inputs
    plus_only = (
        program + "\n\n_add = add\ndef add(x, y):\n    return _add(x, y) if x < 1000 else 0\n"
    )
    lines = [{"problem_id": "HumanEval/53", "program": p} for p in (program, plus_only)]
    samples.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "run"
    invoke("evaluate", "--suite", "humaneval+", "--dataset", str(data), "--samples",
           str(samples), "--out", str(out), "--workers", "2")  # fmt: skip
    result = invoke("report", "--out", str(out), "--k", "1", "--html")
    report = Report.model_validate_json((out / "report.json").read_text())
    assert report.by_tests["HumanEval"].pass_at_k["pass@1"].value == 1.0
    assert report.by_tests["HumanEval+"].pass_at_k["pass@1"].value == 0.5
    assert report.overall == report.by_tests["HumanEval+"]
    assert "HumanEval+" in result.stdout and "HumanEval " in result.stdout
    page = (out / "report.html").read_text()
    assert ">HumanEval<" in page and ">HumanEval+<" in page


def test_tiny_model_run_end_to_end(tiny_model, shared_data, tmp_path, bench_cache):
    for kind, suite, ids in (
        ("humaneval", "humaneval+", ("HumanEval/0",)),
        ("mbpp", "mbpp+", ("Mbpp/2",)),
    ):
        data = write_dataset(release_rows(shared_data, kind, ids), tmp_path / f"{kind}.jsonl.gz")
        out = tmp_path / suite
        args = ["run", "--model", str(tiny_model), "--suite", suite, "--dataset", str(data)]
        args += ["--n", "2", "--k", "1", "--max-new-tokens", "8", "--workers", "2"]
        result = invoke(*args, "--device", "cpu", "--out", str(out))
        assert "pass@1" in result.stdout
        report = Report.model_validate_json((out / "report.json").read_text())
        assert report.overall.n_samples == 2
        assert set(report.by_tests) == set(ep.LABELS[kind])
