"""BAAI/TACO: 26k problems in the APPS row format plus metadata (Apache-2.0).

Fields (the dataset card): question, solutions (JSON text: a list of Python programs),
starter_code, input_output (JSON text: inputs, outputs, optional fn_name), difficulty
(EASY, MEDIUM, MEDIUM_HARD, HARD, VERY_HARD, UNKNOWN_DIFFICULTY), raw_tags, tags and
skill_types (Python list text such as "['Sorting', 'Greedy']", read with
`ast.literal_eval`, never `eval`), name, source (the judge: codeforces, codechef, ...),
url, time_limit and memory_limit (free text, e.g. "2.0 seconds", "256.0 megabytes"), date,
picture_num, "Expected Time Complexity", "Expected Auxiliary Space". There is no id
column: problems become 'taco/SPLIT/NNNNN' from their 0-based position in the split.
Files: train/test .jsonl or .parquet (hub: ALL/train-*.parquet, ALL/test-*.parquet).
"""

from __future__ import annotations

from appsplus.schema import Split
from appsplus.sources.local import split_from_name
from appsplus.sources.published import Dataset


def _split_of(name: str) -> tuple[Split, str] | None:
    split = split_from_name(name)
    return (split, split) if split else None


DATASET = Dataset(
    name="taco",
    format="taco",
    repo_id="BAAI/TACO",
    licence="apache-2.0",
    hub_patterns=("ALL/train-*.parquet", "ALL/test-*.parquet"),
    split_of=_split_of,
)
