"""What `pip install appsplus` puts on a user's path: one top-level package and two scripts."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap


def test_the_distribution_installs_one_top_level_package_and_two_console_scripts():
    dist = importlib.metadata.distribution("appsplus")
    assert dist.read_text("top_level.txt").split() == ["appsplus"]
    scripts = {e.name: e.value for e in dist.entry_points if e.group == "console_scripts"}
    assert scripts == {"appsplus": "appsplus.cli.app:main", "bench": "appsplus.bench.cli:main"}


def test_a_project_with_its_own_benchmarks_and_trainers_packages_imports_both(tmp_path):
    """Research repositories often have `benchmarks/` and `trainers/`: ours must not shadow
    theirs, nor theirs ours."""
    for name in ("benchmarks", "trainers"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"OWNER = 'user-{name}'\n")
        (tmp_path / name / "api.py").write_text("USER_API = True\n")
    code = textwrap.dedent(
        """
        import benchmarks, trainers, benchmarks.api, trainers.api
        assert benchmarks.OWNER == "user-benchmarks" and trainers.OWNER == "user-trainers"
        assert benchmarks.api.USER_API and trainers.api.USER_API
        from appsplus.bench.api import SamplingSpec
        from appsplus.trainers.config import ConfigError
        import appsplus.bench.cli, appsplus.trainers.stepcoder
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_trainers_run_as_modules_of_the_namespace(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "appsplus.trainers.sft", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "appsplus.trainers.sft" in done.stdout
