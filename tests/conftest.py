"""Shared fixtures: a real sandbox pool, the shared real-data folder, and a harness health check.

`pytest --executor ray` (or APPSPLUS_TEST_EXECUTOR=ray) makes the `pool` fixture a Ray
executor on a real two-node cluster on 127.0.0.1 (`ray_cluster`), e.g. to run the hostile
suite through Ray: `pytest tests/execution/test_execution_hostile.py --executor ray`.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from testkit import DATA_ENV, SHARED_DATA

from appsplus.execution import Isolation, StdioTest, WorkerPool, run_tests

# The test suite runs wherever it is started, also where full isolation is impossible (a
# container without CAP_SYS_ADMIN or user namespaces): there the containment tests skip with
# the cause. The policy itself is tested with this variable removed (test_isolation_modes).
os.environ.setdefault("APPSPLUS_ALLOW_UNISOLATED", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]

# Sandboxed programs run as uid SANDBOX_UID_BASE + (pid of their worker's launcher).
SANDBOX_UID_BASE = 200000
SANDBOX_SCRIPT_NAME = b"_sandbox.py"
SPARE_NAME = "appsplus-spare"  # the zygote's child that waits for the next job
TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
# Processes other than this one whose sandbox workers the health check watches (Ray actors).
SANDBOX_PARENTS: set[int] = set()

# Ray reads these when imported. Without the first, a driver told 127.0.0.1 dials the
# machine's outward address instead (where a loopback-only test cluster is not listening).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
RAY_NODE = {"num_cpus": 1, "object_store_memory": 80 * 2**20, "node_ip_address": "127.0.0.1"}
RAY_CLIENT: dict[str, int] = {}


def pytest_addoption(parser):
    parser.addoption(
        "--executor",
        choices=("local", "ray"),
        default=os.environ.get("APPSPLUS_TEST_EXECUTOR", "local"),
        help="where the `pool` fixture runs programs: local (default) or ray (a two-node "
        "Ray cluster on 127.0.0.1; needs the ray extra). Env: APPSPLUS_TEST_EXECUTOR.",
    )


@pytest.fixture(scope="session")
def ray_cluster():
    """A real Ray cluster on 127.0.0.1: a head and a second node, 1 CPU each; RAY_ADDRESS set."""
    pytest.importorskip("ray", reason='the ray extra is not installed (pip install -e ".[ray]")')
    from ray.cluster_utils import Cluster

    temp = tempfile.mkdtemp(prefix="ray-tests-")  # short: Ray's socket paths live under it
    # Ray also writes the cluster's address under $RAY_TMPDIR/ray (default /tmp/ray, which a
    # fresh machine does not have): keep that in the test's folder too
    os.makedirs(os.path.join(temp, "ray"), exist_ok=True)
    os.environ["RAY_TMPDIR"] = temp
    with socket.socket() as s:  # a free loopback port for the Ray Client server
        s.bind(("127.0.0.1", 0))
        RAY_CLIENT["port"] = s.getsockname()[1]
    head = {
        **RAY_NODE,
        "include_dashboard": False,
        "temp_dir": temp,
        "ray_client_server_port": RAY_CLIENT["port"],
    }
    cluster = Cluster(initialize_head=True, head_node_args=head)
    before = os.environ.get("RAY_ADDRESS")
    try:
        cluster.add_node(**RAY_NODE)
        os.environ["RAY_ADDRESS"] = cluster.address
        yield cluster
    finally:
        if before is None:
            os.environ.pop("RAY_ADDRESS", None)
        else:
            os.environ["RAY_ADDRESS"] = before
        cluster.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_client_address(ray_cluster) -> str:
    """`ray://127.0.0.1:PORT`: the Ray Client server on the head of `ray_cluster`."""
    return f"ray://127.0.0.1:{RAY_CLIENT['port']}"


@pytest.fixture(scope="module")
def pool(request):
    """Two real sandbox workers shared by the tests of one module (with `--executor ray`, or
    in a module that sets POOL_EXECUTOR = "ray": two Ray actors of one worker each, one per
    node of `ray_cluster`)."""
    executor = getattr(request.module, "POOL_EXECUTOR", None)
    if (executor or request.config.getoption("--executor")) == "ray":
        request.getfixturevalue("ray_cluster")
        from appsplus.execution import open_executor

        with open_executor("ray") as p:
            pids = {node.pid for node in p.nodes()}
            SANDBOX_PARENTS.update(pids)
            yield p
            SANDBOX_PARENTS.difference_update(pids)
        return
    with WorkerPool(2) as p:
        yield p


@pytest.fixture
def sandbox_parents() -> set[int]:
    """Pids besides this process whose sandbox workers the health check watches (Ray actors)."""
    return SANDBOX_PARENTS


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder ($APPSPLUS_DATA_DIR or ../shared/data); skips when absent."""
    if os.environ.get(DATA_ENV) and not SHARED_DATA.is_dir():
        pytest.fail(f"{DATA_ENV}={SHARED_DATA} is not a folder", pytrace=False)
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"real data not present (a fresh clone has no ../shared/data; set {DATA_ENV} "
            f"to a copy): looked in {SHARED_DATA}"
        )
    return SHARED_DATA


# --------------------------------------------------------------------------- /proc helpers
@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    uids: tuple[int, ...]  # real, effective, saved, filesystem
    cmdline: bytes
    name: str = ""  # the process name (comm)


def process_table() -> dict[int, Proc]:
    """Every process visible in /proc (processes that vanish while we read are skipped)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                status = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            ppid = int(fields["PPid"])
            uids = tuple(int(u) for u in fields["Uid"].split())
        except (KeyError, ValueError):
            continue
        table[int(name)] = Proc(int(name), ppid, uids, cmdline, fields.get("Name", "").strip())
    return table


@pytest.fixture
def processes():
    """`process_table`, for tests that look for processes of their own."""
    return process_table


def children(table: dict[int, Proc], pid: int) -> list[Proc]:
    return [p for p in table.values() if p.ppid == pid]


def sandbox_launchers(table: dict[int, Proc]) -> list[Proc]:
    """The sandbox workers (launcher processes) started by this test process (or its actors)."""
    parents = {os.getpid(), *SANDBOX_PARENTS}
    return [p for p in table.values() if p.ppid in parents and SANDBOX_SCRIPT_NAME in p.cmdline]


def process_problems() -> list[str]:
    """Why the sandbox's process state is not clean (empty list when it is).

    Clean means: every worker launcher has exactly one child (its zygote), every zygote has
    at most one, its spare (the next run's child, named appsplus-spare, waiting for its job,
    with no process of its own): no program process outlives its run; and no process runs
    as a sandbox uid that belongs to one of our workers or to a worker that no longer exists.
    """
    table = process_table()
    problems = []
    launchers = sandbox_launchers(table)
    ours = {SANDBOX_UID_BASE + p.pid for p in launchers}
    for launcher in launchers:
        kids = children(table, launcher.pid)
        if len(kids) != 1:
            problems.append(f"launcher {launcher.pid} has children {[k.pid for k in kids]}")
        for zygote in kids:
            grandkids = children(table, zygote.pid)
            spares = [g for g in grandkids if g.name == SPARE_NAME and not children(table, g.pid)]
            if len(spares) == 1:
                grandkids.remove(spares[0])
            if grandkids:
                problems.append(
                    f"zygote {zygote.pid} still has children {[g.pid for g in grandkids]}"
                )
    for p in table.values():
        for uid in set(p.uids):
            if uid < SANDBOX_UID_BASE:
                continue
            owner = table.get(uid - SANDBOX_UID_BASE)
            # Another test session's live worker may legitimately be running a program.
            alive_elsewhere = owner is not None and SANDBOX_SCRIPT_NAME in owner.cmdline
            if uid in ours or not alive_elsewhere:
                problems.append(f"stray sandbox process {p.pid} (uid {uid}): {p.cmdline[:120]!r}")
    return problems


def _temp_entries() -> dict[str, set[str]]:
    entries = {}
    for d in TEMP_DIRS:
        try:
            entries[d] = set(os.listdir(d))
        except OSError:
            entries[d] = set()
    return entries


@dataclass
class HealthSnapshot:
    """State taken before a hostile case; `assert_healthy()` compares the state after it."""

    pool: WorkerPool
    isolation: Isolation
    temp: dict[str, set[str]] = field(default_factory=_temp_entries)

    def new_temp_entries(self) -> list[str]:
        """New entries in the host's temp dirs that the sandbox could have made.

        pytest's own dirs are ignored. With a per-worker sandbox uid (root mode) only entries
        owned by a sandbox uid or named like the executor's folders count (other processes
        on the machine make temp files meanwhile); otherwise entries owned by our own uid
        (programs run as it: rootless mode, or unisolated).
        """
        found = []
        for d, before in self.temp.items():
            try:
                now = set(os.listdir(d))
            except OSError:
                continue
            for name in sorted(now - before):
                if name.startswith("pytest-"):
                    continue
                path = os.path.join(d, name)
                try:
                    owner = os.lstat(path).st_uid
                except OSError:
                    continue  # already gone
                ours = name.startswith(("appsplus-run-", "appsplus-worker-"))
                if self.isolation.unprivileged_user:
                    ours = ours or owner >= SANDBOX_UID_BASE
                else:
                    ours = ours or owner == os.getuid()
                if ours:
                    found.append(f"{path} (uid {owner})")
        return found

    def assert_healthy(self) -> None:
        # 1. a normal program still passes on the same pool
        result = run_tests(
            "print(int(input()) + 1)", [StdioTest(input="41\n", output="42\n")], pool=self.pool
        )
        assert result.passed, f"a normal program no longer passes: {result.tests}"
        # 2. no stray processes (allow a moment for the kernel to finish reaping)
        problems = process_problems()
        for _ in range(20):
            if not problems:
                break
            time.sleep(0.05)
            problems = process_problems()
        assert not problems, problems
        # 3. nothing new in the host's temp dirs
        assert not self.new_temp_entries(), self.new_temp_entries()


@pytest.fixture
def snapshot_health(pool):
    """Factory: `snap = snapshot_health()` before a case, `snap.assert_healthy()` after it."""

    def take() -> HealthSnapshot:
        return HealthSnapshot(pool=pool, isolation=pool.isolation())

    return take


# --------------------------------------------------------------------------- tiny local models
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
TINY_CORPUS = ["def f(x):\n    return x + 1\n", "n = int(input())\nprint(n * 2)\n"] * 20


def make_tiny_model(root: Path, chat_template: str | None = None) -> Path:
    """A 2-layer random Llama + byte-level BPE tokenizer, built by `appsplus.trainers.model.build_tiny`."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    from appsplus.trainers.model import build_tiny

    torch.set_num_threads(1)  # tiny matrices: threads only add contention on 2 cores
    return build_tiny(
        root, TINY_CORPUS, vocab_size=320, hidden_size=32, layers=2, heads=2,
        chat_template=chat_template,
    )  # fmt: skip


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Path of a tiny random-weight causal LM saved locally (no chat template)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory) -> Path:
    """The tiny model with a chat template on its tokenizer."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-chat-model"), CHAT_TEMPLATE)
