"""A built APPS+ dataset (or its curriculum subtasks) in the format TRL, verl or OpenRLHF loads.

    export_dataset("apps-plus-sample", "trl-data", "trl")     # -> ExportManifest

Formats (one file per split; `export_manifest.json` beside them has the source dataset's
hash, the row counts and the sha256 of every file written):

* `trl`: `{split}.parquet` with `prompt` (chat messages, or text with `prompt_style="text"`)
  and the columns `appsplus.integrations.trl.CodeReward` receives: `tests` (typed tests as
  JSON), `prefix`, `fn_name`, `time_limit_s`, plus `problem_id`, `difficulty`.
* `verl`: `{split}.parquet` with `data_source`, `prompt` (chat messages), `ability`,
  `reward_model: {style: "rule", ground_truth: <tests JSON>}` and `extra_info`.
* `openrlhf`: `{split}.jsonl` with `prompt` and `label` (JSON of tests, prefix, fn_name,
  time_limit_s); train with `--input_key prompt --label_key label`.

Prompts come from `appsplus.prompts.build_prompt` (a chat prompt is one user message with
that text, as `bench` sends it). With `curriculum`, every record gives its StepCoder
subtasks (`appsplus.curriculum.subtasks.subtasks_for`): the prompt ends with the given prefix and
the reward judges prefix + completion. The split `tests_only` (a `--tests-only` build's
problems without a reference solution, unverified) is written only when asked for by name:
rewards need tests, not solutions; it has no curriculum (no solution to cut subtasks from).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from appsplus.errors import AppsplusError
from appsplus.integrations.scoring import tests_json
from appsplus.prompts import PROMPT_VERSION, build_prompt
from appsplus.schema import TestItem

Format = Literal["trl", "verl", "openrlhf"]
FORMATS: tuple[str, ...] = ("trl", "verl", "openrlhf")
MANIFEST = "export_manifest.json"
DATA_SOURCE = "appsplus/apps-plus"
_TESTS: TypeAdapter[list[TestItem]] = TypeAdapter(list[TestItem])


class ExportError(AppsplusError, ValueError):
    """The export cannot happen (the message says why); nothing was written."""


class ExportManifest(BaseModel):
    """What `export_dataset` wrote, from which dataset (by hash)."""

    model_config = ConfigDict(extra="forbid")

    format: Format
    source_dataset: str
    source_dataset_hash: str
    curriculum: bool
    prompt_style: Literal["chat", "text"]
    prompt_version: str = PROMPT_VERSION
    rows: dict[str, int] = Field(description="rows per split")
    files: dict[str, str] = Field(description="file name -> sha256")
    reward: str = Field(description="the appsplus reward to train with")


_REWARD_HINT = {
    "trl": "appsplus.integrations.trl.CodeReward",
    "verl": "custom_reward_function: appsplus/integrations/verl.py, name compute_score",
    "openrlhf": "--remote_rm_url appsplus/integrations/openrlhf.py",
}


def _units(row: dict[str, Any], curriculum: bool) -> Iterator[dict[str, Any]]:
    """The prompts of one record: the record itself, or each of its curriculum subtasks."""
    base = {
        "problem_id": row["problem_id"],
        "split": row["split"],
        "difficulty": row["difficulty"],
        "fn_name": row.get("fn_name"),
        "time_limit_s": row.get("time_limit_s"),
    }
    if not curriculum:
        text = build_prompt(row["question"], row.get("starter_code") or "", row["kind"])
        yield {**base, "text": text, "prefix": "", "subtask_id": None, "stage": None}
        return
    from appsplus.curriculum.subtasks import subtasks_for

    for sub in subtasks_for(row):
        yield {
            **base,
            "text": sub.prompt,
            "prefix": sub.prefix,
            "subtask_id": sub.subtask_id,
            "stage": sub.stage,
        }


def _row(unit: dict[str, Any], tests: str, fmt: str, style: str, index: int, digest: str):
    prompt: Any = [{"role": "user", "content": unit["text"]}] if style == "chat" else unit["text"]
    if fmt == "trl":
        return {
            "prompt": prompt,
            "tests": tests,
            "prefix": unit["prefix"],
            "fn_name": unit["fn_name"],
            "time_limit_s": unit["time_limit_s"],
            "problem_id": unit["problem_id"],
            "difficulty": unit["difficulty"],
            "subtask_id": unit["subtask_id"],
            "stage": unit["stage"],
            "dataset_hash": digest,
        }
    meta = {
        "prefix": unit["prefix"],
        "fn_name": unit["fn_name"],
        "time_limit_s": unit["time_limit_s"],
    }
    if fmt == "verl":
        return {
            "data_source": DATA_SOURCE,
            "prompt": prompt,
            "ability": "code",
            "reward_model": {"style": "rule", "ground_truth": tests},
            "extra_info": {
                "index": index,
                "split": unit["split"],
                "problem_id": unit["problem_id"],
                "difficulty": unit["difficulty"],
                "subtask_id": unit["subtask_id"] or "",
                "stage": unit["stage"] if unit["stage"] is not None else -1,
                "dataset_hash": digest,
                **meta,
            },
        }
    label = json.dumps({"tests": json.loads(tests), **meta}, ensure_ascii=False)
    return {
        "prompt": prompt,
        "label": label,
        "problem_id": unit["problem_id"],
        "subtask_id": unit["subtask_id"],
        "dataset_hash": digest,
    }


def _write(rows: list[dict[str, Any]], path: Path, fmt: str) -> str:
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "openrlhf":
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_out_dir(out: Path, overwrite: bool) -> None:
    """Refuse a non-empty output folder unless `overwrite` (then only our files are replaced)."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ExportError(f"{out}: not empty (pass --overwrite to replace the export in it)")


def export_dataset(
    dataset: str | Path,
    out: str | Path,
    fmt: str,
    *,
    splits: list[str] | None = None,
    curriculum: bool = False,
    prompt_style: str = "chat",
    overwrite: bool = False,
) -> ExportManifest:
    """Write DATASET's splits in `fmt` to OUT and return the manifest (see the module docstring)."""
    from appsplus.curate.manifest import dataset_hash
    from appsplus.dataset import TESTS_ONLY_SPLIT, DatasetError, load
    from appsplus.sources import loads_json

    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if prompt_style not in ("chat", "text"):
        raise ExportError(f"prompt style must be chat or text, got {prompt_style!r}")
    if fmt == "verl" and prompt_style != "chat":
        raise ExportError("verl datasets hold chat messages: use the chat prompt style")
    tests_only = TESTS_ONLY_SPLIT in (splits or [])
    if tests_only and curriculum:
        raise ExportError(
            f"--split {TESTS_ONLY_SPLIT} with --curriculum: tests-only problems have no "
            "canonical solution to cut curriculum subtasks from"
        )
    out = Path(out)
    check_out_dir(out, overwrite)
    try:
        ds = load(dataset, runtimes=True, include_tests_only=tests_only)
        digest = dataset_hash(Path(dataset))
    except (DatasetError, OSError) as e:
        raise ExportError(str(e)) from e
    wanted = splits or list(ds)
    missing = [s for s in wanted if s not in ds]
    if missing:
        raise ExportError(f"{dataset} has no split {missing[0]!r} (has: {', '.join(ds)})")
    out.mkdir(parents=True, exist_ok=True)
    ext = "jsonl" if fmt == "openrlhf" else "parquet"
    files: dict[str, str] = {}
    counts: dict[str, int] = {}
    for split in wanted:
        rows = []
        for row in ds[split]:
            from appsplus.record import Record

            if split == TESTS_ONLY_SPLIT:  # no solution, so not a Record: its tests alone
                tests = tests_json(_TESTS.validate_python(loads_json(row["tests"])))
            else:
                tests = tests_json(Record.from_row(row).tests)
            for unit in _units(row, curriculum):
                rows.append(_row(unit, tests, fmt, prompt_style, len(rows), digest))
        name = f"{split}.{ext}"
        files[name] = _write(rows, out / name, fmt)
        counts[split] = len(rows)
    manifest = ExportManifest(
        format=fmt,
        source_dataset=str(dataset),
        source_dataset_hash=digest,
        curriculum=curriculum,
        prompt_style=prompt_style,
        rows=counts,
        files=files,
        reward=_REWARD_HINT[fmt],
    )
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / MANIFEST)
    return manifest
