"""Timeouts that do not depend on machine load: a timed-out run is run again, generously.

    run = confirm_timeouts(run, verification_limit_s=4.0)   # a Runner; its TIMEOUTs are final

The executor's limits are wall-clock seconds, so a program that finishes in 0.3 s on an
idle machine times out at 0.5 s when two busy processes share each core, and any decision
made from that verdict (a mutant not counted, a probe input dropped, a solution that stops
passing) would change the hashed dataset files with the machine's load. The rule, applied
by verification (`appsplus.curate.verify`) and by the quality step (`appsplus.quality.assess`):

- A job whose result has a TIMEOUT verdict runs again (same program and flags) under
  `confirm_limit_s` = max(CONFIRM_FACTOR x its limit, the verification limit) per test,
  times the machine's `load_factor()` when the reruns start: 4 s for the quality step's
  0.5 s runs and 8 s for verification's 4 s (defaults) on an idle machine, 12 s and 24 s
  where a CPU-bound process runs three times slower (two busy processes per core). So
  the confirm limit is about CPU seconds, not wall-clock ones. Every test starts with
  fresh globals (the executor's rule), so only the timed-out tests run again (a job that
  stops at its first failure: the first timed-out test and the skipped ones after it), and
  their new verdicts, whatever they say, replace the timeouts.
- So a verdict no longer asks "did it finish within the limit on this machine now" but
  "did it finish within about the confirm limit's CPU time"; for the programs builds meet
  (mutants and solutions that finish in at most a second or two of CPU, or loop
  forever), the answer is the same on an idle machine and on a loaded one. A program
  whose CPU time is close to the confirm limit can still differ (the load factor is an
  estimate, capped at MAX_LOAD_FACTOR); such runs are what `near_limit_tests` in
  runtimes.parquet points at.
- What the confirmation costs: the confirm limit once more for each test that never
  finishes (an infinite-loop mutant costs 0.5 + 4 s instead of 0.5 s on an idle machine);
  tests that finish within the first limit are not run again. Both runs go through the
  caller's runner (the build's cache); a confirmation is stored under its unscaled limit
  (the limit it stands for in CPU terms), so a build resumed under another load finds it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from appsplus.execution import ExecutionResult, Job, Verdict

CONFIRM_FACTOR = 2.0
MAX_LOAD_FACTOR = 4.0  # a bound on what one confirmation may cost: 4 x the confirm limit
_SAMPLE_S = 0.05

_Runner = Callable[[Sequence[Job]], list[ExecutionResult]]


def timed_out(result: ExecutionResult) -> bool:
    """Whether any test of the result hit the time limit."""
    return any(t.verdict is Verdict.TIMEOUT for t in result.tests)


def load_factor() -> float:
    """How many times slower than on an idle core a CPU-bound process runs now, in [1, 4].

    The larger of the 1-minute load average per CPU of the machine and the wall/CPU time
    ratio of a 50 ms busy loop in this thread (what the scheduler gives a process right
    now, which the load average reports a minute late).
    """
    try:
        per_cpu = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        per_cpu = 1.0
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < _SAMPLE_S:
        pass
    cpu = time.thread_time() - cpu0
    ratio = (time.perf_counter() - wall0) / cpu if cpu > 0 else MAX_LOAD_FACTOR
    return min(MAX_LOAD_FACTOR, max(1.0, per_cpu, ratio))


def confirm_limit_s(job: Job, verification_limit_s: float, load: float = 1.0) -> float:
    """The per-test limit under which a timed-out `job` is run again (see the module docstring)."""
    return load * max(CONFIRM_FACTOR * job.limits.time_s, verification_limit_s)


def _rerun(job: Job, result: ExecutionResult, limit_s: float) -> tuple[Job, list[int]]:
    """The job that confirms `result`'s timeouts, and the indices of the tests it runs.

    Every test starts with fresh globals, so a test's verdict does not depend on the others:
    only the timed-out tests run again (with a gate: the first one and those after it,
    which were skipped). A traced job runs again whole (its executed lines span every test).
    """
    limits = job.limits.model_copy(update={"time_s": limit_s})
    n = len(result.tests)
    if job.trace_lines:
        which = list(range(n))
    elif job.stop_on_first_failure:
        first = next(i for i, t in enumerate(result.tests) if t.verdict is Verdict.TIMEOUT)
        which = list(range(first, n))
    else:
        which = [i for i, t in enumerate(result.tests) if t.verdict is Verdict.TIMEOUT]
    tests = [job.tests[i] for i in which]
    return job.model_copy(update={"limits": limits, "tests": tests}), which


def confirm_timeouts(run: _Runner, verification_limit_s: float) -> _Runner:
    """A runner like `run` whose TIMEOUT verdicts were confirmed under `confirm_limit_s`."""

    def confirmed(jobs: Sequence[Job]) -> list[ExecutionResult]:
        jobs = list(jobs)
        results = list(run(jobs))
        again = [i for i, r in enumerate(results) if timed_out(r)]
        if not again:
            return results
        load = load_factor()
        plans = [
            _rerun(jobs[i], results[i], confirm_limit_s(jobs[i], verification_limit_s, load))
            for i in again
        ]
        reruns = [job for job, _ in plans]
        if getattr(run, "accepts_key_jobs", False):  # the build's cache: stored unscaled
            nominal = [
                _rerun(jobs[i], results[i], confirm_limit_s(jobs[i], verification_limit_s))[0]
                for i in again
            ]
            done = run(reruns, key_jobs=nominal)
        else:
            done = run(reruns)
        for i, (_, which), rerun in zip(again, plans, done):
            # the error names the unscaled limit: it reaches rejection details (hashed)
            error = f"exceeded {confirm_limit_s(jobs[i], verification_limit_s):g} s (confirmed)"
            tests = list(results[i].tests)
            for k, test in zip(which, rerun.tests):
                if test.verdict is Verdict.TIMEOUT:
                    test = test.model_copy(update={"error": error})
                tests[k] = test
            results[i] = rerun.model_copy(update={"tests": tests})
        return results

    return confirmed
