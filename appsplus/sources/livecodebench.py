"""livecodebench/code_generation_lite: recent contest problems (LeetCode, AtCoder, Codeforces).

Fields (as read by the `livecodebench` bench suite): question_title, question_content,
platform, question_id, contest_id, contest_date (ISO datetime), starter_code, difficulty
(easy/medium/hard), public_test_cases (JSON text), private_test_cases (JSON text, or
base64 of zlib of a pickled JSON string: decoded by
`appsplus.bench.suites.lcb_tests.decode_tests`, which never unpickles), metadata (JSON
text, `func_name` for functional problems). Files: test.jsonl ... test6.jsonl (the hub's
releases). The dataset is a benchmark: every row goes to the build's train split only
because a training mix asks for it; use `until=YYYY-MM-DD` (problems dated after it are
left out, counted in the source's `skipped`) to keep a model's evaluation window out of
training. It has no reference solutions, so without a tests-only build every problem is
rejected as no_solutions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from appsplus.schema import Split
from appsplus.sources.published import Dataset


def _split_of(name: str) -> tuple[Split, str] | None:
    return "train", "test"


def _until(options: dict[str, str]) -> datetime | None:
    value = options.get("until")
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"until= takes a date YYYY-MM-DD, got {value!r}") from None


def _keep(raw: dict[str, Any], options: dict[str, str]) -> str | None:
    until = _until(options)
    if until is None or not raw:
        return None
    try:
        date = datetime.fromisoformat(str(raw.get("contest_date"))).replace(tzinfo=None)
    except ValueError:
        return None  # normalize rejects the row with its reason
    return f"contest_date after {until.date()}" if date > until else None


DATASET = Dataset(
    name="livecodebench",
    format="livecodebench",
    repo_id="livecodebench/code_generation_lite",
    licence="unstated (see the dataset card)",
    hub_patterns=("test*.jsonl",),
    split_of=_split_of,
    options={"until": "leave out problems dated after YYYY-MM-DD"},
    keep=_keep,
)


def date_range(rows: Iterable[dict[str, Any]]) -> tuple[str, str] | None:
    """(first, last) `contest_date` day (YYYY-MM-DD) of LiveCodeBench rows, None if none is dated."""
    days = []
    for raw in rows:
        try:
            days.append(datetime.fromisoformat(str(raw.get("contest_date"))).date().isoformat())
        except (ValueError, AttributeError):
            continue
    return (min(days), max(days)) if days else None


def empty_window(source: Any) -> str | None:
    """Why a LiveCodeBench source read no row, when its `until=` window left every problem
    out: the window and the dates its files have (None when no window left a row out)."""
    if not getattr(source, "skipped", None):
        return None
    rows = (
        row.raw
        for path in source.files
        for row in source._rows(path, source._label(path), None)
        if isinstance(row.raw, dict)
    )
    found = date_range(rows)
    left = sum(source.skipped.values())
    dates = f"its problems are dated {found[0]} to {found[1]}" if found else "no problem is dated"
    return (
        f"the window until={source.options.get('until')} selected no problem: all {left} "
        f"rows were left out ({', '.join(sorted(source.skipped))}); {dates}"
    )
