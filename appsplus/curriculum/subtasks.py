"""StepCoder's curriculum of code-completion subtasks (CCCS), in pure Python.

Stage rule (paper: arXiv 2402.01391, section 3.2). Let p_1 < ... < p_E be the distinct
line starts of the canonical solution's conditional statements (`appsplus.curriculum.spans`), and
p_0 = 0 the start of the program. With n = ceil(sqrt(E)) steps of s = ceil(E / n)
statements, stage k (k = 0..n) gives the prefix code[:p_max(E - k*s, 0)], without the line
break that ends it (the completion starts with it):

* stage 0, the easiest, starts at the last conditional statement (little left to write);
* each later stage moves the start back by s statements;
* stage n starts at p_0 = 0: the whole program is generated (the final stage).

So a solution has n + 1 stages (one for E = 0); stages whose prefixes coincide (a
statement on the first line) are merged. `steps_rule` replaces ceil(sqrt(E)).

`CurriculumState` tracks, per record, the current stage and the accumulated pass rate;
`advance` moves a record on when that rate exceeds the threshold rho.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field

from appsplus.curriculum.spans import _NEWLINE, DEFAULT_KINDS, conditional_spans
from appsplus.prompts import build_prompt
from appsplus.schema import StrictModel


def sqrt_steps(n_statements: int) -> int:
    """The paper's rule: ceil(sqrt(E)) steps."""
    return math.ceil(math.sqrt(n_statements))


def start_points(code: str, kinds: Iterable[str] = DEFAULT_KINDS) -> list[int]:
    """Distinct character offsets of the line starts of `code`'s conditional statements (> 0)."""
    return sorted({s.line_start for s in conditional_spans(code, kinds)} - {0})


def stage_offsets(
    code: str, steps_rule: Callable[[int], int] = sqrt_steps, kinds: Iterable[str] = DEFAULT_KINDS
) -> list[int]:
    """Prefix lengths of each stage, easiest first; the last is always 0 (full generation)."""
    points = [0, *start_points(code, kinds)]  # points[j] = p_j
    e = len(points) - 1
    if e == 0:
        return [0]
    n = max(1, steps_rule(e))
    step = math.ceil(e / n)
    offsets: list[int] = []
    for k in range(n + 1):
        offset = points[max(e - k * step, 0)]
        if not offsets or offsets[-1] != offset:
            offsets.append(offset)
    if offsets[-1] != 0:
        offsets.append(0)
    return offsets


class Subtask(BaseModel):
    """One code-completion subtask: complete `prefix` (a prefix of the canonical solution)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subtask_id: str
    record_id: str
    split: str
    difficulty: str
    stage: int = Field(description="0 = easiest (longest prefix); n_stages - 1 = full generation")
    n_stages: int
    prefix: str
    prefix_end: int = Field(
        description="character offset where the prefix ends in the canonical solution"
    )
    prefix_lines: int = Field(description="number of whole lines in the prefix")
    prompt: str


def _line_break_before(code: str, offset: int) -> str:
    """The line break that ends at `offset` of `code` ('' at the start or mid-line)."""
    for brk in ("\r\n", "\n", "\r"):
        if code.endswith(brk, 0, offset):
            return brk
    return ""


def subtasks_for(
    record: dict,
    steps_rule: Callable[[int], int] = sqrt_steps,
    kinds: Iterable[str] = DEFAULT_KINDS,
) -> list[Subtask]:
    """The curriculum of one APPS+ record (a mapping with the record's fields)."""
    code = record["canonical_solution"]
    offsets = stage_offsets(code, steps_rule, kinds)
    out = []
    for stage, start in enumerate(offsets):
        # The prefix stops before the line break that ends its last line, so the completion
        # starts with that line break and the next line's indentation: tokenizers that merge
        # a newline with the indentation after it (byte-level BPE) then see the tokens they
        # were trained on, not a lone newline before indentation they never saw (measured on
        # the synthetic family: 0 of 260 subtasks starting at an indented line passed with
        # the newline in the prompt, 101 without it; scripts/cccs_boundary.py).
        end = start - len(_line_break_before(code, start))
        prefix = code[:end]
        out.append(
            Subtask(
                subtask_id=f"{record['problem_id']}#stage{stage}",
                record_id=record["problem_id"],
                split=record["split"],
                difficulty=record["difficulty"],
                stage=stage,
                n_stages=len(offsets),
                prefix=prefix,
                prefix_end=end,
                prefix_lines=len(_NEWLINE.findall(prefix)) + bool(prefix),
                prompt=build_prompt(
                    record["question"], record.get("starter_code") or "", record["kind"], prefix
                ),
            )
        )
    return out


class RecordProgress(StrictModel):
    stage: int = 0
    n_stages: int
    attempts: int = 0
    passes: int = 0

    @property
    def pass_rate(self) -> float:
        return self.passes / self.attempts if self.attempts else 0.0

    @property
    def finished(self) -> bool:
        return self.stage == self.n_stages - 1


class CurriculumState(StrictModel):
    """Per-record curriculum progress; JSON round-trips so training can resume."""

    rho: float = Field(
        0.8, ge=0.0, le=1.0, description="advance when the accumulated pass rate exceeds this"
    )
    min_attempts: int = Field(1, ge=1, description="attempts at a stage before it may advance")
    records: dict[str, RecordProgress] = Field(default_factory=dict)

    @classmethod
    def start(
        cls, n_stages: dict[str, int], rho: float = 0.8, min_attempts: int = 1
    ) -> CurriculumState:
        """Every record at its easiest stage."""
        return cls(
            rho=rho,
            min_attempts=min_attempts,
            records={r: RecordProgress(n_stages=n) for r, n in n_stages.items()},
        )

    def stage(self, record_id: str) -> int:
        return self.records[record_id].stage

    def record(self, record_id: str, passed: bool) -> None:
        """Count one attempt at the record's current stage."""
        progress = self.records[record_id]
        progress.attempts += 1
        progress.passes += int(passed)

    def advance(self) -> list[str]:
        """Move every record whose accumulated pass rate exceeds rho to its next stage.

        The counters restart at the new stage. Returns the ids that moved.
        """
        moved = []
        for record_id, p in self.records.items():
            if not p.finished and p.attempts >= self.min_attempts and p.pass_rate > self.rho:
                p.stage += 1
                p.attempts = p.passes = 0
                moved.append(record_id)
        return moved

    def mean_stage_fraction(self) -> float:
        """Mean of stage / (n_stages - 1) over records (1.0 = all at full generation)."""
        fr = [p.stage / (p.n_stages - 1) if p.n_stages > 1 else 1.0 for p in self.records.values()]
        return sum(fr) / len(fr) if fr else 0.0


class CurriculumManifest(StrictModel):
    """What `export_subtasks` wrote: counts and the hash of the dataset it came from."""

    source_dataset: str
    source_dataset_hash: str
    split: str
    n_records: int
    n_subtasks: int
    by_stage: dict[str, int]
    by_difficulty: dict[str, int]
    stage_count_histogram: dict[str, int] = Field(description="records by number of stages")
    conditional_statements_histogram: dict[str, int] = Field(description="records by E")
    files: dict[str, str] = Field(description="file name -> sha256")
    rule: str = "stages k = 0..ceil(sqrt(E)), start at p[max(E - k*ceil(E/ceil(sqrt(E))), 0)]"


CURRICULUM_MANIFEST = "curriculum_manifest.json"


def _same_export(path, source_hash: str, split: str, fmt: str) -> bool:
    """Whether `path` is the manifest of an export of the same dataset, split and format."""
    try:
        earlier = CurriculumManifest.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return False
    return (
        earlier.source_dataset_hash == source_hash
        and earlier.split == split
        and f"subtasks.{fmt}" in earlier.files
    )


def export_subtasks(
    records: Iterable[dict],
    out_dir: str,
    source_dataset: str,
    source_hash: str,
    split: str,
    fmt: str = "parquet",
    overwrite: bool = False,
) -> CurriculumManifest:
    """Write the subtasks of `records` to OUT/subtasks.{parquet,jsonl} plus OUT/curriculum_manifest.json.

    OUT must be new, empty or an earlier export of the same dataset, split and format;
    anything else raises `appsplus.outdir.OutputError` unless `overwrite`.
    """
    import hashlib
    import json
    import os
    from collections import Counter
    from pathlib import Path

    from appsplus.outdir import prepare_out

    if fmt not in ("parquet", "jsonl"):
        raise ValueError(f"format must be parquet or jsonl, got {fmt!r}")
    out = Path(out_dir)
    prepare_out(
        out,
        is_resume=lambda: _same_export(out / CURRICULUM_MANIFEST, source_hash, split, fmt),
        overwrite=overwrite,
        what="a `curriculum export` output",
    )
    rows: list[dict] = []
    stage_hist: Counter[str] = Counter()
    e_hist: Counter[str] = Counter()
    n_records = 0
    for record in records:
        subtasks = subtasks_for(record)
        n_records += 1
        stage_hist[str(len(subtasks))] += 1
        e_hist[str(len(start_points(record["canonical_solution"])))] += 1
        rows += [s.model_dump() for s in subtasks]
    rows.sort(key=lambda r: r["subtask_id"])
    path = out / f"subtasks.{fmt}"
    tmp = path.with_suffix(path.suffix + ".tmp")
    if fmt == "jsonl":
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        fields = list(Subtask.model_fields)
        table = pa.Table.from_pydict({k: [r[k] for r in rows] for k in fields})
        pq.write_table(table, tmp)
    os.replace(tmp, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = CurriculumManifest(
        source_dataset=source_dataset,
        source_dataset_hash=source_hash,
        split=split,
        n_records=n_records,
        n_subtasks=len(rows),
        by_stage=dict(
            sorted(Counter(str(r["stage"]) for r in rows).items(), key=lambda kv: int(kv[0]))
        ),
        by_difficulty=dict(sorted(Counter(r["difficulty"] for r in rows).items())),
        stage_count_histogram=dict(sorted(stage_hist.items(), key=lambda kv: int(kv[0]))),
        conditional_statements_histogram=dict(sorted(e_hist.items(), key=lambda kv: int(kv[0]))),
        files={path.name: digest},
    )
    mpath = out / CURRICULUM_MANIFEST
    mtmp = mpath.with_suffix(".json.tmp")
    mtmp.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(mtmp, mpath)
    return manifest
