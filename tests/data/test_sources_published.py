"""TACO, CodeContests and LiveCodeBench sources: hand-written fixtures in each published
format (tests/data/fixtures/), built end to end with `appsplus build --source NAME:PATH`
(real sandboxed verification), plus the traps of each format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from appsplus.cli.app import main as cli
from appsplus.curate.normalize import normalize
from appsplus.curate.pipeline import read_rejections
from appsplus.record import Record
from appsplus.schema import Problem, Rejection
from appsplus.sources import SourceError, SourceUnavailable, open_source

FIXTURES = Path(__file__).parent / "fixtures"


def build(tmp_path: Path, spec: str) -> tuple[dict, dict[str, Record], list[Rejection]]:
    out = tmp_path / "out"
    args = ["build", "--source", spec, "--out", str(out), "--workers", "2"]
    result = CliRunner().invoke(cli, [*args, "--time-limit", "2", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output[result.output.index("{") :])
    import pyarrow.parquet as pq

    found = {}
    for split in ("train", "test"):
        for row in pq.read_table(out / f"{split}.parquet").to_pylist():
            record = Record.from_row(row)
            found[record.problem_id] = record
    return manifest, found, list(read_rejections(out))


def problems(spec: str) -> list[Problem | Rejection]:
    return [normalize(row) for row in open_source(spec).iter_rows()]


def test_taco_build_counts_reasons_and_metadata(tmp_path):
    manifest, kept, rejected = build(tmp_path, f"taco:{FIXTURES / 'taco'}")
    assert manifest["counts"] == {"read": 7, "kept": 3, "rejected": 4, "balanced": True}
    assert manifest["rejected_by_reason"] == {
        "malformed_row": 1,  # a truncated JSON line
        "malformed_input_output": 1,  # input_output is cut off
        "no_solutions": 1,  # solutions "[]"
        "no_passing_solution": 1,  # prints n * 3 for the square of n
    }
    # ids are qualified by source (TACO has no id column: the position in its split)
    assert sorted(kept) == ["taco/test/00000", "taco/train/00000", "taco/train/00001"]
    first = kept["taco/train/00000"]
    assert first.split == "train" and first.difficulty == "introductory"
    assert first.provenance.notes["tags"] == ["Mathematics"]
    call = kept["taco/train/00001"]
    assert call.kind == "call" and call.fn_name == "twice"
    by_id = {r.problem_id: r for r in rejected}
    assert by_id["taco/train/00005"].reason.value == "no_passing_solution"


def test_taco_tags_are_literals_never_evaluated():
    by_id = {p.problem_id: p for p in problems(f"taco:{FIXTURES / 'taco'}")}
    first = by_id["taco/train/00000"]
    assert first.provenance["raw_tags"] == ["implementation", "math"]
    assert first.provenance["skill_types"] == ["Amortized analysis"]
    assert first.provenance["time_limit"] == "2.0 seconds"
    assert first.provenance["memory_limit"] == "256.0 megabytes"
    assert first.provenance["origin"] == "codeforces"
    assert first.provenance["source_difficulty"] == "EASY"
    hostile = by_id["taco/train/00002"]  # tags = "__import__('os').system(...)"
    assert "tags" not in hostile.provenance
    assert hostile.provenance["tags_unparsed"].startswith("__import__('os')")
    assert by_id["taco/train/00005"].provenance["source_difficulty"] == "UNKNOWN_DIFFICULTY"


def test_codecontests_build_python3_only_and_generated_tests(tmp_path):
    manifest, kept, rejected = build(tmp_path, f"codecontests:{FIXTURES / 'codecontests'}")
    assert manifest["counts"] == {"read": 6, "kept": 2, "rejected": 4, "balanced": True}
    assert manifest["rejected_by_reason"] == {
        "no_solutions": 1,  # only Python 2, C++ and Java solutions
        "io_length_mismatch": 1,
        "no_passing_solution": 1,  # a generated test catches the only Python 3 solution
        "malformed_row": 1,  # a JSON list
    }
    # 'valid' rows go to the test split, never to train
    assert sorted(kept) == ["codecontests/test/00000", "codecontests/train/00000"]
    product = kept["codecontests/train/00000"]
    # the Python 3 solution only: not the Python 2 one, not the (Python 3) incorrect one
    assert product.solutions == ["a, b = map(int, input().split())\nprint(a * b)\n"]
    assert [t.input for t in product.tests] == ["2 3\n", "4 5\n", "0 7\n", "-2 3\n"]
    assert product.url == "https://codeforces.com/problemset/problem/1000/A"
    assert product.difficulty == "introductory"  # cf_rating 800; difficulty enum 0 is ordinary
    by_id = {r.problem_id: r for r in rejected}
    assert by_id["codecontests/train/00001"].reason.value == "no_solutions"


def test_codecontests_tests_option_leaves_generated_out(tmp_path):
    spec = f"codecontests,tests=public+private:{FIXTURES / 'codecontests'}"
    manifest, kept, _ = build(tmp_path, spec)
    # without the generated test that catches it, problem 3's solution passes
    assert manifest["counts"]["kept"] == 3 and "codecontests/train/00003" in kept
    assert "no_passing_solution" not in manifest["rejected_by_reason"]


def test_codecontests_metadata_and_limits():
    by_id = {p.problem_id: p for p in problems(f"codecontests:{FIXTURES / 'codecontests'}")}
    product = by_id["codecontests/train/00000"].provenance
    assert product["other_language_solutions"] == {"cpp": 1, "python2": 1}
    assert "time_limit_s" not in product  # a null time limit is an ordinary value
    assert product["source_difficulty"] == 0 and product["memory_limit_bytes"] == 256000000
    assert product["tests_by_group"] == {"public": 1, "private": 1, "generated": 2}
    caught = by_id["codecontests/train/00003"].provenance
    assert caught["time_limit_s"] == 1.5 and caught["origin"] == "atcoder"
    assert by_id["codecontests/test/00000"].provenance["source_split"] == "valid"


def test_codecontests_parquet_reads_like_jsonl(tmp_path):
    """The hub stores CodeContests as parquet with nested structs: same problems."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = (FIXTURES / "codecontests" / "train.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.startswith("{")]
    folder = tmp_path / "data"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), folder / "train-00000-of-00001.parquet")
    from_parquet = problems(f"codecontests:{tmp_path}")
    from_jsonl = [p for p in problems(f"codecontests:{FIXTURES / 'codecontests' / 'train.jsonl'}")]
    from_jsonl = [p for p in from_jsonl if p.problem_id is not None]  # the JSON list row

    def key(p):
        return p.model_dump(exclude={"provenance"}) if isinstance(p, Problem) else p.reason

    assert len(from_parquet) == 4
    assert [key(p) for p in from_parquet] == [key(p) for p in from_jsonl]


def test_livecodebench_build_without_solutions_and_until(tmp_path):
    manifest, kept, _ = build(tmp_path / "all", f"livecodebench:{FIXTURES / 'livecodebench'}")
    assert manifest["counts"] == {"read": 4, "kept": 0, "rejected": 4, "balanced": True}
    assert manifest["rejected_by_reason"] == {
        "no_solutions": 2,  # LiveCodeBench has no reference solutions
        "invalid_field": 1,  # difficulty 'impossible'
        "malformed_input_output": 1,  # private tests that are neither JSON nor zlib
    }
    spec = f"livecodebench,until=2024-08-01:{FIXTURES / 'livecodebench'}"
    manifest, _, rejected = build(tmp_path / "until", spec)
    assert manifest["counts"]["read"] == 3  # the 2024-09-01 problem stays out
    assert "livecodebench/train/3001" not in {r.problem_id for r in rejected}


def test_livecodebench_private_tests_decoded_and_functional():
    source = open_source(f"livecodebench:{FIXTURES / 'livecodebench'}")
    by_id = {p.problem_id: p for p in map(normalize, source.iter_rows())}
    stdin = by_id["livecodebench/train/abc300_a"]
    assert isinstance(stdin, Problem) and stdin.kind == "stdio"
    assert [(t.input, t.output) for t in stdin.tests] == [
        ("3\n1 2 3\n", "6\n"),
        ("2\n5 5\n", "10\n"),
    ]
    assert stdin.provenance["source_split"] == "test"
    functional = by_id["livecodebench/train/3001"]
    assert functional.kind == "call" and functional.fn_name == "add"
    assert [(t.args, t.expected) for t in functional.tests] == [([1, 2], 3), ([5, -5], 0)]
    bad = by_id["livecodebench/train/1999B"]
    assert isinstance(bad, Rejection) and "zlib" in bad.detail


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("taco,foo=1:x", "unknown option 'foo=1' of taco"),
        ("livecodebench,until=soon:x", "until= takes a date YYYY-MM-DD"),
        ("codecontests,tests=public+hidden:x", "tests= takes public, private, generated"),
        ("taco:", "needs a path"),
        ("taco:/nonexistent/taco", "does not exist"),
    ],
)
def test_bad_specs_are_one_line_errors(tmp_path, spec, message):
    result = CliRunner().invoke(cli, ["build", "--source", spec, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_hub_ids_offline_name_the_local_alternative(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    source = open_source("codecontests")
    assert source.name == "hf:deepmind/code_contests"
    with pytest.raises(SourceUnavailable, match="codecontests:PATH"):
        source.prepare()
    with pytest.raises(SourceError):
        open_source("taco,tests=public")
