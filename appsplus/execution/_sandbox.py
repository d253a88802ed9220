"""Sandbox worker process. Stdlib only; started by `appsplus.execution.pool` as

    python -S -s -B _sandbox.py SITE_DIRS_JSON      (env: PYTHONHASHSEED=0, minimal)

Processes (one worker):

    launcher (this script)  sets up namespaces, forks the zygote, waits for it
      zygote                pid 1 of a new pid namespace when possible; reads jobs from
                            the parent, forks one child per program run, kills and reaps
        child               drops privileges, applies rlimits, runs the program's tests

The zygote never sees expected outputs: the parent (the judge) compares what the program
printed or returned. Frames on the parent pipes are a 4-byte big-endian length plus JSON.
Messages from the child to the zygote are JSON lines on fd 3; with a gate (used for
stop-on-first-failure) the child waits for one byte on fd 4 after each test.
"""

import ast
import builtins
import ctypes
import gc
import io
import json
import mmap
import os
import random
import resource
import select
import signal
import stat
import struct
import sys
import time

PROGRAM_FILENAME = "<program>"
STATUS_FD, GATE_FD, OUT_FD, ERR_FD = 3, 4, 5, 6
STDERR_PREVIEW = 4096
HARNESS_DISRUPTED = 70  # exit status of a child whose harness code failed
CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x40000000, 0x20000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
PR_SET_PDEATHSIG, PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS = 1, 8, 38
CAP_DAC_READ_SEARCH = 2
PRIVATE_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
MAX_MESSAGE_BYTES = 64 * 2**20
MAX_PROGRAM_CHARS = 1_000_000
RESERVE_BYTES = 4 << 20  # memory set aside so the harness can report a MemoryError

# The APPS convention: programs see these names without importing them (LeetCode-style
# code uses `List` unimported). The modules are imported once here, so the cost is paid
# once per worker rather than once per program.
PREAMBLE = """
import sys, os, io, math, time, heapq, bisect, itertools, functools, collections
import string, re, random, copy, operator, fractions
from typing import *
from collections import Counter, OrderedDict, defaultdict, deque, ChainMap
from itertools import accumulate, chain, combinations, combinations_with_replacement, permutations, product, groupby
from functools import lru_cache, reduce, cmp_to_key, cache
from math import ceil, floor, gcd, sqrt, log, log2, log10, exp, inf, pi, factorial, comb, perm
from heapq import heappush, heappop, heapify, heappushpop, heapreplace, nlargest, nsmallest
from bisect import bisect, bisect_left, bisect_right, insort, insort_left, insort_right
from fractions import Fraction
"""

# The harness code that runs after a program, in the same process, must not use builtins
# the program may have replaced: bind the ones it uses as module globals.
from builtins import (  # noqa: E402, UP029
    BaseException,
    bytearray,
    float,
    id,
    int,
    isinstance,
    len,
    memoryview,
    sorted,
    str,
    type,
)

_libc = ctypes.CDLL(None, use_errno=True)
_real_exit = os._exit


# --------------------------------------------------------------------------- framing
def read_exact(fd, n):
    chunks = []
    while n:
        data = os.read(fd, min(n, 1 << 20))
        if not data:
            raise EOFError
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


def read_frame(fd):
    (size,) = struct.unpack(">I", read_exact(fd, 4))
    return json.loads(read_exact(fd, size))


def write_frame(fd, obj):
    data = json.dumps(obj).encode()
    data = struct.pack(">I", len(data)) + data
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# --------------------------------------------------------------------------- launcher
def expose_paths(paths):
    """Make `paths` reachable for an unprivileged uid inside this mount namespace.

    A private ancestor (e.g. /root, mode 700, holding a pyenv) is covered with an empty
    tmpfs into which only the needed entries are bind-mounted back: the sandbox user can
    reach the interpreter and site-packages, and nothing else that lived there. Returns
    False if some path stays unreachable (the caller then keeps CAP_DAC_READ_SEARCH).
    """
    plan = {}  # private ancestor -> names of its entries to expose
    for p in paths:
        parts = p.strip("/").split("/")
        for k in range(1, len(parts)):
            anc = "/" + "/".join(parts[:k])
            try:
                mode = os.stat(anc).st_mode
            except OSError:
                break
            if not mode & stat.S_IXOTH:
                plan.setdefault(anc, set()).add(parts[k])
                break
    for anc in sorted(plan, key=len, reverse=True):
        fds = {}
        for name in sorted(plan[anc]):
            try:
                fds[name] = os.open(os.path.join(anc, name), os.O_PATH)
            except OSError:
                pass
        if _libc.mount(b"tmpfs", anc.encode(), b"tmpfs", 0, b"mode=0755,size=1m") != 0:
            return False
        for name, fd in fds.items():
            target = os.path.join(anc, name)
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.mkdir(target)
            else:
                open(target, "w").close()
            ok = (
                _libc.mount(
                    f"/proc/self/fd/{fd}".encode(), target.encode(), None, 0x1000 | MS_REC, None
                )
                == 0
            )
            os.close(fd)
            if not ok:
                return False
    for p in paths:  # everything needed must now be reachable by "others"
        parts = p.strip("/").split("/")
        for k in range(1, len(parts)):
            try:
                if not os.stat("/" + "/".join(parts[:k])).st_mode & stat.S_IXOTH:
                    return False
            except OSError:
                break
    return True


def setup_isolation(needed_paths):
    """Enter new network and mount namespaces (private /tmp) as root; report what worked."""
    iso = {
        "network_namespace": False,
        "pid_namespace": False,
        "private_tmp": False,
        "unprivileged_user": False,
        "_private_dirs": [],
        "_keep_read_cap": False,
    }
    if os.geteuid() != 0:
        return iso
    iso["network_namespace"] = _libc.unshare(CLONE_NEWNET) == 0
    if (
        _libc.unshare(CLONE_NEWNS) == 0
        and _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) == 0
    ):
        mounted = []
        for d in PRIVATE_TMP_DIRS:
            if not os.path.isdir(d) or any(p == d or p.startswith(d + "/") for p in needed_paths):
                continue
            if (
                _libc.mount(
                    b"tmpfs", d.encode(), b"tmpfs", 0, b"mode=1777,size=2g,nr_inodes=100000"
                )
                == 0
            ):
                mounted.append(d)
        iso["private_tmp"] = "/tmp" in mounted
        iso["_private_dirs"] = mounted
        iso["_keep_read_cap"] = not expose_paths(needed_paths)
    iso["pid_namespace"] = _libc.unshare(CLONE_NEWPID) == 0
    iso["unprivileged_user"] = True  # children switch to a per-worker uid (see drop_privileges)
    return iso


def _flushing_exit(code):
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    _real_exit(code)


def compile_program(program, kind):
    """Compile in the zygote (shared by every child of the run); a SyntaxError is the program's."""
    if len(program) > MAX_PROGRAM_CHARS:
        raise ValueError(f"program longer than {MAX_PROGRAM_CHARS} characters")
    tree = ast.parse(program, PROGRAM_FILENAME)
    if kind == "stdio":
        tree = ast.fix_missing_locations(_ReturnRewriter().visit(tree))
    return compile(tree, PROGRAM_FILENAME, "exec")


def _read_version_tag(d):
    return ctypes.c_uint64.from_address(id(d) + 3 * ctypes.sizeof(ctypes.c_ssize_t)).value


def _dict_version(d):
    """CPython's private dict version tag (changes on every mutation), or None if this
    interpreter does not have one where we look. Read through ctypes: checking a dict for
    changes this way touches none of its values, so it costs no copy-on-write faults."""
    global _VERSION_OK
    if _VERSION_OK is None:
        probe = {}
        try:
            v0 = _read_version_tag(probe)
            probe["a"] = 1
            v1 = _read_version_tag(probe)
            probe["a"] = 2
            v2 = _read_version_tag(probe)
            _VERSION_OK = ctypes.sizeof(ctypes.c_void_p) == 8 and v0 != v1 != v2 != v0
        except (ValueError, OSError):
            _VERSION_OK = False
    return _read_version_tag(d) if _VERSION_OK else None


_VERSION_OK = None


def _str_or_none(value):
    return value[:100_000_000] if isinstance(value, str) else None


def _remove_tree(path):
    """Delete a directory tree without following symlinks (no shutil: keeps the zygote small)."""
    _empty_dir(path)
    try:
        os.rmdir(path)
    except OSError:
        pass


def _empty_dir(path):
    """Remove everything inside `path`, keeping `path` itself."""
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                _remove_tree(e.path)
            else:
                os.unlink(e.path)
        except OSError:
            pass


def install_preamble():
    """Put the preamble's names into `builtins`, once per worker.

    Programs then find them without a per-test copy: a program's globals start as
    {"__name__": ...} and name lookups fall through to builtins. Unlike pasting the preamble
    into the program text, line numbers are untouched and nothing runs per program. Like
    the APPS harness, the tests of one program share builtins (globals are fresh per test).
    """
    ns = {"__builtins__": builtins}
    exec(compile(PREAMBLE, "<preamble>", "exec"), ns)
    for name, value in ns.items():
        if not name.startswith("__"):
            builtins.__dict__.setdefault(name, value)
    builtins.__appsplus_return__ = _TopLevelReturn


def main():
    site_dirs = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p != here] + list(site_dirs)
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    install_preamble()
    needed = [sys.prefix, sys.base_prefix, here, *site_dirs, *[p for p in sys.path if p]]
    iso = setup_isolation([os.path.realpath(p) for p in needed])
    uid = 200000 + os.getpid()  # unique among live workers: pids are unique
    pid = os.fork()
    if pid == 0:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        code = 0
        try:
            Zygote(proto_in, proto_out, iso, uid).serve()
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(proto_in)
    os.close(proto_out)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


# --------------------------------------------------------------------------- zygote
class Zygote:
    def __init__(self, proto_in, proto_out, iso, uid):
        self.proto_in, self.proto_out = proto_in, proto_out
        self.iso, self.uid = iso, uid
        self.root = os.geteuid() == 0
        self.pid_ns = iso["pid_namespace"] and os.getpid() == 1
        iso["pid_namespace"] = self.pid_ns
        if not self.pid_ns:
            iso["unprivileged_user"] = iso["unprivileged_user"] and self.root
        self.tmp_base = "/tmp" if iso["private_tmp"] else os.environ.get("TMPDIR") or "/tmp"
        self.iso_private_dirs = iso.pop("_private_dirs", [])
        self.keep_read_cap = iso.pop("_keep_read_cap", True)

    def serve(self):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.environ.clear()  # what programs see (set once: children inherit it)
        os.environ.update(
            PATH="/usr/local/bin:/usr/bin:/bin",
            HOME="/tmp",
            TMPDIR="/tmp",
            LANG="C.UTF-8",
            PYTHONHASHSEED="0",
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the cap fail with EFBIG
        _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # inherited: no child gains privileges by exec
        if self.root:
            os.setgroups([])
        builtins.exit, builtins.quit = _Quitter("exit"), _Quitter("quit")  # `site` is not loaded
        os._exit = _flushing_exit  # a program's os._exit keeps what it printed
        sys.argv = ["program.py"]
        self.builtins_snapshot = dict(builtins.__dict__)
        self.builtins_version = _dict_version(builtins.__dict__)
        # Everything alive now is shared with every child: keep the collector from touching
        # (and so copying) those pages after each fork.
        gc.collect()
        gc.freeze()
        write_frame(self.proto_out, {"type": "ready", "isolation": self.iso, "pid": os.getpid()})
        while True:
            try:
                job = read_frame(self.proto_in)
            except EOFError:
                return
            self.run_job(job)

    # one program, all of its tests --------------------------------------------
    def run_job(self, job):
        n = len(job["inputs"])
        try:
            code = compile_program(job["program"], job["kind"])
        except (
            BaseException
        ) as e:  # SyntaxError, ValueError (NUL bytes), MemoryError, RecursionError
            write_frame(
                self.proto_out,
                {"type": "compile_error", "error": f"{type(e).__name__}: {e}"[:4000]},
            )
            write_frame(self.proto_out, {"type": "done"})
            return
        self.gated, self.pending, self.to_reap = job["gate"], [], []
        # stdout and stderr of the run's children: memfds (RLIMIT_FSIZE caps them) that the
        # children empty before each test; the zygote reads them if a child dies mid-test.
        self.out_fd, self.err_fd = os.memfd_create("stdout"), os.memfd_create("stderr")
        # random: zygotes in pid namespaces all have pid 1, and a shared /tmp may hold the
        # folders of other workers (or of a killed one)
        workdir = os.path.join(self.tmp_base, f"appsplus-run-{os.urandom(8).hex()}")
        os.mkdir(workdir, 0o700)
        try:
            if self.root and self.iso["unprivileged_user"]:
                os.chown(workdir, self.uid, self.uid)
            os.chmod(workdir, 0o700)
            start = 0
            while 0 <= start < n:
                start = self.run_child(job, code, workdir, start)
        finally:
            # answer first, clean up while the parent judges: the next job waits for this
            write_frame(self.proto_out, {"type": "done", "tests": self.pending})
            for pid in self.to_reap:
                self.reap(pid)
            os.close(self.out_fd)
            os.close(self.err_fd)
            for d in self.iso_private_dirs:  # also clears what programs left in /tmp
                _empty_dir(d)
            if not self.iso["private_tmp"]:  # the work folder is in a shared temp dir
                _remove_tree(workdir)

    def run_child(self, job, code, workdir, start):
        """Fork a child running tests start.. ; return the next test to start from, or -1 to stop."""
        limits, gate = job["limits"], job["gate"]
        n = len(job["inputs"])
        status_r, status_w = os.pipe()
        gate_r, gate_w = os.pipe() if gate else (None, None)
        pid = os.fork()
        if pid == 0:  # ------------------------------------------------------ child
            exit_code = HARNESS_DISRUPTED
            try:
                os.close(status_r)
                if gate_w is not None:
                    os.close(gate_w)
                Child(self, job, workdir, start, status_w, gate_r).run(code)
                exit_code = 0
            finally:
                _real_exit(exit_code)
        os.close(status_w)
        if gate_r is not None:
            os.close(gate_r)
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        current = start
        buf, scanned, received = bytearray(), 0, 0
        t_start = time.monotonic()
        deadline = t_start + limits["time_s"]
        exit_status, killed_for, channel_open = None, None, True

        def consume():
            """Handle complete messages in buf; return -1 to stop the run, else None."""
            nonlocal current, scanned, t_start, deadline
            while current < n:
                idx = buf.find(b"\n", scanned)
                if idx < 0:
                    scanned = len(buf)
                    return None
                line = bytes(buf[:idx])
                del buf[: idx + 1]
                scanned = 0
                outcome = self.handle_message(line, current, workdir, job)
                if outcome is None:
                    continue
                if outcome == "compile_error":
                    return -1
                current += 1
                if not self.pass_gate(gate, current, n, gate_w if exit_status is None else None):
                    return -1
                if outcome == "restart":  # threads outlived the test: next test in a fresh child
                    return current
                t_start = time.monotonic()
                deadline = t_start + limits["time_s"]
            return None

        try:
            while current < n:
                now = time.monotonic()
                if now >= deadline:
                    killed_for = "timeout"
                    break
                fds = [fd for fd in (status_r if channel_open else None, pidfd) if fd is not None]
                wait = deadline - now if pidfd is not None else min(deadline - now, 0.002)
                ready, _, _ = select.select(fds, [], [], wait)
                if channel_open and status_r in ready:
                    data = os.read(status_r, 1 << 16)
                    channel_open = bool(data)
                    received += len(data)
                    if received > MAX_MESSAGE_BYTES:
                        killed_for = "output_limit"
                        break
                    buf.extend(data)
                    nxt = consume()
                    if nxt is not None:
                        return nxt
                if current < n and (pidfd is None or pidfd in ready):
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        exit_status = status
                        while channel_open and select.select([status_r], [], [], 0)[0]:
                            data = os.read(status_r, 1 << 16)
                            channel_open = bool(data)
                            buf.extend(data)
                        nxt = consume()
                        if nxt is not None:
                            return nxt
                        break
            if current >= n:
                return n
            # the child ended, or must be ended, in the middle of test `current`
            elapsed = time.monotonic() - t_start
            if exit_status is None:
                self.kill_all(pid)
            obs = self.read_outputs(workdir, job, elapsed)
            if job["kind"] == "call" and obs["status"] != "output_limit":
                obs["output"] = None  # it ended before returning a value
            if killed_for == "timeout":
                obs.update(
                    status="timeout",
                    error=f"exceeded {limits['time_s']:g} s",
                    duration=limits["time_s"],
                )
            elif killed_for == "output_limit":
                obs.update(status="output_limit", error="program flooded the result channel")
            elif obs["status"] != "output_limit" and exit_status is not None:
                if os.WIFSIGNALED(exit_status):
                    sig = os.WTERMSIG(exit_status)
                    try:
                        name = signal.Signals(sig).name
                    except ValueError:
                        name = str(sig)
                    status = "timeout" if sig == signal.SIGXCPU else "signaled"
                    obs.update(status=status, error=f"killed by {name}")
                else:
                    status_code = os.waitstatus_to_exitcode(exit_status)
                    if status_code == HARNESS_DISRUPTED:
                        error = "the program disrupted the test harness"
                    else:
                        error = None if status_code == 0 else f"exit code {status_code}"
                    obs.update(status="exited", error=error)
            self.send_test(current, obs)
            return current + 1 if self.pass_gate(gate, current + 1, n, None) else -1
        finally:
            self.terminate(pid)  # reaped after the parent has its answer (see run_job)
            self.to_reap.append(pid)
            os.close(status_r)
            if gate_w is not None:
                os.close(gate_w)
            if pidfd is not None:
                os.close(pidfd)

    def pass_gate(self, gate, done, n, gate_w):
        """After `done` tests: ask the parent whether to go on (only with a gate, never after the last)."""
        if not gate or done >= n:
            return True
        go = bool(read_frame(self.proto_in).get("continue"))
        if gate_w is not None:
            try:
                os.write(gate_w, b"c" if go else b"s")
            except OSError:
                pass
        return go

    def handle_message(self, line, current, workdir, job):
        try:
            msg = json.loads(line)
            kind = msg["type"]
        except (ValueError, KeyError, TypeError):
            return None  # junk written on the channel by the program: ignore it
        if kind == "compile_error":
            write_frame(
                self.proto_out, {"type": "compile_error", "error": str(msg.get("error"))[:4000]}
            )
            return "compile_error"
        if kind != "test" or msg.get("i") != current:
            return None
        # The program shares the child's process and may forge messages: check every field.
        duration = msg.get("duration")
        duration = float(duration) if isinstance(duration, (int, float)) and duration >= 0 else 0.0
        out = _str_or_none(msg.get("out")) or ""
        size = msg.get("out_size")
        size = size if type(size) is int else len(out)
        obs = self.observe(job, duration, out, size, _str_or_none(msg.get("err")) or "")
        if obs["status"] != "output_limit":
            status = msg.get("status")
            obs["status"] = (
                status if status in ("returned", "raised", "unserializable") else "raised"
            )
            obs["error"] = _str_or_none(msg.get("error"))
            obs["exc_type"] = _str_or_none(msg.get("exc_type"))
            if job["kind"] == "call":
                obs["output"] = _str_or_none(msg.get("ret"))
                if obs["output"] is not None and len(obs["output"]) > job["limits"]["output_bytes"]:
                    obs.update(
                        status="output_limit",
                        output=None,
                        error="return value exceeds the output limit",
                    )
        lines = msg.get("lines")
        if isinstance(lines, list) and all(type(x) is int for x in lines):
            obs["lines"] = lines
        self.send_test(current, obs)
        return "restart" if msg.get("restart") is True else "ok"

    def observe(self, job, duration, out, out_size, err):
        """An observation of one test from its stdout (`out_size` bytes) and stderr."""
        cap = job["limits"]["output_bytes"]
        obs = {
            "status": "raised",
            "duration": duration,
            "output": out,
            "stderr": err[:STDERR_PREVIEW],
            "error": None,
        }
        if out_size >= cap:
            obs.update(
                status="output_limit",
                error=f"output reached the {cap}-byte limit",
                output=out[:4096],
            )
        return obs

    def read_outputs(self, workdir, job, duration):
        """Observation of a test whose child died: read what it left in its files."""
        data = [
            os.pread(self.out_fd, job["limits"]["output_bytes"] + 1, 0),
            os.pread(self.err_fd, STDERR_PREVIEW, 0),
        ]
        out, err = (d.decode("utf-8", errors="replace") for d in data)
        return self.observe(job, duration, out, len(data[0]), err)

    def restore_builtins(self):
        """Undo a program's changes to builtins (called in children)."""
        bd = builtins.__dict__
        version = self.builtins_version
        if version is not None and _dict_version(bd) == version:
            return  # unchanged: touching the values would copy their pages after fork
        bd.clear()
        bd.update(self.builtins_snapshot)
        self.builtins_version = _dict_version(bd)

    def send_test(self, i, obs):
        """Report a test: at once with a gate (the parent decides on going on), else batched."""
        obs["type"] = "test"
        obs["i"] = i
        if self.gated:
            write_frame(self.proto_out, obs)
        else:
            self.pending.append(obs)

    def kill_all(self, pid):
        """Kill the child and everything it started; reap them all."""
        self.terminate(pid)
        self.reap(pid)

    def terminate(self, pid):
        """SIGKILL the child, its process group and (as pid 1) every process of the namespace."""
        for target, kill in (
            (pid, os.killpg),
            (pid, os.kill),
            (-1, os.kill if self.pid_ns else None),
        ):
            if kill is not None:
                try:
                    kill(target, signal.SIGKILL)
                except OSError:
                    pass

    def reap(self, pid):
        """Wait for the killed processes to be gone."""
        if self.pid_ns:
            # pid 1 of the namespace: kill(-1) reaches every other process in it, escaped
            # daemons and fork bombs included; repeat until nothing is left to reap.
            while True:
                try:
                    os.kill(-1, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    os.waitpid(-1, 0)
                except ChildProcessError:
                    return
        else:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


# --------------------------------------------------------------------------- child
class _TopLevelReturn(BaseException):
    """Raised by a rewritten top-level `return` of a stdio program."""


class _ReturnRewriter(ast.NodeTransformer):
    """`return x` at module level -> `raise __appsplus_return__(x)` (same line numbers)."""

    def visit_FunctionDef(self, node):
        return node

    visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_FunctionDef

    def visit_Return(self, node):
        call = ast.Call(
            ast.Name("__appsplus_return__", ast.Load()), [node.value] if node.value else [], []
        )
        return ast.copy_location(ast.Raise(exc=call, cause=None), node)


class _Quitter:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Use {self.name}() to exit"

    def __call__(self, code=None):
        raise SystemExit(code)


def _jsonable(obj):
    for attr in ("tolist", "item"):  # numpy scalars and arrays
        fn = getattr(obj, attr, None)
        if callable(fn):
            return fn()
    raise TypeError(f"return value of type {type(obj).__name__} is not JSON-serializable")


class Child:
    def __init__(self, zygote, job, workdir, start, status_w, gate_r):
        self.z, self.job, self.workdir, self.start = zygote, job, workdir, start
        self.reserve = None
        self.streams = None
        self.status_w, self.gate_r = status_w, gate_r

    def run(self, code):
        self.setup_fds()
        self.apply_limits()
        for i in range(self.start, len(self.job["inputs"])):
            if not self.run_test(code, i):
                return

    def setup_fds(self):
        """Keep only fds 3 (status), 4 (gate), 5 and 6 (the zygote's stdout/stderr memfds)."""
        wanted = [
            (self.status_w, STATUS_FD),
            (self.gate_r, GATE_FD),
            (self.z.out_fd, OUT_FD),
            (self.z.err_fd, ERR_FD),
        ]
        copies = [(os.dup(fd) if fd is not None else None, target) for fd, target in wanted]
        for fd, target in copies:
            if fd is not None:
                os.dup2(fd, target, inheritable=False)
            elif _fd_open(target):
                os.close(target)
        os.closerange(ERR_FD + 1, 1 << 16)

    def apply_limits(self):
        lim = self.job["limits"]
        n_left = len(self.job["inputs"]) - self.start
        os.setpgid(0, 0)
        os.chdir(self.workdir)
        mem = lim["memory_mb"] * 2**20
        cpu = int(lim["time_s"] * n_left) + 2
        for res, value in (
            (resource.RLIMIT_AS, (mem, mem)),
            (resource.RLIMIT_CPU, (cpu, cpu + 1)),
            (resource.RLIMIT_FSIZE, (lim["output_bytes"], lim["output_bytes"])),
            (resource.RLIMIT_NOFILE, (lim["max_open_files"], lim["max_open_files"])),
            (resource.RLIMIT_CORE, (0, 0)),
        ):
            resource.setrlimit(res, value)
        if self.z.root and self.z.iso["unprivileged_user"]:
            # RLIMIT_NPROC counts every process of the user: only meaningful for the
            # worker's own sandbox uid. Without root it would count all of yours.
            resource.setrlimit(resource.RLIMIT_NPROC, (lim["max_processes"], lim["max_processes"]))
        if self.z.root and self.z.iso["unprivileged_user"]:
            drop_privileges(self.z.uid, self.z.keep_read_cap)
        self.pid = os.getpid()

    def send(self, msg):
        data = (json.dumps(msg) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(STATUS_FD, view) :]

    def bind_stdio(self, i):
        # stdin: a fresh memfd holding this test's input (empty for call-based tests).
        # The program may have closed fds 0-2 (`open(0)` closes fd 0 when collected), so a
        # new fd can be the very one it is meant to replace.
        fd = os.memfd_create("stdin", 0)
        if self.job["kind"] == "stdio":
            data = self.job["inputs"][i].encode("utf-8", "surrogateescape")
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.lseek(fd, 0, os.SEEK_SET)
        if fd != 0:
            os.dup2(fd, 0)
            os.close(fd)
        for fd in (OUT_FD, ERR_FD):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        os.dup2(OUT_FD, 1)
        os.dup2(ERR_FD, 2)
        # Reuse the text wrappers of the previous test when the program left them intact
        # (seek(0) drops buffered input and points them at the new files); else make new.
        streams = (sys.stdin, sys.stdout, sys.stderr)
        if self.streams is None or streams != self.streams or not _rewind(streams):
            sys.stdin = io.TextIOWrapper(
                io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"
            )
            sys.stdout = io.TextIOWrapper(
                io.BufferedWriter(io.FileIO(1, "w", closefd=False), 1 << 16), encoding="utf-8"
            )
            sys.stderr = io.TextIOWrapper(
                io.FileIO(2, "w", closefd=False),
                encoding="utf-8",
                errors="backslashreplace",
                write_through=True,
            )
            self.streams = (sys.stdin, sys.stdout, sys.stderr)
        self.stdout = sys.stdout
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = self.streams

    def run_test(self, code, i):
        """Run test i; return False when this child must not run further tests."""
        job = self.job
        if i > self.start:  # fresh builtins for every test (the first one finds them pristine)
            self.z.restore_builtins()
        self.bind_stdio(i)
        sys.setrecursionlimit(1000)
        random.seed(0)
        g = {
            "__name__": "__main__" if job["kind"] == "stdio" else "solution",
            "__builtins__": builtins,
        }
        msg = {
            "type": "test",
            "i": i,
            "status": "returned",
            "error": None,
            "exc_type": None,
            "ret": None,
        }
        lines = set() if job["trace"] else None
        tracer = _make_tracer(lines) if lines is not None else None
        if tracer:
            import threading  # not in the zygote: its fork hook would cost every child
        if self.reserve is None:  # address space held back for the harness (RLIMIT_AS)
            self.reserve = mmap.mmap(-1, RESERVE_BYTES)  # untouched: costs no memory
        t0 = time.perf_counter()
        try:
            if tracer:
                threading.settrace(tracer)  # threads the program starts are traced too
                sys.settrace(tracer)
            exec(code, g)
            if job["kind"] == "call":
                value = _call(g, job["fn_name"], json.loads(job["inputs"][i]))
                try:
                    msg["ret"] = json.dumps(value, default=_jsonable)
                except (TypeError, ValueError) as e:
                    msg.update(status="unserializable", error=str(e))
                value = None
        except _TopLevelReturn:
            pass
        except SystemExit as e:
            if e.code not in (None, 0):
                msg.update(status="raised", exc_type="SystemExit", error=f"SystemExit: {e.code!r}")
        except BaseException as e:
            self.reserve.close()  # give the harness room if this was a MemoryError
            self.reserve = None
            msg.update(status="raised", exc_type=type(e).__name__, error=_describe(e))
        finally:
            if tracer:
                sys.settrace(None)
                threading.settrace(None)
            threading = sys.modules.get("threading")  # imported by the program, if at all
            if os.getpid() != self.pid:  # a fork of the program returned into the harness
                _real_exit(0)
            self.z.restore_builtins()  # the stdlib code below needs intact builtins
        if threading is not None:  # like interpreter exit: wait for non-daemon threads
            for t in threading.enumerate():
                if t is not threading.current_thread() and not t.daemon:
                    t.join()
        for out in {id(s): s for s in (self.stdout, sys.stdout)}.values():
            if isinstance(out, io.TextIOBase) and not out.closed:
                try:
                    out.flush()
                except (OSError, ValueError) as e:
                    if msg["status"] == "returned":
                        msg.update(status="raised", exc_type=type(e).__name__, error=_describe(e))
        msg["duration"] = time.perf_counter() - t0
        g.clear()  # release the program's data before the harness needs memory again
        cap = job["limits"]["output_bytes"]
        out_bytes = os.pread(OUT_FD, cap + 1, 0)
        msg["out_size"] = len(out_bytes)
        msg["out"] = out_bytes.decode("utf-8", "replace")
        msg["err"] = os.pread(ERR_FD, STDERR_PREVIEW, 0).decode("utf-8", "replace")
        if lines is not None:
            msg["lines"] = sorted(lines)
        restart = _thread_count() > 1  # leftover threads: the next test gets a fresh child
        msg["restart"] = restart
        self.send(msg)
        if self.gate_r is not None and i < len(job["inputs"]) - 1:
            try:
                if os.read(GATE_FD, 1) != b"c":
                    return False
            except OSError:
                return False
        return not restart


def _rewind(streams):
    try:
        for stream in streams:
            stream.seek(0)
        return True
    except (OSError, ValueError, AttributeError):
        return False


def _fd_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _thread_count():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        threading = sys.modules.get("threading")
        return threading.active_count() if threading else 1


def _call(g, fn_name, args):
    solution = g.get("Solution")
    if isinstance(solution, type) and hasattr(solution, fn_name):
        return getattr(solution(), fn_name)(*args)
    fn = g.get(fn_name)
    if fn is None:
        raise NameError(
            f"the program defines no function {fn_name!r} and no class Solution with it"
        )
    return fn(*args)


def _describe(e):
    text = f"{type(e).__name__}: {e}"
    tb = e.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == PROGRAM_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is not None:
        text += f" (line {line})"
    return text[:2000]


def _make_tracer(lines):
    def local(frame, event, arg):
        if event == "line":
            lines.add(frame.f_lineno)
        return local

    def global_(frame, event, arg):
        if frame.f_code.co_filename == PROGRAM_FILENAME:
            return local
        return None

    return global_


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_privileges(uid, keep_read_cap):
    """Become `uid` with no capabilities. Only if `expose_paths` could not make the
    interpreter reachable, keep CAP_DAC_READ_SEARCH (read anything, write nothing)."""
    if keep_read_cap:
        _libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgid(uid)
    os.setuid(uid)
    if keep_read_cap:
        header = _CapHeader(0x20080522, 0)
        data = (_CapData * 2)()
        data[0].effective = data[0].permitted = 1 << CAP_DAC_READ_SEARCH
        _libc.capset(ctypes.byref(header), data)


if __name__ == "__main__":
    main()
