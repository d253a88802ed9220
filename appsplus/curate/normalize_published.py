"""TACO, CodeContests and LiveCodeBench rows -> typed `Problem`s (called by `normalize`).

Ids are qualified by source: 'taco/SPLIT/NNNNN' and 'codecontests/SPLIT/NNNNN' (0-based
position in the split: neither dataset has an id column; `source_id` is that position),
'livecodebench/train/QUESTION_ID'. Difficulty maps onto the three APPS levels; the
dataset's own value is kept in provenance (`source_difficulty`), with tags, limits and
the rest of the metadata:

- TACO: EASY -> introductory, MEDIUM and MEDIUM_HARD -> interview, HARD and VERY_HARD ->
  competition, UNKNOWN_DIFFICULTY (or none) -> interview. Tags are Python list text, read
  with `ast.literal_eval` (never `eval`); a value that is not a list of strings is kept as
  text under `*_unparsed`.
- CodeContests: Codeforces problems with a rating: < 1200 introductory, < 2000 interview,
  else competition; otherwise the difficulty enum (1 EASY -> introductory, 2 MEDIUM ->
  interview, 3..6 -> competition, 0 UNKNOWN and the letter levels A.. -> interview).
  Only PYTHON3 (language 3) solutions are solutions; Python 2 and other languages are
  counted in provenance (`other_language_solutions`), incorrect_solutions are never read.
  Tests: public, then private, then generated (what the reader kept); the groups left
  out by `tests=` go to provenance `extra_tests` (typed tests, for the quality step;
  `make_record` keeps only their number).
- LiveCodeBench: easy/medium/hard -> introductory/interview/competition; tests: public
  then private (decoded without unpickling); functional problems call `func_name`.
"""

from __future__ import annotations

import ast
from datetime import datetime
from typing import Any

from appsplus.curate.normalize import (
    _apps_tests,
    _build,
    _check_sizes,
    _dedupe,
    _Reject,
    _solutions,
    _split,
    _text_field,
)
from appsplus.errors import shorten
from appsplus.execution import CallTest, StdioTest
from appsplus.schema import Difficulty, Problem, RawRow, RejectReason

TACO_DIFFICULTY: dict[str, Difficulty] = {
    "EASY": "introductory",
    "MEDIUM": "interview",
    "MEDIUM_HARD": "interview",
    "HARD": "competition",
    "VERY_HARD": "competition",
    "UNKNOWN_DIFFICULTY": "interview",
}
TACO_METADATA = (
    "name",
    "source",
    "date",
    "time_limit",
    "memory_limit",
    "picture_num",
    "Expected Time Complexity",
    "Expected Auxiliary Space",
)
TACO_LISTS = ("tags", "raw_tags", "skill_types")
CC_SOURCES = ("unknown", "codechef", "codeforces", "hackerearth", "codejam", "atcoder", "aizu")
CC_LANGUAGES = ("unknown", "python2", "cpp", "python3", "java")
CC_PYTHON3 = 3
CC_TEST_GROUPS = ("public_tests", "private_tests", "generated_tests")
LCB_DIFFICULTY: dict[str, Difficulty] = {
    "easy": "introductory",
    "medium": "interview",
    "hard": "competition",
}


def _base(row: RawRow, prefix: str, source_id: int | str, context: dict) -> tuple[str, dict]:
    raw = row.raw or {}
    split = _split(row, None)
    width = f"{source_id:05d}" if isinstance(source_id, int) else source_id
    context["problem_id"] = f"{prefix}/{split}/{width}"
    provenance: dict[str, Any] = {
        "source": row.source,
        "locator": row.locator,
        "format": row.format,
    }
    if raw.get("_source_split"):
        provenance["source_split"] = raw["_source_split"]
    return split, provenance


def _literal_list(value: Any) -> list[str] | None:
    """TACO's Python list text -> a list of strings, or None if it is not one."""
    if isinstance(value, list):
        return value if all(isinstance(v, str) for v in value) else None
    if not isinstance(value, str):
        return None
    try:
        parsed = ast.literal_eval(value.strip() or "[]")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(parsed, list | tuple) and all(isinstance(v, str) for v in parsed):
        return list(parsed)
    return None


def from_taco(row: RawRow, context: dict, max_bytes: int) -> Problem:
    raw = row.raw or {}
    split, provenance = _base(row, "taco", row.ordinal, context)
    _check_sizes(raw, max_bytes)
    level = raw.get("difficulty") or "UNKNOWN_DIFFICULTY"
    if level not in TACO_DIFFICULTY:
        raise _Reject(
            RejectReason.INVALID_FIELD,
            f"difficulty must be one of {', '.join(TACO_DIFFICULTY)}, got {shorten(repr(level))}",
        )
    provenance["source_difficulty"] = level
    for key in TACO_LISTS:
        if raw.get(key) not in (None, ""):
            parsed = _literal_list(raw[key])
            if parsed is None:
                provenance[f"{key}_unparsed"] = shorten(str(raw[key]), 200)
            else:
                provenance[key] = parsed
    for key in TACO_METADATA:
        if raw.get(key) not in (None, ""):
            provenance["origin" if key == "source" else key] = raw[key]
    question = _text_field(raw, "question", required=True)
    url = _text_field(raw, "url", required=False)
    starter_code = _text_field(raw, "starter_code", required=False)
    solutions = _solutions(raw.get("solutions"))
    fn_name, tests, notes = _apps_tests(raw.get("input_output"))
    tests, provenance["duplicate_tests_removed"] = _dedupe(tests)
    provenance.update(notes)
    return _build(
        {
            "problem_id": context["problem_id"],
            "source_id": row.ordinal,
            "split": split,
            "difficulty": TACO_DIFFICULTY[level],
            "question": question,
            "starter_code": starter_code,
            "url": url,
            "kind": "stdio" if fn_name is None else "call",
            "fn_name": fn_name,
            "tests": tests,
            "solutions": solutions,
            "provenance": provenance,
        }
    )


def _int(raw: dict, key: str, default: int | None = None) -> int | None:
    value = raw.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Reject(
            RejectReason.INVALID_FIELD, f"{key} must be an integer, got {shorten(repr(value))}"
        )
    return value


def _cc_difficulty(source: int, level: int, rating: int | None) -> Difficulty:
    if CC_SOURCES[source] == "codeforces" and rating:
        return "introductory" if rating < 1200 else "interview" if rating < 2000 else "competition"
    if level == 1:
        return "introductory"
    if 3 <= level <= 6:
        return "competition"
    return "interview"


def _cc_tests(raw: dict, counts: dict[str, int]) -> list[StdioTest]:
    tests: list[StdioTest] = []
    for group in CC_TEST_GROUPS:
        value = raw.get(group)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _Reject(RejectReason.MALFORMED_INPUT_OUTPUT, f"{group} is not an object")
        inputs, outputs = value.get("input") or [], value.get("output") or []
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            raise _Reject(
                RejectReason.MALFORMED_INPUT_OUTPUT, f"{group} needs lists input and output"
            )
        if len(inputs) != len(outputs):
            raise _Reject(
                RejectReason.IO_LENGTH_MISMATCH,
                f"{group}: {len(inputs)} inputs but {len(outputs)} outputs",
            )
        for i, o in zip(inputs, outputs, strict=True):
            if not isinstance(i, str) or not isinstance(o, str):
                raise _Reject(RejectReason.MALFORMED_INPUT_OUTPUT, f"{group}: a test is not text")
            tests.append(StdioTest(input=i.replace("\r\n", "\n"), output=o.replace("\r\n", "\n")))
        counts[group.removesuffix("_tests")] = len(inputs)
    return tests


def _cc_solutions(raw: dict, provenance: dict) -> list[str]:
    value = raw.get("solutions")
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _Reject(RejectReason.MALFORMED_SOLUTIONS, "solutions is not an object")
    languages, programs = value.get("language") or [], value.get("solution") or []
    if not isinstance(languages, list) or not isinstance(programs, list):
        raise _Reject(
            RejectReason.MALFORMED_SOLUTIONS, "solutions needs lists language and solution"
        )
    if len(languages) != len(programs):
        raise _Reject(
            RejectReason.MALFORMED_SOLUTIONS,
            f"{len(languages)} solution languages but {len(programs)} solutions",
        )
    kept, other = [], {}
    for language, program in zip(languages, programs, strict=True):
        if (
            not isinstance(program, str)
            or isinstance(language, bool)
            or not isinstance(language, int)
        ):
            raise _Reject(
                RejectReason.MALFORMED_SOLUTIONS, "a solution is not (int language, text)"
            )
        if language == CC_PYTHON3:
            kept.append(program)
        else:
            name = CC_LANGUAGES[language] if 0 <= language < len(CC_LANGUAGES) else str(language)
            other[name] = other.get(name, 0) + 1
    if other:
        provenance["other_language_solutions"] = dict(sorted(other.items()))
    return kept


def from_codecontests(row: RawRow, context: dict, max_bytes: int) -> Problem:
    raw = row.raw or {}
    split, provenance = _base(row, "codecontests", row.ordinal, context)
    _check_sizes(raw, max_bytes)
    source = _int(raw, "source", 0)
    level = _int(raw, "difficulty", 0)
    rating = _int(raw, "cf_rating")
    assert source is not None and level is not None
    if not 0 <= source < len(CC_SOURCES):
        raise _Reject(RejectReason.INVALID_FIELD, f"source {source} is not a CodeContests source")
    provenance.update(origin=CC_SOURCES[source], source_difficulty=level)
    name = _text_field(raw, "name", required=False)
    if name:
        provenance["name"] = name
    if rating:
        provenance["cf_rating"] = rating
    if isinstance(raw.get("cf_tags"), list) and raw["cf_tags"]:
        provenance["tags"] = [t for t in raw["cf_tags"] if isinstance(t, str)]
    limit = raw.get("time_limit")
    if isinstance(limit, dict):
        provenance["time_limit_s"] = (limit.get("seconds") or 0) + (limit.get("nanos") or 0) / 1e9
    elif limit is not None:
        raise _Reject(RejectReason.INVALID_FIELD, "time_limit is not {seconds, nanos} or null")
    memory = _int(raw, "memory_limit_bytes")
    if memory:
        provenance["memory_limit_bytes"] = memory
    question = _text_field(raw, "description", required=True)
    url = ""
    contest, index = raw.get("cf_contest_id"), raw.get("cf_index")
    if CC_SOURCES[source] == "codeforces" and isinstance(contest, int) and contest > 0 and index:
        url = f"https://codeforces.com/problemset/problem/{contest}/{index}"
    counts: dict[str, int] = {}
    tests = _cc_tests(raw, counts)
    provenance["tests_by_group"] = counts
    extra = raw.get("_extra_tests")
    if isinstance(extra, dict) and extra:  # groups not scored (tests=): known tests only
        extra_counts: dict[str, int] = {}
        provenance["extra_tests"] = _cc_tests(extra, extra_counts)
        provenance["extra_tests_by_group"] = extra_counts
    tests, provenance["duplicate_tests_removed"] = _dedupe(tests)
    solutions = _cc_solutions(raw, provenance)
    return _build(
        {
            "problem_id": context["problem_id"],
            "source_id": row.ordinal,
            "split": split,
            "difficulty": _cc_difficulty(source, level, rating),
            "question": question,
            "starter_code": "",
            "url": url,
            "kind": "stdio",
            "fn_name": None,
            "tests": tests,
            "solutions": solutions,
            "provenance": provenance,
        }
    )


def from_livecodebench(row: RawRow, context: dict, max_bytes: int) -> Problem:
    import json

    from appsplus.bench.suites.lcb_tests import LcbTestsError, decode_tests

    raw = row.raw or {}
    qid = raw.get("question_id")
    if not isinstance(qid, str | int) or isinstance(qid, bool) or not str(qid).strip():
        raise _Reject(RejectReason.INVALID_FIELD, f"question_id is {shorten(repr(qid))}")
    qid = str(qid)
    if "/" in qid or not qid.isprintable():
        raise _Reject(RejectReason.INVALID_FIELD, f"question_id {shorten(repr(qid))} is not an id")
    split, provenance = _base(row, "livecodebench", qid, context)
    _check_sizes(raw, max_bytes)
    level = str(raw.get("difficulty") or "").lower()
    if level not in LCB_DIFFICULTY:
        raise _Reject(
            RejectReason.INVALID_FIELD, f"difficulty {shorten(repr(raw.get('difficulty')))}"
        )
    try:
        date = datetime.fromisoformat(str(raw.get("contest_date")))
    except ValueError:
        raise _Reject(
            RejectReason.INVALID_FIELD,
            f"contest_date {shorten(repr(raw.get('contest_date')))} is not an ISO date",
        ) from None
    provenance.update(source_difficulty=level, contest_date=date.isoformat())
    for key in ("platform", "contest_id", "question_title"):
        if raw.get(key) not in (None, ""):
            provenance["origin" if key == "platform" else key] = raw[key]
    question = _text_field(raw, "question_content", required=True)
    starter_code = _text_field(raw, "starter_code", required=False)
    try:
        metadata = json.loads(raw.get("metadata") or "{}")
        cases = decode_tests(raw.get("public_test_cases") or "[]")
        cases += decode_tests(raw.get("private_test_cases") or "[]")
    except (ValueError, LcbTestsError) as e:
        raise _Reject(RejectReason.MALFORMED_INPUT_OUTPUT, shorten(str(e), 300)) from None
    fn_name = metadata.get("func_name") if isinstance(metadata, dict) else None
    kinds = {c.get("testtype") if isinstance(c, dict) else None for c in cases}
    if kinds - {"stdin", "functional"}:
        raise _Reject(RejectReason.MALFORMED_INPUT_OUTPUT, f"test types {sorted(map(str, kinds))}")
    if len(kinds) > 1:
        raise _Reject(RejectReason.MALFORMED_INPUT_OUTPUT, "mixes stdin and functional tests")
    tests: list[Any] = []
    functional = kinds == {"functional"}
    if functional and not (isinstance(fn_name, str) and fn_name.isidentifier()):
        raise _Reject(RejectReason.MALFORMED_INPUT_OUTPUT, "functional tests but no func_name")
    for case in cases:
        if not isinstance(case.get("input"), str) or not isinstance(case.get("output"), str):
            raise _Reject(
                RejectReason.MALFORMED_INPUT_OUTPUT, "a test's input or output is not text"
            )
        if not functional:
            tests.append(StdioTest(input=case["input"], output=case["output"]))
            continue
        try:
            args = [json.loads(line) for line in case["input"].split("\n")]
            expected = json.loads(case["output"])
        except ValueError as e:
            raise _Reject(
                RejectReason.MALFORMED_INPUT_OUTPUT, f"functional test is not JSON: {e}"
            ) from None
        tests.append(CallTest(fn_name=fn_name, args=args, expected=expected))
    tests, provenance["duplicate_tests_removed"] = _dedupe(tests)
    return _build(
        {
            "problem_id": context["problem_id"],
            "source_id": None,
            "split": split,
            "difficulty": LCB_DIFFICULTY[level],
            "question": question,
            "starter_code": starter_code,
            "url": "",
            "kind": "call" if functional else "stdio",
            "fn_name": fn_name if functional else None,
            "tests": tests,
            "solutions": [],
            "provenance": provenance,
        }
    )


FROM_FORMAT = {
    "taco": from_taco,
    "codecontests": from_codecontests,
    "livecodebench": from_livecodebench,
}
