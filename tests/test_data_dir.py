"""The real-data folder can be given with APPSPLUS_DATA_DIR (not only ../shared/data)."""

from __future__ import annotations

import os
import subprocess
import sys

from testkit import REPO_ROOT

TEST = "tests/bench/test_bench_suites.py::test_humaneval_prompt_and_judge_format"


def run_test(data_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "APPSPLUS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", TEST],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_tests_read_the_real_data_from_the_folder_the_variable_names(tmp_path, shared_data):
    (tmp_path / "humaneval").mkdir()
    source = shared_data / "humaneval" / "HumanEval.jsonl.gz"
    (tmp_path / "humaneval" / "HumanEval.jsonl.gz").symlink_to(source)  # a link, not a copy
    done = run_test(tmp_path)
    assert "1 passed" in done.stdout, done.stdout + done.stderr


def test_a_variable_naming_no_folder_is_an_error_not_a_skip(tmp_path):
    done = run_test(tmp_path / "missing")
    assert done.returncode != 0
    assert "APPSPLUS_DATA_DIR" in done.stdout and "is not a folder" in done.stdout


def test_an_empty_data_folder_fails_the_tests_that_need_its_files(tmp_path):
    done = run_test(tmp_path)  # exists, holds nothing: the test looks there and fails
    assert done.returncode == 1 and "1 failed" in done.stdout, done.stdout
