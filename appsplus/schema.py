"""Pydantic models for the records that cross a file or CLI boundary: raw rows, problems, rejections.

Flow: a source yields `RawRow`s (faithful to the source) -> `normalize` turns each into a
`Problem` or a `Rejection` -> static filters and verification may reject a `Problem`.
Every row read ends up as exactly one kept record or one `Rejection`.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from appsplus.execution import CallTest, StdioTest

Split = Literal["train", "test"]
Difficulty = Literal["introductory", "interview", "competition"]
Stage = Literal["read", "normalize", "filter", "verify", "quality"]
RowFormat = Literal["apps_row", "apps_folder", "stepcoder", "taco", "codecontests", "livecodebench"]

SPLITS: tuple[str, ...] = ("train", "test")
DIFFICULTIES: tuple[str, ...] = ("introductory", "interview", "competition")


class RejectReason(str, Enum):
    """Why a row was dropped. Closed: every rejection carries exactly one of these."""

    # read: the reader could not produce a JSON object for the row
    MALFORMED_ROW = "malformed_row"  # not parseable JSON, or JSON that is not an object
    INVALID_ENCODING = "invalid_encoding"  # bytes that are not valid UTF-8
    # normalize: the row parsed but a field is unusable
    INVALID_FIELD = (
        "invalid_field"  # missing or wrong-typed field (id, split, difficulty, question, ...)
    )
    OVERSIZED_FIELD = "oversized_field"  # a text field above the size cap (default 50 MiB of UTF-8)
    MALFORMED_SOLUTIONS = "malformed_solutions"  # `solutions` is not JSON, or not a list of strings
    MALFORMED_INPUT_OUTPUT = "malformed_input_output"  # tests are not JSON / not the expected shape
    IO_LENGTH_MISMATCH = "io_length_mismatch"  # different numbers of inputs and outputs
    # filter: static checks on a typed Problem
    NO_TESTS = "no_tests"  # no test at all (absent, empty, or zero pairs)
    NO_SOLUTIONS = "no_solutions"  # no reference solution (absent or empty list)
    DUPLICATE_ID = "duplicate_id"  # a problem_id already seen earlier in the same build
    TOO_FEW_TESTS = "too_few_tests"  # fewer tests than --min-tests
    CONTAMINATED = "contaminated"  # statement or code overlaps a --decontaminate benchmark item
    # verify: decided by running the solutions under the executor
    NO_PASSING_SOLUTION = "no_passing_solution"  # no solution passes every test
    DISPUTED_EXPECTED_OUTPUT = "disputed_expected_output"  # solutions agree on another output
    # quality: decided over all kept problems at the end of the build
    DUPLICATE_PROBLEM = "duplicate_problem"  # same or near-same statement as a kept problem


class StrictModel(BaseModel):
    """Base of every model that crosses a file or CLI boundary: unknown fields rejected."""

    model_config = ConfigDict(extra="forbid")


class RawRow(StrictModel):
    """One row exactly as a source stored it; `raw` is None when the reader could not parse it."""

    source: str = Field(description="name of the source that yielded the row, e.g. 'sample'")
    format: RowFormat = Field(
        description="how `raw` is laid out, so normalize knows how to read it"
    )
    locator: str = Field(description="where the row lives in the source, e.g. 'train.jsonl:17'")
    ordinal: int = Field(ge=0, description="0-based position of the row in its file or folder")
    split: Split | None = Field(None, description="split implied by the file or folder, if any")
    raw: dict[str, Any] | None = Field(None, description="the source's fields, untransformed")
    raw_error: str | None = Field(None, description="why the reader could not produce `raw`")
    error_reason: RejectReason | None = Field(None, description="reason for the read failure")

    @model_validator(mode="after")
    def _one_of_raw_or_error(self) -> RawRow:
        if (self.raw is None) == (self.raw_error is None):
            raise ValueError("exactly one of raw and raw_error must be set")
        if self.raw is not None and self.error_reason is not None:
            raise ValueError("error_reason is only meaningful with raw_error")
        if self.raw_error is not None and self.error_reason is None:
            self.error_reason = RejectReason.MALFORMED_ROW
        return self


TestItem = Annotated[StdioTest | CallTest, Field(discriminator="kind")]


class Problem(StrictModel):
    """A typed problem: statement, tests and candidate solutions, not yet verified."""

    problem_id: str = Field(
        description="stable id including source and split, e.g. 'apps/train/0001'"
    )
    source_id: int | None = Field(
        description="the id in the source dataset (APPS problem_id), if any"
    )
    split: Split
    difficulty: Difficulty
    question: str
    starter_code: str = ""
    url: str = ""
    kind: Literal["stdio", "call"]
    fn_name: str | None = None
    tests: list[TestItem]
    solutions: list[str]
    provenance: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent_kind(self) -> Problem:
        if (self.kind == "call") != (self.fn_name is not None):
            raise ValueError("fn_name is required for call-based problems and only for them")
        for test in self.tests:
            if test.kind != self.kind:
                raise ValueError(f"a {test.kind} test in a {self.kind} problem")
            if isinstance(test, CallTest) and test.fn_name != self.fn_name:
                raise ValueError(f"test calls {test.fn_name!r}, problem declares {self.fn_name!r}")
        return self


class Rejection(StrictModel):
    """A dropped row: where it came from, the closed-enum reason, a human-readable detail."""

    problem_id: str | None = Field(description="the problem id when it could be determined")
    locator: str
    source: str
    reason: RejectReason
    detail: str
    stage: Stage
