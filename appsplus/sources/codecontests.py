"""deepmind/code_contests: 13k problems of Codeforces, AtCoder, CodeChef, ... (CC-BY-4.0).

Fields (the dataset card): name, description, public_tests / private_tests /
generated_tests ({input: [...], output: [...]}), source (enum: 0 unknown, 1 CodeChef,
2 Codeforces, 3 HackerEarth, 4 CodeJam, 5 AtCoder, 6 Aizu), difficulty (enum; 0 is
UNKNOWN_DIFFICULTY, an ordinary value), solutions and incorrect_solutions ({language:
[...], solution: [...]}, language enum 0 unknown, 1 PYTHON (Python 2), 2 CPP, 3 PYTHON3,
4 JAVA), cf_contest_id, cf_index, cf_points, cf_rating, cf_tags, is_description_translated,
untranslated_description, time_limit ({seconds, nanos}, or null), memory_limit_bytes,
input_file, output_file. Files: train/valid/test .jsonl or .parquet (hub:
data/train-*.parquet, data/valid-*.parquet, data/test-*.parquet); 'valid' rows go to the
test split, so no validation problem is trained on.

Option `tests=GROUPS` ('public+private+generated', the default; any '+'-joined subset):
the test groups to score; the reader moves the others to `_extra_tests`, which the build
does not score or store but hands to the quality step as known tests
(`assess(known_tests=...)`: probes from them, and a mutant they distinguish survives).
"""

from __future__ import annotations

import re
from typing import Any

from appsplus.schema import Split
from appsplus.sources.published import Dataset

TEST_GROUPS = ("public_tests", "private_tests", "generated_tests")
_SPLIT = re.compile(r"^(train|valid|test)(?:$|[-_.])", re.IGNORECASE)


def _split_of(name: str) -> tuple[Split, str] | None:
    match = _SPLIT.match(name)
    if match is None:
        return None
    source_split = match.group(1).lower()
    return ("train" if source_split == "train" else "test"), source_split


def groups(options: dict[str, str]) -> tuple[str, ...]:
    value = options.get("tests", "public+private+generated")
    names = tuple(f"{g}_tests" for g in value.split("+") if g)
    bad = [n for n in names if n not in TEST_GROUPS]
    if bad or not names:
        raise ValueError(f"tests= takes public, private, generated joined by '+', got {value!r}")
    return names


def _trim(raw: dict[str, Any], options: dict[str, str]) -> dict[str, Any]:
    """The groups not in `tests=` move to `_extra_tests`: not scored, but the quality step
    gets them as known tests (a mutant they tell apart is never 'equivalent')."""
    keep = groups(options)
    if len(keep) == len(TEST_GROUPS):
        return raw
    extra = {k: v for k, v in raw.items() if k in TEST_GROUPS and k not in keep}
    trimmed = {k: v for k, v in raw.items() if k in keep or k not in TEST_GROUPS}
    return {**trimmed, "_extra_tests": extra} if extra else trimmed


DATASET = Dataset(
    name="codecontests",
    format="codecontests",
    repo_id="deepmind/code_contests",
    licence="cc-by-4.0",
    hub_patterns=("data/train-*.parquet", "data/valid-*.parquet", "data/test-*.parquet"),
    split_of=_split_of,
    options={"tests": "test groups to keep: public+private+generated (default)"},
    trim=_trim,
)
