"""Raw row -> typed `Problem`, or a `Rejection` with a reason. `normalize` never raises.

Decisions, applied identically to every source:

- Ids: APPS rows become 'apps/SPLIT/NNNN' (source_id = the APPS problem_id; the raw
  jsonl of codeparrot/apps may call it 'id'); StepCoder items, which carry no APPS id,
  become 'stepcoder/SPLIT/NNNN' from their 0-based index in the file.
- Difficulty: the row's own value when present; otherwise (the APPS test folders have no
  metadata.json) derived from the id range in `difficulty_from_id`.
- Newlines: stdio inputs and expected outputs get CRLF -> LF and are otherwise kept byte
  for byte (a lone CR, trailing spaces, a missing final newline all stay). Expected
  outputs are compared line by line anyway; for inputs, LF is what the problem meant and
  what a program reading `sys.stdin.buffer` can parse, while text-mode stdin would have
  translated CRLF itself. Call-based values are never touched: a returned string may
  legitimately contain CR.
- Duplicate tests (same input and expected output, same types) are dropped, keeping the
  first; the count goes into provenance.
- The APPS one-element-list quirk of call-based outputs: if any output of a problem is not
  a one-element list, the problem stores bare values, so every test gets
  `apps_list_quirk=False`; if all are one-element lists the reading stays ambiguous and
  the flag stays set for verify to resolve by execution.
- StepCoder items: the question is the raw docstring text of `prompt` (not evaluated as a
  Python literal: statements contain backslashes such as `$\\rightarrow$`); call-based
  arguments and outputs that are strings at the top level are JSON-encoded
  ('"abc"' means abc) and are decoded; outputs are wrapped in a one-element list and are
  unwrapped. A stdio canonical solution is the body of a `def NAME():` wrapper; the
  solution stored is the canonical text plus a final `NAME()` call (line numbers, and so
  the item's `scope`, are unchanged).
- TACO, CodeContests and LiveCodeBench rows: `appsplus.curate.normalize_published`.
- Every string must be encodable as UTF-8 (no lone surrogates from JSON escapes), and
  every top-level text field must be at most `max_field_bytes` of UTF-8.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError

from appsplus.errors import shorten
from appsplus.execution import CallTest, StdioTest, tests_from_apps
from appsplus.schema import (
    DIFFICULTIES,
    SPLITS,
    Difficulty,
    Problem,
    RawRow,
    Rejection,
    RejectReason,
    Split,
    Stage,
)
from appsplus.sources import loads_json

logger = logging.getLogger(__name__)

MAX_FIELD_BYTES = 50 * 2**20
UNEXPECTED = "unexpected error while normalizing"
APPS_ROW_FIELDS = frozenset(
    {
        "problem_id",
        "id",
        "question",
        "solutions",
        "input_output",
        "difficulty",
        "url",
        "starter_code",
        "split",
        "source",
    }
)

# APPS id ranges (consistent with every copy of APPS): (first id, difficulty), ascending.
_ID_RANGES: dict[str, tuple[tuple[int, Difficulty], ...]] = {
    "train": ((0, "interview"), (2000, "competition"), (2361, "introductory")),
    "test": ((0, "interview"), (3000, "competition"), (4000, "introductory")),
}
_APPS_ID_LIMIT = 5000
_DEF = re.compile(r"^[ \t]*def[ \t]+([A-Za-z_]\w*)[ \t]*\(([^)]*)\)", re.MULTILINE)


class _Reject(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def difficulty_from_id(split: Split, source_id: int) -> Difficulty | None:
    """APPS difficulty implied by the id range of a split, or None outside 0..4999."""
    if not 0 <= source_id < _APPS_ID_LIMIT:
        return None
    found: Difficulty | None = None
    for first, difficulty in _ID_RANGES[split]:
        if source_id >= first:
            found = difficulty
    return found


def normalize(row: RawRow, *, max_field_bytes: int = MAX_FIELD_BYTES) -> Problem | Rejection:
    """Turn one raw row into a Problem, or a Rejection saying why not. Never raises."""
    context: dict[str, str | None] = {"problem_id": None}

    def reject(reason: RejectReason, detail: str, stage: Stage = "normalize") -> Rejection:
        return Rejection(
            problem_id=context["problem_id"],
            locator=row.locator,
            source=row.source,
            reason=reason,
            detail=detail,
            stage=stage,
        )

    if row.raw is None:
        return reject(row.error_reason or RejectReason.MALFORMED_ROW, row.raw_error or "", "read")
    try:
        if row.format == "stepcoder":
            return _from_stepcoder(row, row.raw, context, max_field_bytes)
        if row.format in ("taco", "codecontests", "livecodebench"):
            from appsplus.curate.normalize_published import FROM_FORMAT

            return FROM_FORMAT[row.format](row, context, max_field_bytes)
        return _from_apps(row, context, max_field_bytes)
    except _Reject as r:
        return reject(r.reason, r.detail)
    except RecursionError:  # only test values can nest this deeply
        return reject(RejectReason.MALFORMED_INPUT_OUTPUT, "a test value is nested too deeply")
    except Exception as e:  # a bug of ours, never a property of the data: keep it visible
        logger.warning("%s %s", UNEXPECTED, row.locator, exc_info=True)
        return reject(
            RejectReason.MALFORMED_ROW, f"{UNEXPECTED}: {type(e).__name__}: {str(e)[:300]}"
        )


# ---------------------------------------------------------------- shared field checks


def _check_sizes(raw: dict[str, Any], max_bytes: int) -> None:
    for key, value in raw.items():
        if isinstance(value, str) and len(value) * 4 > max_bytes:
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > max_bytes:
                raise _Reject(
                    RejectReason.OVERSIZED_FIELD,
                    f"{shorten(repr(key))} is {size} bytes of UTF-8, above the cap of {max_bytes}",
                )


def _check_encodable(value: Any, where: str) -> None:
    """Reject lone surrogates (from JSON escapes like \\ud800): they cannot be written as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                raise _Reject(
                    RejectReason.INVALID_ENCODING, f"{where}: not encodable as UTF-8 ({e.reason})"
                ) from None
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())


def _text_field(raw: dict[str, Any], key: str, *, required: bool) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        what = "missing" if value is None else f"a {type(value).__name__}, not a string"
        raise _Reject(RejectReason.INVALID_FIELD, f"{key} is {what}")
    if required and not value.strip():
        raise _Reject(RejectReason.INVALID_FIELD, f"{key} is empty")
    return value


def _difficulty(value: Any) -> Difficulty | None:
    if value is None or value == "":
        return None
    if value not in DIFFICULTIES:
        raise _Reject(
            RejectReason.INVALID_FIELD,
            f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {shorten(repr(value))}",
        )
    return value  # type: ignore[return-value]


def _split(row: RawRow, raw_split: Any) -> Split:
    if raw_split is not None and raw_split not in SPLITS:
        raise _Reject(
            RejectReason.INVALID_FIELD,
            f"split must be train or test, got {shorten(repr(raw_split))}",
        )
    if row.split and raw_split and raw_split != row.split:
        raise _Reject(
            RejectReason.INVALID_FIELD,
            f"split field {raw_split!r} contradicts the file's {row.split!r}",
        )
    split = row.split or raw_split
    if split is None:
        raise _Reject(
            RejectReason.INVALID_FIELD, "no split: neither the file name nor the row names one"
        )
    return split


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def _freeze(value: Any) -> Any:
    """A hashable, type-exact key for a JSON value (1, 1.0 and True stay distinct)."""
    if isinstance(value, list):
        return ("list", tuple(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _freeze(v)) for k, v in value.items())))
    return (type(value).__name__, value)


def _dedupe(tests: list[Any]) -> tuple[list[Any], int]:
    seen: set[Any] = set()
    kept = []
    for test in tests:
        if isinstance(test, StdioTest):
            key: Any = ("stdio", test.input, test.output)
        else:
            key = ("call", _freeze(test.args), _freeze(test.expected), test.apps_list_quirk)
        if key not in seen:
            seen.add(key)
            kept.append(test)
    return kept, len(tests) - len(kept)


def _stdio_lf(tests: list[StdioTest]) -> tuple[list[StdioTest], int]:
    out, changed = [], 0
    for t in tests:
        if "\r\n" in t.input or "\r\n" in t.output:
            changed += 1
            t = StdioTest(input=_lf(t.input), output=_lf(t.output))
        out.append(t)
    return out, changed


def _build(fields: dict[str, Any]) -> Problem:
    _check_encodable(
        [fields["question"], fields["starter_code"], fields["url"], fields["solutions"]],
        "question, starter_code, url or solutions",
    )
    _check_encodable(fields["provenance"], "a field kept in provenance")
    for i, test in enumerate(fields["tests"]):
        if isinstance(test, StdioTest):
            _check_encodable([test.input, test.output], f"test {i}")
        else:
            _check_encodable([test.args, test.expected], f"test {i}")
    try:
        return Problem(**fields)
    except ValidationError as e:
        raise _Reject(RejectReason.INVALID_FIELD, f"invalid problem: {str(e)[:300]}") from None


# ---------------------------------------------------------------- APPS (rows and folders)


def _source_id(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    raise _Reject(
        RejectReason.INVALID_FIELD,
        f"problem_id must be a non-negative integer, got {shorten(repr(value))}",
    )


def _apps_view(row: RawRow) -> dict[str, Any]:
    """The fields of either APPS layout under the row-format names."""
    raw = row.raw or {}
    if row.format == "apps_row":
        if "problem_id" in raw and "id" in raw and raw["problem_id"] != raw["id"]:
            raise _Reject(RejectReason.INVALID_FIELD, "problem_id and id disagree")
        view = dict(raw)
        view["problem_id"] = raw["problem_id"] if "problem_id" in raw else raw.get("id")
        return view
    metadata: Any = {}
    if raw.get("metadata") is not None:
        text = raw["metadata"]
        try:
            metadata = loads_json(text.removeprefix("\ufeff")) if isinstance(text, str) else None
        except (ValueError, RecursionError):
            metadata = None
        if not isinstance(metadata, dict):
            raise _Reject(RejectReason.INVALID_FIELD, "metadata.json is not a JSON object")
    return {
        "problem_id": raw.get("problem_dir"),
        "question": raw.get("question"),
        "solutions": raw.get("solutions"),
        "input_output": raw.get("input_output"),
        "starter_code": raw.get("starter_code"),
        "difficulty": metadata.get("difficulty"),
        "url": metadata.get("url"),
    }


def _parse_json_field(value: str, name: str, reason: RejectReason) -> Any:
    try:
        return loads_json(value.removeprefix("\ufeff"))
    except (ValueError, RecursionError) as e:
        raise _Reject(reason, f"{name} is not valid JSON: {str(e)[:200]}") from None


def _solutions(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = _parse_json_field(value, "solutions", RejectReason.MALFORMED_SOLUTIONS)
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        kinds = sorted({type(s).__name__ for s in value}) if isinstance(value, list) else None
        what = f"a list of {', '.join(kinds)}" if kinds else f"a JSON {type(value).__name__}"
        raise _Reject(
            RejectReason.MALFORMED_SOLUTIONS, f"solutions must be a list of strings, got {what}"
        )
    return value


def _apps_tests(value: Any) -> tuple[str | None, list[Any], dict[str, Any]]:
    """input_output -> (fn_name, tests, provenance notes)."""
    if value is None or value == "":
        return None, [], {}
    if isinstance(value, str):
        value = _parse_json_field(value, "input_output", RejectReason.MALFORMED_INPUT_OUTPUT)
    bad = RejectReason.MALFORMED_INPUT_OUTPUT
    if not isinstance(value, dict):
        raise _Reject(bad, f"input_output must be a JSON object, got a {type(value).__name__}")
    inputs, outputs = value.get("inputs"), value.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise _Reject(bad, "input_output needs lists 'inputs' and 'outputs'")
    if len(inputs) != len(outputs):
        raise _Reject(
            RejectReason.IO_LENGTH_MISMATCH, f"{len(inputs)} inputs but {len(outputs)} outputs"
        )
    fn_name = value.get("fn_name")
    if fn_name is not None and not (isinstance(fn_name, str) and fn_name.isidentifier()):
        raise _Reject(bad, f"fn_name must be an identifier, got {shorten(repr(fn_name))}")
    try:
        tests: list[Any] = list(tests_from_apps(value))
    except (ValueError, TypeError) as e:
        raise _Reject(bad, str(e)[:300]) from None
    notes: dict[str, Any] = {}
    if fn_name is None:
        tests, changed = _stdio_lf(tests)
        if changed:
            notes["crlf_normalized_tests"] = changed
    elif tests and not all(isinstance(t.expected, list) and len(t.expected) == 1 for t in tests):
        tests = [t.model_copy(update={"apps_list_quirk": False}) for t in tests]
        notes["call_outputs"] = "bare"
    elif tests:
        notes["call_outputs"] = "one_element_lists"  # wrapped, or lists of one: verify decides
    return fn_name, tests, notes


def _from_apps(row: RawRow, context: dict[str, str | None], max_bytes: int) -> Problem:
    view = _apps_view(row)
    source_id = _source_id(view.get("problem_id"))
    split = _split(row, view.get("split"))
    context["problem_id"] = f"apps/{split}/{source_id:04d}"
    _check_sizes(row.raw or {}, max_bytes)

    by_range = difficulty_from_id(split, source_id)
    difficulty = _difficulty(view.get("difficulty"))
    provenance: dict[str, Any] = {
        "source": row.source,
        "locator": row.locator,
        "format": row.format,
    }
    if difficulty is None:
        if by_range is None:
            raise _Reject(
                RejectReason.INVALID_FIELD, "no difficulty, and the id is outside APPS ranges"
            )
        difficulty, provenance["difficulty_from"] = by_range, "id_range"
    elif by_range is not None and by_range != difficulty:
        provenance["difficulty_id_range"] = by_range  # kept as given, but recorded

    question = _text_field(view, "question", required=True)
    url = _text_field(view, "url", required=False)
    starter_code = _text_field(view, "starter_code", required=False)
    solutions = _solutions(view.get("solutions"))
    fn_name, tests, notes = _apps_tests(view.get("input_output"))
    tests, provenance["duplicate_tests_removed"] = _dedupe(tests)
    provenance.update(notes)
    if row.format == "apps_row":
        if isinstance(view.get("source"), str):
            provenance["origin"] = view["source"]
        extra = sorted(set(view) - APPS_ROW_FIELDS)
        if extra:
            provenance["extra_fields"] = extra
    return _build(
        {
            "problem_id": context["problem_id"],
            "source_id": source_id,
            "split": split,
            "difficulty": difficulty,
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


# ---------------------------------------------------------------- StepCoder APPS+


def docstring_text(prompt: str) -> str | None:
    """The raw text between the first and last triple quotes, minus the closing indentation."""
    for quote in ('"""', "'''"):
        start, end = prompt.find(quote), prompt.rfind(quote)
        if start != -1 and end > start:
            return re.sub(r"\n[ \t]*\Z", "", prompt[start + 3 : end])
    return None


def _signature(starter: str) -> tuple[str, str] | None:
    """(name, parameters) of the first function defined in the starter code, if any."""
    for match in _DEF.finditer(starter):
        if match.group(1) != "__init__":
            return match.group(1), match.group(2).strip()
    return None


def _decode_literal(value: Any, where: str) -> Any:
    """StepCoder stores top-level string values JSON-encoded: '"abc"' -> 'abc'."""
    if not isinstance(value, str):
        return value
    try:
        return loads_json(value)
    except (ValueError, RecursionError):
        raise _Reject(
            RejectReason.MALFORMED_INPUT_OUTPUT,
            f"{where}: {shorten(repr(value))} is not a JSON literal",
        ) from None


def _is_lines(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


def _joined(value: str | list[str]) -> str:
    return _lf(value if isinstance(value, str) else "\n".join(value))


def _stepcoder_kind(starter: str, inputs: list[Any], outputs: list[Any]) -> str:
    signature = _signature(starter)
    if "class Solution" in starter or (signature and signature[1]):
        return "call"
    if all(isinstance(i, list) and not i for i in inputs) and inputs and signature:
        return "call"  # a function of no arguments
    if all(_is_lines(v) for v in inputs + outputs):
        return "stdio"
    raise _Reject(
        RejectReason.MALFORMED_INPUT_OUTPUT, "tests are neither stdin text nor argument lists"
    )


def _stepcoder_tests(
    kind: str, fn_name: str | None, inputs: list[Any], outputs: list[Any]
) -> tuple[list[Any], dict[str, Any]]:
    bad = RejectReason.MALFORMED_INPUT_OUTPUT
    notes: dict[str, Any] = {}
    if kind == "stdio":
        pairs = zip(inputs, outputs, strict=True)
        return [StdioTest(input=_joined(i), output=_joined(o)) for i, o in pairs], notes
    tests, bare = [], 0
    for n, (args, out) in enumerate(zip(inputs, outputs, strict=True)):
        if not isinstance(args, list):
            raise _Reject(bad, f"test {n}: call-based inputs must be argument lists")
        if isinstance(out, list) and len(out) == 1:
            out = out[0]
        else:
            bare += 1
        args = [_decode_literal(a, f"test {n} argument {k}") for k, a in enumerate(args)]
        expected = _decode_literal(out, f"test {n} output")
        tests.append(CallTest(fn_name=fn_name or "", args=args, expected=expected))
    if bare:
        notes["stepcoder_bare_outputs"] = bare
    return tests, notes


def _from_stepcoder(
    row: RawRow, raw: dict[str, Any], context: dict[str, str | None], max_bytes: int
) -> Problem:
    split = _split(row, None)
    context["problem_id"] = f"stepcoder/{split}/{row.ordinal:04d}"
    _check_sizes(raw, max_bytes)
    prompt = _text_field(raw, "prompt", required=True)
    canonical = _text_field(raw, "canonical_solution", required=True)
    starter = _text_field(raw, "starter_code", required=False)
    difficulty = _difficulty(raw.get("difficulty"))
    if difficulty is None:
        raise _Reject(RejectReason.INVALID_FIELD, "difficulty is missing")
    question = docstring_text(prompt)
    if question is None or not question.strip():
        raise _Reject(
            RejectReason.INVALID_FIELD, "prompt has no docstring to recover the question from"
        )
    inputs, outputs = raw.get("inputs"), raw.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise _Reject(RejectReason.MALFORMED_INPUT_OUTPUT, "inputs and outputs must be lists")
    if len(inputs) != len(outputs):
        raise _Reject(
            RejectReason.IO_LENGTH_MISMATCH, f"{len(inputs)} inputs but {len(outputs)} outputs"
        )

    kind = _stepcoder_kind(starter, inputs, outputs)
    signature = _signature(starter)
    provenance: dict[str, Any] = {
        "source": row.source,
        "locator": row.locator,
        "format": row.format,
        "stepcoder_index": row.ordinal,
    }
    if isinstance(raw.get("scope"), list):
        provenance["scope"] = raw["scope"]
    fn_name = None
    solution = canonical
    if kind == "call":
        if signature is None:
            raise _Reject(
                RejectReason.MALFORMED_INPUT_OUTPUT, "call-based tests but no def in starter_code"
            )
        fn_name = signature[0]
        starter_code = starter.lstrip("\n")
    else:
        starter_code = ""
        provenance["stepcoder_starter_code"] = starter
        if signature is not None:
            wrapper = signature[0]
            provenance["stdio_wrapper"] = wrapper
            if not re.search(rf"^{re.escape(wrapper)}\(\)", canonical, re.MULTILINE):
                solution = canonical + ("" if canonical.endswith("\n") else "\n") + f"{wrapper}()\n"
    tests, notes = _stepcoder_tests(kind, fn_name, inputs, outputs)
    provenance.update(notes)
    tests, provenance["duplicate_tests_removed"] = _dedupe(tests)
    return _build(
        {
            "problem_id": context["problem_id"],
            "source_id": None,
            "split": split,
            "difficulty": difficulty,
            "question": question,
            "starter_code": starter_code,
            "url": "",
            "kind": kind,
            "fn_name": fn_name,
            "tests": tests,
            "solutions": [solution],
            "provenance": provenance,
        }
    )
