"""Measure the tests of verified problems: mutation score, probes, augmentation, reruns.

    assessed = assess(verified, QualityConfig(), VerifyConfig(), run)   # one per Verified

Per problem, all through the one `run` (the build's cached runner), in two phases over the
whole batch so the workers stay busy:

1. The verified solutions (the first `probe_solutions`, or all of them when augmenting) run
   on the tests plus generated inputs (`inputs.generate_inputs`, mutated from the tests,
   and `inputs.format_inputs`, `format_probes` more drawn from the input format inferred
   from every known test and the statement's constraints) with a placeholder
   expected output, which keeps every output; the canonical runs a second time on the tests
   (its text plus a comment, so it is a separate job); the canonical's mutants
   (`mutate.mutants`, a seeded sample of `max_mutants`) run on the tests, each stopping at
   its first failure. All under `quality_time_s` per test.
2. Mutants that pass every test run on the valid generated inputs: those where every run
   solution printed (or returned) a complete output, all agreeing under the comparator.

Timeouts: a job with a timed-out test is run again under the verification limit (4 s by
default) before anything is decided from it, and that run is its result
(`appsplus.quality.timeouts`): a slow machine does not turn a mutant that finishes into an
uncounted one, nor drop a probe input, a generated test or a rerun output, so the hashed
dataset files do not change with the machine's load.

Decisions: a mutant that does not compile or whose first failure is a timeout (after that
rerun) is not counted; one that fails a test is killed; one that passes every test survives if it
differs from the solutions on a valid probe input, mutated or drawn from the format (or
when fewer than `MIN_PROBES` valid probes exist, and then `equivalence_checked` is false),
else it is possibly equivalent
(`mutants_equivalent`, reported apart from killed and survived) and not counted. Probes
never get weaker than the tests: with `known_tests` (tests beyond the scored ones) they are
generated from all known tests, and a mutant that any known test distinguishes (a
differing output or a crash) is a survivor, never equivalent. `mutation_score` = killed / (killed + survivors). With `augment_tests` N, up to N
valid inputs from a second draw become tests (expected: the canonical's output, on which
all verified solutions agree) and `mutation_score_augmented` counts the survivors those
tests kill too.

`mutation_score_min` = (mutants killed + mutants whose first non-pass verdict is a confirmed
timeout: the tests caught a hang) / (mutants that compiled), a conservative score reported
beside `mutation_score` (which filters and flags use): possibly equivalent mutants and
survivors both count as not killed, so no probe input decides anything. It never rises
when tests are removed: the mutants (a seeded sample of the canonical's) and so the
denominator do not depend on the tests; if a mutant's first non-pass verdict on a subset
S of the tests (kept in their order) is at test s, then on the full set T, run in order,
its first non-pass verdict is at s or earlier, so it is killed or timed out on T too;
hence min-score(S) <= min-score(T) for every subset S, whatever the probes. This assumes
deterministic programs (and a timeout that is confirmed under the generous limit again):
for problems flagged `nondeterministic` it may not hold. `mutation_score` can rise on a
subset (the probes, and so the possibly equivalent set, depend on the tests: 6 of 40 real
problems with the first test alone and nothing else known, scripts/subset_scores.py).

Flags: `weak_tests` (score below `weak_threshold`), `needs_checker`,
`quoted_string_args`, `loose_expected_output` (`checks`), `nondeterministic` (the two
canonical runs, under PYTHONHASHSEED 0 and 1, print different outputs on some test).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from appsplus.curate.verify import (
    Runner,
    Verified,
    VerifyConfig,
    _agree,
    _complete,
    _value,
    time_limit_for,
)
from appsplus.execution import CallTest, ExecutionResult, Job, StdioTest, Verdict
from appsplus.quality import checks
from appsplus.quality.inputs import format_inputs, generate_inputs, input_key
from appsplus.quality.models import GeneratedTest, Quality, QualityConfig
from appsplus.quality.mutate import mutants
from appsplus.quality.timeouts import confirm_timeouts

MIN_PROBES = 3
CAPTURE = "\x00appsplus-capture\x00"
RERUN_HASH_SEED = 1  # the second canonical run: another PYTHONHASHSEED than the first (0)


class Assessed(BaseModel):
    """A verified problem after the quality steps: final tests/runtimes and its Quality."""

    model_config = ConfigDict(extra="forbid")

    verified: Verified
    quality: Quality


def _capture(test: Any) -> Any:
    if isinstance(test, StdioTest):
        return StdioTest(input=test.input, output=CAPTURE)
    return CallTest(fn_name=test.fn_name, args=test.args, expected=CAPTURE)


def _outputs(result: ExecutionResult) -> list[str | None]:
    """Each test's complete output, or None (crash, timeout, truncated preview)."""
    out: list[str | None] = []
    for t in result.tests:
        ok = t.verdict in (Verdict.WRONG_ANSWER, Verdict.PASSED) and _complete(t.output)
        out.append(t.output if ok else None)
    return out


class _Plan:
    """One problem's jobs and what they found."""

    def __init__(
        self, v: Verified, q: QualityConfig, vc: VerifyConfig, known: Sequence[Any] = ()
    ) -> None:
        self.v, self.q, self._vc = v, q, vc
        p = v.problem
        self.kind = p.kind
        self.tests = list(p.tests)
        self.canonical = p.solutions[v.canonical_index]
        pid = p.problem_id
        # known tests beyond the scored ones (the source's extra tests): probes come from
        # all known tests, and a passing mutant that any of them distinguishes survives
        self.known_extra = [t for t in known if t not in self.tests]
        sources = list(known) or self.tests
        generated = generate_inputs(
            sources, q.probe_inputs + 2 * q.augment_tests, f"{q.seed}:{pid}"
        )
        self.probes = generated[: q.probe_inputs]
        # probes from the input format, which a smaller test set does not narrow as much
        # (parent -1: drawn, not mutated; only candidates become tests)
        mutated = {input_key(t) for _, t in generated}
        self.probes += [
            (-1, t)
            for t in format_inputs(sources, q.format_probes, f"{q.seed}:{pid}", p.question)
            if input_key(t) not in mutated
        ]
        self.candidates = generated[q.probe_inputs :]
        self.limits = vc.limits.model_copy(update={"time_s": q.quality_time_s})
        others = [i for i in v.passing if i != v.canonical_index]
        if q.augment_tests == 0:
            others = others[: q.probe_solutions - 1]
        self.solutions = [v.canonical_index, *others]
        extra = [t for _, t in self.probes + self.candidates] + self.known_extra
        self.capture_tests = [_capture(t) for t in self.tests + extra]
        first = len(self.tests) + len(self.probes) + len(self.candidates)
        self.known_idx = list(range(first, first + len(self.known_extra)))
        self.mutants = (
            mutants(self.canonical, k=q.max_mutants, seed=f"{q.seed}:{pid}") if q.mutation else []
        )
        self.captured: list[list[str | None]] = []
        self.canonical_durations: list[float] = []
        self.rerun: list[str | None] | None = None
        self.mutant_results: list[ExecutionResult] = []
        self.candidate_outputs: dict[int, list[str | None]] = {}
        self.candidate_verdicts: dict[int, list[Verdict]] = {}

    # phase 1
    def jobs(self) -> list[Job]:
        if not self.q.measures():
            return []
        jobs = [
            Job(program=self.v.problem.solutions[i], tests=self.capture_tests, limits=self.limits)
            for i in self.solutions
        ]
        if self.q.nondeterminism:
            tests = self.capture_tests[: len(self.tests)]
            jobs.append(
                Job(
                    program=self.canonical,
                    tests=tests,
                    limits=self.limits,
                    hash_seed=RERUN_HASH_SEED,
                )
            )
        jobs += [
            Job(program=m.program, tests=self.tests, limits=self.limits, stop_on_first_failure=True)
            for m in self.mutants
        ]
        return jobs

    def take(self, results: list[ExecutionResult]) -> None:
        if not results:
            return
        n = len(self.solutions)
        self.captured = [_outputs(r) for r in results[:n]]
        self.canonical_durations = [t.duration_s for t in results[0].tests]
        rest = results[n:]
        if self.q.nondeterminism:
            self.rerun, rest = _outputs(rest[0]), rest[1:]
        self.mutant_results = rest

    # validity of generated inputs
    def _valid(self, offset: int, count: int, solutions: int) -> list[int]:
        """Indices (into capture_tests) of generated inputs on which the first `solutions`
        captured solutions all give a complete output and agree."""
        valid = []
        base = len(self.tests) + offset
        for g in range(base, base + count):
            outs = [c[g] for c in self.captured[:solutions]]
            if any(o is None for o in outs):
                continue
            if all(_agree(self.kind, outs[0], o) for o in outs[1:]):  # type: ignore[arg-type]
                valid.append(g)
        return valid

    def phase2(self) -> list[Job]:
        self.valid_probes: list[int] = []
        self.valid_added: list[int] = []
        self.passing_mutants: list[int] = []
        if not self.captured:
            return []
        # probes: the first probe_solutions, as without augmentation (the score must not
        # depend on it); generated tests: every verified solution
        self.valid_probes = self._valid(0, len(self.probes), self.q.probe_solutions)
        everyone = len(self.solutions)
        self.valid_added = self._valid(len(self.probes), len(self.candidates), everyone)[
            : self.q.augment_tests
        ]
        self.passing_mutants = [
            k for k, r in enumerate(self.mutant_results) if r.compile_error is None and r.passed
        ]
        order = self.valid_probes + self.valid_added + self.known_idx
        tests = [self.capture_tests[g] for g in order]
        if not tests:
            return []
        return [
            Job(program=self.mutants[k].program, tests=tests, limits=self.limits)
            for k in self.passing_mutants
        ]

    def take2(self, results: list[ExecutionResult]) -> None:
        for k, r in zip(self.passing_mutants, results):
            self.candidate_outputs[k] = _outputs(r)
            self.candidate_verdicts[k] = [t.verdict for t in r.tests]

    def _differs(self, k: int, which: list[int]) -> bool:
        outs = self.candidate_outputs.get(k)
        if outs is None:
            return False
        order = self.valid_probes + self.valid_added + self.known_idx
        for g in which:
            mine = outs[order.index(g)]
            want = self.captured[0][g]
            if mine is None and g in self.known_idx and want is not None:
                # on a known test a crash distinguishes the mutant (as it kills it); a
                # timeout still says nothing
                verdict = self.candidate_verdicts[k][order.index(g)]
                if verdict not in (Verdict.TIMEOUT, Verdict.SKIPPED):
                    return True
            if mine is None or want is None:
                continue  # a timeout says nothing; a crash is not a complete output either
            if not _agree(self.kind, want, mine):  # type: ignore[arg-type]
                return True
        return False

    def result(self) -> Assessed:
        q, v = self.q, self.v
        flags: set[str] = set()
        detail: dict[str, str] = {}
        phrase = checks.needs_checker(v.problem.question)
        if phrase:
            flags.add("needs_checker")
            detail["needs_checker"] = f"the statement says {phrase!r}"
        why = checks.quoted_string_args(self.tests)
        if why:
            flags.add("quoted_string_args")
            detail["quoted_string_args"] = why
        why = checks.loose_expected(self.tests, [c[: len(self.tests)] for c in self.captured])
        if why:
            flags.add("loose_expected_output")
            detail["loose_expected_output"] = why
        if self.rerun is not None:
            for t, (a, b) in enumerate(zip(self.captured[0], self.rerun)):
                if a is not None and b is not None and a != b:
                    flags.add("nondeterministic")
                    detail["nondeterministic"] = f"test {t}: two runs printed different outputs"
                    break
        quality = Quality(needs_checker_phrase=phrase)
        if self.mutants:
            killed = uncounted = compiled = timed_out = 0
            for r in self.mutant_results:
                first = next((t.verdict for t in r.tests if t.verdict is not Verdict.PASSED), None)
                compiled += r.compile_error is None
                if r.compile_error is None and first is Verdict.TIMEOUT:
                    timed_out += 1
                if r.compile_error is not None or first is Verdict.TIMEOUT:
                    uncounted += 1
                elif first is not None:
                    killed += 1
            if compiled:  # see mutation_score_min in the module docstring
                quality.mutation_score_min = round((killed + timed_out) / compiled, 4)
            checked = len(self.valid_probes) >= min(MIN_PROBES, max(q.probe_inputs, 1))
            survivors = [
                k
                for k in self.passing_mutants
                if not checked
                or self._differs(k, self.valid_probes)
                or self._differs(k, self.known_idx)
            ]
            equivalent = len(self.passing_mutants) - len(survivors)
            counted = killed + len(survivors)
            quality.mutants_counted, quality.mutants_killed = counted, killed
            quality.mutants_uncounted, quality.mutants_equivalent = uncounted, equivalent
            quality.surviving_mutants = [self.mutants[k].id for k in survivors]
            quality.equivalence_checked = checked
            if counted:
                quality.mutation_score = round(killed / counted, 4)
                if quality.mutation_score < q.weak_threshold:
                    flags.add("weak_tests")
                    detail["weak_tests"] = (
                        f"mutation score {quality.mutation_score:.2f} < {q.weak_threshold}"
                    )
                if q.augment_tests:
                    extra = sum(self._differs(k, self.valid_added) for k in survivors)
                    quality.mutation_score_augmented = round((killed + extra) / counted, 4)
        verified = v
        if self.valid_added:
            verified, generated = self._augmented()
            quality.generated_tests = generated
        quality.flags = sorted(flags)  # type: ignore[assignment]
        quality.detail = dict(sorted(detail.items()))
        return Assessed(verified=verified, quality=quality)

    def _augmented(self) -> tuple[Verified, list[GeneratedTest]]:
        v = self.v
        tests = list(self.tests)
        runtimes = list(v.reference_runtimes_s)
        generated = []
        parents = [parent for parent, _ in self.probes + self.candidates]
        for g in self.valid_added:
            out = self.captured[0][g]
            source = self.capture_tests[g]
            if isinstance(source, StdioTest):
                test: Any = StdioTest(input=source.input, output=out)
            else:
                test = source.model_copy(update={"expected": _value(out)})
            generated.append(
                GeneratedTest(
                    test_index=len(tests),
                    seed=f"{self.q.seed}:{v.problem.problem_id}",
                    parent_test=parents[g - len(self.tests)],
                )
            )
            tests.append(test)
            runtimes.append(self.canonical_durations[g])
        problem = v.problem.model_copy(update={"tests": tests})
        return (
            v.model_copy(
                update={
                    "problem": problem,
                    "reference_runtimes_s": runtimes,
                    "time_limit_s": max(v.time_limit_s, time_limit_for(runtimes, self._vc)),
                }
            ),
            generated,
        )


def assess(
    verified: Sequence[Verified],
    config: QualityConfig,
    verify: VerifyConfig,
    run: Runner,
    known_tests: Mapping[str, Sequence[Any]] | None = None,
) -> list[Assessed]:
    """The quality measurements of each verified problem, in order (see the module docstring).

    `known_tests` (problem id -> every test known for it, in its order, the scored ones
    included): the source's extra tests, or the full set when a subset is scored. Probes
    are generated from all of them, and a mutant that passes the scored tests but
    differs from the canonical on a known one (a crash included) survives, so a subset
    of the tests never scores higher than all of them."""
    run = confirm_timeouts(run, verify.limits.time_s)
    known = known_tests or {}
    plans = [_Plan(v, config, verify, known.get(v.problem.problem_id, ())) for v in verified]
    for phase, take in (("jobs", "take"), ("phase2", "take2")):
        batches = [getattr(plan, phase)() for plan in plans]
        results = run([job for jobs in batches for job in jobs])
        start = 0
        for plan, jobs in zip(plans, batches):
            getattr(plan, take)(results[start : start + len(jobs)])
            start += len(jobs)
    return [plan.result() for plan in plans]
