"""The one executor: run untrusted Python programs against unit tests in a sandbox.

    from appsplus.execution import run_tests, Limits, StdioTest
    result = run_tests("print(int(input()) * 2)", [StdioTest(input="2\\n", output="4\\n")])
    result.passed, result.verdicts

See `appsplus/execution/_sandbox.py` for the process layout and the APPS conventions.
"""

from appsplus.execution.apps import tests_from_apps
from appsplus.execution.backends import (
    Executor,
    ExecutorSpecError,
    open_executor,
)
from appsplus.execution.compare import COMPARATOR_VERSION, stdout_matches, values_match
from appsplus.execution.models import (
    CallTest,
    ExecutionResult,
    Isolation,
    Limits,
    SandboxError,
    StdioTest,
    Test,
    TestResult,
    TestsError,
    Verdict,
)
from appsplus.execution.policy import (
    ALLOW_UNISOLATED_ENV,
    IsolationUnavailable,
    check_isolation,
)
from appsplus.execution.pool import (
    EXECUTOR_VERSION,
    Job,
    WorkerPool,
    default_pool,
    run_many,
    run_tests,
    usable_cpus,
)
from appsplus.execution.preamble import PREAMBLE, preamble_names

__all__ = [
    "ALLOW_UNISOLATED_ENV",
    "IsolationUnavailable",
    "PREAMBLE",
    "check_isolation",
    "preamble_names",
    "COMPARATOR_VERSION",
    "EXECUTOR_VERSION",
    "Executor",
    "ExecutorSpecError",
    "CallTest",
    "ExecutionResult",
    "Isolation",
    "Job",
    "Limits",
    "SandboxError",
    "TestsError",
    "StdioTest",
    "Test",
    "TestResult",
    "Verdict",
    "WorkerPool",
    "default_pool",
    "open_executor",
    "run_many",
    "run_tests",
    "stdout_matches",
    "tests_from_apps",
    "usable_cpus",
    "values_match",
]
