"""Trainer data: the records trainers read, their curriculum stages, and token-level helpers.

    from appsplus.trainers.data import load_records, stages_of
    records = load_records("sample", split="train")   # or the path of a built APPS+ dataset
    stages = stages_of(records[0])                     # prefixes, easiest first; last is ""

`load_records` is the one place that knows where records come from. A built APPS+ dataset
(`appsplus build --out DIR`) is read with `appsplus.load(DIR)`. The embedded sample is
the same thing: `appsplus.curate.sample_dataset.built_sample()` builds it once (default build config)
and caches it, so trainers and tests need no build step of their own.

Tokenizer helpers (`sft_example`, `completion_offsets`) take any Hugging Face tokenizer and
return plain lists; this module never imports torch.
"""

from __future__ import annotations

import functools
import itertools
import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from appsplus.curriculum.spans import SpanError
from appsplus.curriculum.subtasks import subtasks_for
from appsplus.prompts import build_prompt
from appsplus.schema import TestItem
from appsplus.trainers.config import ConfigError

log = logging.getLogger(__name__)

SAMPLE_RECORD_TIME_LIMIT_S = 1.0  # what `appsplus build` derives for the sample's fast programs


class TaskRecord(BaseModel):
    """The fields of an APPS+ record that trainers use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    problem_id: str
    split: str
    difficulty: str
    question: str
    starter_code: str = ""
    kind: Literal["stdio", "call"]
    fn_name: str | None = None
    tests: list[TestItem] = Field(min_length=1)
    canonical_solution: str
    solutions: list[str] = Field(default_factory=list, description="every passing solution")
    time_limit_s: float = Field(SAMPLE_RECORD_TIME_LIMIT_S, gt=0, description="per-test time limit")

    def prompt(self, prefix: str = "") -> str:
        """The shared prompt (`appsplus.prompts.build_prompt`) ending with `prefix`."""
        return build_prompt(self.question, self.starter_code, self.kind, prefix)


def load_records(data: str = "sample", split: str | None = "train") -> list[TaskRecord]:
    """Records of `data` ('sample', or the folder of a built APPS+ dataset), one split or all."""
    if data == "sample":
        records = [r for r in _sample_records() if split is None or r.split == split]
    else:
        records = _built_records(data, split)
    if not records:
        raise ConfigError(f"data: no records in {data!r} for split {split!r}")
    return records


def _built_records(path: str, split: str | None) -> list[TaskRecord]:
    """A built APPS+ folder, read with `appsplus.load` (rows validated as `Record`s)."""
    import appsplus
    from appsplus.record import Record

    dataset = appsplus.load(path)
    splits = [split] if split is not None else list(dataset)
    return [
        _task_record(Record.from_row(row))
        for name in splits
        if name in dataset
        for row in dataset[name]
    ]


def _task_record(row: Any) -> TaskRecord:
    """An APPS+ `Record` (or a mapping of its fields) -> TaskRecord."""
    from appsplus.sources import loads_json

    fields = row.model_dump() if hasattr(row, "model_dump") else dict(row)
    if isinstance(fields.get("tests"), str):
        fields["tests"] = loads_json(fields["tests"])
    keep = TaskRecord.model_fields.keys()
    return TaskRecord.model_validate({k: v for k, v in fields.items() if k in keep})


@functools.cache
def _sample_records() -> tuple[TaskRecord, ...]:
    """The embedded sample, built and cached as APPS+ by `appsplus.curate.sample_dataset.built_sample`."""
    from appsplus.curate.sample_dataset import built_sample

    return tuple(_built_records(str(built_sample()), None))


def stages_of(record: TaskRecord) -> list[str]:
    """The record's CCCS prefixes, easiest (longest) first; the last is '' (full generation).

    Each prefix stops before the line break that ends its last line (see
    `appsplus.curriculum.subtasks.subtasks_for`). A canonical solution without conditional spans (or
    one `ast` cannot parse) has the single full-generation stage.
    """
    try:
        return [s.prefix for s in subtasks_for(record.model_dump())]
    except SpanError:
        return [""]


# --------------------------------------------------------------------------- tokens
def sft_example(
    tokenizer, record: TaskRecord, max_length: int, solution: str | None = None
) -> dict:
    """input_ids and labels of one supervised example; prompt tokens get label -100.

    The prompt (the shared prompt builder's, tokenized with the tokenizer's special tokens)
    and the target (`solution`, default the canonical one, then EOS) are tokenized
    separately, exactly as a rollout sees them: prompt tokens, then generated tokens.
    Over-long examples lose prompt tokens from the left first, then target tokens.
    """
    prompt = tokenizer(record.prompt())["input_ids"]
    target = tokenizer(solution or record.canonical_solution, add_special_tokens=False)
    target = [*target["input_ids"], tokenizer.eos_token_id][:max_length]
    prompt = prompt[max(0, len(prompt) + len(target) - max_length) :]
    return {"input_ids": prompt + target, "labels": [-100] * len(prompt) + target}


def completion_offsets(tokenizer, token_ids: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """Decode generated tokens; return the text and each token's [start, end) in it.

    Offsets describe the tokens the model actually produced (re-tokenizing the text could
    split it differently): each token decoded alone when the pieces add up to the text,
    else every prefix of `token_ids` decoded. A token
    that ends inside a multi-byte character shares the character's range with the token
    that completes it; special tokens (EOS) are zero-width.
    """
    decode = functools.partial(
        tokenizer.batch_decode, skip_special_tokens=True, clean_up_tokenization_spaces=False
    )
    text, *pieces = decode([token_ids, *([t] for t in token_ids)])
    if "".join(pieces) == text:  # fast path: tokens decode independently (plain ASCII code)
        ends = list(itertools.accumulate(len(p) for p in pieces))
        return text, [(end - len(p), end) for p, end in zip(pieces, ends)]
    texts = decode([token_ids[:i] for i in range(len(token_ids) + 1)])
    offsets: list[tuple[int, int]] = []
    done, pending = 0, []
    for i in range(len(token_ids)):
        t = texts[i + 1]
        if len(t) >= done and text.startswith(t):
            for j in pending:
                offsets[j] = (done, len(t))
            offsets.append((done, len(t)))
            done, pending = len(t), []
        else:  # a partial character: decided by the token that completes it
            pending.append(i)
            offsets.append((done, done))
    return text, offsets
