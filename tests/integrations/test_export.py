"""`appsplus export`: files each library loads, the dataset hash, no overwrite, curriculum."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from appsplus.curate.manifest import dataset_hash
from appsplus.integrations.export import MANIFEST, ExportError, export_dataset
from appsplus.integrations.scoring import parse_tests
from appsplus.prompts import build_prompt
from appsplus.record import Record

APPSPLUS = [sys.executable, "-c", "from appsplus.cli.app import main; main()"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*APPSPLUS, *args], capture_output=True, text=True, timeout=300)


def load_rows(path):
    import datasets

    kind = "json" if path.suffix == ".jsonl" else "parquet"
    return datasets.load_dataset(kind, data_files={"train": str(path)})["train"]


@pytest.mark.parametrize("fmt", ["trl", "verl", "openrlhf"])
def test_each_format_loads_and_carries_prompt_tests_and_hash(fmt, sample_dataset, tmp_path):
    manifest = export_dataset(sample_dataset, tmp_path / fmt, fmt)
    digest = dataset_hash(sample_dataset)
    assert manifest.source_dataset_hash == digest
    on_disk = json.loads((tmp_path / fmt / MANIFEST).read_text())
    assert on_disk["source_dataset_hash"] == digest and on_disk["rows"] == manifest.rows
    records = {r.problem_id: r for r in map(Record.from_row, _rows(sample_dataset, "train"))}
    ext = "jsonl" if fmt == "openrlhf" else "parquet"
    rows = load_rows(tmp_path / fmt / f"train.{ext}")
    assert len(rows) == manifest.rows["train"] == len(records)
    for row in rows:
        if fmt == "verl":
            pid, tests = row["extra_info"]["problem_id"], row["reward_model"]["ground_truth"]
            assert row["data_source"] and row["ability"] == "code"
            assert row["reward_model"]["style"] == "rule"
            assert row["extra_info"]["dataset_hash"] == digest
        elif fmt == "trl":
            pid, tests = row["problem_id"], row["tests"]
            assert row["dataset_hash"] == digest
        else:
            pid, tests = row["problem_id"], json.loads(row["label"])["tests"]
            assert row["dataset_hash"] == digest
        record = records[pid]
        assert parse_tests(tests) == list(record.tests)
        expected = build_prompt(record.question, record.starter_code, record.kind)
        assert row["prompt"] == [{"role": "user", "content": expected}]


def _rows(folder, split):
    from appsplus.dataset import load

    return list(load(folder)[split])


def test_curriculum_subtasks_export(sample_dataset, tmp_path):
    from appsplus.curriculum.subtasks import subtasks_for

    manifest = export_dataset(sample_dataset, tmp_path / "c", "trl", curriculum=True)
    rows = load_rows(tmp_path / "c" / "train.parquet")
    expected = [s for r in _rows(sample_dataset, "train") for s in subtasks_for(r)]
    assert manifest.curriculum and len(rows) == len(expected) > manifest.rows["train"] // 2
    by_id = {s.subtask_id: s for s in expected}
    for row in rows:
        sub = by_id[row["subtask_id"]]
        assert row["prefix"] == sub.prefix and row["prompt"][0]["content"] == sub.prompt


def test_refuses_non_empty_out_and_leaves_it_alone(sample_dataset, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_bytes(b"mine")
    with pytest.raises(ExportError, match="not empty"):
        export_dataset(sample_dataset, out, "verl")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    done = cli("export", str(sample_dataset), "--format", "verl", "--out", str(out))
    assert done.returncode != 0 and "not empty" in done.stderr and "Traceback" not in done.stderr
    assert (out / "keep.txt").read_bytes() == b"mine"
    again = cli("export", str(sample_dataset), "--format", "verl", "--out", str(out), "--overwrite")
    assert again.returncode == 0, again.stderr
    assert (out / "keep.txt").read_bytes() == b"mine" and (out / "train.parquet").is_file()


def test_cli_errors_are_one_line(sample_dataset, tmp_path):
    bad_split = cli("export", str(sample_dataset), "--format", "trl", "--out", str(tmp_path / "a"))
    assert bad_split.returncode == 0
    for args in (
        ["--format", "trl", "--split", "dev"],
        ["--format", "verl", "--prompt-style", "text"],
    ):
        done = cli("export", str(sample_dataset), "--out", str(tmp_path / "x"), *args)
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert done.stderr.strip().startswith("Error:")
    not_a_dataset = cli("export", str(tmp_path), "--format", "trl", "--out", str(tmp_path / "y"))
    assert not_a_dataset.returncode != 0 and "Traceback" not in not_a_dataset.stderr


def test_help_has_examples():
    for command in ("export", "serve"):
        done = cli(command, "--help")
        assert done.returncode == 0 and "Example" in done.stdout
