"""`bench` writes only into a new or empty folder or a run folder (a resume), and never over
one of its own inputs (issue 22, item 4): every command that takes --out refuses anything
else with one line and leaves the user's files byte-identical."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from bench_samples import canonical_samples_file
from click.testing import CliRunner

from appsplus.bench.cli import main as bench

USER_FILES = {
    "samples.jsonl": b'{"mine": "not a bench sample"}\n',
    "report.json": b'{"my": "own report"}\n',
}


def invoke(*args):
    return CliRunner().invoke(bench, [str(a) for a in args])


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_refused(result, *needles: str) -> None:
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], (needle, result.output)


@pytest.fixture
def oracle(tmp_path, sample_suite) -> Path:
    """The canonical solution of every problem of the sample suite (a --samples file)."""
    return canonical_samples_file(tmp_path / "oracle.jsonl", sample_suite.problems)


@pytest.fixture
def users_folder(tmp_path) -> Path:
    """A folder of the user's own files, named like a run's, that is not a run folder."""
    folder = tmp_path / "myrun"
    folder.mkdir()
    for name, data in USER_FILES.items():
        (folder / name).write_bytes(data)
    return folder


def _commands(oracle: Path, out: Path) -> dict[str, list]:
    samples = ["--suite", "sample", "--samples", oracle]
    return {
        "run": ["run", *samples, "--k", "1", "--out", out],
        "generate": ["generate", *samples, "--out", out],
        "evaluate --samples": ["evaluate", *samples, "--out", out],
        "evaluate": ["evaluate", "--out", out],
        "report": ["report", "--out", out],
    }


@pytest.mark.parametrize("command", ["run", "generate", "evaluate --samples", "evaluate", "report"])
def test_a_folder_of_the_users_files_is_refused_and_left_as_it_is(command, oracle, users_folder):
    before = snapshot(users_folder.parent)
    result = invoke(*_commands(oracle, users_folder)[command])
    assert_refused(result, str(users_folder))
    assert snapshot(users_folder.parent) == before
    if command in ("run", "generate", "evaluate --samples"):  # the folder is new to bench
        assert (
            "report.json, samples.jsonl" in result.output and "nothing was written" in result.output
        )


def test_generate_from_a_model_is_refused_before_the_first_request(
    fake_openai, users_folder, sample_suite
):
    server = fake_openai(lambda payload: ["print(1)"] * payload.get("n", 1))
    before = snapshot(users_folder.parent)
    for command in ("generate", "run"):
        result = invoke(
            command,
            "--backend",
            "openai",
            "--base-url",
            server.base_url,
            "--model",
            "served",
            "--suite",
            "sample",
            "--n",
            "1",
            "--out",
            users_folder,
        )
        assert_refused(result, str(users_folder), "not empty")
    assert server.requests == [] and snapshot(users_folder.parent) == before


def test_critic_sampling_into_a_folder_of_the_users_files_is_refused(
    tiny_model, users_folder, bench_cache
):
    pytest.importorskip("torch")
    from transformers import AutoTokenizer

    from appsplus.trainers.coderl import build_critic, save_critic

    critic = users_folder.parent / "critic"
    save_critic(build_critic(str(tiny_model)), critic, AutoTokenizer.from_pretrained(tiny_model))
    before = snapshot(users_folder.parent)
    result = invoke(
        "run",
        "--model",
        tiny_model,
        "--suite",
        "sample",
        "--n",
        "2",
        "--strategy",
        "critic-sampling",
        "--critic",
        critic,
        "--out",
        users_folder,
    )
    assert_refused(result, str(users_folder), "not empty")
    assert snapshot(users_folder.parent) == before


@pytest.mark.parametrize("command", ["run", "generate", "evaluate"])
def test_the_samples_file_is_never_rewritten_in_place(command, tmp_path, oracle):
    """`--samples r5/samples.jsonl --out r5`: the input is the file the run would write."""
    r5 = tmp_path / "r5"
    r5.mkdir()
    own = r5 / "samples.jsonl"
    own.write_bytes(oracle.read_bytes())
    link = tmp_path / "link.jsonl"
    link.symlink_to(own)
    before = snapshot(tmp_path)
    for given in (own, link):
        result = invoke(command, "--suite", "sample", "--samples", given, "--out", r5)
        assert_refused(result, str(given), "would write over it")
        assert snapshot(tmp_path) == before


def test_a_run_folders_own_files_are_not_inputs_of_a_resume(tmp_path, oracle):
    """A run folder made from --samples, resumed with its own samples.jsonl (or results)
    as the input: refused, every file byte-identical."""
    r5 = tmp_path / "r5"
    assert invoke("run", "--suite", "sample", "--samples", oracle, "--out", r5).exit_code == 0
    before = snapshot(tmp_path)
    for name in ("samples.jsonl", "results.jsonl"):
        for command in ("run", "evaluate", "generate"):
            given = r5 / name
            result = invoke(command, "--suite", "sample", "--samples", given, "--out", r5)
            assert_refused(result, str(given), "would write over it")
            assert snapshot(tmp_path) == before


def test_a_dataset_file_inside_the_folder_is_never_written(tmp_path, shared_data):
    """--dataset names a file the run writes (problems.jsonl: real HumanEval rows): refused."""
    out = tmp_path / "run"
    out.mkdir()
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        rows = [json.loads(next(f)) for _ in range(2)]
    dataset = out / "problems.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    samples = tmp_path / "gens.jsonl"
    samples.write_text(
        "".join(
            json.dumps({"problem_id": r["task_id"], "completion": r["canonical_solution"]}) + "\n"
            for r in rows
        )
    )
    before = snapshot(tmp_path)
    for command in ("run", "evaluate", "generate"):
        result = invoke(
            command, "--suite", "humaneval", "--dataset", dataset, "--samples", samples,
            "--out", out,
        )  # fmt: skip
        assert_refused(result, str(dataset), "would write over it")
        assert snapshot(tmp_path) == before


def test_new_empty_and_run_folders_are_still_used(tmp_path, oracle):
    """The folders bench may write: new (nested), empty, and a run folder (resumed, with a
    file of the user's in it left alone)."""
    new = tmp_path / "a" / "b"
    first = invoke("run", "--suite", "sample", "--samples", oracle, "--k", "1", "--out", new)
    assert first.exit_code == 0, first.output
    report = (new / "report.json").read_bytes()
    notes = new / "notes.txt"
    notes.write_bytes(b"my notes\n")
    again = invoke("run", "--suite", "sample", "--samples", oracle, "--k", "1", "--out", new)
    assert again.exit_code == 0, again.output
    assert (new / "report.json").read_bytes() == report and notes.read_bytes() == b"my notes\n"
    for command in ("evaluate", "report"):
        assert invoke(command, "--out", new).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("evaluate", "--suite", "sample", "--samples", oracle, "--out", empty)
    assert result.exit_code == 0, result.output
    assert (empty / "run.json").is_file() and (empty / "results.jsonl").is_file()


def test_a_start_killed_while_writing_is_started_again(tmp_path, oracle):
    """A start killed mid-write leaves only its own folder (.bench-start, with a partial
    temp file as os.fsync was interrupted): the next run starts over instead of refusing."""
    out = tmp_path / "run"
    staging = out / ".bench-start"
    staging.mkdir(parents=True)
    (staging / ".problems.jsonl.k1ll3d.tmp").write_bytes(b'{"problem_id": "sample/te')
    result = invoke("run", "--suite", "sample", "--samples", oracle, "--k", "1", "--out", out)
    assert result.exit_code == 0, result.output
    assert not staging.exists()
    assert sorted(p.name for p in out.iterdir()) == [
        "execution.json",
        "pass_at_k.png",
        "problems.jsonl",
        "report.json",
        "results.jsonl",
        "run.json",
        "samples.jsonl",
    ]
    # beside a file of the user's, the same folder is not ours: refused, left as it is
    other = tmp_path / "other"
    other.mkdir()
    (other / ".bench-start").mkdir()
    (other / "notes.txt").write_bytes(b"mine\n")
    before = snapshot(other)
    result = invoke("run", "--suite", "sample", "--samples", oracle, "--out", other)
    assert_refused(result, "notes.txt")
    assert snapshot(other) == before and (other / ".bench-start").is_dir()
