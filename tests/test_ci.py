""".ci/run runs the README's install and test blocks in a fresh venv, and fails on no tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

from testkit import REPO_ROOT


def run_ci(tmp_path, install: str, test: str) -> subprocess.CompletedProcess:
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO_ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    readme = textwrap.dedent(
        f"""\
        # a project

        <!-- ci:install -->
        ```bash
        {install}
        ```

        <!-- ci:test -->
        ```bash
        {test}
        ```
        """
    )
    (tmp_path / "README.md").write_text(readme)
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # not CI's own browser step
    return subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_ci_installs_into_a_fresh_venv_without_the_machines_packages(tmp_path):
    # pydantic is installed where this test runs; a fresh venv must not see it
    install = "python -c 'import sys; assert sys.prefix != sys.base_prefix' > installed.txt"
    test = (
        "python -c 'import importlib.util as u, sys; "
        'print(sys.prefix); sys.exit(u.find_spec("pydantic") is not None)\''
    )
    done = run_ci(tmp_path, install, test)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "appsplus-ci-venv" in done.stdout  # the test block ran in CI's own venv
    prefix = next(line for line in done.stdout.splitlines() if line.startswith("/"))
    assert "appsplus-ci-venv" in prefix and not prefix.startswith(str(tmp_path))
    assert not Path(prefix).exists(), "the venv is removed afterwards"


def test_ci_fails_when_the_test_runner_collects_nothing(tmp_path):
    done = run_ci(tmp_path, "true", "exit 5")
    assert done.returncode == 5
    assert "collected no tests" in done.stderr


def test_ci_fails_when_the_install_fails(tmp_path):
    done = run_ci(tmp_path, "python -c 'raise SystemExit(3)'", "true")
    assert done.returncode != 0
