"""`--time-limits derived|fixed` for humaneval and mbpp: limits from the canonical solution's
measured runtime, measured once and cached; an infinite loop then costs about a second."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from click.testing import CliRunner

from appsplus.bench.cli import main as bench
from appsplus.bench.suites import SuiteError, load_suite
from appsplus.bench.suites import time_limits as tl
from appsplus.bench.suites.humaneval import HUMANEVAL_TIME_LIMIT_S


def invoke(*args: str, ok: bool = True):
    result = CliRunner().invoke(bench, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result


def humaneval_subset(shared_data, tmp_path, n=3):
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line, _ in zip(f, range(n))]
    path = tmp_path / "he.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, rows


def test_derived_limits_are_measured_once_and_cached(shared_data, tmp_path, bench_cache):
    path, _ = humaneval_subset(shared_data, tmp_path)
    fixed = load_suite("humaneval", str(path))
    assert {p.time_limit_s for p in fixed.problems} == {HUMANEVAL_TIME_LIMIT_S}
    assert "5 s per program" in fixed.info.description
    derived = load_suite("humaneval", str(path), time_limits="derived")
    limits = [p.time_limit_s for p in derived.problems]
    assert all(tl.FLOOR_S <= t < HUMANEVAL_TIME_LIMIT_S for t in limits), limits
    assert "time limits derived" in derived.info.description
    (cache,) = (bench_cache / "time_limits").glob("humaneval.*.json")
    stamp = cache.stat().st_mtime_ns
    times = json.loads(cache.read_text())
    assert set(times) == {p.problem_id for p in derived.problems}
    assert all(t is not None and t < 1 for t in times.values())
    again = load_suite("humaneval", str(path), time_limits="derived")
    assert [p.time_limit_s for p in again.problems] == limits
    assert cache.stat().st_mtime_ns == stamp  # read, not measured again


def test_an_infinite_loop_costs_the_derived_limit(shared_data, tmp_path, bench_cache):
    path, rows = humaneval_subset(shared_data, tmp_path, n=2)
    samples = tmp_path / "loops.jsonl"
    loop = "    while True:\n        pass\n"
    samples.write_text(
        "".join(json.dumps({"task_id": r["task_id"], "completion": loop}) + "\n" for r in rows)
    )
    seconds = {}
    for mode in ("fixed", "derived"):
        out = tmp_path / mode
        start = time.perf_counter()
        invoke("evaluate", "--suite", "humaneval", "--dataset", str(path), "--samples",
               str(samples), "--time-limits", mode, "--workers", "2", "--out", str(out))  # fmt: skip
        seconds[mode] = time.perf_counter() - start
        results = [json.loads(line) for line in (out / "results.jsonl").open()]
        assert [r["outcome"] for r in results] == ["timeout", "timeout"]
        run = json.loads((out / "run.json").read_text())
        assert ("time limits derived" in run["suite"]["description"]) == (mode == "derived")
    assert seconds["fixed"] > HUMANEVAL_TIME_LIMIT_S  # two loops in parallel: one fixed limit
    assert seconds["derived"] < seconds["fixed"] - 2


def test_time_limits_elsewhere_is_a_one_line_error(shared_data):
    with pytest.raises(SuiteError, match="--time-limits applies to humaneval") as e:
        load_suite("sample", time_limits="derived")
    assert "\n" not in str(e.value)
    with pytest.raises(SuiteError, match="derived or fixed"):
        load_suite(
            "humaneval", str(shared_data / "humaneval" / "HumanEval.jsonl.gz"), time_limits="x"
        )


def test_mbpp_derived(shared_data, bench_cache):
    suite = load_suite(
        "mbpp",
        str(shared_data / "mbpp" / "mbpp.jsonl"),
        split="prompt",
        limit=3,
        time_limits="derived",
    )
    assert all(tl.FLOOR_S <= p.time_limit_s < 10 for p in suite.problems)
