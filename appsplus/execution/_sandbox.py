"""Sandbox worker process. Stdlib only; started by `appsplus.execution.pool` as

    python -S -s -B -P -c BOOTSTRAP .../_sandbox.py SITE_DIRS_JSON   (env: PYTHONHASHSEED=0, minimal)

where BOOTSTRAP runs this file as `__main__` from its cached bytecode (see `load_code`).

Processes (one worker):

    launcher (this script)  sets up namespaces, forks the zygote, waits for it
      zygote                pid 1 of a new pid namespace when possible; reads jobs from
                            the parent, hands each to a child, kills and reaps it
        child               does the setup that needs no job, waits for its go frame,
                            reads and compiles the job while the zygote cleans up after
                            the last run, applies the job's limits, drops privileges and,
                            cleared to run, runs the program's tests

While a core is idle (the parent says so with each job) the zygote forks the next job's
child ahead, a spare, while the current child reads its job, and the spare prepares while
that program runs: fork and setup are then off the path of a job. On a busy machine the
child is forked when its job comes. Every program gets a fresh child and starts only when
everything of the previous run is gone: the zygote knows from the last pid given out in
the namespace whether the program made any process (then it kills them all, spare too).
The zygote never sees expected outputs: the parent (the judge) compares what the program
printed or returned. Frames on the parent pipes are a 4-byte big-endian length plus JSON;
a job is two frames, a header the zygote reads and a body it hands to the child unread
(through a memfd). Messages from the child to the zygote are JSON lines on fd 3; on fd 4
the child reads its go frame (which test to start from, where to work) and, with a gate
(used for stop-on-first-failure), one byte after each test.
"""

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
import struct
import sys
import time

PROGRAM_FILENAME = "<program>"
# fds of the zygote and its children: 0-2 and 5-7 the run's stdin/stdout/stderr files (the
# harness keeps 5-7 when a program replaces 0-2), 8 the job; the zygote's own from 9 on.
STATUS_FD, GATE_FD, OUT_FD, ERR_FD, STDIN_FD, JOB_FD = 3, 4, 5, 6, 7, 8
DIAG_FD, PROTO_IN_FD, PROTO_OUT_FD = 9, 10, 11  # the worker's stderr, and the parent pipes
STDERR_PREVIEW = 4096
HARNESS_DISRUPTED = 70  # exit status of a child whose harness code failed
PR_SET_PDEATHSIG, PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE = 1, 8, 38, 4
PR_SET_NAME = 15
CAP_DAC_READ_SEARCH = 2
MAX_MESSAGE_BYTES = 64 * 2**20
MAX_PROGRAM_CHARS = 1_000_000
RESERVE_BYTES = 4 << 20  # memory set aside so the harness can report a MemoryError
SANDBOX_UID_BASE = 200000  # root mode: programs run as this + the launcher's pid


def load_code(name, path):
    """The code of a source file, from its cached bytecode when that is up to date (the
    driver writes it): compiling here would leave ~3.5 MB of freed parser memory in the
    worker (10 MB of anonymous memory instead of 7), and in every child."""
    try:
        from _frozen_importlib_external import SourceFileLoader
    except ImportError:
        pass
    else:
        return SourceFileLoader(name, path).get_code(name)
    with open(path, encoding="utf-8") as f:
        return compile(f.read(), path, "exec")


def _load_sibling(name):
    """Load a stdlib-only sibling module by path (this folder is kept off sys.path)."""
    import types

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    module = types.ModuleType(name)
    module.__file__ = path
    exec(load_code(name, path), module.__dict__)
    return module


_confine = _load_sibling("_confine")
_preamble = _load_sibling("preamble")
PREAMBLE, PREAMBLES = _preamble.PREAMBLE, _preamble.PREAMBLES
_PREAMBLE_NAMES = []  # the names install_preamble put into builtins

# The harness code that runs after a program, in the same process, must not use builtins
# the program may have replaced: bind the ones it uses as module globals.
from builtins import (  # noqa: E402, UP029
    BaseException,
    bytearray,
    dict,
    float,
    id,
    int,
    isinstance,
    len,
    list,
    memoryview,
    sorted,
    str,
    tuple,
    type,
)

_libc = _confine.libc  # one handle on the C library for the worker
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
def _flushing_exit(code):
    try:
        sys.stdout.flush()
    except BaseException:
        pass
    _real_exit(code)


def compile_program(program, kind):
    """Compile a program (in its child); a SyntaxError is the program's."""
    if len(program) > MAX_PROGRAM_CHARS:
        raise ValueError(f"program longer than {MAX_PROGRAM_CHARS} characters")
    if program.startswith("\ufeff"):  # a UTF-8 BOM: `python prog.py` ignores it, so do we
        program = program[1:]
    try:  # fast path: most programs have no top-level `return` to rewrite
        return compile(program, PROGRAM_FILENAME, "exec", dont_inherit=True)
    except SyntaxError as e:
        if kind != "stdio" or "outside function" not in str(e.msg):
            raise
    return compile(_rewrite_top_level_returns(program), PROGRAM_FILENAME, "exec", dont_inherit=True)


def _read_version_tag(d):
    return ctypes.c_uint64.from_address(id(d) + 3 * ctypes.sizeof(ctypes.c_ssize_t)).value


def _trim_heap():
    """Give the C heap's free pages back to the kernel (glibc; elsewhere nothing): each fork
    copies the page tables of every page the worker holds, and each exit tears them down."""
    try:
        _libc.malloc_trim(0)
    except AttributeError:
        pass


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


def _remove_tree(path, keep=frozenset()):
    """Delete a directory tree without following symlinks (no shutil: keeps the zygote small).

    Paths in `keep` stay (code bound into a private /tmp, and the folders above it)."""
    _empty_dir(path, keep)
    if path not in keep:
        try:
            os.rmdir(path)
        except OSError:
            pass


def _empty_dir(path, keep=frozenset()):
    """Remove everything inside `path` but `keep`, keeping `path` itself (mode-000 folders too)."""
    try:
        entries = list(os.scandir(path))
    except PermissionError:
        try:
            os.chmod(path, 0o700)  # a program's folder: ours (same uid) or root's to change
            entries = list(os.scandir(path))
        except OSError:
            return
    except OSError:
        return
    for e in entries:
        try:
            if e.is_dir(follow_symlinks=False):
                if e.path not in keep or any(k.startswith(e.path + "/") for k in keep):
                    _remove_tree(e.path, keep)
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
        if not name.startswith("__") and name not in builtins.__dict__:
            builtins.__dict__[name] = value
            _PREAMBLE_NAMES.append(name)
    builtins.__appsplus_return__ = _TopLevelReturn


def main():
    site_dirs = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p not in (here, "")] + list(site_dirs)
    # the parent pipes and the worker's stderr move to fixed fds above the children's
    for fd, target in ((0, PROTO_IN_FD), (1, PROTO_OUT_FD), (2, DIAG_FD)):
        os.dup2(fd, target, inheritable=False)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    install_preamble()
    off = set(filter(None, os.environ.get("APPSPLUS_SANDBOX_OFF", "").split(",")))
    home = os.environ.get("HOME")
    needed = [sys.prefix, sys.base_prefix, here, *site_dirs, *[p for p in sys.path if p]]
    conf = _confine.Confinement()
    if "namespaces" in off:
        conf.refuse("namespaces turned off (APPSPLUS_SANDBOX_OFF)")
    else:
        _confine.enter_namespaces(conf)
        _confine.build_filesystem(
            conf, sorted({os.path.realpath(p) for p in needed}), home and os.path.realpath(home)
        )
    uid = SANDBOX_UID_BASE + os.getpid()  # unique among live workers: pids are unique
    # Without a private /tmp the work folders go into one folder of this worker's in the
    # shared temp dir: the only place its programs may write (Landlock), removed at exit.
    shared_base = None
    if not conf.private_tmp:
        tmp = os.environ.get("TMPDIR") or "/tmp"
        shared_base = os.path.join(tmp, f"appsplus-worker-{os.urandom(8).hex()}")
        os.mkdir(shared_base, 0o700)
        if conf.mode == "root":
            os.chown(shared_base, uid, uid)
    pid = os.fork()
    if pid == 0:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        code = 0
        try:
            Zygote(conf, uid, shared_base, off).serve()
        except BaseException:
            import traceback

            with open(DIAG_FD, "w", closefd=False) as diag:
                traceback.print_exc(file=diag)
            code = 1
        os._exit(code)
    os.close(PROTO_IN_FD)
    os.close(PROTO_OUT_FD)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status = os.waitpid(pid, 0)
    if shared_base:
        _remove_tree(shared_base)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


# --------------------------------------------------------------------------- zygote
class Spare:
    """A forked child (a spare until it gets a job): pid, the zygote's ends of its pipes,
    a pidfd (None where the kernel has none)."""

    def __init__(self, pid, status_r, gate_w, pidfd):
        self.pid, self.status_r, self.gate_w, self.pidfd = pid, status_r, gate_w, pidfd
        self.reaped = False

    def close_pipes(self):
        os.close(self.status_r)
        os.close(self.gate_w)

    def close_pidfd(self):
        if self.pidfd is not None:
            os.close(self.pidfd)


class Zygote:
    def __init__(self, conf, uid, shared_base, off):
        self.conf, self.uid, self.off = conf, uid, off
        self.preambles = {}  # name -> compiled preamble, run once (see warm_preamble)
        self.root = conf.mode == "root"
        self.pid_ns = conf.pid_namespace and os.getpid() == 1
        conf.pid_namespace = self.pid_ns
        self.tmp_base = "/tmp" if conf.private_tmp else shared_base
        # the children of a root worker switch to its uid; rootless ones keep no capability
        self.switch_uid = self.root and conf.unprivileged_user and "uid" not in off
        conf.unprivileged_user = self.switch_uid
        self.seccomp = None
        self.spare = None
        self.to_reap, self.old_workdirs = [], []
        self.dirty, self.cleared_after, self.last_pid_fd = False, None, None
        self.clean_tmp = None
        self.want_spare = "spare" not in off
        self.workdir = self.workdir_path()

    def confine(self):
        """Once per worker: /proc, Landlock, the seccomp filter, capabilities, fixed fds."""
        conf, off = self.conf, self.off
        _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # inherited: no child gains privileges
        _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # children cannot open our /proc/1/mem
        if self.pid_ns:
            _confine.mount_proc(conf)
        if "landlock" not in off:
            _confine.landlock_writes_only_under(conf, conf.private_dirs or [self.tmp_base])
        program = None if "seccomp" in off else _confine.seccomp_program()
        if program is not None:
            self.seccomp = _confine.SeccompFilter(program)
            conf.seccomp = self.seccomp_works()
            if not conf.seccomp:
                self.seccomp = None
        if conf.mode == "rootless" and not _confine.drop_all_capabilities():
            conf.refuse("could not drop the capabilities of the user namespace")
        elif self.root:
            os.setgroups([])
        # Landlock scopes per child (two syscalls): no signal reaches a process outside the
        # program's own, not even the zygote (which, as pid 1, would drop it anyway).
        self.scope_abi = conf.landlock_abi if "landlock" not in off else 0
        self.move_fd(os.memfd_create("job"), JOB_FD)
        for fd in (STATUS_FD, GATE_FD):  # hold the places of each child's pipes (new pipes
            os.dup2(JOB_FD, fd, inheritable=False)  # get fds from 12 on)
        # every process of a run dies with it (pid namespace): one set of memfds for the
        # worker's life, made before the filter (which forbids memfds) goes onto the zygote
        self.make_memfds()
        if self.pid_ns and self.seccomp is not None:
            self.seccomp.install()
            self.seccomp = None  # children inherit it
        self.scope_fd = _confine.scope_ruleset(self.scope_abi)  # fd >= 12: children close it
        # address space held back for the harness (RLIMIT_AS counts it), untouched: free
        self.reserve = mmap.mmap(-1, RESERVE_BYTES, flags=mmap.MAP_PRIVATE)
        if self.pid_ns:  # tells whether a run made processes (see `only_child_ran`)
            try:
                self.last_pid_fd = os.open("/proc/sys/kernel/ns_last_pid", os.O_RDONLY)
            except OSError:
                self.last_pid_fd = None  # then every run ends with a sweep
        # the text streams of fds 0-2, made once: every child starts with intact copies
        self.streams = _new_std_streams()
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = self.streams

    @staticmethod
    def move_fd(fd, target):
        if fd != target:
            os.dup2(fd, target, inheritable=False)
            os.close(fd)

    def make_memfds(self):
        """stdin, stdout and stderr files of the run's children (RLIMIT_FSIZE caps them) on
        fds 7, 5 and 6, and on 0-2 for the programs. Kept for the worker's life when every
        process of a run dies with it (pid namespace); else fresh per run, so that no
        survivor can write into the next one."""
        for name, fd, std in (("stdin", STDIN_FD, 0), ("stdout", OUT_FD, 1), ("stderr", ERR_FD, 2)):
            self.move_fd(os.memfd_create(name), fd)
            os.dup2(fd, std)
        self.stdin_ino = os.fstat(STDIN_FD).st_ino

    def seccomp_works(self):
        """Install the filter in a throwaway child: it must load and forbid memfd_create."""
        pid = os.fork()
        if pid == 0:
            ok = self.seccomp.install()
            try:
                os.memfd_create("probe")
                ok = False
            except OSError:
                pass
            _real_exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status) == 0

    def serve(self):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.confine()
        os.environ.clear()  # what programs see (set once: children inherit it)
        os.environ.update(
            PATH="/usr/local/bin:/usr/bin:/bin",
            HOME="/tmp",
            TMPDIR=self.tmp_base,
            LANG="C.UTF-8",
            PYTHONHASHSEED="0",
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the cap fail with EFBIG
        builtins.exit, builtins.quit = _Quitter("exit"), _Quitter("quit")  # `site` is not loaded
        os._exit = _flushing_exit  # a program's os._exit keeps what it printed
        sys.argv = ["program.py"]
        self.builtins_snapshot = dict(builtins.__dict__)
        self.builtins_version = _dict_version(builtins.__dict__)
        # Everything alive now is shared with every child: keep the collector from touching
        # (and so copying) those pages after each fork.
        gc.collect()
        gc.freeze()
        _trim_heap()
        ready = {"type": "ready", "isolation": self.conf.report(), "pid": os.getpid()}
        if not self.conf.private_tmp:  # the driver removes it if it has to kill the worker
            ready["work_root"] = self.tmp_base
        write_frame(PROTO_OUT_FD, ready)
        self.make_workdir()
        self.spare = self.fork_child() if self.want_spare else None
        while True:
            self.reap_while_idle()
            try:
                header = read_frame(PROTO_IN_FD)
                (size,) = struct.unpack(">I", read_exact(PROTO_IN_FD, 4))
                os.ftruncate(JOB_FD, 0)  # the body goes to the child unread, pipe to memfd
                os.lseek(JOB_FD, 0, os.SEEK_SET)
                while size:
                    moved = os.splice(PROTO_IN_FD, JOB_FD, size)
                    if not moved:
                        raise EOFError
                    size -= moved
            except EOFError:
                return
            self.run_job(header)

    def fork_child(self):
        """A new child; it prepares what needs no job and waits for its go frame."""
        status_r, status_w = os.pipe()
        gate_r, gate_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # ------------------------------------------------------ child
            exit_code = HARNESS_DISRUPTED
            try:
                Child(self, status_w, gate_r).run()
                exit_code = 0
            finally:
                _real_exit(exit_code)
        os.close(status_w)
        os.close(gate_r)
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        return Spare(pid, status_r, gate_w, pidfd)

    # one program, all of its tests --------------------------------------------
    def warm_preamble(self, name):
        """The compiled preamble `name`, run once here when a first job under it comes, so
        that the next children fork with its modules imported (the worker's own limits are
        put back, and the new objects frozen like the rest)."""
        code = self.preambles.get(name)
        if code is None:
            limits = sys.getrecursionlimit(), sys.get_int_max_str_digits()
            code = compile(PREAMBLES[name], "<preamble>", "exec", dont_inherit=True)
            exec(code, {"__builtins__": builtins})
            sys.setrecursionlimit(limits[0])
            sys.set_int_max_str_digits(limits[1])
            self.preambles[name] = code
            gc.collect()
            gc.freeze()
        return code

    def run_job(self, job):
        n = job["n"]
        if job.get("preamble", "apps") != "apps":
            self.warm_preamble(job["preamble"])
        self.gated, self.pending = job["gate"], []
        # fork ahead only when the parent says a core is idle (else it costs more than it hides)
        self.want_spare = job.get("spare", True) and "spare" not in self.off
        run = None
        try:
            start = 0
            while 0 <= start < n:
                if run is not None:  # a test to go on from in a new child
                    self.release(run.child)
                run = ChildRun(self, job, start)
                start = run.run()
        finally:
            # answer first, clean up while the parent judges and sends the next job
            write_frame(PROTO_OUT_FD, {"type": "done", "tests": self.pending})
            if run is not None and run.child is not None:
                self.release(run.child)
            self.end_run()

    def end_run(self):
        """The run's processes are killed (`release`); what is left is done by `prepare_run`
        while the next child reads its job."""
        self.dirty = True
        if not self.conf.private_tmp:  # a fresh work folder in the shared temp dir
            self.old_workdirs.append(self.workdir)
            self.workdir = self.workdir_path()
        if not self.pid_ns:
            # fresh files, so that no survivor of this run writes into the next; the spare
            # is forked after them (every run's processes die with it only in a pid namespace)
            self.make_memfds()
            if self.spare is not None:
                self.release(self.spare)
            self.spare = self.fork_child() if self.want_spare else None
        if not self.want_spare:
            # a busy machine: wait for the run's processes to be gone now, so that the work
            # on the next job writes to pages no child shares (no copy-on-write copies)
            self.reap_killed()

    def prepare_run(self):
        """Before a child may start its program: the last run's processes are gone, the
        temp dirs empty, the work folder made; then (as pid 1) note the last pid."""
        self.reap_killed()
        if self.dirty and (self.clean_tmp is None or self.tmp_state() != self.clean_tmp):
            for d in self.conf.private_dirs:  # also clears what programs left in /tmp
                _empty_dir(d, self.conf.kept_in_tmp)
            for old in self.old_workdirs:  # the work folders in a shared temp dir
                _remove_tree(old)
            self.old_workdirs = []
            self.make_workdir()
        self.dirty = False
        self.cleared_after = self.last_pid() if self.pid_ns else None

    def last_pid(self):
        """The last pid given out in our pid namespace (threads count too)."""
        try:
            return int(os.pread(self.last_pid_fd, 32, 0))
        except (OSError, ValueError, TypeError):
            return None

    def take_child(self):
        """The spare (if it is still alive), else a new child."""
        child, self.spare = self.spare, None
        if child is not None:
            try:
                done, _ = os.waitpid(child.pid, os.WNOHANG)
            except ChildProcessError:
                done = True
            if not done:
                return child
            self.release(child)
        return self.fork_child()

    def fork_spare(self):
        """Fork the next spare while the child reads its job (as pid 1; without a pid
        namespace it is forked after the run, with the next run's files)."""
        if self.pid_ns and self.spare is None and self.want_spare:
            self.spare = self.fork_child()

    def only_child_ran(self):
        """As pid 1: no process or thread was made since the program was cleared to run
        (the last pid given out is the same), so killing the child was enough. Else every
        process of the namespace must be swept (the spare with it).

        Pids wrap around, but the last pid at clearing time is the spare's (or the child's)
        and stays in use until this check: no later fork can be given it again. Programs
        cannot set the last pid (that needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)."""
        return self.cleared_after is not None and self.last_pid() == self.cleared_after

    def release(self, child):
        """Kill a child and everything it made (reaped later); close our ends of its pipes."""
        self.terminate(child.pid)  # reaped or not: what it made may live on
        child.close_pipes()
        if child.reaped:
            child.close_pidfd()
        else:
            self.to_reap.append(child)

    def reap_one(self, child):
        self.reap(child.pid)
        child.close_pidfd()
        self.to_reap.remove(child)

    def reap_killed(self):
        while self.to_reap:
            self.reap_one(self.to_reap[-1])

    def reap_while_idle(self):
        """Reap the killed children as they die, until the next job comes (which never
        waits for this: `prepare_run` reaps the rest)."""
        while self.to_reap:
            by_fd = {c.pidfd: c for c in self.to_reap if c.pidfd is not None}
            if not by_fd:
                return
            ready = select.select([PROTO_IN_FD, *by_fd], [], [])[0]
            if PROTO_IN_FD in ready:
                return
            for fd in ready:
                self.reap_one(by_fd[fd])

    def workdir_path(self):
        """The run's work folder: fixed in the private /tmp (emptied after each run), random
        in a shared temp dir (that may hold the folders of a killed worker; removed after)."""
        name = "appsplus-run" if self.conf.private_tmp else f"appsplus-run-{os.urandom(8).hex()}"
        return os.path.join(self.tmp_base, name)

    def make_workdir(self):
        os.mkdir(self.workdir, 0o700)
        if self.switch_uid:
            os.chown(self.workdir, self.uid, self.uid)
        self.clean_tmp = self.tmp_state() if self.conf.private_tmp else None

    def tmp_state(self):
        """How the private temp dirs and the work folder look: inode, size, mode, owner.
        On tmpfs a folder's size grows by 20 bytes per entry, so a run that leaves them as
        they were (nothing made, or all of it removed) needs no emptying: a folder it
        replaced has another inode, and one entry swapped for another changes the work
        folder (the one entry /tmp may lose besides mount points and the folders above
        code bound back into /tmp, which are checked the same way)."""
        state = []
        # with code bound back into /tmp, the folders above it are on the tmpfs too
        for d in (*self.conf.private_dirs, *sorted(self.conf.kept_in_tmp), self.workdir):
            try:
                st = os.lstat(d)
            except OSError:
                return None
            state.append((st.st_ino, st.st_size, st.st_mode, st.st_uid, st.st_gid))
        return state

    def pass_gate(self, gate, done, n, gate_w):
        """After `done` tests: ask the parent whether to go on (only with a gate, never after the last)."""
        if not gate or done >= n:
            return True
        go = bool(read_frame(PROTO_IN_FD).get("continue"))
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
                PROTO_OUT_FD, {"type": "compile_error", "error": str(msg.get("error"))[:4000]}
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
            os.pread(OUT_FD, job["limits"]["output_bytes"] + 1, 0),
            os.pread(ERR_FD, STDERR_PREVIEW, 0),
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
            write_frame(PROTO_OUT_FD, obs)
        else:
            self.pending.append(obs)

    def kill_all(self, child):
        """Kill the child and everything it made, and reap it."""
        self.terminate(child.pid)
        self.reap(child.pid)
        child.reaped = True

    def terminate(self, pid):
        """SIGKILL the child and its process group; as pid 1, unless the child made no
        process, every process of the namespace too (the spare among them: a new one is
        forked for the next run). Nothing made by the killed processes outlives this: the
        kernel fails a fork whose parent has a pending SIGKILL."""
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.pid_ns and not self.only_child_ran():
            self.sweep()

    def sweep(self):
        """As pid 1: kill and reap every other process of the namespace."""
        spare, self.spare = self.spare, None
        if spare is not None:
            spare.close_pipes()
            spare.close_pidfd()
        while True:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        for child in self.to_reap:
            child.close_pidfd()
        self.to_reap = []

    def reap(self, pid):
        """Wait for a killed child to be gone."""
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


class ChildRun:
    """One child running tests start..n-1 of a job, watched by the zygote.

    `run()` returns the test to start the next child from (n when all ran), or -1 to stop.
    Steps: `begin` (the spare, or a new child, gets its go frame), then `watch` the status
    channel and the child until every test reported (`take_messages`), the deadline
    passed, or the child died; then `conclude` the test it was in (timeout, signal, exit
    code), and always `release` the child.
    """

    def __init__(self, zygote, job, start):
        self.z, self.job, self.workdir = zygote, job, zygote.workdir
        self.limits, self.gate, self.n = job["limits"], job["gate"], job["n"]
        self.start = self.current = start
        self.buf, self.scanned, self.received = bytearray(), 0, 0
        self.exit_status, self.killed_for, self.channel_open = None, None, True
        self.child = None

    def run(self):
        """The test to go on from (the caller releases the child)."""
        self.begin()
        nxt = self.watch()
        if nxt is not None:
            return nxt
        return self.conclude()

    def begin(self):
        """The spare (or a new child) gets its go frame and reads and compiles the job while
        the zygote cleans up after the last run; then it is cleared to run the program."""
        z = self.z
        go = {"start": self.start, "workdir": z.workdir}
        for _ in range(3):  # a spare that died waiting gets no job: try a new child
            self.child = z.take_child()
            try:
                write_frame(self.child.gate_w, go)
                break
            except OSError:
                z.release(self.child)
                self.child = None
        else:
            raise RuntimeError("no child could be started for the job")
        z.fork_spare()
        z.prepare_run()
        try:
            os.write(self.child.gate_w, b"g")
        except OSError:
            pass  # it ended already (a compile error): its messages and status tell
        self.restart_clock()

    def restart_clock(self):
        self.t_start = time.monotonic()
        self.deadline = self.t_start + self.limits["time_s"]

    def watch(self):
        """Wait for messages or the child's end; a return value ends the run (see `run`)."""
        while self.current < self.n:
            now = time.monotonic()
            if now >= self.deadline:
                self.killed_for = "timeout"
                return None
            child = self.child
            fds = [fd for fd in (child.status_r if self.channel_open else None, child.pidfd) if fd is not None]  # fmt: skip
            wait = (
                self.deadline - now if child.pidfd is not None else min(self.deadline - now, 0.002)
            )
            ready, _, _ = select.select(fds, [], [], wait)
            if self.channel_open and child.status_r in ready:
                if not self.read_channel():
                    self.killed_for = "output_limit"
                    return None
                nxt = self.take_messages()
                if nxt is not None:
                    return nxt
            if self.current < self.n and (child.pidfd is None or child.pidfd in ready):
                done, status = os.waitpid(child.pid, os.WNOHANG)
                if done:
                    self.exit_status, child.reaped = status, True
                    while self.channel_open and select.select([child.status_r], [], [], 0)[0]:
                        self.read_channel()
                    return self.take_messages()
        return self.n

    def read_channel(self):
        """Read what the child wrote; False when it flooded the channel."""
        data = os.read(self.child.status_r, 1 << 16)
        self.channel_open = bool(data)
        self.received += len(data)
        self.buf.extend(data)
        return self.received <= MAX_MESSAGE_BYTES

    def take_messages(self):
        """Handle the complete messages received; a return value ends the run (see `run`)."""
        z = self.z
        while self.current < self.n:
            idx = self.buf.find(b"\n", self.scanned)
            if idx < 0:
                self.scanned = len(self.buf)
                return None
            line = bytes(self.buf[:idx])
            del self.buf[: idx + 1]
            self.scanned = 0
            outcome = z.handle_message(line, self.current, self.workdir, self.job)
            if outcome is None:
                continue
            if outcome == "compile_error":
                return -1
            self.current += 1
            gate_w = self.child.gate_w if self.exit_status is None else None
            if not z.pass_gate(self.gate, self.current, self.n, gate_w):
                return -1
            if outcome == "restart":  # threads outlived the test: next test in a fresh child
                return self.current
            self.restart_clock()
        return self.n

    def conclude(self):
        """The child ended, or must be ended, in the middle of test `current`: judge it."""
        z, limits, current = self.z, self.limits, self.current
        elapsed = time.monotonic() - self.t_start
        if self.exit_status is None:
            z.kill_all(self.child)
        obs = z.read_outputs(self.workdir, self.job, elapsed)
        if self.job["kind"] == "call" and obs["status"] != "output_limit":
            obs["output"] = None  # it ended before returning a value
        if self.killed_for == "timeout":
            obs.update(
                status="timeout",
                error=f"exceeded {limits['time_s']:g} s",
                duration=limits["time_s"],
            )
        elif self.killed_for == "output_limit":
            obs.update(status="output_limit", error="program flooded the result channel")
        elif obs["status"] != "output_limit" and self.exit_status is not None:
            obs.update(_exit_observation(self.exit_status))
        z.send_test(current, obs)
        return current + 1 if z.pass_gate(self.gate, current + 1, self.n, None) else -1


def _exit_observation(exit_status):
    """Status and error of a child that ended by itself mid-test."""
    if os.WIFSIGNALED(exit_status):
        sig = os.WTERMSIG(exit_status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return {
            "status": "timeout" if sig == signal.SIGXCPU else "signaled",
            "error": f"killed by {name}",
        }
    code = os.waitstatus_to_exitcode(exit_status)
    if code == HARNESS_DISRUPTED:
        error = "the program disrupted the test harness"
    else:
        error = None if code == 0 else f"exit code {code}"
    return {"status": "exited", "error": error}


# --------------------------------------------------------------------------- child
class _TopLevelReturn(BaseException):
    """Raised by a rewritten top-level `return` of a stdio program."""


def _rewrite_top_level_returns(program):
    """The syntax tree of `program` with each module-level `return x` turned into
    `raise __appsplus_return__(x)` (same line numbers). `ast` is imported here, in the child
    of the rare program that needs it: kept in the worker, its 0.6 MB would be in every
    child's address space (each fork copies the page tables of that memory)."""
    import ast

    class ReturnRewriter(ast.NodeTransformer):
        def visit_FunctionDef(self, node):
            return node

        visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_FunctionDef

        def visit_Return(self, node):
            call = ast.Call(
                ast.Name("__appsplus_return__", ast.Load()), [node.value] if node.value else [], []
            )
            return ast.copy_location(ast.Raise(exc=call, cause=None), node)

    tree = ast.parse(program, PROGRAM_FILENAME)
    return ast.fix_missing_locations(ReturnRewriter().visit(tree))


class _Quitter:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Use {self.name}() to exit"

    def __call__(self, code=None):
        raise SystemExit(code)


_NOT_JSON_SHAPED = (
    "the return value holds a tuple below the top level or a dict key that is not a string: "
    "under LiveCodeBench's rules it never equals the expected JSON value"
)


def _json_shaped(value):
    """False if `value` holds a tuple (the top level aside) or a dict with a key that is not
    a str: JSON would turn it into a value that compares equal, Python's == does not."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            return False
        if isinstance(v, dict):
            for k in v:
                if not isinstance(k, str):
                    return False
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return True


def _jsonable(obj):
    for attr in ("tolist", "item"):  # numpy scalars and arrays
        fn = getattr(obj, attr, None)
        if callable(fn):
            return fn()
    raise TypeError(f"return value of type {type(obj).__name__} is not JSON-serializable")


class Child:
    """A child of the zygote. `run`: `prepare` what needs no job (as a spare), wait for the
    go frame, read and compile the job, `apply_limits`, then run tests start..n-1."""

    def __init__(self, zygote, status_w, gate_r):
        self.z, self.status_w, self.gate_r = zygote, status_w, gate_r
        self.reserve = zygote.reserve  # the zygote's mapping: this child's copy
        self.streams = zygote.streams
        self.stdout = sys.stdout

    def run(self):
        self.prepare()
        try:
            go = read_frame(GATE_FD)
        except EOFError:
            return  # the worker is closing
        job = self.read_job()
        try:
            code = compile_program(job["program"], job["kind"])
        except BaseException as e:  # SyntaxError, ValueError (NUL bytes), MemoryError...
            self.send({"type": "compile_error", "error": f"{type(e).__name__}: {e}"[:4000]})
            return
        self.job, self.start = job, go["start"]
        self.preamble = self.other_preamble(job.get("preamble") or "apps")
        # LiveCodeBench's convention: a call-based program runs once, one Solution instance
        self.shared = [] if job.get("shared_calls") and job["kind"] == "call" else None
        self.apply_limits()
        if os.read(GATE_FD, 1) != b"g":  # cleared to run (the last run is cleaned up)
            return
        os.chdir(go["workdir"])
        for i in range(self.start, len(job["inputs"])):
            if not self.run_test(code, i):
                return

    def other_preamble(self, name):
        """For a job under another convention than APPS's ("livecodebench"): take the APPS
        names out of this child's builtins (the snapshot tests restore too) and return the
        compiled preamble each test runs in its globals; None for "apps"."""
        if name == "apps":
            return None
        text = PREAMBLES[name]  # a KeyError is a harness failure: pool.py sends known names
        bd = builtins.__dict__
        for n in _PREAMBLE_NAMES:
            bd.pop(n, None)
        self.z.builtins_snapshot = dict(bd)
        self.z.builtins_version = _dict_version(bd)
        code = self.z.preambles.get(name)  # compiled (and its imports done) by the zygote
        return code or compile(text, "<preamble>", "exec", dont_inherit=True)

    def prepare(self):
        """Keep fds 0-2 and 5-8 (the run's files and the job), 3 (status) and 4 (gate); a
        process group of its own; Landlock scopes, and the seccomp filter unless the zygote
        has it already."""
        os.dup2(self.status_w, STATUS_FD, inheritable=False)
        os.dup2(self.gate_r, GATE_FD, inheritable=False)
        _confine.scope_child(self.z.scope_fd)
        os.closerange(JOB_FD + 1, 1 << 16)
        os.setpgid(0, 0)
        _libc.prctl(PR_SET_NAME, b"appsplus-spare", 0, 0, 0)
        if self.z.seccomp is not None and not self.z.seccomp.install():
            raise RuntimeError("the seccomp filter did not load")

    def read_job(self):
        size = os.fstat(JOB_FD).st_size  # the zygote wrote it whole
        chunks, offset = [], 0
        while offset < size:  # one read, unless it is over the 2 GiB a read returns
            chunks.append(os.pread(JOB_FD, size - offset, offset))
            offset += len(chunks[-1]) or size
        os.close(JOB_FD)
        return json.loads(b"".join(chunks))

    def apply_limits(self):
        lim = self.job["limits"]
        n_left = len(self.job["inputs"]) - self.start
        _libc.prctl(PR_SET_NAME, b"appsplus-run", 0, 0, 0)
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
        # RLIMIT_NPROC counts the processes of a uid (per user namespace): only meaningful
        # for the worker's own sandbox uid, or for root of the worker's own user namespace
        # (the launcher and the zygote count too). Otherwise it would count all of yours.
        nproc = lim["max_processes"]
        if self.z.switch_uid:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            drop_privileges(self.z.uid, self.z.conf.keep_read_cap)
        elif self.z.conf.user_namespace:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc + 2, nproc + 2))
        self.pid = os.getpid()

    def send(self, msg):
        data = (json.dumps(msg) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(STATUS_FD, view) :]

    def bind_stdio(self, i):
        # stdin: this child's memfd (fd 7) holding this test's input (empty for call-based
        # tests), on fd 0 (the program may have closed it: `open(0)` does when collected).
        if os.fstat(STDIN_FD).st_ino != self.z.stdin_ino:
            raise RuntimeError("the program replaced the harness's stdin file")
        self.reset_files(i)
        os.dup2(STDIN_FD, 0)
        os.dup2(OUT_FD, 1)
        os.dup2(ERR_FD, 2)
        # Reuse the text wrappers of the previous test when the program left them intact
        # (seek(0) drops buffered input and points them at the new files); else make new.
        streams = (sys.stdin, sys.stdout, sys.stderr)
        if self.streams is None or streams != self.streams or not _rewind(streams):
            self.streams = _new_std_streams()
        self.stdout = sys.stdout
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = self.streams

    def reset_files(self, i):
        """Empty stdout and stderr, put test i's input in stdin (empty for call-based
        tests); all at offset 0. The first test of a child needs only this: its fds 0-2 and
        their text streams are the zygote's, untouched."""
        for fd in (OUT_FD, ERR_FD, STDIN_FD):
            os.ftruncate(fd, 0)
        if self.job["kind"] == "stdio":
            data = self.job["inputs"][i].encode("utf-8", "surrogateescape")
            view, offset = memoryview(data), 0
            while offset < len(data):
                offset += os.pwrite(STDIN_FD, view[offset:], offset)
        for fd in (OUT_FD, ERR_FD, STDIN_FD):
            os.lseek(fd, 0, os.SEEK_SET)

    def run_test(self, code, i):
        """Run test i; return False when this child must not run further tests.

        Steps: `fresh_test`; the program runs, in this frame (one more frame would take one
        from its recursion limit), and the harness takes its own state back; the program's
        threads are waited for (`_join_threads`), its stdout flushed (`flush_stdout`); then
        one message to the zygote (the outcome, the duration, `_read_output`), and
        `cleared_for_next`. The outcome: status "returned", "unserializable" (a call's
        value is not JSON) or "raised", with error, exc_type and, for a call, ret (JSON)."""
        job = self.job
        self.fresh_test(i)
        shared = self.shared  # [globals, instance] once the program ran, with shared calls
        if shared:
            g = shared[0]
        else:
            g = {
                "__name__": "__main__" if job["kind"] == "stdio" else "solution",
                "__builtins__": builtins,
            }
        lines = tracer = tracer_threading = None
        if job["trace"]:
            lines = set()
            tracer, tracer_threading = _tracing(lines)
        if self.reserve is None:  # address space held back for the harness (RLIMIT_AS)
            self.reserve = mmap.mmap(-1, RESERVE_BYTES, flags=mmap.MAP_PRIVATE)  # untouched: free
        status, error, exc_type, ret = "returned", None, None, None
        t0 = time.perf_counter()
        try:
            if tracer:
                tracer_threading.settrace(tracer)  # threads the program starts are traced too
                sys.settrace(tracer)
            if shared:
                if self.preamble is not None:  # its limits, set again
                    exec(self.preamble, {"__builtins__": builtins})
            else:
                if self.preamble is not None:
                    exec(self.preamble, g)
                exec(code, g)
                if shared is not None:
                    shared.append(g)
            if job["kind"] == "call":
                value = _call(g, job["fn_name"], json.loads(job["inputs"][i]), shared)
                if job.get("strict_values"):  # LiveCodeBench: value == expected, in Python
                    value = list(value) if isinstance(value, tuple) else value
                    if not _json_shaped(value):
                        status, error = "unserializable", _NOT_JSON_SHAPED
                try:
                    if status == "returned":
                        ret = json.dumps(value, default=_jsonable)
                except (TypeError, ValueError) as e:
                    status, error = "unserializable", str(e)
                value = None
        except _TopLevelReturn:
            pass
        except SystemExit as e:
            ignored = job.get("ignore_exit_status") and job["kind"] == "stdio"
            if e.code not in (None, 0) and not ignored:
                status, error, exc_type = "raised", f"SystemExit: {e.code!r}", "SystemExit"
        except BaseException as e:
            self.reserve.close()  # give the harness room if this was a MemoryError
            self.reserve = None
            status, error, exc_type = "raised", _describe(e), type(e).__name__
        finally:
            if tracer:
                sys.settrace(None)
                tracer_threading.settrace(None)
            program_threading = sys.modules.get("threading")  # imported by the program, if at all
            if os.getpid() != self.pid:  # a fork of the program returned into the harness
                _real_exit(0)
            self.z.restore_builtins()  # the stdlib code below needs intact builtins
        if program_threading is not None:  # like interpreter exit: wait for non-daemon threads
            _join_threads(program_threading)
        failed_flush = self.flush_stdout()
        if failed_flush is not None and status == "returned":
            status, error, exc_type = "raised", _describe(failed_flush), type(failed_flush).__name__
        duration = time.perf_counter() - t0
        if shared is None:
            g.clear()  # release the program's data before the harness needs memory again
        out_size, out, err = _read_output(job["limits"]["output_bytes"])
        msg = {
            "type": "test",
            "i": i,
            "status": status,
            "error": error,
            "exc_type": exc_type,
            "ret": ret,
            "duration": duration,
            "out_size": out_size,
            "out": out,
            "err": err,
        }
        if lines is not None:
            msg["lines"] = sorted(lines)
        restart = _threads_left()  # leftover threads: the next test gets a fresh child
        msg["restart"] = restart
        self.send(msg)
        return self.cleared_for_next(i) and not restart

    def fresh_test(self, i):
        """Fresh builtins, files and streams for test i (the first test of a child finds
        them so: only its files are reset), the recursion limit, and random seeded."""
        if i > self.start:
            self.z.restore_builtins()
            self.bind_stdio(i)
            sys.setrecursionlimit(1000)
        else:
            self.reset_files(i)
        random.seed(0)

    def flush_stdout(self):
        """Flush the program's text stdout (the harness's, and sys.stdout if the program
        replaced it); the first OSError or ValueError of a flush, else None."""
        failed = None
        for out in {id(s): s for s in (self.stdout, sys.stdout)}.values():
            if isinstance(out, io.TextIOBase) and not out.closed:
                try:
                    out.flush()
                except (OSError, ValueError) as e:
                    if failed is None:
                        failed = e
        return failed

    def cleared_for_next(self, i):
        """With a gate (stop on first failure), after every test but the last, the zygote
        says whether to go on (b"c"); False when it does not, or the gate is gone."""
        if self.job["gate"] and i < len(self.job["inputs"]) - 1:
            try:
                return os.read(GATE_FD, 1) == b"c"
            except OSError:
                return False
        return True


def _tracing(lines):
    """A tracer adding the program's executed lines to `lines`, and the threading module to
    set it on the threads the program starts (imported only when tracing, never in the
    zygote: its fork hook would cost every child)."""
    import threading

    return _make_tracer(lines), threading


def _join_threads(threading):
    """Wait for the program's non-daemon threads, as the interpreter does at exit."""
    for t in threading.enumerate():
        if t is not threading.current_thread() and not t.daemon:
            t.join()


def _read_output(cap):
    """What the program wrote: (stdout's size up to cap + 1, stdout up to cap + 1 bytes and
    stderr's first STDERR_PREVIEW bytes, decoded)."""
    out_bytes = os.pread(OUT_FD, min(os.lseek(OUT_FD, 0, os.SEEK_END), cap + 1), 0)
    err = os.pread(ERR_FD, STDERR_PREVIEW, 0).decode("utf-8", "replace")
    return len(out_bytes), out_bytes.decode("utf-8", "replace"), err


def _new_std_streams() -> tuple:
    """New text streams over fds 0-2, installed as sys.stdin/stdout/stderr (and returned)."""
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
    return (sys.stdin, sys.stdout, sys.stderr)


def _rewind(streams):
    try:
        for stream in streams:
            stream.seek(0)
        return True
    except (OSError, ValueError, AttributeError):
        return False


def _threads_left():
    """Threads besides the main one (a /proc/self/task folder links to each: 2 + threads)."""
    try:
        return os.stat("/proc/self/task").st_nlink > 3
    except OSError:
        threading = sys.modules.get("threading")
        return threading is not None and threading.active_count() > 1


def _call(g, fn_name, args, shared=None):
    """Call `Solution().fn_name(*args)` (with `shared`, [globals, instance]: one instance
    for every call), else the program's function `fn_name`."""
    solution = g.get("Solution")
    if isinstance(solution, type) and hasattr(solution, fn_name):
        if shared is None:
            return getattr(solution(), fn_name)(*args)
        if len(shared) < 2:
            shared.append(solution())
        return getattr(shared[1], fn_name)(*args)
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
