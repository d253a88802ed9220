"""`Record`: one APPS+ row (a verified problem), and its flat storage form for parquet/jsonl.

In memory a Record has typed tests, spans and provenance. On disk (`to_row` /
`from_row`) `tests` and `provenance` are JSON strings, so Arrow sees a flat schema that
`datasets` loads without type inference surprises (test values are arbitrary JSON);
spans are a list of structs; every other field is a scalar or a list of scalars.

Measured values (`reference_runtimes_s`, `time_limit_s`) are not part of the stored row:
they differ from build to build, so the build writes them to a separate runtimes file
(`Runtimes` rows) and `appsplus.load` joins them back in; the dataset files stay
byte-identical across builds.

`content_hash` is the sha256 of the canonical JSON (`canonical_json`) of the fields in
`CONTENT_FIELDS`: what the problem *is* (statement, tests, solutions). It leaves out
provenance (where it came from) and the measured runtimes, so the same problem built from
another copy of the source, or timed on another machine, keeps its hash.
"""

from __future__ import annotations

import decimal
import hashlib
import json
import re
from typing import Any, Literal

from pydantic import Field, model_validator

from appsplus.curriculum.spans import Span
from appsplus.quality.models import Quality
from appsplus.schema import Difficulty, Split, StrictModel, TestItem

CONTENT_FIELDS: tuple[str, ...] = (
    "problem_id",
    "source_id",
    "split",
    "difficulty",
    "question",
    "starter_code",
    "url",
    "kind",
    "fn_name",
    "tests",
    "canonical_solution",
    "solutions",
)
JSON_COLUMNS: tuple[str, ...] = ("tests", "provenance", "quality")
MEASURED_FIELDS: tuple[str, ...] = ("reference_runtimes_s", "time_limit_s")
_BIG_INT_BITS = 4000  # ints this long may exceed int->str's default 4300-digit limit


def _swap_big_ints(value: Any, found: dict[str, str]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > _BIG_INT_BITS:
        token = f"\x00appsplus-int-{len(found)}\x00"
        found[token] = str(decimal.Decimal(value))  # not subject to the digit limit
        return token
    if isinstance(value, list):
        return [_swap_big_ints(v, found) for v in value]
    if isinstance(value, dict):
        return {k: _swap_big_ints(v, found) for k, v in value.items()}
    return value


def dumps_json(value: Any, **kwargs: Any) -> str:
    """json.dumps that also writes integers above Python's int->str digit limit."""
    try:
        return json.dumps(value, **kwargs)
    except ValueError as e:
        if "integer string conversion" not in str(e):
            raise
    found: dict[str, str] = {}
    text = json.dumps(_swap_big_ints(value, found), **kwargs)
    for token, digits in found.items():
        text = text.replace(
            json.dumps(token, ensure_ascii=kwargs.get("ensure_ascii", True)), digits
        )
    return text


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the text that content hashes are taken over."""
    return dumps_json(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Correction(StrictModel):
    """An expected output replaced by the consensus of the solutions (`--repair-outputs`)."""

    test_index: int = Field(ge=0)
    reason: Literal["disputed_expected_output"] = "disputed_expected_output"
    stored: Any = Field(description="the expected output as the source stored it")
    replaced_with: Any = Field(description="the output every agreeing solution produced")
    agreeing_solutions: list[int] = Field(description="source indices of the agreeing solutions")


class Provenance(StrictModel):
    """Where a record came from and every decision the build took about it."""

    source: str = Field(description="source name, e.g. 'sample' or 'hf:codeparrot/apps'")
    revision: str = Field(description="hub revision or sha256 of the input files")
    locator: str = Field(description="where the row lives in the source, e.g. 'train.jsonl:17'")
    format: str
    call_outputs: Literal["unwrapped", "wrapped", "bare"] | None = Field(
        None,
        description="call-based only: how the APPS one-element-list quirk was resolved "
        "('unwrapped': outputs were [value]; 'wrapped': the list is the value; 'bare': never wrapped)",
    )
    corrections: list[Correction] = Field(default_factory=list)
    duplicate_tests_removed: int = 0
    n_source_solutions: int = Field(0, description="solutions in the source row")
    notes: dict[str, Any] = Field(default_factory=dict, description="other notes of normalize")


class Record(StrictModel):
    """An APPS+ problem whose canonical solution passes every test under the executor."""

    problem_id: str
    source_id: int | None
    split: Split
    difficulty: Difficulty
    question: str
    starter_code: str = ""
    url: str = ""
    kind: Literal["stdio", "call"]
    fn_name: str | None = None
    tests: list[TestItem] = Field(min_length=1)
    canonical_solution: str
    canonical_index: int = Field(ge=0, description="index of the canonical in the source's list")
    solutions: list[str] = Field(min_length=1, description="every passing solution, source order")
    solution_indices: list[int] = Field(description="source index of each of `solutions`")
    spans: list[Span] = Field(description="conditional-statement spans of the canonical solution")
    provenance: Provenance
    content_hash: str = Field(description="sha256 of the canonical JSON of CONTENT_FIELDS")
    quality: Quality | None = Field(
        None, description="what the quality steps measured (None: built without them)"
    )
    reference_runtimes_s: list[float] | None = Field(
        None, description="measured: the canonical's wall time per test (from runtimes.parquet)"
    )
    time_limit_s: float | None = Field(
        None, gt=0, description="measured: per-test limit derived from the runtimes"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Record:
        if (self.kind == "call") != (self.fn_name is not None):
            raise ValueError("fn_name is required for call-based records and only for them")
        for i, test in enumerate(self.tests):
            if test.kind != self.kind:
                raise ValueError(f"test {i} is {test.kind} in a {self.kind} record")
            if test.kind == "call" and (test.fn_name != self.fn_name or test.apps_list_quirk):
                raise ValueError(f"test {i}: wrong fn_name or an unresolved apps_list_quirk")
        if len(self.solutions) != len(self.solution_indices):
            raise ValueError("solutions and solution_indices differ in length")
        if self.canonical_index not in self.solution_indices:
            raise ValueError("canonical_index is not among solution_indices")
        if self.solutions[self.solution_indices.index(self.canonical_index)] != (
            self.canonical_solution
        ):
            raise ValueError("canonical_solution differs from its entry in solutions")
        runtimes = self.reference_runtimes_s
        if runtimes is not None and len(runtimes) != len(self.tests):
            raise ValueError("reference_runtimes_s needs one runtime per test")
        if self.content_hash != compute_content_hash(self):
            raise ValueError("content_hash does not match the record's content")
        return self

    def to_row(self) -> dict[str, Any]:
        """The flat storage form: tests and provenance as JSON strings, no measurements."""
        row = self.model_dump(mode="python", exclude=set(MEASURED_FIELDS))
        row["tests"] = dumps_json(row["tests"], ensure_ascii=False)
        row["provenance"] = dumps_json(row["provenance"], ensure_ascii=False, sort_keys=True)
        if row["quality"] is not None:
            row["quality"] = dumps_json(row["quality"], ensure_ascii=False, sort_keys=True)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Record:
        """Parse a stored row (JSON-string columns, or already-decoded values); raises ValidationError."""
        from appsplus.sources import loads_json

        data = dict(row)
        for column in JSON_COLUMNS:
            if isinstance(data.get(column), str):
                try:
                    data[column] = loads_json(data[column])
                except ValueError as e:
                    raise ValueError(f"{column} is not valid JSON: {e}") from None
        return cls.model_validate(data)


class Runtimes(StrictModel):
    """Measured runtimes of a record (one row of runtimes.parquet): differ from build to build."""

    problem_id: str
    content_hash: str
    reference_runtimes_s: list[float] = Field(description="the canonical's wall time per test")
    time_limit_s: float = Field(gt=0, description="per-test limit derived from the runtimes")
    near_limit_tests: list[int] = Field(
        default_factory=list,
        description="tests whose reference runtime is at least half the verification limit",
    )


def content_of(fields: dict[str, Any]) -> dict[str, Any]:
    """The CONTENT_FIELDS of a record-like mapping, tests as plain JSON values."""
    content = {name: fields[name] for name in CONTENT_FIELDS}
    content["tests"] = [t if isinstance(t, dict) else t.model_dump() for t in content["tests"]]
    return content


def compute_content_hash(record: Record | dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of the record's CONTENT_FIELDS."""
    fields = (
        {name: getattr(record, name) for name in CONTENT_FIELDS}
        if isinstance(record, Record)
        else record
    )
    return sha256_text(canonical_json(content_of(fields)))


def natural_key(problem_id: str) -> str:
    """Sort key: 'apps/train/10' after 'apps/train/9' (digit runs zero-padded)."""
    return re.sub(r"\d+", lambda m: m.group().zfill(20), problem_id)
