"""The steps of `appsplus build`, as datatrove's `PipelineStep`: each takes the stream of
items of the step before it and yields the stream for the step after it.

    steps = [Read(source, limit), Normalize(), HasTests(), ..., Write(...)]   # pipeline.build_steps
    stream = run_steps(steps, emit)          # a generator; exhaust it, then read each step's stats

Items flow in read order: a `RawRow` becomes a `Problem` (or a `Rejection`), a verified
problem becomes `Assessed`, then a `Record` (with `--tests-only`, a problem without a
solution becomes `Unverified` instead and skips execution); a `Rejection` passes every
later step untouched and is written by `Write`, so rejections.jsonl keeps the read order. Each step declares

- `inputs`: the item types it works on (every other item passes through),
- `stage` and `reject_reasons`: the `Rejection.stage` and the `RejectReason`s it may emit
  (`reject()` refuses any other: a step cannot invent an undeclared reason),
- `counters`: the names of its own counters (the reader's rows, the writer's totals),
- `stats`: what it saw (`seen`), let through (`passed`), rejected (by reason) and its
  counters; the manifest's counts are computed from these stats (`pipeline._finish`).

A new filter is a `ProblemFilter` subclass (one file, or a few lines here) plus one line
in `pipeline.build_steps`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any, ClassVar

from appsplus.curate.filters import (
    FilterResult,
    check_has_solutions,
    check_has_tests,
    duplicate_id_filter,
)
from appsplus.curate.normalize import normalize
from appsplus.curate.verify import Verified, verify_problems
from appsplus.quality.assess import Assessed, assess
from appsplus.quality.checks import min_tests_filter
from appsplus.quality.decontam import DecontaminationFilter, load_benchmarks
from appsplus.quality.dedup import Deduplicator
from appsplus.record import Record
from appsplus.schema import Problem, RawRow, Rejection, RejectReason, Stage

Emit = Callable[[str, int], None]


def _quiet(event: str, n: int) -> None:
    pass


class StepStats:
    """What one step did: items it worked on, let through, rejected (by reason), and its own
    counters (e.g. the reader's rows, the writer's kept records)."""

    def __init__(self) -> None:
        self.seen = 0
        self.passed = 0
        self.rejected: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()

    def as_dict(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "passed": self.passed,
            "rejected": dict(sorted(self.rejected.items())),
            "counters": dict(sorted(self.counters.items())),
        }


class Withdrawn:
    """A record already kept that a later step rejects (dedup decides at the end): the
    writer takes the record back and writes the rejection."""

    def __init__(self, rejection: Rejection, kept_id: str = "") -> None:
        self.rejection = rejection
        self.kept_id = kept_id  # a cross-source duplicate: the id kept in its place


class Step:
    """One step of the build. Subclasses set `name`, `inputs`, `stage`, `reject_reasons`
    and implement `run` (or, for one item at a time, `ProblemStep.process`)."""

    name: ClassVar[str] = "step"
    inputs: ClassVar[tuple[type, ...]] = ()
    stage: ClassVar[Stage | None] = None
    reject_reasons: ClassVar[tuple[RejectReason, ...]] = ()
    counters: ClassVar[tuple[str, ...]] = ()  # the names its stats.counters use (fnmatch)

    def __init__(self) -> None:
        self.stats = StepStats()
        self.emit: Emit = _quiet

    def run(self, items: Iterator[Any]) -> Iterator[Any]:
        raise NotImplementedError

    def reject(self, rejection: Rejection) -> Rejection:
        """Count a rejection this step made (its reason must be one it declares)."""
        if rejection.reason not in self.reject_reasons or rejection.stage != self.stage:
            raise AssertionError(
                f"step {self.name} emitted {rejection.reason.value}/{rejection.stage}, "
                f"which it does not declare"
            )
        self.stats.rejected[rejection.reason.value] += 1
        self.emit("rejected", 1)
        return rejection

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ProblemStep(Step):
    """A step that turns one item of `inputs` into another item or a Rejection."""

    def process(self, item: Any) -> Any:
        raise NotImplementedError

    def run(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            if isinstance(item, self.inputs):
                self.stats.seen += 1
                item = self.process(item)
                if isinstance(item, Rejection):
                    self.reject(item)
                else:
                    self.stats.passed += 1
            yield item


def run_steps(steps: Sequence[Step], emit: Emit = _quiet) -> Iterator[Any]:
    """Chain the steps' generators (the first step gets an empty stream) and return the last."""
    stream: Iterator[Any] = iter(())
    for step in steps:
        step.emit = emit
        stream = step.run(stream)
    return stream


@contextmanager
def running(steps: Sequence[Step], emit: Emit = _quiet) -> Iterator[Iterator[Any]]:
    """`run_steps` that closes every step's generator on the way out, the last first: after
    an error in a later step, `Batched` aborts its jobs and waits for its batches before
    the caller closes the executor."""
    streams: list[Iterator[Any]] = []
    stream: Iterator[Any] = iter(())
    for step in steps:
        step.emit = emit
        stream = step.run(stream)
        streams.append(stream)
    try:
        yield stream
    finally:
        for stream in reversed(streams):
            stream.close()  # type: ignore[attr-defined]


def rejected_by(steps: Iterable[Step]) -> tuple[Counter[str], Counter[str]]:
    """(rejections by reason, rejections by stage) over all steps."""
    reasons: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    for step in steps:
        for reason, n in step.stats.rejected.items():
            reasons[reason] += n
            if n and step.stage:
                stages[step.stage] += n
    return +reasons, +stages


# ---------------------------------------------------------------- reader and normalize


class Read(Step):
    """The source's rows (at most `limit`; of each source, in a mixed build); a row the reader could not parse is rejected here
    (stage 'read'). Counters: rows, in_format (rows that look like the source's format)."""

    name = "read"
    stage = "read"
    reject_reasons = (RejectReason.MALFORMED_ROW, RejectReason.INVALID_ENCODING)
    counters = ("rows", "in_format")

    def __init__(self, source: Any, limit: int | None = None) -> None:
        super().__init__()
        self.source, self.limit = source, limit
        self.first_row = ""  # what the first row was, for the error when none is in format
        self.by_source: dict[str, Counter[str]] = {}  # source name -> rows, in_format
        self.done = False  # the source is exhausted: `counters['rows']` is final

    def run(self, items: Iterator[Any]) -> Iterator[Any]:
        from appsplus.sources import looks_like
        from appsplus.sources.mixed import MixedSource

        mixed = isinstance(self.source, MixedSource)  # there `limit` is per source
        rows = self.source.iter_rows(self.limit) if mixed else self.source.iter_rows()
        for n, row in enumerate(rows):
            if not mixed and self.limit is not None and n >= self.limit:
                break
            self.stats.seen += 1
            self.stats.counters["rows"] += 1
            in_format = looks_like(row)
            self.stats.counters["in_format"] += in_format
            self.by_source.setdefault(row.source, Counter()).update(
                {"rows": 1, "in_format": int(in_format)}
            )
            if n == 0:
                self.first_row = (
                    row.raw_error
                    if row.raw is None
                    else "an object with keys " + ", ".join(sorted(map(str, row.raw))[:8])
                )
            self.emit("read", 1)
            if row.raw is None:
                yield self.reject(normalize(row))  # normalize's stage-'read' rejection
            else:
                self.stats.passed += 1
                yield row
        self.done = True
        self.emit("read_done", self.stats.counters["rows"])


class Normalize(ProblemStep):
    """A parsed row -> a typed Problem (`appsplus.curate.normalize`), or why not."""

    name = "normalize"
    inputs = (RawRow,)
    stage = "normalize"
    reject_reasons = (
        RejectReason.INVALID_FIELD,
        RejectReason.OVERSIZED_FIELD,
        RejectReason.INVALID_ENCODING,
        RejectReason.MALFORMED_SOLUTIONS,
        RejectReason.MALFORMED_INPUT_OUTPUT,
        RejectReason.IO_LENGTH_MISMATCH,
        RejectReason.MALFORMED_ROW,  # an unexpected error of ours, logged as a warning
    )

    def process(self, item: RawRow) -> Problem | Rejection:
        return normalize(item)


class AssignSplit(ProblemStep):
    """`--test-fraction F`: a source without a test split gets one. Each problem goes to
    'test' when sha256(seed, its whitespace-normalized statement) falls below F, so the
    decision is deterministic for a seed, independent of the other rows and of their order,
    and rows with the same statement always land in the same split. The problem id follows
    its split ('stepcoder/train/0017' -> 'stepcoder/test/0017'). Counters: train, test."""

    name = "assign_split"
    inputs = (Problem,)
    counters = ("train", "test")

    def __init__(self, test_fraction: float, seed: int) -> None:
        super().__init__()
        self.test_fraction, self.seed = test_fraction, seed

    def split_of(self, question: str) -> str:
        key = f"{self.seed}\0{' '.join(question.split())}".encode()
        draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64
        return "test" if draw < self.test_fraction else "train"

    def process(self, item: Problem) -> Problem:
        split = self.split_of(item.question)
        self.stats.counters[split] += 1
        if split == item.split:
            return item
        prefix = f"/{item.split}/"
        problem_id = item.problem_id.replace(prefix, f"/{split}/", 1)
        return item.model_copy(update={"split": split, "problem_id": problem_id})

    def manifest_section(self) -> dict[str, Any]:
        return {
            "test_fraction": self.test_fraction,
            "seed": self.seed,
            "rule": "test when sha256(seed, whitespace-normalized statement) < test_fraction",
            "problems": {s: self.stats.counters[s] for s in ("train", "test")},
        }


# ---------------------------------------------------------------- filters


class ProblemFilter(ProblemStep):
    """A static check on a typed Problem: `check(problem)` returns (reason, detail) to
    reject it (stage 'filter'), or None to keep it."""

    inputs = (Problem,)
    stage = "filter"

    def check(self, problem: Problem) -> FilterResult | None:
        raise NotImplementedError

    def process(self, item: Problem) -> Problem | Rejection:
        result = self.check(item)
        if result is None:
            return item
        reason, detail = result
        return Rejection(
            problem_id=item.problem_id,
            locator=str(item.provenance.get("locator", item.problem_id)),
            source=str(item.provenance.get("source", "")),
            reason=reason,
            detail=detail,
            stage="filter",
        )


class HasTests(ProblemFilter):
    name = "has_tests"
    reject_reasons = (RejectReason.NO_TESTS,)

    def check(self, problem: Problem) -> FilterResult | None:
        return check_has_tests(problem)


class HasSolutions(ProblemFilter):
    name = "has_solutions"
    reject_reasons = (RejectReason.NO_SOLUTIONS,)

    def check(self, problem: Problem) -> FilterResult | None:
        return check_has_solutions(problem)


class Unverified:
    """A problem kept without a reference solution (`--tests-only`): its tests are as the
    source gives them, unverified; it skips verification and quality and is written to
    tests_only.parquet (`row`, made by the pipeline), flagged there."""

    def __init__(self, problem: Problem, row: dict[str, Any]) -> None:
        self.problem, self.row = problem, row
        self.problem_id, self.split = problem.problem_id, problem.split
        self.question, self.url = problem.question, problem.url
        self.difficulty = problem.difficulty
        self.locator = str(problem.provenance.get("locator", ""))
        self.source = str(problem.provenance.get("source", ""))


class TestsOnly(ProblemStep):
    """`--tests-only` (in place of HasSolutions, after the other filters): a problem without
    a reference solution (none, or all empty) is kept as `Unverified`, for RL, whose
    rewards need tests, not solutions; one with solutions goes on to verification.
    Counter: tests_only."""

    name = "tests_only"
    inputs = (Problem,)
    counters = ("tests_only",)

    def __init__(self, make_row: Callable[[Problem], dict[str, Any]]) -> None:
        super().__init__()
        self.make_row = make_row

    def process(self, item: Problem) -> Problem | Unverified:
        if check_has_solutions(item) is None:
            return item
        self.stats.counters["tests_only"] += 1
        return Unverified(item, self.make_row(item))


class UniqueIds(ProblemFilter):
    """The first problem with an id is kept; a later one with the same id is rejected."""

    name = "unique_ids"
    reject_reasons = (RejectReason.DUPLICATE_ID,)

    def __init__(self) -> None:
        super().__init__()
        self._check = duplicate_id_filter()

    def check(self, problem: Problem) -> FilterResult | None:
        return self._check(problem)


class MinTests(ProblemFilter):
    """`--min-tests N` (`appsplus.quality.checks.min_tests_filter`)."""

    name = "min_tests"
    reject_reasons = (RejectReason.TOO_FEW_TESTS,)

    def __init__(self, minimum: int) -> None:
        super().__init__()
        self._check = min_tests_filter(minimum)

    def check(self, problem: Problem) -> FilterResult | None:
        return self._check(problem)


class Decontaminate(ProblemFilter):
    """`--decontaminate FILE`: n-gram overlap with benchmark items
    (`appsplus.quality.decontam`); its findings go to the manifest's quality section."""

    name = "decontaminate"
    reject_reasons = (RejectReason.CONTAMINATED,)

    def __init__(self, paths: list[str], ngram: int, threshold: float) -> None:
        super().__init__()
        self.ngram, self.threshold = ngram, threshold
        self.filter = DecontaminationFilter(load_benchmarks(paths, ngram), threshold)

    def check(self, problem: Problem) -> FilterResult | None:
        return self.filter(problem)

    def manifest_section(self) -> dict[str, Any]:
        f = self.filter
        return {
            "benchmarks": dict(sorted(f.index.files.items())),
            "ngram": self.ngram,
            "threshold": self.threshold,
            "rejected": sum(f.by_benchmark.values()),
            "rejected_by_benchmark": dict(sorted(f.by_benchmark.items())),
            "problems_sharing_an_ngram": {
                field: f.any_shared[field] for field in ("statement", "code")
            },
        }


# ---------------------------------------------------------------- execution, in batches


class BatchStep(Step):
    """A step over a batch of problems at once (its executions keep the workers busy):
    `process_batch(items)` returns one outcome per item, in order. Run by `Batched`."""

    def process_batch(self, items: list[Any]) -> list[Any]:
        raise NotImplementedError

    def run(self, items: Iterator[Any]) -> Iterator[Any]:  # unbatched use: one batch each
        for item in items:
            if isinstance(item, self.inputs):
                yield self.process_batch([item])[0]
            else:
                yield item


class Verify(BatchStep):
    """Run every solution on every test (`appsplus.curate.verify`): Problem -> Verified."""

    name = "verify"
    inputs = (Problem,)
    stage = "verify"
    reject_reasons = (
        RejectReason.NO_PASSING_SOLUTION,
        RejectReason.DISPUTED_EXPECTED_OUTPUT,
        RejectReason.MALFORMED_INPUT_OUTPUT,  # tests that cannot be sent to the executor
    )

    def __init__(self, config: Any, runner: Any) -> None:
        super().__init__()
        self.config, self.runner = config, runner

    def process_batch(self, items: list[Problem]) -> list[Any]:
        return verify_problems(items, self.config, self.runner)


class Assess(BatchStep):
    """The quality measurements (`appsplus.quality.assess`): Verified -> Assessed. A
    problem's `extra_tests` (provenance: tests its source has but the build does not
    score) go to `assess` as its known tests, with the scored ones."""

    name = "assess"
    inputs = (Verified,)
    stage = "quality"

    def __init__(self, quality: Any, verify: Any, runner: Any) -> None:
        super().__init__()
        self.quality, self.verify, self.runner = quality, verify, runner

    def process_batch(self, items: list[Any]) -> list[Any]:
        known = {  # a source's extra tests (CodeContests groups not scored): known tests
            v.problem.problem_id: [*v.problem.tests, *extra]
            for v in items
            if (extra := v.problem.provenance.get("extra_tests"))
        }
        return list(assess(items, self.quality, self.verify, self.runner, known_tests=known))


class _Batch:
    def __init__(self) -> None:
        self.items: list[Any] = []  # in read order
        self.problems = 0
        self.solutions = 0


class Batched(Step):
    """Runs batch steps over batches of problems, two batches in flight (so the workers
    rarely idle while a batch waits for its slowest job), and yields every item in read
    order. A batch closes at `batch_problems` problems, 64 x that many solutions, or 16 x
    that many items (rejections included). Stats of the inner steps are updated here, in
    the consuming thread. `on_labels(labels)` (optional) receives, per batch, the ids of
    the objects its jobs carry -> problem id, for the longest-running-problem display."""

    name = "batched"

    def __init__(
        self,
        steps: Sequence[BatchStep],
        batch_problems: int,
        runner: Any,
        on_labels: Callable[[dict[int, str]], None] | None = None,
    ) -> None:
        super().__init__()
        self.steps = list(steps)
        self.batch_problems = batch_problems
        self.runner = runner
        self.on_labels = on_labels
        self.inputs = steps[0].inputs if steps else ()  # type: ignore[misc]

    def _batches(self, items: Iterator[Any]) -> Iterator[_Batch]:
        n = self.batch_problems
        batch = _Batch()
        for item in items:
            batch.items.append(item)
            if isinstance(item, self.inputs):
                batch.problems += 1
                batch.solutions += len(item.solutions)
            if batch.problems >= n or batch.solutions >= 64 * n or len(batch.items) >= 16 * n:
                yield batch
                batch = _Batch()
        if batch.items:
            yield batch

    def _label(self, items: Iterable[Any]) -> None:
        if self.on_labels is None:
            return
        labels: dict[int, str] = {}
        for item in items:
            problem = getattr(item, "problem", item)
            if not isinstance(problem, Problem):
                continue
            for obj in (*problem.solutions, *problem.tests):
                labels[id(obj)] = problem.problem_id
        self.on_labels(labels)

    def _process(self, problems: list[Any]) -> list[list[Any]]:
        """In a worker thread: each batch step on what the one before it let through."""
        outcomes = []
        current = problems
        for step in self.steps:
            todo = [x for x in current if isinstance(x, step.inputs)]
            self._label(todo)
            done = iter(step.process_batch(todo) if todo else [])
            current = [next(done) if isinstance(x, step.inputs) else x for x in current]
            outcomes.append(current)
        return outcomes

    def _resolve(self, batch: _Batch, future: Future) -> Iterator[Any]:
        per_step = future.result()
        previous = [x for x in batch.items if isinstance(x, self.inputs)]
        for step, current in zip(self.steps, per_step):
            for before, after in zip(previous, current):
                if isinstance(before, step.inputs):
                    step.stats.seen += 1
                    if isinstance(after, Rejection):
                        step.reject(after)
                    else:
                        step.stats.passed += 1
            previous = current
        final = iter(per_step[-1] if per_step else previous)
        for item in batch.items:
            yield next(final) if isinstance(item, self.inputs) else item

    def run(self, items: Iterator[Any]) -> Iterator[Any]:
        for step in self.steps:
            step.emit = self.emit
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify") as pool:
            pending: deque[tuple[_Batch, Future]] = deque()
            try:
                for batch in self._batches(items):
                    problems = [x for x in batch.items if isinstance(x, self.inputs)]
                    pending.append((batch, pool.submit(self._process, problems)))
                    self.emit("problems_queued", len(problems))
                    if len(pending) >= 2:
                        yield from self._resolve(*pending.popleft())
                while pending:
                    yield from self._resolve(*pending.popleft())
            except BaseException:
                self.runner.abort()  # jobs not yet started fail at once
                for _, future in pending:
                    future.cancel()
                raise


# ---------------------------------------------------------------- records, dedup, writer


class MakeRecord(ProblemStep):
    """Assessed -> an APPS+ Record (`pipeline.make_record`: spans, provenance, hash)."""

    name = "record"
    inputs = (Assessed,)

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self.make = make

    def process(self, item: Any) -> Any:
        return self.make(item)


class Deduplicate(Step):
    """Exact and near-duplicate statements among the kept records
    (`appsplus.quality.dedup`), decided once every record is in: each duplicate is
    withdrawn (`Withdrawn`, rejected 'duplicate_problem') after every other item.

    `ranks` (source name -> position in a mixed build's --source list) decides which copy
    of a cross-source duplicate is kept: the test-split one, else the source listed first
    (`appsplus.quality.dedup`); the same problem URL counts across sources. The test-split
    problems that `NoteTestSplit` saw and that were not kept (rejected on the way) still
    keep their duplicates out of train."""

    name = "dedupe"
    inputs = (Record, Unverified)
    stage = "quality"
    reject_reasons = (RejectReason.DUPLICATE_PROBLEM,)

    def __init__(self, threshold: float, ranks: dict[str, int] | None = None) -> None:
        super().__init__()
        self.dedup = Deduplicator(threshold)
        self.ranks = ranks or {}
        self._where: dict[str, tuple[str, str]] = {}
        self.summary: dict[str, int] = {}
        # test-split problems as normalized: id -> (statement, url, source), see NoteTestSplit
        self.test_problems: dict[str, tuple[str, str, str]] = {}

    def run(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            if isinstance(item, self.inputs):
                self.stats.seen += 1
                if isinstance(item, Record):
                    where = (item.provenance.locator, item.provenance.source)
                else:
                    where = (item.locator, item.source)
                self.dedup.add(
                    item.problem_id,
                    item.split,
                    item.question,
                    rank=self.ranks.get(where[1], 0),
                    url=item.url if self.ranks else "",
                )
                self._where[item.problem_id] = where
            yield item
        for pid, (question, url, source) in sorted(self.test_problems.items()):
            if pid not in self._where:  # rejected on the way: a shadow
                self.dedup.add(
                    pid,
                    "test",
                    question,
                    rank=self.ranks.get(source, 0),
                    url=url if self.ranks else "",
                    shadow=True,
                )
        found = self.dedup.duplicates()
        for d in found:
            locator, source = self._where[d.problem_id]
            kept_source = self._where.get(d.kept_id, ("", source))[1]
            yield Withdrawn(
                self.reject(
                    Rejection(
                        problem_id=d.problem_id,
                        locator=locator,
                        source=source,
                        reason=RejectReason.DUPLICATE_PROBLEM,
                        detail=d.detail(),
                        stage="quality",
                    )
                ),
                d.kept_id if kept_source != source else "",
            )
        self.stats.passed = self.stats.seen - len(found)
        self.summary = {
            "rejected": len(found),
            "exact": sum(d.exact for d in found),
            "near": sum(not d.exact for d in found),
            "train_test_overlaps": sum(
                d.split == "train" and d.kept_split == "test" for d in found
            ),
            "within_train": sum(d.split == d.kept_split == "train" for d in found),
            "within_test": sum(d.split == d.kept_split == "test" for d in found),
        }


class NoteTestSplit(Step):
    """Remembers every test-split problem as normalized (statement, URL, source) for
    `Deduplicate`, before any filter can reject it: a problem of a source's test split
    keeps its duplicates out of the build's train split even when it is not kept itself
    (e.g. a CodeContests test problem without a Python 3 solution). Counter: test."""

    name = "note_test_split"
    inputs = (Problem,)
    counters = ("test",)

    def __init__(self, dedupe: Deduplicate) -> None:
        super().__init__()
        self.dedupe = dedupe

    def run(self, items: Iterator[Any]) -> Iterator[Any]:
        for item in items:
            if isinstance(item, Problem):
                self.stats.seen += 1
                self.stats.passed += 1
                if item.split == "test":
                    self.stats.counters["test"] += 1
                    self.dedupe.test_problems[item.problem_id] = (
                        item.question,
                        item.url,
                        str(item.provenance.get("source", "")),
                    )
            yield item


class Write(Step):
    """The sink: kept records to the split spools (and their runtimes), rejections to the
    rejections file, in the order they come. Counters: the kept records' totals (tests,
    solutions, corrections, ...); `kept` by (split, difficulty)."""

    name = "write"
    inputs = (Record, Rejection, Withdrawn, Unverified)
    counters = (
        "tests",
        "solutions",
        "corrections",
        "repaired_problems",
        "call_outputs_*",
        "generated_tests",
        "tests_only",
    )

    def __init__(
        self,
        spools: dict[str, Any],
        runtimes: Any,
        rejections: IO[bytes],
        runtimes_row: Callable[[Any], dict[str, Any]],
        tests_only: Any = None,
    ) -> None:
        super().__init__()
        self.spools, self.runtimes, self.rejections = spools, runtimes, rejections
        self.tests_only = tests_only  # the spool of Unverified rows (--tests-only)
        self.runtimes_row = runtimes_row
        self.kept: Counter[tuple[str, str]] = Counter()
        self.rejected = 0
        # per kept record: its (split, difficulty), what it adds to the counters, its quality
        self.records: dict[str, tuple[tuple[str, str], Counter[str], Any]] = {}
        # per source name: kept, tests_only and rejected:<reason> (the manifest's `sources`)
        self.by_source: dict[str, Counter[str]] = {}
        self._unverified_source: dict[str, str] = {}  # kept Unverified id -> its source
        # kept id -> its copies in other sources, rejected as duplicates (a mixed build):
        # the pipeline writes them into the kept row's provenance notes (`same_problem`)
        self.same_problem: dict[str, list[str]] = {}

    def run(self, items: Iterator[Any]) -> Iterator[Any]:
        withdrawn: set[str] = set()
        for item in items:
            self.stats.seen += 1
            if isinstance(item, Record):
                self._keep(item)
            elif isinstance(item, Unverified):
                self._keep_unverified(item)
            elif isinstance(item, Withdrawn):
                withdrawn.add(self._unkeep(item.rejection.problem_id or ""))
                self._count(item.rejection.source, "kept", -1)
                if item.kept_id:
                    self.same_problem.setdefault(item.kept_id, []).append(
                        item.rejection.problem_id or ""
                    )
                self._write_rejection(item.rejection)
            elif isinstance(item, Rejection):
                self._write_rejection(item)
            else:
                raise TypeError(f"the writer got a {type(item).__name__}: a step is missing")
        extra = [self.tests_only] if self.tests_only is not None else []
        for spool in (*self.spools.values(), self.runtimes, *extra):
            spool.drop(withdrawn)
        yield from ()  # a sink: nothing comes out

    def _write_rejection(self, rejection: Rejection) -> None:
        self.rejections.write(rejection.model_dump_json().encode() + b"\n")
        self.rejected += 1
        self._count(rejection.source, f"rejected:{rejection.reason.value}")

    def _count(self, source: str, key: str, n: int = 1) -> None:
        self.by_source.setdefault(source, Counter())[key] += n

    def _keep(self, record: Any) -> None:
        self.spools[record.split].add(record.problem_id, record.to_row())
        self.runtimes.add(record.problem_id, self.runtimes_row(record))
        totals: Counter[str] = Counter()
        totals["tests"] += len(record.tests)
        totals["solutions"] += len(record.solutions)
        totals["corrections"] += len(record.provenance.corrections)
        if record.provenance.corrections:
            totals["repaired_problems"] += 1
        if record.provenance.call_outputs:
            totals[f"call_outputs_{record.provenance.call_outputs}"] += 1
        if record.quality and record.quality.generated_tests:
            totals["generated_tests"] += len(record.quality.generated_tests)
        key = (record.split, record.difficulty)
        self.kept[key] += 1
        self._count(record.provenance.source, "kept")
        self.stats.counters.update(totals)
        self.stats.passed += 1
        self.records[record.problem_id] = (key, totals, record.quality)
        self.emit("kept", 1)

    def _keep_unverified(self, item: Unverified) -> None:
        if self.tests_only is None:
            raise TypeError("the writer got an Unverified problem but has no tests-only spool")
        self.tests_only.add(item.problem_id, item.row)
        totals: Counter[str] = Counter({"tests_only": 1})
        key = (item.split, item.difficulty)
        self.kept[key] += 1
        self._count(item.source, "kept")
        self._count(item.source, "tests_only")
        self.stats.counters.update(totals)
        self.stats.passed += 1
        self.records[item.problem_id] = (key, totals, None)
        self._unverified_source[item.problem_id] = item.source
        self.emit("kept", 1)

    def _unkeep(self, problem_id: str) -> str:
        source = self._unverified_source.pop(problem_id, None)
        if source is not None:
            self._count(source, "tests_only", -1)
        key, totals, _ = self.records.pop(problem_id)
        self.kept[key] -= 1
        self.stats.counters.subtract(totals)
        self.stats.counters = +self.stats.counters  # drop zero counts
        self.stats.passed -= 1
        self.emit("kept", -1)
        return problem_id

    def qualities(self) -> list[Any]:
        return [quality for _, _, quality in self.records.values() if quality is not None]


class JobWatch:
    """Which problem's job has run longest right now (for progress displays): the runner
    calls `started(job)` / `finished(job)` around each job, `Batched` gives the labels."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._labels: deque[dict[int, str]] = deque(maxlen=4)  # the batches in flight
        self._running: dict[int, tuple[float, str]] = {}  # thread id -> (start, problem id)

    def set_labels(self, labels: dict[int, str]) -> None:
        with self._lock:
            self._labels.append(labels)

    def label(self, job: Any) -> str:
        """The problem a job belongs to: its program or first test is one of that problem's
        objects (jobs carry them, not copies); '?' when neither is known."""
        for labels in reversed(self._labels):
            for obj in (job.program, *job.tests[:1]):
                found = labels.get(id(obj))
                if found:
                    return found
        return "?"

    def started(self, job: Any) -> None:
        with self._lock:
            label = self.label(job)
            self._running[threading.get_ident()] = (time.monotonic(), label)

    def finished(self, job: Any) -> None:
        with self._lock:
            self._running.pop(threading.get_ident(), None)

    def longest(self) -> tuple[str, float] | None:
        """(problem id, seconds) of the job running longest now, or None."""
        with self._lock:
            if not self._running:
                return None
            start, label = min(self._running.values())
        return label, time.monotonic() - start
