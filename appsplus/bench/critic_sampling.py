"""Critic sampling at inference (CodeRL, Le et al. 2022): refine and repair with a critic.

    bench run --model M --suite apps+ --dataset D --n 20 --strategy critic-sampling \\
        --critic runs/coderl/critic --out runs/cs

The original code never released this procedure; this is our reading of the paper, with
every choice below fixed, versioned (`CS_VERSION`) and recorded in the report.

Budget. `--n B` is the number of programs generated per problem, for every method:

- `sampling`: the run's B plain samples, pass@k by the unbiased estimator (random k of B).
- `sampling+ranking`: the same B samples, submitted in the ranking below (top k count).
- `critic-sampling`: the first `initial` plain samples (shared with the baselines, so the
  comparison is paired), then refine/repair generations until B programs exist, the
  rounds run out, or `enough` programs pass the public tests; top k of the ranking count.

Public tests are the problem's tests shown in its statement: a stdio test whose input and
expected output both appear in the question (whitespace-insensitive, output after input);
when none does (e.g. call-based problems) the first test. Only they are run while
sampling; the hidden verdicts (all tests) decide pass@k.

Round r >= 1 takes the programs of round r - 1 that fail the public tests, most promising
first (critic p(pass) descending), and for each spends one generation on each enabled step:

- refine: the critic scores every token of the failing program; the failure point is the
  token t* with the highest 1 - p(pass | program up to t) (the first on ties); the program
  before t* is kept and the model continues from the prompt followed by it.
- repair: a new program conditioned on the failing program and the feedback of its first
  failing public test (input, expected, actual output or error), in `repair_prompt`'s format.

Ranking (submission order): programs passing the public tests first, then by critic
p(pass) descending, then generation order. pass@k of a ranked method is the share of
problems whose top-k submissions hold a program passing every test.

Files, in OUT/critic_sampling/: config.json (checked on resume), generations.jsonl (one
CSGeneration per program, written problem by problem, the last one `final`; a rerun redoes
unfinished problems whole with the same seeds), report.json (CSReport). Generations of
refine/repair are executed on the hidden tests through the run's results.jsonl cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import Field, model_validator

from appsplus.bench.backends import Backend, Request, SamplingParams
from appsplus.bench.critic import ProgramScore
from appsplus.bench.files import BenchProblem, ModelInfo, Sample, Sampling, SuiteInfo
from appsplus.bench.generate import batch_seed
from appsplus.bench.jsonl import read_models, write_atomic
from appsplus.bench.metrics import MetricError, bootstrap_interval, per_problem_pass_at_k
from appsplus.bench.programs import assemble
from appsplus.bench.report import BootstrapInfo, Estimate, ToolInfo, difficulty_key
from appsplus.bench.run import read_model
from appsplus.errors import AppsplusError, shorten
from appsplus.execution import (
    ExecutionResult,
    Executor,
    Job,
    Limits,
    Verdict,
    open_executor,
    run_many,
)
from appsplus.extract import truncate_at_stop
from appsplus.schema import CallTest, StdioTest, StrictModel

logger = logging.getLogger(__name__)

CS_VERSION = "1"
CHUNK_PROBLEMS = 8  # problems advanced through the rounds together (fixed: decides the seeds)
FEEDBACK_CHARS = 400
TRUNCATED = " ...[truncated]"  # what ends feedback text cut at FEEDBACK_CHARS
METHODS = ("sampling", "sampling+ranking", "critic-sampling")
Origin = Literal["sample", "refine", "repair"]


class CriticSamplingError(AppsplusError, ValueError):
    """Critic sampling cannot run as asked (suite, budget, a folder of other settings)."""


class CSConfig(StrictModel):
    """OUT/critic_sampling/config.json: the settings of a critic-sampling run."""

    version: str = CS_VERSION
    critic: str = Field(description="critic folder")
    critic_fingerprint: str
    budget: int = Field(ge=1, description="programs generated per problem (= --n)")
    initial: int = Field(ge=1, description="round-0 programs: the first plain samples")
    rounds: int = Field(ge=0, description="refine/repair rounds")
    refine: bool = True
    repair: bool = True
    enough: int = Field(ge=1, description="stop a problem once this many pass its public tests")

    @model_validator(mode="after")
    def _initial_within_budget(self) -> CSConfig:
        if self.initial > self.budget:
            raise ValueError(f"initial ({self.initial}) is more than the budget ({self.budget})")
        return self


class CSGeneration(StrictModel):
    """One program of critic sampling (a line of generations.jsonl)."""

    problem_id: str
    index: int = Field(ge=0, description="0..B-1: plain sample `index`; B..: refine/repair")
    origin: Origin
    round: int = Field(ge=0)
    parent: int | None = Field(None, description="index of the program refined or repaired")
    cut: int | None = Field(None, description="refine: characters of the parent program kept")
    in_critic_sampling: bool = Field(
        description="part of critic sampling's (not only the baselines') set"
    )
    completion: str | None
    program: str
    public_passed: bool
    public_feedback: str | None = Field(None, description="first failing public test, shortened")
    p_pass: float = Field(description="critic's sequence probability of passing")
    final: bool = Field(False, description="the problem's last row")


class Scorer(Protocol):
    """What critic sampling needs of a critic (appsplus.bench.critic.Critic; stubs in tests)."""

    def score(self, pairs: list[tuple[str, str]]) -> list[ProgramScore]: ...


# ---------------------------------------------------------------- pure pieces


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def public_tests(problem: BenchProblem) -> tuple[list[int], bool]:
    """(indices of the tests shown in the statement, whether any was found there).

    A stdio test is shown when its input and then its output appear in the prompt,
    whitespace-insensitively; without any, the first test stands in.
    """
    statement = _squash(problem.prompt)
    shown = []
    for i, test in enumerate(problem.tests):
        if not isinstance(test, StdioTest):
            continue
        inp, out = _squash(test.input), _squash(test.output)
        if not inp or not out:
            continue
        at = statement.find(inp)
        if at >= 0 and statement.find(out, at + len(inp)) >= 0:
            shown.append(i)
    return (shown, True) if shown else ([0], False)


def failure_point(score: ProgramScore) -> tuple[int, int]:
    """(token index t*, characters kept): t* maximizes 1 - p(pass) at token t, first on ties;
    the program before token t* is kept (0 characters for an empty program)."""
    if not score.token_p_pass:
        return 0, 0
    fail = [1.0 - p for p in score.token_p_pass]
    t = max(range(len(fail)), key=lambda i: (fail[i], -i))
    return t, score.token_starts[t]


def _feedback_text(text: str) -> str:
    """`text` in feedback: its first FEEDBACK_CHARS characters and TRUNCATED when longer."""
    limit = FEEDBACK_CHARS + len(TRUNCATED)
    return shorten(text, limit, marker=TRUNCATED, keep_lines=True).rstrip("\n")


def feedback(problem: BenchProblem, public: list[int], result: ExecutionResult) -> str | None:
    """What went wrong on the first failing public test (None if they all passed)."""
    if result.compile_error is not None:
        return f"The program does not compile:\n{_feedback_text(result.compile_error)}"
    for i, test_result in zip(public, result.tests):
        if test_result.verdict in (Verdict.PASSED, Verdict.SKIPPED):
            continue
        test = problem.tests[i]
        if isinstance(test, StdioTest):
            lines = [
                f"Input:\n{_feedback_text(test.input)}",
                f"Expected output:\n{_feedback_text(test.output)}",
            ]
        else:
            assert isinstance(test, CallTest)
            call = json.dumps(test.args)[1:-1]
            lines = [
                f"Call: {test.fn_name}({_feedback_text(call)})",
                f"Expected: {_feedback_text(json.dumps(test.expected))}",
            ]
        if test_result.verdict is Verdict.WRONG_ANSWER:
            lines.append(f"Actual output:\n{_feedback_text(test_result.output)}")
        else:
            what = test_result.error or test_result.verdict.value
            lines.append(f"Error ({test_result.verdict.value}):\n{_feedback_text(what)}")
        return "\n".join(lines)
    return None


def repair_prompt(problem: BenchProblem, program: str, fb: str, chat: bool) -> str:
    """The request text of a repair: the problem, the failing program, its feedback."""
    if chat:
        return (
            f"{problem.chat_prompt}\n\nThis program is wrong:\n```python\n{program.rstrip()}\n```\n"
            f"It fails an example test.\n{fb}\n\nWrite a corrected program."
        )
    return f"{problem.prompt}{program.rstrip()}\nFEEDBACK:\n{fb}\nFix the program.\nANSWER:\n"


def ranking(rows: Sequence[CSGeneration]) -> list[CSGeneration]:
    """Submission order: public-test passes first, then critic p(pass) descending, then index."""
    return sorted(rows, key=lambda r: (not r.public_passed, -r.p_pass, r.index))


# ---------------------------------------------------------------- files


def cs_folder(out: Path) -> Path:
    return out / "critic_sampling"


def read_generations(path: Path) -> list[CSGeneration]:
    return list(read_models(path, CSGeneration)) if path.is_file() else []


def complete_problems(rows: list[CSGeneration]) -> set[str]:
    return {r.problem_id for r in rows if r.final}


def check_config(folder: Path, config: CSConfig) -> None:
    """Write config.json for a new run; refuse a resumed run with other settings."""
    path = folder / "config.json"
    if path.is_file():
        old = read_model(path, CSConfig)
        diffs = [k for k in CSConfig.model_fields if getattr(old, k) != getattr(config, k)]
        if diffs:
            raise CriticSamplingError(
                f"{folder} holds critic sampling with other settings ({', '.join(diffs)}); "
                "use another --out, or the same settings to resume"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(path, config.model_dump_json(indent=2).encode() + b"\n")


# ---------------------------------------------------------------- the procedure


class _Public:
    """Runs programs on their problem's public tests in a shared pool."""

    def __init__(self, pool: Executor) -> None:
        self.pool = pool
        self.tests: dict[str, list[int]] = {}  # problem id -> public test indices

    def run(self, items: list[tuple[BenchProblem, str]]) -> list[tuple[bool, str | None]]:
        for p, _ in items:
            if p.problem_id not in self.tests:
                self.tests[p.problem_id] = public_tests(p)[0]
        plans = [self.tests[p.problem_id] for p, _ in items]
        jobs = [
            Job(
                program=program,
                tests=[p.tests[i] for i in public],
                limits=Limits(time_s=p.time_limit_s),
                stop_on_first_failure=True,
            )
            for (p, program), public in zip(items, plans)
        ]
        results = run_many(jobs, pool=self.pool)
        return [
            (r.passed, None if r.passed else feedback(p, public, r))
            for (p, _), public, r in zip(items, plans, results)
        ]


def _generate(
    backend: Backend,
    requests: list[Request],
    sampling: Sampling,
    seed_key: str,
) -> list[str]:
    """One completion per request, in batches of `sampling.batch_size` requests."""
    params = SamplingParams(
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_new_tokens=sampling.max_new_tokens,
    )
    texts: list[str] = []
    for start in range(0, len(requests), sampling.batch_size):
        batch = requests[start : start + sampling.batch_size]
        seed = batch_seed(sampling.seed, seed_key, start)
        outputs = backend.generate(batch, params, seed)
        texts += [truncate_at_stop(out[0].text, list(r.stop)) for r, out in zip(batch, outputs)]
    return texts


def run_critic_sampling(
    problems: list[BenchProblem],
    plain: list[Sample],
    backend: Backend,
    critic: Scorer,
    config: CSConfig,
    sampling: Sampling,
    folder: Path,
    *,
    workers: int | None = None,
    executor: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[CSGeneration]:
    """Critic sampling for every problem not yet complete in FOLDER/generations.jsonl.

    `plain` are the run's plain samples (B = config.budget per problem). Returns all rows.
    `progress(k)` is called with the number of problems finished.
    """
    if any(p.assembly != "apps" for p in problems):
        raise CriticSamplingError("critic sampling needs an APPS-style suite (apps+, apps, sample)")
    check_config(folder, config)
    path = folder / "generations.jsonl"
    chunks = [problems[i : i + CHUNK_PROBLEMS] for i in range(0, len(problems), CHUNK_PROBLEMS)]
    rows = read_generations(path)
    complete = complete_problems(rows)
    # a chunk counts only when all its problems are complete: an interrupted chunk is redone
    # whole, with the same seeds and batches as an uninterrupted run
    done = {p.problem_id for c in chunks if all(p.problem_id in complete for p in c) for p in c}
    kept = [r for r in rows if r.problem_id in done]
    if len(kept) != len(rows):
        write_atomic(path, "".join(r.model_dump_json() + "\n" for r in kept).encode())
    by_problem: dict[str, list[Sample]] = {}
    for s in plain:
        by_problem.setdefault(s.problem_id, []).append(s)
    if progress:
        progress(len(done))
    with open_executor(executor, workers) as pool:
        public = _Public(pool)
        for chunk in chunks:
            if chunk[0].problem_id in done:
                continue
            new = _one_chunk(chunk, by_problem, backend, critic, config, sampling, public)
            with path.open("a", encoding="utf-8") as f:
                f.write("".join(r.model_dump_json() + "\n" for r in new))
                f.flush()
            kept += new
            if progress:
                progress(len(chunk))
    return kept


@dataclass(frozen=True)
class _Plain:
    """A plain sample of a problem, as round 0 of critic sampling sees it."""

    problem: BenchProblem
    sample: Sample


@dataclass(frozen=True)
class _Step:
    """One planned refine/repair generation: from which parent, what the model is asked,
    and the answer's given start."""

    problem: BenchProblem
    op: Literal["refine", "repair"]
    parent: CSGeneration
    request: Request
    cut: int | None = None  # refine: characters of the parent program kept
    head: str = ""  # the given start of the answer (refine), prepended to the completion


@dataclass
class _Chunk:
    """Critic sampling of one chunk of problems, advanced round by round."""

    problems: list[BenchProblem]
    config: CSConfig
    rows: dict[str, list[CSGeneration]] = field(default_factory=dict)  # per problem, in order
    scores: dict[tuple[str, int], ProgramScore] = field(default_factory=dict)  # (id, index)
    used: dict[str, int] = field(default_factory=dict)  # generations spent per problem
    next_index: dict[str, int] = field(default_factory=dict)  # refine/repair rows: B, B+1, ...

    def add(self, row: CSGeneration, score: ProgramScore) -> None:
        self.rows.setdefault(row.problem_id, []).append(row)
        self.scores[(row.problem_id, row.index)] = score

    def finished(self) -> list[CSGeneration]:
        """Every row, problem by problem, each problem's last one marked `final`."""
        out: list[CSGeneration] = []
        for p in self.problems:
            rows = self.rows[p.problem_id]
            rows[-1] = rows[-1].model_copy(update={"final": True})
            out += rows
        return out


def _one_chunk(
    chunk: list[BenchProblem],
    by_problem: dict[str, list[Sample]],
    backend: Backend,
    critic: Scorer,
    config: CSConfig,
    sampling: Sampling,
    public: _Public,
) -> list[CSGeneration]:
    """Critic sampling of `chunk`: round 0 (the plain samples), then refine/repair rounds
    until no problem asks for more; every row of the chunk, in problem order."""
    state = _Chunk(chunk, config)
    _round_zero(state, by_problem, critic, public)
    for r in range(1, config.rounds + 1):
        steps = _plan_round(state, r, backend.chat, sampling)
        if not steps:
            break
        _run_round(state, steps, r, backend, critic, sampling, public)
    return state.finished()


def _round_zero(
    state: _Chunk, by_problem: dict[str, list[Sample]], critic: Scorer, public: _Public
) -> None:
    """Rows of the B plain samples of every problem (critic sampling uses the first
    `initial`), with their public verdicts and critic scores."""
    B = state.config.budget
    items: list[_Plain] = []
    for p in state.problems:
        samples = sorted(by_problem.get(p.problem_id, []), key=lambda s: s.index)
        if len(samples) < B:
            raise CriticSamplingError(
                f"{p.problem_id}: {len(samples)} plain samples, the budget is {B}"
            )
        items += [_Plain(p, s) for s in samples[:B]]
    verdicts = public.run([(it.problem, it.sample.program) for it in items])
    scores = critic.score([(it.problem.prompt, it.sample.program) for it in items])
    for it, (ok, fb), score in zip(items, verdicts, scores):
        s = it.sample
        row = CSGeneration(
            problem_id=it.problem.problem_id,
            index=s.index,
            origin="sample",
            round=0,
            in_critic_sampling=s.index < state.config.initial,
            completion=s.completion,
            program=s.program,
            public_passed=ok,
            public_feedback=fb,
            p_pass=score.p_pass,
        )
        state.add(row, score)
    state.used = {p.problem_id: state.config.initial for p in state.problems}
    state.next_index = {p.problem_id: B for p in state.problems}


def _plan_round(state: _Chunk, r: int, chat: bool, sampling: Sampling) -> list[_Step]:
    """The generations of round `r`, within each problem's budget: for every problem with
    fewer than `enough` public passes, its round r - 1 failures (most promising first) each
    get one step per enabled operation (refine, then repair)."""
    config = state.config
    ops = [op for op, on in (("refine", config.refine), ("repair", config.repair)) if on]
    steps: list[_Step] = []
    for p in state.problems:
        mine = [g for g in state.rows[p.problem_id] if g.in_critic_sampling]
        if sum(g.public_passed for g in mine) >= config.enough:
            continue
        failed = [g for g in mine if g.round == r - 1 and not g.public_passed]
        for parent in sorted(failed, key=lambda g: (-g.p_pass, g.index)):
            for op in ops:
                if state.used[p.problem_id] >= config.budget:
                    break
                state.used[p.problem_id] += 1
                if op == "refine":
                    steps.append(_refine_step(state, p, parent, chat, sampling))
                else:
                    steps.append(_repair_step(p, parent, chat, sampling))
    return steps


def _stops(problem: BenchProblem, chat: bool, sampling: Sampling) -> tuple[str, ...]:
    """A chat model stops at --stop only; a completion model at the suite's stops too."""
    return tuple(sampling.extra_stop) if chat else (*problem.stop, *sampling.extra_stop)


def _refine_step(
    state: _Chunk, p: BenchProblem, parent: CSGeneration, chat: bool, sampling: Sampling
) -> _Step:
    """Continue the prompt from the parent program up to the critic's failure point (a chat
    model's answer opens a code block first)."""
    _, cut = failure_point(state.scores[(p.problem_id, parent.index)])
    kept = parent.program[:cut]
    head = "```python\n" + kept if chat else kept
    text = p.chat_prompt if chat else p.prompt
    system = p.system_prompt if chat else None  # as the first round's generation sent it
    request = Request(
        text=text, count=1, stop=_stops(p, chat, sampling), prefix=head, system=system
    )
    return _Step(p, "refine", parent, request, cut, head)


def _repair_step(p: BenchProblem, parent: CSGeneration, chat: bool, sampling: Sampling) -> _Step:
    """A new program from the failing parent and its public-test feedback."""
    text = repair_prompt(p, parent.program, parent.public_feedback or "", chat)
    system = p.system_prompt if chat else None
    request = Request(text=text, count=1, stop=_stops(p, chat, sampling), system=system)
    return _Step(p, "repair", parent, request)


def _run_round(
    state: _Chunk,
    steps: list[_Step],
    r: int,
    backend: Backend,
    critic: Scorer,
    sampling: Sampling,
    public: _Public,
) -> None:
    """Generate the steps' programs (seeded by the chunk and the round), run them on the
    public tests, score them, and add their rows."""
    seed_key = f"{state.problems[0].problem_id}\0cs\0{r}"
    texts = _generate(backend, [step.request for step in steps], sampling, seed_key)
    completions = [step.head + text for step, text in zip(steps, texts)]
    programs = [assemble(step.problem, c) for step, c in zip(steps, completions)]
    verdicts = public.run([(step.problem, prog) for step, prog in zip(steps, programs)])
    scores = critic.score([(step.problem.prompt, prog) for step, prog in zip(steps, programs)])
    for step, completion, program, (ok, fb), score in zip(
        steps, completions, programs, verdicts, scores
    ):
        pid = step.problem.problem_id
        state.next_index[pid] += 1
        row = CSGeneration(
            problem_id=pid,
            index=state.next_index[pid] - 1,
            origin=step.op,
            round=r,
            parent=step.parent.index,
            cut=step.cut,
            in_critic_sampling=True,
            completion=completion,
            program=program,
            public_passed=ok,
            public_feedback=fb,
            p_pass=score.p_pass,
        )
        state.add(row, score)


# ---------------------------------------------------------------- report


class CriticInfo(StrictModel):
    path: str
    fingerprint: str


class GroupEstimates(StrictModel):
    """pass@k per method, and critic sampling's gain over each baseline (paired bootstrap)."""

    n_problems: int
    methods: dict[str, dict[str, Estimate]] = Field(description="method -> 'pass@k' -> estimate")
    gain: dict[str, dict[str, Estimate]] = Field(
        description="'vs sampling' / 'vs sampling+ranking' -> 'pass@k' -> mean difference"
    )
    coverage: dict[str, float] = Field(
        description="share of problems with any passing program among the method's generations"
    )


class OriginStats(StrictModel):
    """How the programs of one origin (sample, refine, repair) fared."""

    generated: int
    public_passed: int
    hidden_passed: int


class BudgetInfo(StrictModel):
    budget: int = Field(description="programs generated per problem")
    generated: dict[str, int] = Field(description="critic sampling's programs by origin")
    by_origin: dict[str, OriginStats] = Field(
        description="critic sampling's programs by origin: public and hidden-test passes"
    )
    mean_per_problem: float
    problems_under_budget: int = Field(
        description="stopped early: enough public passes, or no rounds left"
    )


class PublicInfo(StrictModel):
    from_statement: int = Field(
        description="problems whose public tests were found in the statement"
    )
    first_test_fallback: int
    precision: float | None = Field(
        description="share of programs passing the public tests that pass every test"
    )


class CSProblem(StrictModel):
    problem_id: str
    difficulty: str | None
    generated: int
    public_passed: int
    hidden_passed: int
    first_passing_rank: int | None = Field(
        description="1-based rank of the first passing submission"
    )
    plain_first_passing_rank: int | None


class CSReport(StrictModel):
    """OUT/critic_sampling/report.json."""

    schema_version: str = CS_VERSION
    tool: ToolInfo
    suite: SuiteInfo
    model: ModelInfo
    sampling: Sampling
    critic: CriticInfo
    strategy: CSConfig
    ks: list[int]
    bootstrap: BootstrapInfo
    budget: BudgetInfo
    public_tests: PublicInfo
    overall: GroupEstimates
    by_difficulty: dict[str, GroupEstimates]
    problems: list[CSProblem]


def _ranked_hits(rows: list[CSGeneration], passed: dict[tuple[str, int], bool]) -> list[bool]:
    return [passed[(r.problem_id, r.index)] for r in ranking(rows)]


def _estimate(values: np.ndarray, boot: BootstrapInfo) -> Estimate:
    low, high = bootstrap_interval(
        values, resamples=boot.resamples, confidence=boot.confidence, seed=boot.seed
    )
    return Estimate(value=float(values.mean()), ci_low=low, ci_high=high)


def _group(
    per: dict[str, dict[str, np.ndarray]], cover: dict[str, np.ndarray], boot
) -> GroupEstimates:
    n = len(next(iter(cover.values())))
    methods = {m: {k: _estimate(v, boot) for k, v in per[m].items()} for m in METHODS}
    gain = {
        f"vs {base}": {
            k: _estimate(per["critic-sampling"][k] - per[base][k], boot) for k in per[base]
        }
        for base in ("sampling", "sampling+ranking")
    }
    return GroupEstimates(
        n_problems=n,
        methods=methods,
        gain=gain,
        coverage={m: float(v.mean()) for m, v in cover.items()},
    )


def build_cs_report(
    *,
    problems: list[BenchProblem],
    rows: list[CSGeneration],
    passed: dict[tuple[str, int], bool],
    config: CSConfig,
    suite: SuiteInfo,
    model: ModelInfo,
    sampling: Sampling,
    tool: ToolInfo,
    ks: list[int],
    boot: BootstrapInfo,
) -> CSReport:
    """pass@k of the three methods at equal budget, by difficulty, from the rows and verdicts."""
    if max(ks) > config.budget:
        raise MetricError(
            f"pass@{max(ks)} needs a budget of at least {max(ks)} (--n {config.budget})"
        )
    by_id: dict[str, list[CSGeneration]] = {}
    for r in rows:
        by_id.setdefault(r.problem_id, []).append(r)
    missing = [p.problem_id for p in problems if p.problem_id not in by_id]
    if missing:
        raise MetricError(
            f"{len(missing)} problem(s) have no critic-sampling rows (first: {missing[0]})"
        )
    outcomes: list[CSProblem] = []
    hits: dict[str, list[list[bool]]] = {m: [] for m in METHODS}
    for p in problems:
        mine = by_id[p.problem_id]
        plain = [r for r in mine if r.origin == "sample"]
        cs = [r for r in mine if r.in_critic_sampling]
        hits["sampling"].append([passed[(r.problem_id, r.index)] for r in plain])
        hits["sampling+ranking"].append(_ranked_hits(plain, passed))
        hits["critic-sampling"].append(_ranked_hits(cs, passed))
        first = next((i + 1 for i, h in enumerate(hits["critic-sampling"][-1]) if h), None)
        plain_first = next((i + 1 for i, h in enumerate(hits["sampling+ranking"][-1]) if h), None)
        outcomes.append(
            CSProblem(
                problem_id=p.problem_id,
                difficulty=p.difficulty,
                generated=len(cs),
                public_passed=sum(r.public_passed for r in cs),
                hidden_passed=sum(hits["critic-sampling"][-1]),
                first_passing_rank=first,
                plain_first_passing_rank=plain_first,
            )
        )

    def per_k(index: list[int]) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, np.ndarray]]:
        per: dict[str, dict[str, np.ndarray]] = {}
        sampling_counts = [(len(hits["sampling"][i]), sum(hits["sampling"][i])) for i in index]
        per["sampling"] = {f"pass@{k}": per_problem_pass_at_k(sampling_counts, k) for k in ks}
        for m in ("sampling+ranking", "critic-sampling"):
            per[m] = {
                f"pass@{k}": np.array([float(any(hits[m][i][:k])) for i in index]) for k in ks
            }
        cover = {
            "sampling": np.array([float(any(hits["sampling"][i])) for i in index]),
            "critic-sampling": np.array([float(any(hits["critic-sampling"][i])) for i in index]),
        }
        return per, cover

    overall = _group(*per_k(list(range(len(problems)))), boot)
    levels = sorted({p.difficulty for p in problems if p.difficulty}, key=difficulty_key)
    by_difficulty = {
        d: _group(*per_k([i for i, p in enumerate(problems) if p.difficulty == d]), boot)
        for d in levels
    }
    cs_rows = [r for r in rows if r.in_critic_sampling]
    public_passing = [r for r in cs_rows if r.public_passed]
    shown = [public_tests(p)[1] for p in problems]
    origins = Counter(r.origin for r in cs_rows)
    return CSReport(
        tool=tool,
        suite=suite,
        model=model,
        sampling=sampling,
        critic=CriticInfo(path=config.critic, fingerprint=config.critic_fingerprint),
        strategy=config,
        ks=ks,
        bootstrap=boot,
        budget=BudgetInfo(
            budget=config.budget,
            generated={o: origins.get(o, 0) for o in ("sample", "refine", "repair")},
            by_origin={
                o: OriginStats(
                    generated=origins.get(o, 0),
                    public_passed=sum(r.public_passed for r in cs_rows if r.origin == o),
                    hidden_passed=sum(
                        passed[(r.problem_id, r.index)] for r in cs_rows if r.origin == o
                    ),
                )
                for o in ("sample", "refine", "repair")
            },
            mean_per_problem=len(cs_rows) / len(problems),
            problems_under_budget=sum(o.generated < config.budget for o in outcomes),
        ),
        public_tests=PublicInfo(
            from_statement=sum(shown),
            first_test_fallback=len(shown) - sum(shown),
            precision=(
                sum(passed[(r.problem_id, r.index)] for r in public_passing) / len(public_passing)
                if public_passing
                else None
            ),
        ),
        overall=overall,
        by_difficulty=by_difficulty,
        problems=outcomes,
    )


def origin_line(report: CSReport) -> str:
    """One line: critic sampling's programs by origin, with public and hidden-test passes."""
    parts = [
        f"{o} {st.generated} (public {st.public_passed}, all tests {st.hidden_passed})"
        for o, st in report.budget.by_origin.items()
    ]
    return "programs by origin: " + ", ".join(parts)


def cs_table(report: CSReport):
    """A rich table: pass@k of each method at equal budget, and the paired gain, by difficulty."""
    from rich.table import Table

    table = Table(
        title=f"critic sampling vs sampling, budget {report.budget.budget} programs per problem "
        f"({report.suite.name}, {report.overall.n_problems} problems)"
    )
    table.add_column("difficulty")
    table.add_column("method")
    for k in report.ks:
        table.add_column(f"pass@{k}", justify="right")
    groups = [("overall", report.overall), *report.by_difficulty.items()]
    for name, g in groups:
        for m in METHODS:
            cells = [f"{100 * g.methods[m][f'pass@{k}'].value:.1f}" for k in report.ks]
            table.add_row(name, m, *cells)
        for base, gains in g.gain.items():
            cells = [
                f"{100 * e.value:+.1f} [{100 * e.ci_low:+.1f}, {100 * e.ci_high:+.1f}]"
                for e in (gains[f"pass@{k}"] for k in report.ks)
            ]
            table.add_row(name, f"gain {base}", *cells, end_section=base.endswith("ranking"))
    return table


def fingerprint_rows(rows: list[CSGeneration]) -> str:
    """sha256 of the generations (for logs and tests)."""
    digest = hashlib.sha256()
    for r in sorted(rows, key=lambda r: (r.problem_id, r.index)):
        digest.update(r.model_dump_json().encode() + b"\n")
    return digest.hexdigest()


# ---------------------------------------------------------------- over a run folder


def _as_samples(rows: list[CSGeneration]) -> list[Sample]:
    return [
        Sample(problem_id=r.problem_id, index=r.index, completion=r.completion, program=r.program)
        for r in rows
    ]


def execute_generations(
    folder,
    rows: list[CSGeneration],
    *,
    workers: int | None = None,
    executor: str | None = None,
    stop_on_first_failure: bool = True,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Run every row not yet in the run's results cache on the hidden tests (all of them)."""
    from appsplus.bench.execute import evaluate_samples

    evaluate_samples(
        folder.problems(),
        _as_samples(rows),
        folder.results_path,
        workers=workers,
        executor=executor,
        stop_on_first_failure=stop_on_first_failure,
        progress=progress,
    )


def make_cs_report(
    folder, ks: list[int], *, resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> CSReport:
    """Build (and write) OUT/critic_sampling/report.json of a run folder whose rows are all executed."""
    from appsplus.bench.execute import read_results, sample_keys
    from appsplus.bench.report import report_json, tool_info

    cs = cs_folder(folder.out)
    config_path = cs / "config.json"
    if not config_path.is_file():
        raise MetricError(f"{folder.out}: no critic sampling in this run")
    config = read_model(config_path, CSConfig)
    run = folder.config()
    state = folder.execution()
    stop = True if state is None else state.stop_on_first_failure
    problems = folder.problems()
    rows = read_generations(cs / "generations.jsonl")
    rows = [r for r in rows if r.problem_id in complete_problems(rows)]
    samples = _as_samples(rows)
    keys, _ = sample_keys({p.problem_id: p for p in problems}, samples, stop)
    results = read_results(folder.results_path)
    missing = sum(k not in results for k in keys)
    if missing:
        raise MetricError(
            f"{missing} critic-sampling program(s) have no result yet (rerun `bench run`)"
        )
    passed = {(s.problem_id, s.index): results[k].passed for s, k in zip(samples, keys)}
    if run.sampling is None:
        raise MetricError("critic sampling needs a run generated by a model, not --samples")
    report = build_cs_report(
        problems=problems,
        rows=rows,
        passed=passed,
        config=config,
        suite=run.suite,
        model=run.model,
        sampling=run.sampling,
        tool=tool_info(),
        ks=sorted(set(ks)),
        boot=BootstrapInfo(resamples=resamples, confidence=confidence, seed=seed),
    )
    write_atomic(cs / "report.json", report_json(report).encode())
    return report
