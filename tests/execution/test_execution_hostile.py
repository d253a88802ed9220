"""Hostile programs against the real sandbox.

Every case is pinned to its expected verdict, and after every case the harness must be
healthy (see `conftest.HealthSnapshot.assert_healthy`): a normal program still passes on the
same pool, no process outlives its run, and nothing new appears in the host's temp dirs.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from appsplus.execution import (
    CallTest,
    ExecutionResult,
    Limits,
    SandboxError,
    StdioTest,
    Verdict,
    run_tests,
)

TESTS_DIR = Path(__file__).resolve().parent
P, WA, RE, TLE, MLE, OLE, CE, SKIP = (
    Verdict.PASSED,
    Verdict.WRONG_ANSWER,
    Verdict.RUNTIME_ERROR,
    Verdict.TIMEOUT,
    Verdict.MEMORY_EXCEEDED,
    Verdict.OUTPUT_LIMIT_EXCEEDED,
    Verdict.COMPILE_ERROR,
    Verdict.SKIPPED,
)


def stdio(inp: str = "", out: str = "") -> StdioTest:
    return StdioTest(input=inp, output=out)


@pytest.fixture
def judge(pool, snapshot_health):
    """Run a program on the module's pool, then assert the harness is still healthy."""

    def run(program, tests, limits=None, **kwargs) -> ExecutionResult:
        snap = snapshot_health()
        result = run_tests(program, tests, limits, pool=pool, **kwargs)
        snap.assert_healthy()
        return result

    return run


@pytest.fixture
def isolation(pool):
    return pool.isolation()


def errors(result: ExecutionResult) -> str:
    return " | ".join(t.error or "" for t in result.tests)


# --------------------------------------------------------------------------- time
def test_infinite_loop_times_out(judge):
    result = judge("while True:\n    pass\n", [stdio(out="1")], Limits(time_s=1))
    assert result.verdicts == [TLE]
    assert "exceeded" in errors(result)


def test_infinite_loop_swallowing_exceptions_times_out(judge):
    program = (
        "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass\n"
    )
    result = judge(program, [stdio(out="1")], Limits(time_s=1))
    assert result.verdicts == [TLE]


def test_ignoring_signals_still_times_out(judge):
    program = (
        "import signal\n"
        "for s in (signal.SIGXCPU, signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "while True:\n    pass\n"
    )
    result = judge(program, [stdio(out="1")], Limits(time_s=1))
    assert result.verdicts == [TLE]


# --------------------------------------------------------------------------- output
def test_print_flood_is_output_limit_exceeded(judge):
    result = judge(
        'while True:\n    print("spam" * 100)\n', [stdio(out="1")], Limits(output_bytes=4096)
    )
    assert result.verdicts == [OLE]
    assert len(result.tests[0].output) <= 4096


def test_flood_without_newlines_is_output_limit_exceeded(judge):
    program = "import sys\nwhile True:\n    sys.stdout.write('x')\n"
    result = judge(program, [stdio(out="1")], Limits(output_bytes=4096))
    assert result.verdicts == [OLE]


def test_huge_return_value_is_output_limit_exceeded(judge):
    test = CallTest(fn_name="f", args=[1], expected="x")
    result = judge("def f(x):\n    return 'x' * 10**6\n", [test], Limits(output_bytes=4096))
    assert result.verdicts == [OLE]


def test_stderr_flood_and_big_files_hit_the_file_size_cap(judge):
    limits = Limits(output_bytes=4096)
    flood = judge(
        "import sys\nwhile True:\n    sys.stderr.write('x' * 1000)\n", [stdio(out="1")], limits
    )
    assert flood.verdicts == [RE]
    assert "File too large" in errors(flood)
    big = judge("open('big', 'w').write('x' * 10**6)\nprint(1)\n", [stdio(out="1")], limits)
    assert big.verdicts == [RE]
    assert "File too large" in errors(big)


def test_invalid_utf8_output_is_wrong_answer(judge):
    program = "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe')\n"
    result = judge(program, [stdio(out="1")])
    assert result.verdicts == [WA]
    assert "\ufffd" in result.tests[0].output


# --------------------------------------------------------------------------- stdin
def test_reading_past_stdin_is_runtime_error(judge):
    result = judge("a = input()\nb = input()\nprint(a, b)\n", [stdio("1\n", "1 1")])
    assert result.verdicts == [RE]
    assert "EOFError" in errors(result)


def test_program_that_never_reads_stdin_passes(judge):
    result = judge("print(5)\n", [stdio("1 2 3\n" * 100_000, "5\n")])
    assert result.verdicts == [P]


def test_open_0_sees_each_tests_own_input(judge):
    # Regression: `open(0)` closes fd 0 when collected, and the next test's stdin used to
    # land on the wrong fd.
    tests = [stdio(f"{w}\n", f"{w}\n") for w in ("alpha", "beta", "gamma", "delta")]
    result = judge("print(open(0).read().strip())\n", tests)
    assert result.verdicts == [P] * 4
    assert [t.output for t in result.tests] == ["alpha\n", "beta\n", "gamma\n", "delta\n"]


def test_closing_fds_0_1_2_does_not_leak_into_the_next_test(judge):
    program = "import os, sys\nprint(input())\nsys.stdout.flush()\nos.close(0)\nos.close(1)\nos.close(2)\n"
    tests = [stdio(f"{i}\n", f"{i}\n") for i in range(3)]
    result = judge(program, tests)
    assert result.verdicts == [P] * 3


# --------------------------------------------------------------------------- exits
@pytest.mark.parametrize(
    ("program", "verdict"),
    [
        ("import sys\nprint(42)\nsys.exit(0)\nprint(1)\n", P),  # stdout so far is judged
        ("import sys\nprint(42)\nsys.exit()\n", P),
        ("import sys\nsys.exit(0)\nprint(42)\n", WA),
        ("import sys\nprint(42)\nsys.exit(1)\n", RE),
        ("import sys\nprint(42)\nsys.exit('bye')\n", RE),
        ("import os\nprint(42)\nos._exit(0)\n", P),  # buffered output is flushed
        ("import os\nprint(42)\nos._exit(3)\n", RE),
        ("print(42)\nexit()\n", P),  # site's exit/quit exist although workers run with -S
        ("print(42)\nquit()\n", P),
        ("print(42)\nexit(2)\n", RE),
    ],
)
def test_exits(judge, program, verdict):
    result = judge(program, [stdio(out="42\n"), stdio(out="42\n")])
    assert result.verdicts == [verdict, verdict]
    if program.endswith("os._exit(3)\n"):
        assert "exit code 3" in errors(result)


def test_top_level_return_in_stdio_program(judge):
    program = (
        "import sys\n"
        "n = int(input())\n"
        "if n > 0:\n    print('pos')\n    return\n"
        "for line in sys.stdin:\n    print('loop')\n    return\n"
        "print('neg')\n"
    )
    tests = [stdio("1\n", "pos"), stdio("-1\n", "neg"), stdio("-1\nmore\n", "loop")]
    result = judge(program, tests)
    assert result.verdicts == [P, P, P]


# --------------------------------------------------------------------------- compile
def test_syntax_error_is_compile_error_for_every_test(judge):
    result = judge("def f(:\n    pass\n", [stdio(out="1"), stdio(out="2"), stdio(out="3")])
    assert result.verdicts == [CE] * 3
    assert result.compile_error and "SyntaxError" in result.compile_error
    assert not result.passed


def test_null_bytes_are_compile_error(judge):
    result = judge("print(1)\x00\n", [stdio(out="1")])
    assert result.verdicts == [CE]
    assert result.compile_error


def test_call_based_syntax_error_is_compile_error(judge):
    result = judge(
        "class Solution:\n    def f(self x):\n", [CallTest(fn_name="f", args=[1], expected=1)]
    )
    assert result.verdicts == [CE]


# --------------------------------------------------------------------------- recursion
def test_default_recursion_limit_is_runtime_error(judge):
    result = judge("def f(n):\n    return f(n + 1)\nf(0)\n", [stdio(out="1")])
    assert result.verdicts == [RE]
    assert "RecursionError" in errors(result)


@pytest.mark.parametrize(
    "program",
    [
        # recursion through C code (lru_cache's wrapper, map) overflows the C stack
        "import sys\nsys.setrecursionlimit(10**9)\nfrom functools import lru_cache\n"
        "@lru_cache(None)\ndef f(n):\n    return 0 if n == 0 else f(n - 1) + 1\nprint(f(10**7))\n",
        "import sys\nsys.setrecursionlimit(10**9)\nf = lambda n: 0 if n == 0 else max(map(f, [n - 1])) + 1\n"
        "print(f(10**7))\n",
    ],
    ids=["lru_cache", "map"],
)
def test_unbounded_recursion_through_c_code_is_runtime_error(judge, program):
    result = judge(program, [stdio(out="1")])
    assert result.verdicts == [RE]
    # the C stack overflows before 3.12; since then CPython's own C recursion limit stops it
    assert ("RecursionError" if sys.version_info >= (3, 12) else "SIGSEGV") in errors(result)


def test_unbounded_pure_python_recursion_does_not_pass(judge):
    # Python 3.11 and 3.12 keep Python-to-Python frames off the C stack, so this grows the
    # heap until the memory or time limit ends it; 3.10 overflows the C stack (SIGSEGV), and
    # 3.13 either stops it at its C stack guard (RecursionError) or overflows too.
    program = "import sys\nsys.setrecursionlimit(10**9)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n"
    result = judge(program, [stdio(out="1")], Limits(time_s=1, memory_mb=256))
    if (3, 11) <= sys.version_info < (3, 13):
        assert result.verdicts[0] in (TLE, MLE)
    else:
        assert result.verdicts == [RE]
        assert "SIGSEGV" in errors(result) or "RecursionError" in errors(result)


def test_recursion_limit_does_not_leak_between_tests(judge):
    program = "import sys\nif input() == 'set':\n    sys.setrecursionlimit(12345)\nprint(sys.getrecursionlimit())\n"
    result = judge(program, [stdio("set\n", "12345"), stdio("get\n", "1000")])
    assert result.verdicts == [P, P]


# --------------------------------------------------------------------------- memory
@pytest.mark.parametrize(
    "program",
    [
        "x = bytearray(40 * 2**30)\n",
        "x = [0] * (10**10)\n",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))\n",
    ],
    ids=["bytearray-40GB", "list-10G", "gradual"],
)
def test_huge_allocation_is_memory_exceeded(judge, program):
    # a generous time limit: page faults are slow on a loaded machine
    result = judge(program, [stdio(out="1")], Limits(memory_mb=512, time_s=20))
    assert result.verdicts == [MLE]
    assert "MemoryError" in errors(result)


def test_allocating_40gb_under_default_limits(judge):
    result = judge("x = bytearray(40 * 2**30)\nprint(len(x))\n", [stdio(out="1")])
    assert result.verdicts == [MLE]


# --------------------------------------------------------------------------- processes
@pytest.mark.parametrize(
    "program",
    [
        "import os\nwhile True:\n    os.fork()\n",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    ],
    ids=["plain", "swallowing"],
)
def test_fork_bomb_ends_within_the_limit(judge, program):
    t0 = time.monotonic()
    result = judge(program, [stdio(out="1")], Limits(time_s=2))
    assert result.verdicts[0] in (TLE, RE)
    assert time.monotonic() - t0 < 15  # the limit plus reaping, never a hang


@pytest.mark.parametrize(
    "program",
    [
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(100)\n"
        "    os._exit(0)\nprint(1)\n",
        "import subprocess\nsubprocess.Popen(['sleep', '100'], start_new_session=True)\nprint(1)\n",
    ],
    ids=["double-fork-setsid", "subprocess-new-session"],
)
def test_escaped_daemons_are_killed(judge, isolation, program):
    if not isolation.pid_namespace:
        pytest.skip("escaped daemons are only reaped inside a pid namespace (needs root)")
    result = judge(program, [stdio(out="1"), stdio(out="1")], Limits(time_s=2))
    assert result.verdicts == [P, P]


def test_program_cannot_set_the_namespaces_last_pid(judge, isolation):
    """The worker tells a run that made no process by the namespace's last pid: a program
    must not be able to set it back."""
    if not isolation.pid_namespace:
        pytest.skip("no pid namespace of the worker's own")
    program = (
        "try:\n    open('/proc/sys/kernel/ns_last_pid', 'w').write('2')\n    print('set')\n"
        "except OSError as e:\n    print(type(e).__name__)\n"
    )
    result = judge(program, [stdio(out="PermissionError")])
    assert result.verdicts == [P], result.tests[0].output


@pytest.mark.parametrize(
    "kill",
    ["os.kill(os.getppid(), 9)", "os.kill(-1, 9)", "os.killpg(0, 9)"],
)
def test_killing_the_parent_or_everything(judge, isolation, kill):
    require_full(isolation)
    program = f"import os\n{kill}\nprint(1)\n"
    try:
        result = judge(program, [stdio(out="1"), stdio(out="1")])
    except SandboxError as e:  # pragma: no cover - the failure we guard against
        pytest.fail(f"a hostile program broke the sandbox: {e}")
    if kill == "os.kill(-1, 9)":
        # Nothing it may signal: ESRCH when it is alone in the namespace, success that
        # signals no one when the worker's next child (the spare) exists but is out of reach.
        assert result.verdicts in ([RE, RE], [P, P])
    else:
        assert result.verdicts == [RE, RE]
    # Swallowing the error: the program survives and is judged on its output.
    survived = judge(
        f"import os\ntry:\n    {kill}\nexcept OSError:\n    pass\nprint(1)\n", [stdio(out="1")]
    )
    assert survived.verdicts[0] in ((RE,) if "killpg" in kill else (P,))


def test_program_can_signal_no_other_process(judge, isolation):
    require_full(isolation)
    # Signal 0 only checks permission: a safe probe of what the program could kill.
    program = (
        "import os\nok = 0\n"
        "for name in os.listdir('/proc'):\n"
        "    if name.isdigit() and int(name) != os.getpid():\n"
        "        try:\n            os.kill(int(name), 0)\n            ok += 1\n"
        "        except OSError:\n            pass\n"
        "print(ok)\n"
    )
    result = judge(program, [stdio(out="0")])
    assert result.verdicts == [P], result.tests[0].output


# --------------------------------------------------------------------------- filesystem
NOT_WRITABLE = ("PermissionError", "Read-only file system", "No such file or directory")


def _refused(result: ExecutionResult) -> bool:
    return result.verdicts == [RE] and any(w in errors(result) for w in NOT_WRITABLE)


def require_full(isolation) -> None:
    if not isolation.full:
        pytest.skip(f"no full isolation here ({isolation.cause}): the opt-in mode")


def _places() -> dict[str, Path]:
    """Places an ordinary user can write: home, the checkout, the venv, its site-packages."""
    import site

    return {
        "home": Path.home(),
        "checkout": TESTS_DIR,
        "venv": Path(sys.prefix),
        "site-packages": Path(site.getsitepackages()[0]),
    }


@pytest.mark.parametrize("place", ["home", "checkout", "venv", "site-packages"])
def test_writing_the_users_places_fails(judge, isolation, place):
    require_full(isolation)
    target = _places()[place] / f"escape-{secrets.token_hex(8)}.txt"
    try:
        result = judge(f"open({str(target)!r}, 'w').write('x')\nprint(1)\n", [stdio(out="1")])
        assert _refused(result), errors(result)
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_writing_to_tmp_stays_off_the_host(judge, isolation):
    require_full(isolation)
    name = f"appsplus-escape-{secrets.token_hex(8)}"
    program = (
        f"for d in ('/tmp', '/var/tmp', '/dev/shm'):\n    open(d + '/{name}', 'w').write('x')\n"
        "print(1)\n"
    )
    result = judge(program, [stdio(out="1")])
    assert result.verdicts == [P]  # the writes land in the worker's private tmpfs
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not (Path(d) / name).exists()


def test_tmp_writes_do_not_leak_into_the_next_program(judge, isolation):
    require_full(isolation)
    name = f"leftover-{secrets.token_hex(8)}"
    program = (
        "import os\n"
        f"for d in ('/tmp', '/var/tmp', '/dev/shm'):\n    os.makedirs(d + '/{name}/sub')\n"
        f"    open(d + '/{name}/sub/f', 'w').write('secret')\n    os.chmod(d + '/{name}/sub', 0)\n"
        "print(1)\n"
    )
    judge(program, [stdio(out="1")])
    check = f"import os\nprint([os.path.exists(d + '/{name}') for d in ('/tmp', '/var/tmp', '/dev/shm')])\n"
    result = judge(check, [stdio(out="[False, False, False]")])
    assert result.verdicts == [P], result.tests[0].output


# Ways a program can leave the private temp dirs looking almost untouched: the worker's
# quick check (entry counts, inodes, modes) must see each, and the next program must find
# /tmp holding only its work folder, empty, its own to write in.
TAMPERING = {
    "made-and-removed": "open('/tmp/x', 'w').close()\nos.remove('/tmp/x')\n",
    "work-folder-swapped": "os.chdir('/')\nos.rmdir('/tmp/appsplus-run')\nopen('/tmp/y', 'w').close()\n",
    "work-folder-replaced": "os.chdir('/')\nos.rmdir('/tmp/appsplus-run')\nos.mkdir('/tmp/appsplus-run')\n",
    "work-folder-locked": "os.chmod('.', 0)\n",
    "file-in-work-folder": "open('f', 'w').write('left')\n",
}
CHECK_TMP = (
    "import os\nprint(sorted(os.listdir('/tmp')), os.listdir('.'), os.getcwd())\n"
    "open('mine', 'w').write('ok')\nprint(open('mine').read())\n"
)


def _bound_back_into_tmp() -> list[str]:
    """Names in the private /tmp besides the work folder: code that lives under the host's
    /tmp (this checkout, the interpreter) is bound back there, read-only."""
    import site

    import appsplus

    paths = [Path(appsplus.__file__).resolve(), Path(sys.prefix).resolve()]
    paths += [Path(p).resolve() for p in site.getsitepackages()]
    return sorted({p.parts[2] for p in paths if len(p.parts) > 2 and p.parts[1] == "tmp"})


@pytest.mark.parametrize("tamper", list(TAMPERING), ids=list(TAMPERING))
def test_tampering_with_the_work_folder_does_not_reach_the_next_program(judge, isolation, tamper):
    require_full(isolation)
    judge("import os\n" + TAMPERING[tamper] + "print(1)\n", [stdio(out="1")])
    listing = sorted(["appsplus-run", *_bound_back_into_tmp()])
    result = judge(CHECK_TMP, [stdio(out=f"{listing} [] /tmp/appsplus-run\nok")])
    assert result.verdicts == [P], result.tests[0].output + result.tests[0].stderr


def test_deleting_the_users_files_fails(judge, isolation):
    require_full(isolation)
    sentinels = [TESTS_DIR / f".sentinel-{secrets.token_hex(8)}", Path.home() / f".appsplus-sentinel-{secrets.token_hex(8)}"]  # fmt: skip
    for s in sentinels:
        s.write_text("keep me")
    try:
        for s in sentinels:
            for action in ("os.remove", "os.unlink"):
                result = judge(f"import os\n{action}({str(s)!r})\nprint(1)\n", [stdio(out="1")])
                assert _refused(result), errors(result)
            truncate = judge(f"open({str(s)!r}, 'w')\nprint(1)\n", [stdio(out="1")])
            assert _refused(truncate), errors(truncate)
            assert s.read_text() == "keep me"
    finally:
        for s in sentinels:
            s.unlink(missing_ok=True)


def test_a_private_key_in_home_is_unreadable(judge, isolation):
    require_full(isolation)
    key = Path.home() / f".appsplus-test-key-{secrets.token_hex(8)}"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----")
    key.chmod(0o600)
    try:
        program = f"print(open({str(key)!r}).read())\n"
        result = judge(program, [stdio(out="-----BEGIN OPENSSH PRIVATE KEY-----")])
        assert _refused(result), result.tests[0].output
        listing = judge(
            f"import os\nprint(sorted(os.listdir({str(Path.home())!r})))\n", [stdio(out="x")]
        )
        assert key.name not in listing.tests[0].output
    finally:
        key.unlink(missing_ok=True)


def test_reading_another_users_private_file_fails(judge, isolation):
    if not isolation.unprivileged_user:
        pytest.skip("rootless: programs run as your uid; your files outside $HOME stay readable")
    # a folder the sandbox sees (a checkout under /tmp is hidden by the private /tmp)
    private = ("/tmp/", "/var/tmp/", "/dev/shm/")
    where = Path("/var/lib") if str(TESTS_DIR).startswith(private) else TESTS_DIR
    secret = where / f".appsplus-secret-{secrets.token_hex(8)}"
    secret.write_text("private")
    secret.chmod(0o600)
    try:
        result = judge(f"print(open({str(secret)!r}).read())\n", [stdio(out="private")])
        assert result.verdicts == [RE], result.tests[0].output
        assert "PermissionError" in errors(result)
    finally:
        secret.unlink(missing_ok=True)


def test_symlinks_from_the_work_folder_reach_nothing(judge, isolation):
    require_full(isolation)
    victim_dir = TESTS_DIR / f".victim-{secrets.token_hex(8)}"
    victim_dir.mkdir()
    victim = victim_dir / "data"
    victim.write_text("keep me")
    try:
        program = (
            "import os\n"
            f"os.symlink({str(victim_dir)!r}, 'dir')\nos.symlink({str(victim)!r}, 'file')\n"
            "os.symlink('/', 'root')\n"
            "for path in ('file', 'dir/new', 'root/etc/appsplus-escape'):\n"
            "    try:\n        open(path, 'w').write('x')\n        print('wrote', path)\n"
            "    except OSError:\n        pass\n"
            "print('done')\n"
        )
        result = judge(program, [stdio(out="done")])
        assert result.verdicts == [P], result.tests[0].output
        # the work folder's cleanup removed the links, never what they point to
        assert victim.read_text() == "keep me"
        assert sorted(p.name for p in victim_dir.iterdir()) == ["data"]
        assert not Path("/etc/appsplus-escape").exists()
    finally:
        victim.unlink(missing_ok=True)
        victim_dir.rmdir()


# --------------------------------------------------------------------------- memory in files
@pytest.mark.parametrize("where", ["/tmp", "/var/tmp", "/dev/shm", "."])
def test_filling_private_tmpfs_stops_at_its_budget(judge, isolation, where):
    require_full(isolation)
    program = (
        "import os\n"
        "chunk = b'x' * (8 << 20)\n"
        f"for i in range(10**4):\n    open(os.path.join({where!r}, f'f{{i}}'), 'wb').write(chunk)\n"
    )
    t0 = time.monotonic()
    result = judge(program, [stdio(out="1")], Limits(time_s=20, memory_mb=256))
    assert result.verdicts == [RE], result.tests[0].error
    assert "No space left on device" in errors(result)
    assert time.monotonic() - t0 < 15
    # the budget is free again for the next program
    again = judge("open('/tmp/f', 'wb').write(b'x' * (32 << 20))\nprint(1)\n", [stdio(out="1")])
    assert again.verdicts == [P], errors(again)


@pytest.mark.parametrize(
    "program",
    [
        "import os\nfds = [os.memfd_create('m') for _ in range(100)]\n",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "assert libc.shmget(0, 1 << 30, 0o1000 | 0o600) >= 0, 'shmget refused'\n",
    ],
    ids=["memfd", "sysv-shm"],
)
def test_memory_outside_rlimits_is_refused(judge, isolation, program):
    if not isolation.seccomp:
        pytest.skip("no seccomp filter here (x86_64 Linux only)")
    result = judge(program + "print(1)\n", [stdio(out="1")])
    assert result.verdicts == [RE], errors(result)


# --------------------------------------------------------------------------- rlimits, /proc, ptrace
@pytest.mark.parametrize("res", ["RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_FSIZE"])
def test_raising_rlimits_fails(judge, res):
    program = (
        "import resource\n"
        f"soft, hard = resource.getrlimit(resource.{res})\n"
        f"resource.setrlimit(resource.{res}, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "print(1)\n"
    )
    result = judge(program, [stdio(out="1")])
    assert result.verdicts == [RE], errors(result)
    assert "ValueError" in errors(result) or "PermissionError" in errors(result)


def test_the_harness_is_invisible_in_proc_and_untraceable(judge, isolation):
    require_full(isolation)
    me, parent = os.getpid(), os.getppid()
    program = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "seen = []\n"
        f"for pid in ({me}, {parent}):\n"
        "    for what in ('mem', 'environ', 'cmdline'):\n"
        "        try:\n            open(f'/proc/{pid}/{what}', 'rb').read(1)\n"
        "            seen.append((pid, what))\n"
        "        except OSError:\n            pass\n"
        "for pid in (1, os.getppid()):\n"
        "    for what in ('mem', 'environ'):\n"
        "        try:\n            open(f'/proc/{pid}/{what}', 'rb').read(1)\n"
        "            seen.append((pid, what))\n"
        "        except OSError:\n            pass\n"
        "    if libc.ptrace(16, pid, 0, 0) == 0:\n        seen.append((pid, 'ptrace'))\n"
        "print(seen)\n"
    )
    result = judge(program, [stdio(out="[]")])
    assert result.verdicts == [P], result.tests[0].output


@pytest.mark.parametrize("target", ["caller", "callers-parent"])
def test_killing_the_caller_fails(judge, isolation, target):
    require_full(isolation)
    pid = os.getpid() if target == "caller" else os.getppid()
    result = judge(f"import os\nos.kill({pid}, 9)\nprint(1)\n", [stdio(out="1")])
    assert result.verdicts == [RE]  # no such process in its pid namespace, or no permission


# --------------------------------------------------------------------------- network
class _OneShotServer:
    """A TCP server on 127.0.0.1 that records accepted connections and stops by itself."""

    def __init__(self, lifetime_s: float = 10.0) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[tuple] = []
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime_s
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                try:
                    conn, addr = self.sock.accept()
                except TimeoutError:
                    continue
                self.accepted.append(addr)
                conn.close()
        finally:
            self.sock.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)


def test_network_is_unreachable(judge, isolation):
    require_full(isolation)
    server = _OneShotServer()
    try:
        # Sanity: the server accepts connections from outside the sandbox.
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        deadline = time.monotonic() + 2
        while not server.accepted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(server.accepted) == 1
        program = (
            "import socket\n"
            f"s = socket.create_connection(('127.0.0.1', {server.port}), timeout=2)\n"
            "s.sendall(b'hello')\nprint('connected')\n"
        )
        result = judge(program, [stdio(out="connected")], Limits(time_s=4))
        time.sleep(0.2)
        assert result.verdicts == [RE]
        assert len(server.accepted) == 1, "the sandboxed program reached the host network"
    finally:
        server.close()


def test_loopback_inside_the_sandbox_works(judge, isolation):
    """No network but loopback: a program can talk to a server of its own on 127.0.0.1 (a
    test of a judged program may start one), only the host's are out of reach."""
    require_full(isolation)
    program = (
        "import socket, threading\n"
        "srv = socket.create_server(('127.0.0.1', 0))\n"
        "def echo():\n"
        "    conn, _ = srv.accept()\n"
        "    conn.sendall(conn.recv(16)[::-1])\n"
        "    conn.close()\n"
        "t = threading.Thread(target=echo)\n"
        "t.start()\n"
        "c = socket.create_connection(srv.getsockname(), timeout=2)\n"
        "c.sendall(input().encode())\n"
        "print(c.recv(16).decode())\n"
        "t.join()\n"
    )
    result = judge(program, [stdio("olleh\n", "hello"), stdio("cba\n", "abc")])
    assert result.verdicts == [P, P], errors(result)


# --------------------------------------------------------------------------- fooling the judge
def test_overriding_print_does_not_pass(judge):
    program = "import builtins\nbuiltins.print = lambda *a, **k: None\nprint(1)\n"
    result = judge(program, [stdio(out="1")])
    assert result.verdicts == [WA]


def test_patched_print_does_not_leak_into_the_next_test(judge):
    program = (
        "import builtins\n"
        "if input() == 'patch':\n"
        "    builtins.print = lambda *a, **k: None\n"
        "print(2)\n"
    )
    result = judge(program, [stdio("patch\n", "2"), stdio("plain\n", "2"), stdio("plain\n", "2")])
    assert result.verdicts == [WA, P, P]


def test_patched_len_does_not_leak_into_the_next_test(judge):
    program = (
        "import builtins\n"
        "if input() == 'patch':\n"
        "    builtins.len = lambda x: 7\n"
        "print(len([1, 2]))\n"
    )
    result = judge(program, [stdio("patch\n", "2"), stdio("plain\n", "2"), stdio("plain\n", "2")])
    assert result.verdicts == [WA, P, P]


def test_clobbering_builtins_does_not_pass_or_crash(judge):
    program = (
        "import builtins\nprint(1)\n"
        "builtins.isinstance = lambda *a: True\nbuiltins.len = lambda *a: 0\n"
        "builtins.__dict__.clear()\n"
    )
    result = judge(program, [stdio(out="2"), stdio(out="2")])
    assert result.verdicts == [WA, WA]


@pytest.mark.parametrize(
    "program",
    [
        "class A:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\n"
        "def f(x):\n    return A()\n",
        "class I(int):\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return I(1)\n",
        "class L(list):\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return L([1])\n",
        "class S(str):\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return S('no')\n",
        "import unittest.mock\ndef f(x):\n    return unittest.mock.ANY\n",
    ],
    ids=["eq-object", "int-subclass", "list-subclass", "str-subclass", "mock-ANY"],
)
def test_objects_equal_to_everything_do_not_pass(judge, program):
    result = judge(program, [CallTest(fn_name="f", args=[1], expected=[2, 3])])
    assert result.verdicts == [WA]


def test_str_eq_cannot_be_patched(judge):
    result = judge("str.__eq__ = lambda a, b: True\nprint(1)\n", [stdio(out="2")])
    assert result.verdicts == [RE]
    assert "TypeError" in errors(result)


# --------------------------------------------------------------------------- the status channel
JUNK = (
    b'garbage\n[1, 2]\nnull\n"text"\n{}\n{"type": 5}\n{"type": "done"}\n'
    b'{"type": "test", "i": 99}\n\xff\xfe\n'
)


@pytest.mark.parametrize("gate", [False, True], ids=["no-gate", "gate"])
def test_junk_on_the_status_channel_is_ignored(judge, gate):
    program = (
        "import os\n"
        "for fd in (3, 4):\n"
        "    try:\n"
        f"        os.write(fd, {JUNK!r} * 50)\n"
        "    except OSError:\n"
        "        pass\n"
        "print(input())\n"
    )
    tests = [stdio("1\n", "2"), stdio("2\n", "2"), stdio("3\n", "2")]
    result = judge(program, tests, stop_on_first_failure=gate)
    assert result.verdicts == ([WA, SKIP, SKIP] if gate else [WA, P, WA])


def test_closing_or_hijacking_the_status_channel(judge):
    closed = judge(
        "import os\nos.close(3)\nprint(input())\n", [stdio("1\n", "1"), stdio("2\n", "2")]
    )
    # the harness cannot report through a closed channel: the program is blamed, clearly
    assert closed.verdicts == [RE, RE]
    assert all("disrupted the test harness" in (t.error or "") for t in closed.tests)
    hijacked = judge(
        "import os\nos.dup2(1, 3)\nprint(input())\n", [stdio("1\n", "1"), stdio("2\n", "2")]
    )
    assert hijacked.verdicts == [WA, WA]  # the harness's own message lands in stdout


@pytest.mark.parametrize(
    "message",
    [
        {"type": "test", "i": 0, "duration": "abc"},
        {"type": "test", "i": 0, "lines": 5},
        {"type": "test", "i": 0, "error": {"a": 1}},
        {"type": "test", "i": 0, "ret": 5},
    ],
    ids=["duration", "lines", "error", "ret"],
)
def test_forged_status_messages_do_not_crash_the_harness(judge, message):
    payload = (json.dumps(message) + "\n").encode()
    program = f"import os\nos.write(3, {payload!r})\ndef f(x):\n    return 1\nprint(1)\n"
    call_test = CallTest(fn_name="f", args=[1], expected=2)
    tests = [call_test] if "ret" in message else [stdio(out="2")]
    result = judge(program, tests)
    assert result.verdicts[0] is not P


# --------------------------------------------------------------------------- threads
def test_daemon_thread_printing_forever_is_judged_when_main_ends(judge):
    program = (
        "import threading\n"
        "started = threading.Event()\n"
        "def spam():\n    while True:\n        print('spam')\n        started.set()\n"
        "threading.Thread(target=spam, daemon=True).start()\n"
        "started.wait()\n"
        "print(input())\n"
    )
    result = judge(program, [stdio("1\n", "1")])
    assert result.verdicts == [WA]  # its output is part of stdout; no hang, no timeout


def test_daemon_thread_writing_stderr_forever_passes(judge):
    program = (
        "import sys, threading, time\n"
        "def spam():\n    while True:\n        sys.stderr.write('spam\\n')\n        time.sleep(0.001)\n"
        "threading.Thread(target=spam, daemon=True).start()\n"
        "print(input())\n"
    )
    result = judge(program, [stdio("1\n", "1")])
    assert result.verdicts == [P]


def test_daemon_thread_does_not_break_later_tests(judge):
    program = (
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "print(input())\n"
    )
    result = judge(program, [stdio(f"{i}\n", f"{i}\n") for i in range(4)])
    assert result.verdicts == [P] * 4


def test_non_daemon_thread_printing_after_main_returns_passes(judge):
    program = (
        "import threading, time\n"
        "def late():\n    time.sleep(0.2)\n    print('late')\n"
        "threading.Thread(target=late).start()\n"
    )
    result = judge(program, [stdio(out="late"), stdio(out="late")])
    assert result.verdicts == [P, P]


def test_competitive_big_stack_thread_pattern_passes(judge):
    program = (
        "import sys, threading\n"
        "threading.stack_size(2**26)\n"
        "sys.setrecursionlimit(10**6)\n"
        "def main():\n"
        "    def depth(n):\n        return 0 if n == 0 else 1 + depth(n - 1)\n"
        "    print(depth(int(input())))\n"
        "t = threading.Thread(target=main)\n"
        "t.start()\n"
    )
    result = judge(program, [stdio("100000\n", "100000"), stdio("5\n", "5")])
    assert result.verdicts == [P, P]


# --------------------------------------------------------------------------- call-based exits
@pytest.mark.parametrize(
    "program",
    [
        "import os\ndef f(x):\n    print(2)\n    os._exit(0)\n",
        "import os\ndef f(x):\n    os._exit(0)\n",
        "import json\njson.dumps = lambda *a, **k: 'garbage'\ndef f(x):\n    return 1\n",
    ],
    ids=["prints-expected-then-exits", "exits-silently", "json-dumps-patched"],
)
def test_call_based_program_exiting_before_returning_is_wrong_answer(judge, program):
    result = judge(program, [CallTest(fn_name="f", args=[1], expected=2)])
    assert result.verdicts == [WA]


def test_call_based_sys_exit_before_returning_is_wrong_answer(judge):
    program = "import sys\ndef f(x):\n    print(2)\n    sys.exit(0)\n"
    result = judge(program, [CallTest(fn_name="f", args=[1], expected=2)])
    assert result.verdicts == [WA]


def test_closing_stdout_after_printing_passes_like_cpython(judge):
    result = judge("import sys\nprint(input())\nsys.stdout.close()\n", [stdio("1\n", "1")])
    assert result.verdicts == [P]
