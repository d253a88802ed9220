"""Typed records that cross the executor boundary: tests, limits, verdicts and results."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer

from appsplus.errors import AppsplusError
from appsplus.execution.compare import RULE_SETS


class SandboxError(RuntimeError):
    """The sandbox itself failed (never a property of the program under test)."""


class ExecutorSpecError(AppsplusError, ValueError):
    """A spec that names no backend, a backend whose extra is missing, or one not reachable."""


class TestsError(AppsplusError, ValueError):
    """Tests the executor cannot run: a malformed APPS input_output, none, or mixed kinds."""

    __test__ = False  # not a pytest test class, despite its name


class Verdict(str, Enum):
    """Outcome of one test. The one verdict enum of the project."""

    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    MEMORY_EXCEEDED = "memory_exceeded"
    OUTPUT_LIMIT_EXCEEDED = "output_limit_exceeded"
    COMPILE_ERROR = "compile_error"
    SKIPPED = "skipped"  # not run: an earlier test failed and stop_on_first_failure was set


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Judged(_Frozen):
    """A test with the name of its judge rules (`appsplus.execution.compare.RULE_SETS`):
    "apps", the default, is left out of dumps, so APPS tests serialize (and hash) as before."""

    @field_validator("rules", check_fields=False)
    @classmethod
    def _known_rules(cls, value: str) -> str:
        if value not in RULE_SETS:
            raise ValueError(f"no judge rules {value!r} (known: {', '.join(RULE_SETS)})")
        return value

    @model_serializer(mode="wrap")
    def _drop_default_rules(self, handler: Any) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("rules") == "apps":
            del data["rules"]
        return data


class StdioTest(_Judged):
    """Feed `input` on stdin; stdout must match `output` under the comparator."""

    kind: Literal["stdio"] = "stdio"
    input: str
    output: str
    rules: str = "apps"


class CallTest(_Judged):
    """Call `fn_name(*args)` (or `Solution().fn_name(*args)`); the return value must match `expected`.

    `apps_list_quirk`: raw APPS stores many call-based outputs wrapped in a one-element
    list. When set, both `expected` and `expected[0]` are accepted. Dataset builds resolve
    the quirk once and store the unwrapped value with the flag off.
    """

    kind: Literal["call"] = "call"
    fn_name: str
    args: list[Any]
    expected: Any
    apps_list_quirk: bool = False
    rules: str = "apps"


Test = StdioTest | CallTest


class Limits(_Frozen):
    """Resource limits for one program run; every test of the program gets them afresh."""

    time_s: float = Field(4.0, gt=0, description="wall-clock seconds per test")
    memory_mb: int = Field(2048, ge=64, description="address-space limit (RLIMIT_AS)")
    output_bytes: int = Field(
        32 * 2**20, ge=1024, description="cap on a test's stdout and on any file written"
    )
    max_processes: int = Field(
        64,
        ge=1,
        description="RLIMIT_NPROC, threads included: per worker uid (root) or user namespace "
        "(rootless); not applied without full isolation",
    )
    max_open_files: int = Field(256, ge=16, description="RLIMIT_NOFILE")


class TestResult(_Frozen):
    """What happened on one test."""

    __test__ = False  # not a pytest class

    verdict: Verdict
    duration_s: float = 0.0
    output: str = Field(
        "", description="stdout (stdio) or the JSON of the return value (call); truncated"
    )
    stderr: str = ""
    error: str | None = Field(None, description="exception or signal that ended the test, if any")


class Isolation(_Frozen):
    """Which isolation mechanisms were in force for a run (`in_force` lists them).

    `mode`: `root` (namespaces + a per-worker uid), `rootless` (a user namespace with the
    caller mapped to root inside, no capabilities) or `none` (rlimits and Landlock only,
    run only with the explicit opt-in: see `appsplus.execution.policy`). `cause` says why
    full isolation is not in force, when it is not.
    """

    mode: Literal["root", "rootless", "none"] = "none"
    user_namespace: bool = False
    mount_namespace: bool = False
    network_namespace: bool = False
    pid_namespace: bool = False
    ipc_namespace: bool = False
    read_only_filesystem: bool = False
    private_tmp: bool = False
    private_proc: bool = False
    hidden_home: bool = False
    unprivileged_user: bool = False
    landlock_abi: int = Field(0, description="Landlock ABI in force (0: none)")
    seccomp: bool = False
    tmpfs_budget_mb: int = Field(0, description="RAM all private temp dirs may hold together")
    cause: str | None = None

    @property
    def in_force(self) -> list[str]:
        """Every mechanism in force, by name (rlimits and the process group always are)."""
        names = [
            name
            for name in (
                "user_namespace", "mount_namespace", "network_namespace", "pid_namespace",
                "ipc_namespace", "read_only_filesystem", "private_tmp", "private_proc",
                "hidden_home", "unprivileged_user", "seccomp",
            )
            if getattr(self, name)
        ]  # fmt: skip
        if self.landlock_abi:
            names.append(f"landlock_abi_{self.landlock_abi}")
        return ["rlimits", "process_group", *names]

    @property
    def full(self) -> bool:
        """Every namespace and filesystem mechanism of the mode is in force."""
        common = (
            self.mount_namespace
            and self.network_namespace
            and self.pid_namespace
            and self.ipc_namespace
            and self.read_only_filesystem
            and self.private_tmp
            and self.private_proc
        )
        if self.mode == "root":
            return common and self.unprivileged_user
        return self.mode == "rootless" and common and self.user_namespace and self.hidden_home


class ExecutionResult(_Frozen):
    """One verdict per test, in order; `passed` only if there is at least one test and all passed."""

    tests: list[TestResult]
    compile_error: str | None = None
    executed_lines: frozenset[int] | None = None
    isolation: Isolation = Isolation()

    @property
    def verdicts(self) -> list[Verdict]:
        return [t.verdict for t in self.tests]

    @property
    def passed(self) -> bool:
        return bool(self.tests) and all(t.verdict is Verdict.PASSED for t in self.tests)

    @property
    def pass_fraction(self) -> float:
        return (
            sum(t.verdict is Verdict.PASSED for t in self.tests) / len(self.tests)
            if self.tests
            else 0.0
        )
