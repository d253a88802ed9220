"""Confinement of one sandbox worker: namespaces, mounts, Landlock, seccomp (stdlib only).

Loaded by `_sandbox.py` inside the worker (never imported by the driver). Everything here
runs once per worker, except `scope_child` and, without a pid namespace, the seccomp
install (one syscall each per child). Two modes:

    root      new mount, pid, network and IPC namespaces; programs run as a per-worker uid
    rootless  a new user namespace (the caller mapped to root inside, nothing else mapped)
              with new mount, pid, network and IPC namespaces; programs keep no capabilities

In both: the whole filesystem read-only, one small tmpfs shared by /tmp, /var/tmp and
/dev/shm, /run (and, rootless, the caller's home) hidden except for the interpreter's own
folders, a fresh /proc for the pid namespace, loopback only; then Landlock (writes only under
the private temp dirs) and a seccomp filter. When a mechanism is refused the worker records
why in `cause`; the driver's policy decides whether that may run untrusted code.
"""

import ctypes
import errno
import os
import stat
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
CLONE_NEWNET, CLONE_NEWIPC = 0x40000000, 0x08000000
CLONE_NEW_ANY = 0x7E020000  # every CLONE_NEW* flag (ns, cgroup, uts, ipc, user, pid, net)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18
MNT_DETACH = 2
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 1, 2, 4
SYS_MOUNT_SETATTR = 442  # same number on every architecture (unified syscall table)
SYS_LANDLOCK_CREATE, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT = 444, 445, 446
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
PR_SET_DUMPABLE = 4
PRIVATE_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
TMPFS_BUDGET_MB = 64  # what all programs of a worker may keep in /tmp, /var/tmp, /dev/shm
HIDDEN_DIRS = ("/run",)  # sockets of system daemons (dbus, docker, ssh-agent...) live here

# Landlock: the write-like rights (reads stay governed by the mounts and file modes).
LL_WRITE_FILE, LL_TRUNCATE = 1 << 1, 1 << 14
LL_WRITE_ABI1 = sum(1 << b for b in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))
LL_REFER = 1 << 13
LL_SCOPE_ABSTRACT_UNIX, LL_SCOPE_SIGNAL = 1, 2
LL_PATH_BENEATH = 1


class Confinement:
    """What one worker achieved, as reported to the driver (`Isolation` fields + cause)."""

    def __init__(self):
        self.mode = "none"  # root | rootless | none
        self.user_namespace = False
        self.mount_namespace = False
        self.network_namespace = False
        self.pid_namespace = False
        self.ipc_namespace = False
        self.read_only_filesystem = False
        self.private_tmp = False
        self.private_proc = False
        self.hidden_home = False
        self.unprivileged_user = False
        self.landlock_abi = 0
        self.seccomp = False
        self.tmpfs_budget_mb = 0
        self.cause = None  # why full isolation is not in force (None when it is)
        self.private_dirs = []  # private temp dirs to empty after each program
        self.kept_in_tmp = set()  # code bound back into them, and its parents: never emptied
        self.keep_read_cap = False

    def report(self):
        return {
            k: v
            for k, v in vars(self).items()
            if k not in ("private_dirs", "keep_read_cap", "mode", "kept_in_tmp")
        } | {"mode": self.mode}

    def refuse(self, what):
        if self.cause is None:
            self.cause = what


def _err():
    e = ctypes.get_errno()
    return f"{errno.errorcode.get(e, e)} ({os.strerror(e)})"


def _mount(src, target, fstype, flags, data):
    return (
        libc.mount(
            src.encode() if src else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        )
        == 0
    )


# --------------------------------------------------------------------------- launcher
def enter_namespaces(conf):
    """Unshare namespaces (as root, or in a new user namespace); the next fork is pid 1."""
    if not sys.platform.startswith("linux"):
        conf.refuse(f"{os.uname().sysname} has no namespaces (Linux only)")
        return
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID
    if os.geteuid() == 0 and _all_uids_mapped():
        conf.mode = "root"
    else:
        uid, gid = os.geteuid(), os.getegid()
        if libc.unshare(flags | CLONE_NEWUSER) != 0:
            conf.refuse(
                f"user namespaces are refused here: unshare(CLONE_NEWUSER) failed with {_err()}"
                " (disabled by sysctl user.max_user_namespaces / kernel.unprivileged_userns_clone,"
                " by AppArmor's kernel.apparmor_restrict_unprivileged_userns, or by a seccomp"
                " policy of the container)"
            )
            return
        try:
            for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):  # fmt: skip
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        except OSError as e:
            conf.refuse(f"could not map the user into its namespace: {e}")
            return
        conf.mode = "rootless"
        conf.user_namespace = True
        flags = 0  # all unshared above, with the user namespace
    for flag, attr in (
        (CLONE_NEWNS, "mount_namespace"),
        (CLONE_NEWNET, "network_namespace"),
        (CLONE_NEWIPC, "ipc_namespace"),
        (CLONE_NEWPID, "pid_namespace"),
    ):
        ok = flags == 0 or libc.unshare(flag) == 0
        setattr(conf, attr, ok)
        if not ok:
            conf.refuse(f"unshare of the {attr.replace('_', ' ')} failed with {_err()}")
    if conf.network_namespace:
        _loopback_up()


def _all_uids_mapped():
    """Real root (every uid exists), not root of a user namespace that maps only a few
    (a rootless container): only then can each worker have a uid of its own."""
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return False


def _loopback_up():
    """Bring `lo` up in the new network namespace: loopback works, nothing else exists."""
    import _socket  # not `socket`: its Python layer would stay in every child's memory
    import fcntl

    try:
        s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    except OSError:
        return  # no loopback: still no network
    try:
        fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH22x", b"lo", 0x1 | 0x40))  # SIOCSIFFLAGS
    except OSError:
        pass
    finally:
        s.close()


def build_filesystem(conf, needed_paths, home):
    """Read-only view of everything, small private temp dirs, /run and home hidden."""
    if not conf.mount_namespace:
        return
    if not _mount(None, "/", None, MS_REC | MS_PRIVATE, None):
        conf.refuse(f"could not make the mount tree private: {_err()}")
        return
    attr = struct.pack("QQQQ", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0)
    buf = ctypes.create_string_buffer(attr, len(attr))
    conf.read_only_filesystem = (
        libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, b"/", AT_RECURSIVE, buf, len(attr)) == 0
    )
    if not conf.read_only_filesystem:
        conf.refuse(f"could not make the filesystem read-only (mount_setattr: {_err()})")
    _private_tmp(conf, needed_paths)
    hide = [d for d in HIDDEN_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    # the caller's home (as root often /root, in CI containers /github/home): hidden, unless
    # it is "/" (cannot be) or lies in a private temp dir already
    in_tmp = bool(home) and any(home.startswith(d + "/") for d in conf.private_dirs)
    hidden_home = home != "/"
    if home and home != "/" and not in_tmp and os.path.isdir(home) and home not in hide:
        hide.append(home)
    for d in hide:
        ok = _hide(d, [p for p in needed_paths if p == d or p.startswith(d + "/")])
        if d == home:
            hidden_home = ok
    conf.hidden_home = hidden_home
    if conf.mode == "root":
        conf.keep_read_cap = not expose_paths(needed_paths)
        conf.unprivileged_user = True


def _private_tmp(conf, needed_paths):
    """One tmpfs of TMPFS_BUDGET_MB, its subfolders bind-mounted on /tmp, /var/tmp, /dev/shm.

    Code that lives there (a checkout or venv under /tmp) is bind-mounted back, read-only.
    """
    dirs = [d for d in PRIVATE_TMP_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    if "/tmp" not in dirs:
        conf.refuse("no /tmp directory to make private")
        return
    keep = _minimal([p for p in needed_paths if any(p.startswith(d + "/") for d in dirs)])
    fds = _open_paths(keep)
    try:
        opts = f"mode=1777,size={TMPFS_BUDGET_MB}m,nr_inodes=16384"
        if not _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts):
            conf.refuse(f"could not mount a private /tmp: {_err()}")
            return
        subs = {}
        for i, d in enumerate(dirs):
            subs[d] = f"/tmp/.{i}"
            os.mkdir(subs[d])
            os.chmod(subs[d], 0o1777)
        mounted = [d for d in dirs if d != "/tmp" and _mount(subs[d], d, None, MS_BIND, None)]
        # /tmp last: its bind covers the budget tmpfs's root (nothing else can reach it)
        if _mount(subs["/tmp"], "/tmp", None, MS_BIND, None):
            mounted.insert(0, "/tmp")
        conf.private_tmp = "/tmp" in mounted and _bind_back(fds)
    finally:
        for fd in fds.values():
            os.close(fd)
    conf.private_dirs = mounted
    conf.tmpfs_budget_mb = TMPFS_BUDGET_MB if conf.private_tmp else 0
    conf.kept_in_tmp = {a for p in keep for a in _ancestors(p)} | set(keep)
    if not conf.private_tmp:
        conf.refuse(f"could not mount a private /tmp: {_err()}")


def _minimal(paths):
    """`paths` without those inside another one of them."""
    paths = sorted(set(paths))
    return [p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths)]


def _ancestors(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:k]) for k in range(1, len(parts))]


def _open_paths(paths):
    fds = {}
    for p in paths:
        try:
            fds[p] = os.open(p, os.O_PATH)
        except OSError:
            pass
    return fds


def _bind_back(fds):
    """Bind-mount each opened path (fd) read-only at its own path, making parents as needed."""
    remount = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    for p, fd in fds.items():
        if not os.path.lexists(p):
            os.makedirs(os.path.dirname(p), mode=0o755, exist_ok=True)
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.mkdir(p, 0o755)
            else:
                open(p, "w").close()
        if not _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC, None):
            return False
        if not _mount(None, p, None, remount, None):
            return False
    return True


def _hide(d, keep):
    """Cover `d` with an empty read-only tmpfs into which only `keep` are bind-mounted back."""
    fds = _open_paths(_minimal(keep))
    try:
        if not _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m"):
            return False
        if not _bind_back({p: fd for p, fd in fds.items() if p != d}):
            return False
        remount = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        ok = _mount(None, d, None, remount, None)
        if d in fds:  # the whole folder is needed: put it back as it was
            ok = _mount(f"/proc/self/fd/{fds[d]}", d, None, MS_BIND | MS_REC, None)
        return ok
    finally:
        for fd in fds.values():
            os.close(fd)


def expose_paths(paths):
    """Make `paths` reachable for an unprivileged uid inside this mount namespace (root mode).

    A private ancestor (e.g. /root, mode 700, holding a pyenv) is covered with an empty
    tmpfs into which only the needed entries are bind-mounted back: the sandbox user can
    reach the interpreter and site-packages, and nothing else that lived there. Returns
    False if some path stays unreachable (the caller then keeps CAP_DAC_READ_SEARCH).
    """
    plan = {}  # private ancestor -> its entries to expose
    for p in paths:
        parts = p.strip("/").split("/")
        for k in range(1, len(parts)):
            anc = "/" + "/".join(parts[:k])
            try:
                mode = os.stat(anc).st_mode
            except OSError:
                break
            if not mode & stat.S_IXOTH:
                plan.setdefault(anc, set()).add(os.path.join(anc, parts[k]))
                break
    for anc in sorted(plan, key=len, reverse=True):
        if not _hide(anc, plan[anc]):
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


# --------------------------------------------------------------------------- zygote
def mount_proc(conf):
    """As pid 1 of the new pid namespace: a /proc that shows only this worker's processes."""
    if not (conf.pid_namespace and conf.mount_namespace):
        return
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    conf.private_proc = _mount("proc", "/proc", "proc", flags, None)
    if not conf.private_proc:  # never leave the host's /proc (and its pids) visible
        conf.private_proc = _mount("tmpfs", "/proc", "tmpfs", flags | MS_RDONLY, "size=4k")
    if not conf.private_proc:
        conf.refuse(f"could not replace /proc: {_err()}")


def landlock_abi():
    abi = libc.syscall(SYS_LANDLOCK_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(int(abi), 0)


def _ruleset(abi, handled, scoped):
    """A Landlock ruleset fd handling `handled` rights and `scoped` scopes, or -1."""
    fields = [handled]
    if abi >= 4:
        fields.append(0)  # handled_access_net: the network namespace does that job
    if abi >= 6:
        fields.append(scoped)
    attr = struct.pack(f"{len(fields)}Q", *fields)
    return int(libc.syscall(SYS_LANDLOCK_CREATE, attr, len(attr), 0))


def _allow(ruleset, path, access):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        rule = struct.pack("=Qi", access, fd)  # struct landlock_path_beneath_attr (packed)
        return libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LL_PATH_BENEATH, rule, 0) == 0
    finally:
        os.close(fd)


def landlock_writes_only_under(conf, dirs):
    """Restrict this process (and all it forks) to writing under `dirs` (and /dev/null)."""
    abi = landlock_abi()
    if abi < 1:
        return
    write = LL_WRITE_ABI1 | (LL_REFER if abi >= 2 else 0) | (LL_TRUNCATE if abi >= 3 else 0)
    ruleset = _ruleset(abi, write, 0)
    if ruleset < 0:
        return
    try:
        ok = all(_allow(ruleset, d, write) for d in dirs)
        file_rights = LL_WRITE_FILE | (LL_TRUNCATE if abi >= 3 else 0)
        _allow(ruleset, "/dev/null", file_rights)
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if ok and libc.syscall(SYS_LANDLOCK_RESTRICT, ruleset, 0) == 0:
            conf.landlock_abi = abi
    finally:
        os.close(ruleset)


def scope_ruleset(abi):
    """A ruleset (made once per worker) whose domain scopes signals and abstract sockets:
    each child that enforces it (`scope_child`, one syscall, Landlock ABI >= 6) gets a new
    domain of its own, so the zygote and everything outside the program's processes become
    unreachable by kill(), even without a pid namespace. None where scopes do not exist."""
    if abi < 6:
        return None
    ruleset = _ruleset(abi, 0, LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL)
    return ruleset if ruleset >= 0 else None


def scope_child(ruleset):
    if ruleset is not None and libc.syscall(SYS_LANDLOCK_RESTRICT, ruleset, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")


# --------------------------------------------------------------------------- seccomp
# Syscalls a judged program never needs (x86_64 numbers): tracing other processes, mounts
# and namespaces, kernel keyrings, BPF, perf, modules, and memory that rlimits do not count
# (memfds, System V shared memory, message queues and semaphores).
_DENIED_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "pidfd_getfd": 438, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "unshare": 272, "setns": 308, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "kexec_load": 246, "kexec_file_load": 320,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "reboot": 169,
    "swapon": 167, "swapoff": 168, "acct": 163, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "memfd_create": 319, "memfd_secret": 447, "shmget": 29,
    "msgget": 68, "semget": 64, "mq_open": 240, "personality": 135,
}  # fmt: skip
_CLONE, _CLONE3 = 56, 435
_AUDIT_ARCH_X86_64 = 0xC000003E
_RET_ALLOW, _RET_ERRNO, _RET_KILL = 0x7FFF0000, 0x00050000, 0x80000000


def _bpf(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


def seccomp_program():
    """The filter's bytes (built once per worker), or None where it is not supported."""
    if os.uname().machine != "x86_64":
        return None
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    eperm, enosys = _RET_ERRNO | errno.EPERM, _RET_ERRNO | errno.ENOSYS
    ins = [
        _bpf(ld, 0, 0, 4),  # arch
        _bpf(jeq, 1, 0, _AUDIT_ARCH_X86_64),
        _bpf(ret, 0, 0, _RET_KILL),  # i386 / x32 entry points: other numbers
        _bpf(ld, 0, 0, 0),  # nr
        _bpf(jge, 0, 1, 0x40000000),
        _bpf(ret, 0, 0, _RET_KILL),
        _bpf(jeq, 0, 1, _CLONE3),  # args in memory: glibc falls back to clone on ENOSYS
        _bpf(ret, 0, 0, enosys),
        _bpf(jeq, 0, 3, _CLONE),  # clone: no new namespaces
        _bpf(ld, 0, 0, 16),  # args[0], low 32 bits: flags
        _bpf(jset, 0, 1, CLONE_NEW_ANY),
        _bpf(ret, 0, 0, eperm),
    ]
    for nr in sorted(_DENIED_X86_64.values()):
        ins += [_bpf(jeq, 0, 1, nr), _bpf(ret, 0, 0, eperm)]
    ins.append(_bpf(ret, 0, 0, _RET_ALLOW))
    return b"".join(ins)


class SeccompFilter:
    """A filter kept in memory by the zygote; `install()` is one prctl in each child."""

    def __init__(self, program):
        self.buf = ctypes.create_string_buffer(program, len(program))
        n = len(program) // 8
        self.fprog = struct.pack("HxxxxxxQ", n, ctypes.addressof(self.buf))
        self.fprog_buf = ctypes.create_string_buffer(self.fprog, len(self.fprog))

    def install(self):
        return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self.fprog_buf, 0, 0) == 0


def drop_all_capabilities():
    """Rootless children: root inside the user namespace, but with no capability at all."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    header = Header(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    return libc.capset(ctypes.byref(header), data) == 0
