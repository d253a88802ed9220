"""Bad input to `bench`: one-line errors, a non-zero exit, user files untouched, and every
option checked before the first model call (issue 11, defects 5, 6 and 9)."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from bench_samples import canonical_samples_file
from click.testing import CliRunner

from appsplus.bench.cli import main as bench


def invoke(*args: str):
    return CliRunner().invoke(bench, [str(a) for a in args])


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` (or `root` itself) with its bytes."""
    if root.is_file():
        return {str(root): root.read_bytes()}
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_one_line_error(result, code: int, *needles: str) -> None:
    """A click error: exit `code`, no traceback, one 'Error:' line holding every needle."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], (needle, result.output)


@pytest.fixture
def good_samples(tmp_path, sample_suite) -> Path:
    """Two canonical solutions per problem of the sample suite (a --samples file)."""
    return canonical_samples_file(tmp_path / "good.jsonl", sample_suite.problems, copies=2)


@pytest.fixture
def evaluated_run(tmp_path, good_samples) -> Path:
    """A run folder made from the canonical samples: generated, executed and reported."""
    out = tmp_path / "done"
    result = invoke("run", "--suite", "sample", "--samples", good_samples, "--out", out)
    assert result.exit_code == 0, result.output
    return out


# ---------------------------------------------------------------- defect 5: check first


def test_k_above_n_fails_before_the_model_is_loaded(tmp_path, bench_cache):
    out = tmp_path / "run"
    # the model folder holds no model: loading it would fail, so the k check came first
    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "config.json").write_text("{}")
    before = snapshot(tmp_path)
    result = invoke(
        "run", "--model", fake, "--suite", "sample", "--n", "2", "--k", "1,5", "--out", out
    )
    assert_one_line_error(result, 2, "--k 1,5", "pass@5 needs at least 5 samples", "--n is 2")
    assert not out.exists() and snapshot(tmp_path) == before


def test_critic_sampling_settings_fail_before_the_model_is_loaded(tmp_path, bench_cache):
    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "config.json").write_text("{}")
    critic = tmp_path / "critic"
    critic.mkdir()
    before = snapshot(tmp_path)
    out = tmp_path / "run"
    base = ["run", "--model", fake, "--suite", "sample", "--n", "2", "--out", out]
    base += ["--strategy", "critic-sampling", "--critic", critic]
    result = invoke(*base, "--cs-initial", "3")
    assert_one_line_error(result, 2, "--cs-initial 3 is more than the budget --n 2")
    result = invoke(*base, "--k", "1,4")
    assert_one_line_error(result, 2, "pass@4 needs at least 4 samples")
    result = invoke(*base)  # the critic folder is checked before the model loads, too
    assert_one_line_error(result, 1, "not a critic folder")
    assert not out.exists() and snapshot(tmp_path) == before


def test_k_above_the_samples_per_problem_fails_before_execution(tmp_path, good_samples):
    before = snapshot(good_samples)
    out = tmp_path / "run"
    result = invoke(
        "run", "--suite", "sample", "--samples", good_samples, "--k", "1,5", "--out", out
    )
    assert_one_line_error(result, 2, "pass@5 needs at least 5 samples")
    assert not (out / "results.jsonl").exists()  # nothing was executed
    assert snapshot(good_samples) == before


def test_missing_local_model_says_no_such_folder(tmp_path, bench_cache, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "weights.bin").write_bytes(b"x")
    before = snapshot(tmp_path)
    result = invoke(
        "run", "--model", "./nonexistent-model", "--suite", "sample", "--n", "1", "--out", "o"
    )
    assert_one_line_error(result, 1, "--model ./nonexistent-model: no such folder")
    assert "hub" not in result.output.lower() and not (tmp_path / "o").exists()
    result = invoke("generate", "--model", "weights.bin", "--suite", "sample", "--out", "o")
    assert_one_line_error(result, 1, "--model weights.bin: a file, not a model folder")
    assert not (tmp_path / "o").exists() and snapshot(tmp_path) == before


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("how", ["HF_HUB_OFFLINE", "unreachable endpoint"])
def test_offline_hub_id_fails_at_once_with_one_message(tmp_path, bench_cache, how):
    """A hub id that cannot be fetched fails on the first check: no HTTP retries, no
    warnings, one error line (a real subprocess, so the hub settings are read fresh)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    (tmp_path / "hf").mkdir()
    env["HF_HOME"] = str(tmp_path / "hf")  # an empty cache
    env.pop("HF_HUB_OFFLINE", None)
    if how == "HF_HUB_OFFLINE":
        env["HF_HUB_OFFLINE"] = "1"
    else:
        env["HF_ENDPOINT"] = f"http://127.0.0.1:{_closed_port()}"
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "appsplus.bench.cli", "run", "--model", "some-org/some-model"]
        + ["--suite", "sample", "--n", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), proc.stderr
    assert "some-org/some-model" in lines[0] and "hub is unreachable" in lines[0]
    assert "Traceback" not in proc.stderr and not out.exists() and proc.stdout == ""


def test_unknown_executor_fails_before_generation(tmp_path, bench_cache):
    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "config.json").write_text("{}")
    before = snapshot(tmp_path)
    out = tmp_path / "run"
    result = invoke(
        "run", "--model", fake, "--suite", "sample", "--executor", "nowhere", "--out", out
    )
    assert_one_line_error(result, 1, "unknown executor 'nowhere'")
    assert not out.exists() and snapshot(tmp_path) == before


# ---------------------------------------------------------------- defect 6: damaged input


def test_truncated_run_json_is_reported_and_left_alone(evaluated_run):
    run_json = evaluated_run / "run.json"
    run_json.write_bytes(run_json.read_bytes()[:100])
    before = snapshot(evaluated_run)
    for command in (["report"], ["evaluate"]):
        result = invoke(*command, "--out", evaluated_run)
        assert_one_line_error(result, 1, str(run_json), "damaged or not a bench run.json")
    assert snapshot(evaluated_run) == before


def test_run_resumed_on_a_damaged_run_json_is_refused(evaluated_run, good_samples):
    run_json = evaluated_run / "run.json"
    run_json.write_text("{}")
    before = snapshot(evaluated_run)
    result = invoke("run", "--suite", "sample", "--samples", good_samples, "--out", evaluated_run)
    assert_one_line_error(result, 1, "damaged or not a bench run.json")
    assert snapshot(evaluated_run) == before


def test_empty_samples_file_with_allow_missing(tmp_path, bench_cache):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    out = tmp_path / "run"
    for command in ("run", "evaluate"):
        result = invoke(
            command, "--suite", "sample", "--samples", empty, "--allow-missing", "--out", out
        )
        assert_one_line_error(result, 1, f"{empty}: no samples")
        assert empty.read_bytes() == b"" and not (out / "run.json").exists()


def test_compare_of_files_that_are_not_reports(tmp_path, evaluated_run):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))
    text = tmp_path / "notes.txt"
    text.write_text("not json at all\n")
    empty_folder = tmp_path / "folder"
    empty_folder.mkdir()
    before = snapshot(tmp_path)
    cases = [(other, "not a bench report"), (text, "not a bench report")]
    cases.append((empty_folder, "no report.json"))
    for path, needle in cases:
        result = invoke("compare", evaluated_run, path)
        assert_one_line_error(result, 1, str(path), needle)
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("command", ["run", "evaluate", "generate"])
def test_out_that_cannot_be_created(command, tmp_path, good_samples):
    before = snapshot(tmp_path)
    result = invoke(
        command, "--suite", "sample", "--samples", good_samples, "--out", "/proc/bench-x"
    )
    assert_one_line_error(result, 2, "--out /proc/bench-x: cannot create the folder")
    assert snapshot(tmp_path) == before


def test_out_below_a_file(tmp_path, good_samples):
    blocker = tmp_path / "file"
    blocker.write_text("mine\n")
    before = snapshot(tmp_path)
    result = invoke("run", "--suite", "sample", "--samples", good_samples, "--out", blocker / "x")
    assert_one_line_error(result, 2, "is not a folder")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("option", "value"), [("--limit", "0"), ("--workers", "0"), ("--n", "0"), ("--k", "0,1")]
)
def test_out_of_range_numbers(option, value, tmp_path, good_samples):
    out = tmp_path / "run"
    before = snapshot(tmp_path)
    result = invoke(
        "run", "--suite", "sample", "--samples", good_samples, option, value, "--out", out
    )
    assert_one_line_error(result, 2, option)
    assert not out.exists() and snapshot(tmp_path) == before


def test_the_python_api_checks_ranges_too(tmp_path):
    from appsplus.bench import api

    with pytest.raises(api.SettingsError, match="limit"):
        api.SuiteSpec(name="sample", limit=0)
    with pytest.raises(api.SettingsError, match="workers"):
        api.ExecutionSpec(workers=0)
    with pytest.raises(api.SettingsError, match="base-url"):
        api.ModelSpec(model="m", backend="openai")
    with pytest.raises(api.SettingsError, match="not both or neither"):
        api.run(api.RunSpec(out=tmp_path / "o", suite=api.SuiteSpec(name="sample")))


# ---------------------------------------------------------------- defect 9: HumanEval, MBPP


def _mbpp(tmp_path: Path) -> Path:
    rows = [
        {
            "task_id": 11,
            "text": "Write a function to add two numbers.",
            "code": "def add(a, b):\n    return a + b",
            "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"],
            "test_setup_code": "",
            "challenge_test_list": [],
        },
        {
            "task_id": 12,
            "text": "Write a function to double a number.",
            "code": "def double(x):\n    return 2 * x",
            "test_list": ["assert double(2) == 4"],
            "test_setup_code": "",
            "challenge_test_list": [],
        },
    ]
    path = tmp_path / "mbpp.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _humaneval(tmp_path: Path) -> Path:
    row = {
        "task_id": "HumanEval/0",
        "prompt": 'def add(a, b):\n    """Add two numbers."""\n',
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
    }
    path = tmp_path / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write(json.dumps(row) + "\n")
    return path


def _report_of(tmp_path: Path, name: str, suite: str, dataset: Path, rows: list[dict]):
    samples = tmp_path / f"{name}-samples.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / name
    result = invoke(
        "run", "--suite", suite, "--dataset", dataset, "--samples", samples, "--k", "1",
        "--out", out, "--allow-missing",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result, json.loads((out / "report.json").read_text())


def test_failed_assert_is_a_wrong_answer_in_mbpp_and_humaneval(tmp_path):
    mbpp = _mbpp(tmp_path)
    result, report = _report_of(
        tmp_path,
        "mbpp",
        "mbpp",
        mbpp,
        [
            {"problem_id": "mbpp/11", "program": "def add(a, b):\n    return a - b\n"},
            {"problem_id": "mbpp/11", "program": "def add(a, b):\n    assert a < 0\n"},
            {"problem_id": "mbpp/11", "program": "def add(a, b):\n    return a + b\n"},
            {"problem_id": "mbpp/12", "program": "def double(x):\n    raise ValueError(x)\n"},
            {"problem_id": "mbpp/12", "program": "def double(x):\n    return x + 1\n"},
            {"problem_id": "mbpp/12", "program": "def double(x):\n    return 2 * x\n"},
        ],
    )
    by_id = {p["problem_id"]: p["verdicts"] for p in report["problems"]}
    # the tests' assert fails: a wrong answer; the program's own assert or error: a runtime error
    assert by_id["mbpp/11"] == {"passed": 1, "runtime_error": 1, "wrong_answer": 1}
    assert by_id["mbpp/12"] == {"passed": 1, "runtime_error": 1, "wrong_answer": 1}
    # one check per program: the APPS strict / test-average columns are left out
    assert "pass@1" in result.stdout
    assert "strict" not in result.stdout and "test avg" not in result.stdout

    humaneval = _humaneval(tmp_path)
    result, report = _report_of(
        tmp_path,
        "he",
        "humaneval",
        humaneval,
        [
            {"task_id": "HumanEval/0", "completion": "    return a - b\n"},
            {"task_id": "HumanEval/0", "completion": "    assert a < 0\n    return a + b\n"},
            {"task_id": "HumanEval/0", "completion": "    return a + b\n"},
        ],
    )
    verdicts = report["problems"][0]["verdicts"]
    assert verdicts == {"passed": 1, "runtime_error": 1, "wrong_answer": 1}
    assert "strict" not in result.stdout and "test avg" not in result.stdout

    compared = invoke("compare", tmp_path / "he", tmp_path / "he", "--force")
    assert compared.exit_code == 0 and "strict" not in compared.output


def test_apps_reports_keep_the_apps_columns(evaluated_run):
    result = invoke("report", "--out", evaluated_run)
    assert result.exit_code == 0 and "strict" in result.stdout and "test avg" in result.stdout


# ---------------------------------------------------------------- help texts


def test_help_texts_describe_each_commands_own_options():
    for command in ("report", "evaluate"):
        text = " ".join(invoke(command, "--help").output.split())
        assert "an existing one is resumed" not in text, command
    report_help = " ".join(invoke("report", "--help").output.split())
    assert "it must exist" in report_help
    generate_help = " ".join(invoke("generate", "--help").output.split())
    assert "Evaluate generations" not in generate_help
    assert "generations made elsewhere instead of a model" in generate_help
