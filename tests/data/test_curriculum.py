"""CCCS curriculum: the stage rule, subtasks on real solutions, and CurriculumState."""

from __future__ import annotations

import json
import math

import pytest

from appsplus.curriculum.spans import SpanError
from appsplus.curriculum.subtasks import CurriculumState, stage_offsets, start_points, subtasks_for
from appsplus.prompts import build_prompt


def program_with(n_ifs: int) -> str:
    return "x = 1\n" + "".join(f"if x{i}:\n    y = {i}\n" for i in range(n_ifs))


@pytest.mark.parametrize("e", range(0, 30))
def test_stage_rule_matches_the_paper(e):
    code = program_with(e)
    points = [0, *start_points(code)]
    assert len(points) - 1 == e
    offsets = stage_offsets(code)
    if e == 0:
        assert offsets == [0]
        return
    n = math.ceil(math.sqrt(e))
    step = math.ceil(e / n)
    expected = []
    for k in range(n + 1):
        off = points[max(e - k * step, 0)]
        if not expected or expected[-1] != off:
            expected.append(off)
    assert offsets == expected
    assert offsets[0] == points[e], "the easiest stage starts at the last conditional statement"
    assert offsets[-1] == 0, "the final stage generates the whole program"
    assert all(a > b for a, b in zip(offsets, offsets[1:])), "stages go from easy to hard"
    assert len(offsets) == n + 1


def test_custom_steps_rule():
    assert (
        len(stage_offsets(program_with(9), steps_rule=lambda e: e)) == 10
    )  # one statement per step


def record(code: str, pid: str = "apps/train/0001") -> dict:
    return {
        "problem_id": pid,
        "split": "train",
        "difficulty": "interview",
        "question": "Add two numbers.",
        "starter_code": "",
        "kind": "stdio",
        "canonical_solution": code,
    }


def check_subtasks(code: str) -> list:
    subtasks = subtasks_for(record(code))
    assert subtasks[-1].prefix == ""
    lengths = [len(s.prefix) for s in subtasks]
    assert lengths == sorted(lengths, reverse=True) and len(set(lengths)) == len(lengths)
    for s in subtasks:
        assert code.startswith(s.prefix)
        assert s.prefix + code[s.prefix_end :] == code
        # a prefix ends where a line ends, before its line break (the completion starts with it)
        assert s.prefix_end == 0 or code[s.prefix_end] in "\r\n", "prefixes end at a line end"
        assert s.n_stages == len(subtasks)
        assert s.prompt.endswith("ANSWER:\n" + s.prefix)
    assert [s.stage for s in subtasks] == list(range(len(subtasks)))
    return subtasks


def test_subtasks_of_a_program_and_prompt_builder():
    code = "a = int(input())\nif a > 0:\n    print(a)\nelse:\n    print(-a)\n"
    subtasks = check_subtasks(code)
    assert [s.prefix for s in subtasks] == [
        code[: code.index("else") - 1],
        code[: code.index("if") - 1],
        "",
    ]
    assert subtasks[0].prompt == build_prompt("Add two numbers.", "", "stdio", subtasks[0].prefix)
    assert "Use Standard Input format" in subtasks[0].prompt
    assert "Use Call-Based format" in build_prompt("q", "class Solution:\n    pass", "call")


def test_crlf_prefixes_end_before_their_line_break():
    check_subtasks("a = 1\r\nif a:\r\n    b = 2\r\nfor i in range(a):\r\n    pass\r\n")


def test_curriculum_state_advances_past_rho_and_round_trips():
    state = CurriculumState.start({"p1": 3, "p2": 1}, rho=0.5, min_attempts=2)
    state.record("p1", True)
    assert state.advance() == []  # not enough attempts yet
    state.record("p1", False)
    assert state.advance() == []  # 0.5 is not above rho
    state.record("p1", True)
    assert state.advance() == ["p1"]  # 2/3 > 0.5
    assert state.stage("p1") == 1 and state.records["p1"].attempts == 0
    state.record("p2", True)
    state.record("p2", True)
    assert "p2" not in state.advance(), "a record at its final stage stays there"
    restored = CurriculumState.model_validate_json(state.model_dump_json())
    assert restored == state
    assert restored.mean_stage_fraction() == pytest.approx((0.5 + 1.0) / 2)


def test_every_real_canonical_solution(shared_data):
    solutions = [
        x["canonical_solution"]
        for x in json.loads(
            (shared_data / "apps-plus" / "stepcoder_apps_plus_sample.json").read_text()
        )
    ]
    for d in sorted((shared_data / "apps" / "raw").glob("*/*")):
        solutions += json.loads((d / "solutions.json").read_text())[:1]
    checked = 0
    for code in solutions:
        try:
            check_subtasks(code)
            checked += 1
        except SpanError:
            pass
    assert checked >= len(solutions) - 2


def test_cli_export_on_the_embedded_sample(tmp_path):
    """`appsplus curriculum export` on a build of the embedded sample."""
    import datasets
    from click.testing import CliRunner

    from appsplus.cli.app import main
    from appsplus.curate.manifest import dataset_hash
    from appsplus.curate.pipeline import BuildConfig, build
    from appsplus.curriculum.subtasks import CurriculumManifest

    built = tmp_path / "apps-plus-sample"
    build(BuildConfig(source="sample"), built, workers=2, manifest_dir=None)
    for fmt in ("parquet", "jsonl"):
        out = tmp_path / f"cur-{fmt}"
        result = CliRunner().invoke(
            main, ["curriculum", "export", str(built), "--out", str(out), "--format", fmt, "--json"]
        )
        assert result.exit_code == 0, result.output
        manifest = CurriculumManifest.model_validate_json(
            (out / "curriculum_manifest.json").read_text()
        )
        assert manifest.source_dataset_hash == dataset_hash(built)
        rows = datasets.load_dataset(
            "json" if fmt == "jsonl" else "parquet", data_files=str(out / f"subtasks.{fmt}")
        )["train"]
        assert len(rows) == manifest.n_subtasks == sum(manifest.by_stage.values())
        assert sum(manifest.stage_count_histogram.values()) == manifest.n_records
        final = [r for r in rows if r["stage"] == r["n_stages"] - 1]
        assert len(final) == manifest.n_records and all(r["prefix"] == "" for r in final)
    result = CliRunner().invoke(
        main, ["curriculum", "export", str(built), "--out", str(tmp_path / "x"), "--split", "dev"]
    )
    assert result.exit_code != 0 and "no split 'dev'" in result.output
