"""`--decontaminate SUITE_OR_PATH`: bench suite names read the suites' data (NAME=PATH or
$APPSPLUS_DATA_DIR), with one-line errors when it is absent; the real HumanEval, MBPP and
EvalPlus files from the shared data folder, the LiveCodeBench window from the fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from testkit import SHARED_DATA  # $APPSPLUS_DATA_DIR or ../shared/data

from appsplus.cli.app import main as cli
from appsplus.execution import StdioTest
from appsplus.quality.decontam import (
    BenchmarkError,
    DecontaminationFilter,
    benchmark_path,
    load_benchmarks,
    parse_suite,
)
from appsplus.schema import Problem

LCB = Path(__file__).parents[1] / "data" / "fixtures" / "mixed" / "livecodebench"
EVALPLUS = SHARED_DATA / "evalplus"
needs_data = pytest.mark.skipif(
    not (EVALPLUS / "HumanEvalPlus.jsonl.gz").is_file()
    or not (SHARED_DATA / "mbpp" / "mbpp.jsonl").is_file(),
    reason=f"no HumanEval+/MBPP files in {SHARED_DATA}",
)


def problem(question: str, solution: str = "print(1)\n") -> Problem:
    return Problem(
        problem_id="taco/train/00000",
        source_id=0,
        split="train",
        difficulty="introductory",
        question=question,
        kind="stdio",
        tests=[StdioTest(input="", output="1\n")],
        solutions=[solution],
    )


def test_suite_specs_parse_and_paths_stay_paths(tmp_path):
    assert parse_suite("humaneval+") == ("humaneval+", None, None)
    assert parse_suite("livecodebench:2024-08-01=lcb/") == (
        "livecodebench",
        "2024-08-01",
        Path("lcb/"),
    )
    assert parse_suite(str(tmp_path / "bench.jsonl")) is None
    assert parse_suite("HumanEval.jsonl.gz") is None
    for spec, message in (
        ("mbpp:2024-01-01", "only livecodebench takes :SINCE"),
        ("livecodebench:August", "SINCE must be a date YYYY-MM-DD"),
        ("humaneval=", "needs a path after '='"),
    ):
        with pytest.raises(BenchmarkError, match=message):
            parse_suite(spec)


def test_a_suite_without_its_data_is_one_line_naming_both_ways(tmp_path, monkeypatch):
    monkeypatch.delenv("APPSPLUS_DATA_DIR", raising=False)
    with pytest.raises(BenchmarkError) as e:
        benchmark_path("humaneval+")
    assert "give humaneval+=PATH" in str(e.value) and "APPSPLUS_DATA_DIR" in str(e.value)
    monkeypatch.setenv("APPSPLUS_DATA_DIR", str(tmp_path))
    with pytest.raises(BenchmarkError, match="evalplus/MbppPlus.jsonl.gz does not exist"):
        benchmark_path("mbpp+")
    # the CLI: exit 1, one line, nothing written
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["build", "--source", "sample", "--out", str(out), "--decontaminate", "mbpp+"]
    )
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: --decontaminate mbpp+:")
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


@needs_data
def test_suite_names_read_the_suites_data(tmp_path, monkeypatch):
    monkeypatch.setenv("APPSPLUS_DATA_DIR", str(SHARED_DATA))
    index = load_benchmarks(["humaneval+", "mbpp", "mbpp+"])
    by_bench: dict[str, int] = {}
    for item in index.items:
        by_bench[item.benchmark] = by_bench.get(item.benchmark, 0) + 1
    # every task of each file: HumanEval+ 164, MBPP all 974 (not only its test split), MBPP+ 378
    assert by_bench == {"humaneval+": 164, "mbpp": 974, "mbpp+": 378}
    assert set(index.files) == {"humaneval+", "mbpp", "mbpp+"}
    with (EVALPLUS / "HumanEvalPlus.jsonl.gz").open("rb") as f:
        import gzip

        row = json.loads(gzip.decompress(f.read()).splitlines()[12])
    check = DecontaminationFilter(index, 0.5)
    found = check(problem("Solve this:\n" + row["prompt"]))
    assert found is not None and f"humaneval+ {row['task_id']}" in found[1]
    assert check(problem("Read n and print the n-th Fibonacci number modulo 998244353.")) is None
    # NAME=PATH names the data without the variable
    monkeypatch.delenv("APPSPLUS_DATA_DIR")
    spec = f"humaneval={SHARED_DATA / 'humaneval' / 'HumanEval.jsonl.gz'}"
    assert {i.benchmark for i in load_benchmarks([spec]).items} == {"humaneval"}


def test_livecodebench_since_keeps_the_window(tmp_path):
    # the fixture has abc350_a (2024-04-20) and abc370_a (2024-09-07)
    index = load_benchmarks([f"livecodebench:2024-08-01={LCB}"])
    assert [(i.benchmark, i.item_id) for i in index.items] == [
        ("livecodebench:2024-08-01", "abc370_a")
    ]
    everything = load_benchmarks([f"livecodebench={LCB}"])
    assert sorted(i.item_id for i in everything.items) == ["abc350_a", "abc370_a"]
    check = DecontaminationFilter(everything, 0.5)
    found = check(problem("Read an integer n and print 2 * n. Nothing else."))
    assert found is not None and "livecodebench abc370_a" in found[1]


def test_decontaminate_help_names_suites():
    done = subprocess.run(
        [sys.executable, "-m", "appsplus", "build", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "--decontaminate SUITE_OR_PATH" in text and "livecodebench[:SINCE]" in text
    assert "--tests-only" in text


@pytest.mark.skipif(
    not (SHARED_DATA / "humaneval" / "HumanEval.jsonl.gz").is_file(),
    reason=f"no HumanEval file in {SHARED_DATA / 'humaneval'}",
)
def test_evalplus_suites_read_through_the_suites_loader():
    # the evalplus suite's reader checks that the file is HumanEval+: HumanEval is not
    spec = f"humaneval+={SHARED_DATA / 'humaneval' / 'HumanEval.jsonl.gz'}"
    with pytest.raises(BenchmarkError) as e:
        load_benchmarks([spec])
    message = str(e.value)
    assert message.startswith(f"--decontaminate {spec}: ")
    assert "is not a HumanEval+ task: it lacks base_input, plus_input" in message
    assert len(message.splitlines()) == 1


def test_an_empty_livecodebench_window_names_the_window_and_the_dates(tmp_path):
    with pytest.raises(BenchmarkError) as e:
        load_benchmarks([f"livecodebench:2030-01-01={LCB}"])
    message = str(e.value)
    assert "no row has a statement" not in message
    assert "the window since 2030-01-01 selected no problem" in message
    assert "the 2 problems of" in message and "are dated 2024-04-20 to 2024-09-07" in message
    # the build: exit 1, that one line, nothing left behind
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "build",
            "--source",
            "sample",
            "--limit",
            "2",
            "--out",
            str(out),
            "--decontaminate",
            f"livecodebench:2030-01-01={LCB}",
        ],
    )
    assert result.exit_code == 1 and "selected no problem" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()
