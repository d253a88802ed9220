"""Decontamination: n-gram overlap of statements and code with benchmark files given at build time.

    index = load_benchmarks(["HumanEval.jsonl.gz", "mbpp.jsonl"], n=8)
    check = decontamination_filter(index, threshold=0.5)      # a `filters.Filter`

Benchmark files: `.jsonl` / `.jsonl.gz` / `.json` (a list or one object per line) with a
statement in `prompt` (HumanEval), `text` (MBPP), `question`, `statement` or
`description`, optional code in `canonical_solution` or `code`, and an id in `task_id`,
`id` or `problem_id` (else the line number; prefixed by `split` when there is one); or plain `.txt`, one statement per non-empty
line. Or a bench suite by name (`SUITES`): `humaneval`, `humaneval+`, `mbpp`, `mbpp+`,
`livecodebench[:SINCE]` (its problems dated SINCE or later, YYYY-MM-DD), each with its
data from `NAME=PATH` or, without it, from `$APPSPLUS_DATA_DIR/<SUITES[name]>` (the layout
of the project's shared data folder); a suite whose data is absent is a one-line
BenchmarkError naming both. Suites read the same files the bench suites read, through
their readers (`appsplus.bench.suites.humaneval.read_jsonl`, the evalplus suite's
`_problem_rows`, which refuses a file that is not HumanEval+ / MBPP+, the livecodebench
suite's `dataset_files`/`_read_rows`/`contest_datetime`): every row of the file (MBPP: all
974 tasks, not only the suite's test split), the statement from `prompt` (HumanEval,
HumanEval+, MBPP+), `text` (MBPP) or `question_content` (LiveCodeBench), the code from
`canonical_solution` / `code`. A `livecodebench:SINCE` window that selects no problem is
a BenchmarkError naming the window and the dates the files have. A problem is `contaminated` when the share of some benchmark item's word n-grams
found in the problem's statement reaches the threshold, or the share of its code n-grams
found in one of the problem's solutions does; the detail names the benchmark id and share.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from appsplus.errors import AppsplusError
from appsplus.quality.text import code_tokens, ngrams, words
from appsplus.schema import Problem, RejectReason

TEXT_FIELDS = ("prompt", "text", "question", "statement", "description", "question_content")
CODE_FIELDS = ("canonical_solution", "code", "solution")
ID_FIELDS = ("task_id", "id", "problem_id", "question_id")
DATA_ENV = "APPSPLUS_DATA_DIR"
# suite name -> its data under $APPSPLUS_DATA_DIR, and where the file comes from
SUITES: dict[str, tuple[str, str]] = {
    "humaneval": ("humaneval/HumanEval.jsonl.gz", "github.com/openai/human-eval"),
    "humaneval+": ("evalplus/HumanEvalPlus.jsonl.gz", "github.com/evalplus/humanevalplus_release"),
    "mbpp": ("mbpp/mbpp.jsonl", "github.com/google-research/google-research, mbpp/"),
    "mbpp+": ("evalplus/MbppPlus.jsonl.gz", "github.com/evalplus/mbppplus_release"),
    "livecodebench": (
        "livecodebench",
        "the release files of huggingface.co/datasets/livecodebench/code_generation_lite",
    ),
}


class BenchmarkError(AppsplusError, ValueError):
    """A benchmark file cannot be read; the message names the file and why."""


class BenchmarkItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    benchmark: str
    item_id: str
    text_ngrams: int
    code_ngrams: int


class BenchmarkIndex(BaseModel):
    """Inverted index n-gram hash -> items holding it, for statements and for code."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    n: int
    items: list[BenchmarkItem] = Field(default_factory=list)
    text: dict[int, list[int]] = Field(default_factory=dict)
    code: dict[int, list[int]] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict, description="name -> sha256")


def _rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as e:
        raise BenchmarkError(f"{path}: cannot read ({e})") from None
    name = path.name.removesuffix(".gz")
    if name.endswith(".txt"):
        lines = [line.strip() for line in text.splitlines()]
        return [(str(n), {"text": line}) for n, line in enumerate(lines, 1) if line]
    try:
        if name.endswith(".json") and text.lstrip().startswith("["):
            parsed = json.loads(text)
            rows = [(str(n), row) for n, row in enumerate(parsed, 1)]
        else:
            rows = [
                (str(n), json.loads(line))
                for n, line in enumerate(text.splitlines(), 1)
                if line.strip()
            ]
    except json.JSONDecodeError as e:
        raise BenchmarkError(f"{path}: not JSON lines ({e})") from None
    if not all(isinstance(row, dict) for _, row in rows):
        raise BenchmarkError(f"{path}: every row must be a JSON object")
    return rows


def parse_suite(spec: str) -> tuple[str, str | None, Path | None] | None:
    """'NAME[:SINCE][=PATH]' -> (suite, since, path or None), or None when `spec` names no
    suite (then it is a benchmark file's path). Raises BenchmarkError for a bad SINCE."""
    head, eq, path = spec.partition("=")
    name, colon, since = head.partition(":")
    if name not in SUITES:
        return None
    if colon and name != "livecodebench":
        raise BenchmarkError(f"--decontaminate {spec}: only livecodebench takes :SINCE")
    if colon:
        from datetime import datetime

        try:
            datetime.strptime(since, "%Y-%m-%d")
        except ValueError:
            raise BenchmarkError(
                f"--decontaminate {spec}: SINCE must be a date YYYY-MM-DD, got {since!r}"
            ) from None
    if eq and not path.strip():
        raise BenchmarkError(f"--decontaminate {spec}: needs a path after '='")
    return name, since or None, Path(path).expanduser() if eq else None


def benchmark_path(spec: str) -> Path:
    """Where a --decontaminate spec's data is; BenchmarkError (one line) if it is absent."""
    import os

    suite = parse_suite(spec)
    if suite is None:
        path = Path(spec)
        if not path.is_file():
            raise BenchmarkError(f"{path}: no such benchmark file")
        return path
    name, _, path = suite
    where, origin = SUITES[name]
    if path is None:
        root = os.environ.get(DATA_ENV)
        if not root:
            raise BenchmarkError(
                f"--decontaminate {spec}: no data for the {name} suite: give {name}=PATH "
                f"({origin}) or set {DATA_ENV} to a folder holding {where}"
            )
        path = Path(root).expanduser() / where
    if not path.exists():
        raise BenchmarkError(
            f"--decontaminate {spec}: {path} does not exist (the {name} suite's data: "
            f"{origin}); give {name}=PATH"
        )
    return path


def _suite_rows(spec: str, path: Path) -> tuple[str, list[tuple[str, dict[str, Any]]], str]:
    """(benchmark name, rows, sha256 hex of its files) of a suite, read as the suite reads."""
    from appsplus.bench.suites import SuiteError, sha256_files

    name, since, _ = parse_suite(spec) or ("", None, None)
    try:
        if name == "livecodebench":
            from appsplus.bench.suites.livecodebench import (
                _read_rows,
                contest_datetime,
                dataset_files,
                parse_day,
            )

            files = dataset_files(str(path))
            start = parse_day(since, "SINCE")
            every = [(str(n), row) for file in files for n, row in enumerate(_read_rows(file), 1)]
            rows = [r for r in every if start is None or contest_datetime(r[1]) >= start]
            if every and not rows:
                from appsplus.sources.livecodebench import date_range

                found = date_range(row for _, row in every)
                dates = f"dated {found[0]} to {found[1]}" if found else "undated"
                raise BenchmarkError(
                    f"--decontaminate {spec}: the window since {since} selected no problem: "
                    f"the {len(every)} problems of {path} are {dates}"
                )
        elif name in ("humaneval+", "mbpp+"):  # the evalplus suite's reader and its checks
            from appsplus.bench.suites.evalplus import SUITES as KINDS
            from appsplus.bench.suites.evalplus import _problem_rows

            if not path.is_file():
                raise BenchmarkError(f"--decontaminate {spec}: {path} is not a file")
            files = [path]
            rows = [(str(n), row) for n, row in enumerate(_problem_rows(KINDS[name], path), 1)]
        else:
            from appsplus.bench.suites.humaneval import read_jsonl

            if not path.is_file():
                raise BenchmarkError(f"--decontaminate {spec}: {path} is not a file")
            files = [path]
            rows = [(str(n), row) for n, row in enumerate(read_jsonl(path), 1)]
    except SuiteError as e:
        raise BenchmarkError(f"--decontaminate {spec}: {e}") from None
    bench = f"{name}:{since}" if since else name
    return bench, rows, sha256_files(files).removeprefix("sha256:")


def load_benchmarks(paths: list[str], n: int = 8) -> BenchmarkIndex:
    """Read and index benchmark files or suites (see the module docstring); raises
    BenchmarkError on a missing or unreadable one."""
    index = BenchmarkIndex(n=n)
    for spec in paths:
        path = benchmark_path(spec)
        if parse_suite(spec) is not None:
            bench, rows, digest = _suite_rows(spec, path)
            key = bench
        else:
            bench = path.name.split(".", 1)[0]
            rows = _rows(path)
            digest = ""
            key = path.name
        found = 0
        for line, row in rows:
            text = next((row[f] for f in TEXT_FIELDS if isinstance(row.get(f), str)), "")
            code = next((row[f] for f in CODE_FIELDS if isinstance(row.get(f), str)), "")
            if not text and not code:
                continue
            found += 1
            item_id = next((str(row[f]) for f in ID_FIELDS if row.get(f) is not None), line)
            if isinstance(row.get("split"), str):  # APPS rows: ids repeat across splits
                item_id = f"{row['split']}/{item_id}"
            grams_t = ngrams(words(text), n) if text else set()
            grams_c = ngrams(code_tokens(code), n) if code else set()
            k = len(index.items)
            index.items.append(
                BenchmarkItem(
                    benchmark=bench,
                    item_id=item_id,
                    text_ngrams=len(grams_t),
                    code_ngrams=len(grams_c),
                )
            )
            for g in grams_t:
                index.text.setdefault(g, []).append(k)
            for g in grams_c:
                index.code.setdefault(g, []).append(k)
        if not found:
            raise BenchmarkError(
                f"{path}: no row has a statement ({', '.join(TEXT_FIELDS)}) or code "
                f"({', '.join(CODE_FIELDS)})"
            )
        index.files[key] = digest or hashlib.sha256(path.read_bytes()).hexdigest()
    return index


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    benchmark: str
    item_id: str
    field: str
    overlap: float
    shared: int


def best_matches(index: BenchmarkIndex, problem: Problem) -> dict[str, Match]:
    """Per field ('statement', 'code'): the item sharing the largest share of its n-grams."""
    best: dict[str, Match] = {}
    probes = [("statement", index.text, ngrams(words(problem.question), index.n))]
    code: set[int] = set()
    for solution in problem.solutions:
        code |= ngrams(code_tokens(solution), index.n)
    probes.append(("code", index.code, code))
    for field, table, grams in probes:
        hits: Counter[int] = Counter()
        for g in grams:
            for k in table.get(g, ()):
                hits[k] += 1
        for k, shared in sorted(hits.items()):
            item = index.items[k]
            total = item.text_ngrams if field == "statement" else item.code_ngrams
            overlap = shared / total if total else 0.0
            if field not in best or overlap > best[field].overlap:
                best[field] = Match(
                    benchmark=item.benchmark,
                    item_id=item.item_id,
                    field=field,
                    overlap=round(overlap, 4),
                    shared=shared,
                )
    return best


class DecontaminationFilter:
    """A `filters.Filter` rejecting `contaminated` problems; counts every shared n-gram too."""

    def __init__(self, index: BenchmarkIndex, threshold: float) -> None:
        self.index, self.threshold = index, threshold
        # problems sharing at least one n-gram (open-r1's stricter rule), per field
        self.any_shared: Counter[str] = Counter()
        self.by_benchmark: Counter[str] = Counter()

    def __call__(self, problem: Problem) -> tuple[RejectReason, str] | None:
        found = best_matches(self.index, problem)
        self.any_shared.update(found.keys())
        if not found:
            return None
        match = max(found.values(), key=lambda m: m.overlap)
        if match.overlap < self.threshold:
            return None
        self.by_benchmark[match.benchmark] += 1
        return RejectReason.CONTAMINATED, (
            f"{match.field} shares {match.shared} {self.index.n}-grams with {match.benchmark} "
            f"{match.item_id} ({match.overlap:.0%} of that item's {match.field} {self.index.n}-grams)"
        )
