"""Isolation modes and the one policy, for real: root, an unprivileged uid, no user namespaces.

The non-root run (`test_hostile_suite_as_an_unprivileged_uid`, marked slow) builds a venv
that an ordinary uid can read and runs this folder's hostile and basic tests as that uid.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nonroot_env  # noqa: I001 (tests/execution is on sys.path under pytest)
import pytest

from appsplus.execution import Isolation, StdioTest, run_tests
from appsplus.execution.policy import ALLOW_UNISOLATED_ENV, IsolationUnavailable, check_isolation


def test_full_isolation_where_the_machine_is_known_to_allow_it(pool):
    """CI sets APPSPLUS_REQUIRE_FULL_ISOLATION=1: there a missing mechanism is a failure,
    not a skip (the containment tests would otherwise skip silently)."""
    if os.environ.get("APPSPLUS_REQUIRE_FULL_ISOLATION") != "1":
        pytest.skip("APPSPLUS_REQUIRE_FULL_ISOLATION is not set (CI sets it)")
    iso = pool.isolation()
    assert iso.full, f"full isolation expected here, got {iso.mode}: {iso.cause}"


def test_isolation_lists_every_mechanism_in_force(pool):
    iso = pool.isolation()
    if not iso.full:
        pytest.skip(f"no full isolation on this machine: {iso.cause}")
    assert iso.cause is None
    assert iso.mode == ("root" if os.geteuid() == 0 else "rootless")
    names = iso.in_force
    for name in ("mount_namespace", "network_namespace", "pid_namespace", "ipc_namespace",
                 "read_only_filesystem", "private_tmp", "private_proc", "hidden_home"):  # fmt: skip
        assert name in names
    assert ("unprivileged_user" in names) == (iso.mode == "root")
    assert ("user_namespace" in names) == (iso.mode == "rootless")
    assert iso.tmpfs_budget_mb > 0
    result = run_tests("print(1)", [StdioTest(input="", output="1")], pool=pool)
    assert result.isolation == iso


def test_policy_refuses_partial_isolation_unless_opted_in(monkeypatch):
    partial = Isolation(mode="none", cause="user namespaces are refused here")
    monkeypatch.delenv(ALLOW_UNISOLATED_ENV, raising=False)
    with pytest.raises(IsolationUnavailable, match="user namespaces are refused") as e:
        check_isolation(partial)
    assert "--allow-unisolated" in str(e.value) and ALLOW_UNISOLATED_ENV in str(e.value)
    check_isolation(partial, allow=True)
    monkeypatch.setenv(ALLOW_UNISOLATED_ENV, "1")
    check_isolation(partial)
    with pytest.raises(IsolationUnavailable):
        check_isolation(partial, allow=False)  # the caller's explicit choice wins


# --------------------------------------------------------------------------- no user namespaces
NO_USERNS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from appsplus.execution import StdioTest, WorkerPool, run_tests
    from appsplus.execution.policy import IsolationUnavailable
    out = {}
    try:
        with WorkerPool(1) as pool:
            pool.isolation()
        out["refused"] = None
    except IsolationUnavailable as e:
        out["refused"] = str(e)
    with WorkerPool(1, allow_unisolated=True) as pool:
        r = run_tests("print(int(input()) + 1)", [StdioTest(input="1\\n", output="2")], pool=pool)
        out["passed"] = r.passed
        out["isolation"] = r.isolation.model_dump()
    print(json.dumps(out))
    """
)


def _without_user_namespaces(*cmd: str) -> list[str]:
    """`cmd` where creating user namespaces fails: in a child user namespace whose
    max_user_namespaces is 0 (root there maps to no other uid: as in a rootless container)."""
    inner = "echo 0 > /proc/sys/user/max_user_namespaces && exec " + " ".join(f"'{c}'" for c in cmd)
    return ["unshare", "--user", "--map-root-user", "--", "sh", "-c", inner]


@pytest.fixture(scope="module")
def no_userns_available():
    if shutil.which("unshare") is None or sys.platform != "linux":
        pytest.skip("needs util-linux unshare on Linux")
    probe = subprocess.run(_without_user_namespaces("true"), capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a place without user namespaces here: {probe.stderr.strip()}")


def test_without_user_namespaces_untrusted_code_needs_the_opt_in(no_userns_available, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(NO_USERNS_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != ALLOW_UNISOLATED_ENV}
    before = set(Path("/tmp").glob("appsplus-worker-*"))
    done = subprocess.run(
        _without_user_namespaces(sys.executable, str(script)),
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["refused"] and "user namespaces are refused" in out["refused"]
    assert "--allow-unisolated" in out["refused"] and "Remedy" in out["refused"]
    assert out["passed"] is True
    iso = Isolation(**out["isolation"])
    assert iso.mode == "none" and not iso.full and iso.cause
    # the refused worker and the opted-in one left no work folder in the shared /tmp
    assert set(Path("/tmp").glob("appsplus-worker-*")) <= before


def test_cli_refuses_clearly_and_accepts_allow_unisolated(no_userns_available, tmp_path):
    program = tmp_path / "p.py"
    program.write_text("print(int(input()) * 2)\n")
    tests = tmp_path / "t.json"
    tests.write_text(json.dumps({"inputs": ["2\n"], "outputs": ["4\n"]}))
    env = {k: v for k, v in os.environ.items() if k != ALLOW_UNISOLATED_ENV}
    base = [
        sys.executable,
        "-m",
        "appsplus.cli.app",
        "exec",
        str(program),
        "--tests",
        str(tests),
        "--json",
    ]
    refused = subprocess.run(
        _without_user_namespaces(*base), capture_output=True, text=True, timeout=120, env=env
    )
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr
    assert "user namespaces are refused" in refused.stderr
    assert "--allow-unisolated" in refused.stderr
    allowed = subprocess.run(
        _without_user_namespaces(*base, "--allow-unisolated"),
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr[-2000:]


# --------------------------------------------------------------------------- an unprivileged uid
ROOTLESS_PROBE = (
    "from appsplus.execution import WorkerPool\n"
    "with WorkerPool(1, allow_unisolated=True) as pool:\n"
    "    print(pool.isolation().model_dump_json())\n"
)


@pytest.mark.slow
def test_hostile_suite_as_an_unprivileged_uid():
    """The hostile and basic tests of this folder, run by pytest as a real ordinary uid
    (rootless mode), with its own venv, checkout and home (it owns them all)."""
    reason = nonroot_env.unavailable_reason()
    if reason:
        pytest.skip(f"non-root run not possible: {reason}")
    base = Path("/opt") / f"appsplus-nonroot-{secrets.token_hex(6)}"
    try:
        env = nonroot_env.build(base)
        probe = subprocess.run(
            nonroot_env.command(env, "-c", ROOTLESS_PROBE),
            cwd=env["src"], capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert probe.returncode == 0, probe.stderr[-2000:]
        iso = Isolation(**json.loads(probe.stdout.strip().splitlines()[-1]))
        if not iso.full:  # e.g. Ubuntu 24.04's AppArmor restriction of user namespaces
            pytest.skip(f"no rootless isolation for an ordinary uid here: {iso.cause}")
        assert iso.mode == "rootless"
        cmd = nonroot_env.command(
            env, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
            "tests/execution/test_execution_hostile.py",
            "tests/execution/test_execution_basic.py",
            "tests/execution/test_isolation_modes.py",
            "-k", "not unprivileged_uid",
            # CI's demand for full isolation holds for the ordinary uid too
            extra_env={k: v for k, v in os.environ.items() if k == "APPSPLUS_REQUIRE_FULL_ISOLATION"},
        )  # fmt: skip
        done = subprocess.run(cmd, cwd=env["src"], capture_output=True, text=True, timeout=900)
        tail = (done.stdout + done.stderr)[-4000:]
        assert done.returncode == 0, tail
        assert " passed" in done.stdout and " failed" not in done.stdout, tail
        # the rootless run must not have skipped what the root run checks: the skips allowed
        # are by design (your files outside $HOME stay readable in rootless mode) and, as in
        # the root run, the CI-only check when CI's variable is not set
        allowed = ["rootless: programs run as your uid"]
        if "APPSPLUS_REQUIRE_FULL_ISOLATION" not in os.environ:
            allowed.append("APPSPLUS_REQUIRE_FULL_ISOLATION is not set")
        skips = [ln for ln in done.stdout.splitlines() if ln.startswith("SKIPPED")]
        unexpected = [ln for ln in skips if not any(a in ln for a in allowed)]
        assert not unexpected, "\n".join(unexpected)
        summary = done.stdout.strip().splitlines()[-1]
        print(summary)
    finally:
        shutil.rmtree(base, ignore_errors=True)
