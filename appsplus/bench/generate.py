"""Generation: n samples per problem, appended to samples.jsonl as they come; resumable.

The work is cut into batches fixed by (problems, n, batch_size) alone: a problem's samples
are split into chunks of at most `batch_size`, and consecutive chunks are grouped into
batches of at most `batch_size` samples. Each batch has its own seed, derived from the run
seed and the batch's first (problem, sample index). A resumed run skips finished batches
and redoes unfinished ones whole with the same seed, keeping the lines already written, so
on the same hardware it produces the samples an uninterrupted run would have.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appsplus.bench.backends import Backend, Request, SamplingParams
from appsplus.bench.files import BenchProblem, Sample, Sampling
from appsplus.bench.jsonl import Appender, read_models
from appsplus.bench.programs import assemble, assemble_program
from appsplus.errors import AppsplusError
from appsplus.extract import truncate_at_stop

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    """Samples [start, start + count) of one problem."""

    problem: int
    start: int
    count: int


def plan_batches(n_problems: int, n: int, batch_size: int) -> list[list[Chunk]]:
    """The batches of a run; depends only on its arguments."""
    chunks = [
        Chunk(p, start, min(batch_size, n - start))
        for p in range(n_problems)
        for start in range(0, n, batch_size)
    ]
    batches: list[list[Chunk]] = []
    size = 0
    for chunk in chunks:
        if batches and size + chunk.count <= batch_size:
            batches[-1].append(chunk)
            size += chunk.count
        else:
            batches.append([chunk])
            size = chunk.count
    return batches


def batch_seed(seed: int, problem_id: str, start: int) -> int:
    """A 31-bit seed for the batch that begins with sample `start` of `problem_id`."""
    digest = hashlib.sha256(f"{seed}\0{problem_id}\0{start}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def read_samples(path: Path) -> list[Sample]:
    """The samples of a run, first occurrence of each (problem, index) kept."""
    seen: dict[tuple[str, int], Sample] = {}
    for sample in read_models(path, Sample):
        seen.setdefault((sample.problem_id, sample.index), sample)
    return list(seen.values())


def generate_samples(
    problems: list[BenchProblem],
    backend: Backend,
    sampling: Sampling,
    samples_path: Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Generate the missing samples of a run into `samples_path`; returns how many were written.

    `progress(k)` is called after each batch with the number of samples it added. A chat
    backend gets each problem's `chat_prompt` after its `system_prompt` (a system turn, or
    joined into the user message: `appsplus.bench.backends.chat_messages`); a base model
    continues `prompt`.
    """
    done = {(s.problem_id, s.index) for s in read_samples(samples_path)}
    params = SamplingParams(
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_new_tokens=sampling.max_new_tokens,
    )
    extra = tuple(sampling.extra_stop)
    written = 0
    with Appender(samples_path) as out:
        for batch in plan_batches(len(problems), sampling.n, sampling.batch_size):
            wanted = [
                (c, i)
                for c in batch
                for i in range(c.start, c.start + c.count)
                if (problems[c.problem].problem_id, i) not in done
            ]
            if not wanted:
                continue
            requests = []
            for c in batch:
                p = problems[c.problem]
                stop = extra if backend.chat else tuple(p.stop) + extra
                text = p.chat_prompt if backend.chat else p.prompt
                system = p.system_prompt if backend.chat else None
                requests.append(Request(text=text, count=c.count, stop=stop, system=system))
            first = problems[batch[0].problem]
            seed = batch_seed(sampling.seed, first.problem_id, batch[0].start)
            outputs = backend.generate(requests, params, seed)
            before = written
            for c, request, completions in zip(batch, requests, outputs):
                p = problems[c.problem]
                for j, completion in enumerate(completions):
                    index = c.start + j
                    if (p.problem_id, index) in done:
                        continue
                    text = truncate_at_stop(completion.text, list(request.stop))
                    out.write(
                        Sample(
                            problem_id=p.problem_id,
                            index=index,
                            completion=text,
                            program=assemble(p, text),
                            finish_reason=completion.finish_reason,
                        )
                    )
                    done.add((p.problem_id, index))
                    written += 1
            if progress:
                progress(written - before)
    return written


# ---------------------------------------------------------------- samples produced elsewhere


class SamplesFileError(AppsplusError, ValueError):
    """A --samples file does not match the suite (unknown ids, missing problems, bad lines)."""


def _own_sample(row: dict, where: str) -> Sample:
    """A row of a samples.jsonl that `bench` wrote (it has `index`): a Sample as it is."""
    from pydantic import ValidationError

    try:
        return Sample.model_validate(row)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or "row"
        raise SamplesFileError(f"{where}: not a bench sample: {field}: {first['msg']}") from None


def import_samples(
    problems: list[BenchProblem],
    path: Path,
    *,
    allow_missing: bool = False,
    known_ids: set[str] | None = None,
) -> list[Sample]:
    """Samples from a jsonl of {problem_id | task_id, completion | program}, numbered in file order,
    or from a samples.jsonl that `bench` wrote (rows with `index`: taken as they are).

    `completion` is raw model text (code is extracted and assembled as for generated
    samples; no stop sequences are applied); `program` is a complete candidate solution
    (for HumanEval and MBPP the suite's tests are still appended). Ids outside `problems`
    are an error unless in `known_ids` (the whole suite, when --limit keeps a part of it:
    their samples are skipped); problems without samples are an error unless
    `allow_missing`.
    """
    import json

    by_id = {p.problem_id: p for p in problems}
    known = known_ids or set()
    skipped = 0
    counts: dict[str, int] = {}
    samples = []
    try:
        f = path.open("rb")
    except OSError as e:
        raise SamplesFileError(f"{path}: cannot read it ({e.strerror or e})") from e
    with f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except ValueError as e:
                raise SamplesFileError(f"{where}: not valid JSON: {e}") from e
            if not isinstance(row, dict):
                raise SamplesFileError(f"{where}: not a JSON object")
            own = _own_sample(row, where) if "index" in row else None
            unknown = set(row) - {"problem_id", "task_id", "completion", "program"}
            if unknown and own is None:
                raise SamplesFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            raw_id = row.get("problem_id", row.get("task_id"))
            problem = by_id.get(str(raw_id)) or by_id.get(f"mbpp/{raw_id}")
            if problem is None:
                if str(raw_id) in known or f"mbpp/{raw_id}" in known:
                    skipped += 1
                    continue
                raise SamplesFileError(f"{where}: problem {raw_id!r} is not in the suite")
            if own is not None:  # bench's own samples.jsonl: the program as it was executed
                index = counts.get(problem.problem_id, 0)
                counts[problem.problem_id] = index + 1
                samples.append(
                    own.model_copy(update={"problem_id": problem.problem_id, "index": index})
                )
                continue
            completion, program = row.get("completion"), row.get("program")
            if (completion is None) == (program is None) or not isinstance(
                completion if program is None else program, str
            ):
                raise SamplesFileError(
                    f"{where}: give exactly one of completion or program (a string)"
                )
            index = counts.get(problem.problem_id, 0)
            counts[problem.problem_id] = index + 1
            samples.append(
                Sample(
                    problem_id=problem.problem_id,
                    index=index,
                    completion=completion,
                    program=assemble(problem, completion)
                    if program is None
                    else assemble_program(problem, program),
                )
            )
    if skipped:
        logger.info("%s: skipped %d samples of problems left out by --limit", path, skipped)
    if not samples:
        which = " for the problems kept by --limit" if skipped else " (an empty file?)"
        raise SamplesFileError(f"{path}: no samples{which}; nothing to evaluate")
    missing = [p.problem_id for p in problems if p.problem_id not in counts]
    if missing and not allow_missing:
        raise SamplesFileError(
            f"{path}: {len(missing)} problem(s) of the suite have no samples (first: "
            f"{missing[0]}); pass --limit, or --allow-missing to evaluate only those present"
        )
    return samples
