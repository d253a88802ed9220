"""report.json: metrics from per-sample results, strict schema, run-config checks, jsonl files."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from appsplus.bench.files import (
    BenchProblem,
    ModelInfo,
    RunConfig,
    Sample,
    SampleResult,
    Sampling,
    SuiteInfo,
)
from appsplus.bench.jsonl import Appender, JsonlError, read_models
from appsplus.bench.metrics import MetricError
from appsplus.bench.report import CompareError, Report, build_report, check_comparable, report_json
from appsplus.execution import StdioTest


def _problem(pid: str, difficulty: str) -> BenchProblem:
    return BenchProblem(
        problem_id=pid,
        difficulty=difficulty,
        prompt="p",
        chat_prompt="p",
        assembly="apps",
        tests=[StdioTest(input="", output="")] * 4,
        time_limit_s=2.0,
    )


def _config(**suite) -> RunConfig:
    return RunConfig(
        suite=SuiteInfo(
            name="sample", dataset_hash="sha256:abc", n_problems=3, prompt_version="1", **suite
        ),
        model=ModelInfo(backend="samples", model="m"),
        sampling=Sampling(n=4, temperature=0.8, top_p=0.95, max_new_tokens=64, batch_size=4),
        extraction_version="1",
    )


def _result(key: str, pid: str, outcome: str, n_passed: int, skipped: int = 0) -> SampleResult:
    return SampleResult(
        key=key,
        problem_id=pid,
        passed=outcome == "passed",
        outcome=outcome,
        n_tests=4,
        n_passed=n_passed,
        n_skipped=skipped,
    )


@pytest.fixture
def run():
    problems = [
        _problem("a", "introductory"),
        _problem("b", "interview"),
        _problem("c", "interview"),
    ]
    outcomes = {
        "a": [("passed", 4), ("passed", 4), ("wrong_answer", 2), ("timeout", 0)],
        "b": [("compile_error", 0)] * 4,
        "c": [("passed", 4), ("runtime_error", 3), ("runtime_error", 3), ("runtime_error", 1)],
    }
    samples, keys, results = [], [], {}
    for pid, rows in outcomes.items():
        for i, (outcome, n_passed) in enumerate(rows):
            key = f"{pid}{i}"
            samples.append(Sample(problem_id=pid, index=i, program="x"))
            keys.append(key)
            skipped = 0 if outcome in ("passed", "compile_error") else 4 - n_passed - 1
            results[key] = _result(key, pid, outcome, n_passed, skipped)
    return problems, samples, keys, results


def test_report_metrics_by_difficulty(run):
    problems, samples, keys, results = run
    report = build_report(_config(), problems, samples, keys, results, [1, 2, 4])
    assert [(p.problem_id, p.n, p.c) for p in report.problems] == [
        ("a", 4, 2),
        ("b", 4, 0),
        ("c", 4, 1),
    ]
    overall = report.overall
    assert overall.pass_at_k["pass@1"].value == pytest.approx((0.5 + 0 + 0.25) / 3)
    assert overall.pass_at_k["pass@2"].value == pytest.approx((5 / 6 + 0 + 0.5) / 3)
    assert overall.pass_at_k["pass@4"].value == pytest.approx(2 / 3)
    est = overall.pass_at_k["pass@1"]
    assert est.ci_low <= est.value <= est.ci_high
    assert list(report.by_difficulty) == ["introductory", "interview"]
    assert report.by_difficulty["interview"].pass_at_k["pass@1"].value == pytest.approx(0.125)
    assert report.by_difficulty["interview"].verdicts == {
        "passed": 1,
        "runtime_error": 3,
        "compile_error": 4,
    }
    assert overall.apps_strict_accuracy == pytest.approx(overall.pass_at_k["pass@1"].value)
    assert overall.apps_test_case_average == pytest.approx((10 / 16 + 0 + 11 / 16) / 3)
    assert not report.execution.test_case_average_exact  # tests were skipped: a lower bound
    assert report.execution.time_limits_s == {"min": 2.0, "max": 2.0}
    again = Report.model_validate_json(report_json(report))
    assert again == report


def test_report_is_deterministic(run):
    problems, samples, keys, results = run
    a = report_json(build_report(_config(), problems, samples, keys, results, [1, 2]))
    b = report_json(build_report(_config(), problems, samples, keys, results, [2, 1]))
    assert a == b


def test_report_errors(run):
    problems, samples, keys, results = run
    with pytest.raises(MetricError, match="pass@5"):
        build_report(_config(), problems, samples, keys, results, [1, 5])
    del results["c3"]
    with pytest.raises(MetricError, match="no result"):
        build_report(_config(), problems, samples, keys, results, [1])


def test_report_schema_rejects_unknown_fields(run):
    problems, samples, keys, results = run
    data = build_report(_config(), problems, samples, keys, results, [1]).model_dump(mode="json")
    data["surprise"] = 1
    with pytest.raises(ValidationError):
        Report.model_validate(data)
    data.pop("surprise")
    data["overall"]["pass_at_k"]["pass@1"]["extra"] = 0
    with pytest.raises(ValidationError):
        Report.model_validate(data)


def test_compare_refuses_other_datasets(run):
    problems, samples, keys, results = run
    a = build_report(_config(), problems, samples, keys, results, [1])
    b = a.model_copy(update={"suite": a.suite.model_copy(update={"dataset_hash": "sha256:def"})})
    assert check_comparable([a, a], ["x", "y"]) == []
    with pytest.raises(CompareError, match="different datasets"):
        check_comparable([a, b], ["x", "y"])
    assert check_comparable([a, b], ["x", "y"], force=True)


def test_run_config_differences():
    assert _config().differences(_config()) == []
    assert _config().differences(_config(split="train")) == ["suite.split"]


def test_jsonl_partial_last_line_is_skipped_and_cut(tmp_path):
    path = tmp_path / "s.jsonl"
    with Appender(path) as out:
        out.write(Sample(problem_id="a", index=0, program="x"))
        out.write(Sample(problem_id="a", index=1, program="y"))
    path.write_bytes(path.read_bytes() + b'{"problem_id": "a", "ind')
    assert [s.index for s in read_models(path, Sample)] == [0, 1]
    with Appender(path) as out:
        out.write(Sample(problem_id="a", index=2, program="z"))
    assert [s.index for s in read_models(path, Sample)] == [0, 1, 2]
    path.write_bytes(b'{"bad": 1}\n' + path.read_bytes())
    with pytest.raises(JsonlError, match=":1:"):
        list(read_models(path, Sample))
