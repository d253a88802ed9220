"""CLI tests: every command has help with an example; `appsplus exec` end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from appsplus.bench.cli import main as bench_main
from appsplus.cli.app import main as appsplus_main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


@pytest.mark.parametrize("group", [appsplus_main, bench_main], ids=["appsplus", "bench"])
def test_every_command_has_help_with_an_example(group):
    runner = CliRunner()
    result = runner.invoke(group, ["--help"])
    assert result.exit_code == 0 and "Example" in result.output
    for path, cmd in _commands(group):
        assert cmd.help, f"{' '.join(path)} has no help text"
        result = runner.invoke(group, [*path, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example" in result.output, f"{' '.join(path)} --help shows no example"


@pytest.fixture
def apps_files(tmp_path):
    program = tmp_path / "sol.py"
    program.write_text("n = int(input())\nprint(n * 2)\n")
    tests = tmp_path / "input_output.json"
    tests.write_text(json.dumps({"inputs": ["2\n", "5\n"], "outputs": ["4\n", "10\n"]}))
    return program, tests


def test_exec_json_passes_with_exit_0(apps_files):
    program, tests = apps_files
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "appsplus.cli.app",
            "exec",
            str(program),
            "--tests",
            str(tests),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["passed"] is True
    assert [t["verdict"] for t in payload["tests"]] == ["passed", "passed"]


def test_exec_table_and_exit_1_on_failure(apps_files, tmp_path):
    program, tests = apps_files
    tests.write_text(json.dumps({"inputs": ["2\n", "5\n"], "outputs": ["4\n", "11\n"]}))
    result = CliRunner().invoke(appsplus_main, ["exec", str(program), "--tests", str(tests)])
    assert result.exit_code == 1
    assert "wrong_answer" in result.output and "1/2 passed" in result.output


def test_exec_call_based_and_bad_tests_file(tmp_path):
    program = tmp_path / "sol.py"
    program.write_text(
        "class Solution:\n    def add(self, a: List[int]) -> int:\n        return sum(a)\n"
    )
    tests = tmp_path / "io.json"
    tests.write_text(
        json.dumps({"fn_name": "add", "inputs": [[[1, 2]], [[5]]], "outputs": [[3], [5]]})
    )
    result = CliRunner().invoke(
        appsplus_main, ["exec", str(program), "--tests", str(tests), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["passed"] is True
    tests.write_text("{not json")
    result = CliRunner().invoke(appsplus_main, ["exec", str(program), "--tests", str(tests)])
    assert result.exit_code != 0 and "not a valid APPS input_output file" in result.output


def test_readme_quick_start_runs_as_written(tmp_path):
    """The README's quick-start command works in an empty folder and reports the build."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    command = section.split("```bash\n", 1)[1].split("```", 1)[0].strip()
    assert command.startswith("appsplus build --source sample")
    proc = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "kept" in proc.stdout and "rejected" in proc.stdout
    assert (tmp_path / "apps-plus-sample" / "manifest.json").is_file()
