"""LiveCodeBench release versions: the version -> files mapping of code_generation_lite's
loading script, the hub files fetched per version (into the HF cache; here a fetch that
returns local files of the published format), a --dataset folder with --lcb-version picking
the same files, the one-line offline error, and the version in the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_suite_livecodebench import row, stdin_test

from appsplus.bench.cli import main as bench
from appsplus.bench.report import Report
from appsplus.bench.suites import SuiteError, load_suite
from appsplus.bench.suites.livecodebench import HUB_REPO, load_livecodebench, version_files

FILES = ["test.jsonl"] + [f"test{n}.jsonl" for n in range(2, 7)]


@pytest.fixture
def release(tmp_path) -> Path:
    """A folder as the hub repo has it: test.jsonl ... test6.jsonl, one problem each, file n
    dated 2024-0n-10 (problem pN echoes its input)."""
    folder = tmp_path / "code_generation_lite"
    folder.mkdir()
    for n, name in enumerate(FILES, start=1):
        tests = [stdin_test(f"{n}\n", f"{n}\n")]
        problem = row(f"p{n}", f"2024-0{n}-10T00:00:00", "easy", "Echo.", tests, tests)
        (folder / name).write_text(json.dumps(problem) + "\n")
    return folder


def local_fetch(folder: Path):
    fetched = []

    def fetch(repo_id: str, filename: str, revision: str) -> Path:
        assert repo_id == HUB_REPO
        fetched.append(filename)
        return folder / filename

    return fetch, fetched


def test_version_files_as_the_loading_script_maps_them():
    assert version_files("release_v1") == ["test.jsonl"]
    assert version_files("release_v3") == ["test.jsonl", "test2.jsonl", "test3.jsonl"]
    assert version_files("release_v6") == FILES == version_files("release_latest")
    assert version_files("v1") == ["test.jsonl"]
    assert version_files("v2") == ["test2.jsonl"]
    assert version_files("v1_v3") == FILES[:3]
    assert version_files("v4_v5") == ["test4.jsonl", "test5.jsonl"]
    for bad in ("release_v7", "release_v0", "v0", "v3_v2", "v2_v2", "latest", "v1_v7", ""):
        with pytest.raises(SuiteError, match="--lcb-version") as info:
            version_files(bad)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "version,ids",
    [
        ("release_v2", ["p1", "p2"]),
        ("v4_v5", ["p4", "p5"]),
        ("v3", ["p3"]),
        ("release_latest", ["p1", "p2", "p3", "p4", "p5", "p6"]),
    ],
)
def test_hub_version_and_folder_with_version_pick_the_same_files(release, version, ids):
    fetch, fetched = local_fetch(release)
    hub = load_livecodebench(None, version=version, fetch=fetch)
    assert fetched == version_files(version)
    local = load_suite("livecodebench", str(release), lcb_version=version)
    assert [p.problem_id for p in hub.problems] == ids == [p.problem_id for p in local.problems]
    assert hub.problems == local.problems
    assert hub.info.dataset_hash == local.info.dataset_hash
    assert hub.info.split == local.info.split == f"any..any ({version})"
    assert hub.info.dataset == f"{HUB_REPO}@{version}"
    assert version in hub.info.description


def test_defaults_and_refusals(release, tmp_path):
    fetch, fetched = local_fetch(release)
    hub = load_livecodebench(None, fetch=fetch)  # LiveCodeBench's default: release_latest
    assert fetched == FILES and hub.info.split == "any..any (release_latest)"
    everything = load_suite("livecodebench", str(release))  # no version: every file
    assert len(everything.problems) == 6 and everything.info.split == "any..any"
    # the window applies within the version
    window = load_suite("livecodebench", str(release), lcb_version="release_v3", since="2024-02-10")
    assert [p.problem_id for p in window.problems] == ["p2", "p3"]
    assert window.info.split == "2024-02-10..any (release_v3)"
    partial = tmp_path / "partial"
    shutil.copytree(release, partial)
    (partial / "test6.jsonl").unlink()
    with pytest.raises(SuiteError, match="no test6.jsonl in it") as info:
        load_suite("livecodebench", str(partial), lcb_version="release_v6")
    assert "\n" not in str(info.value)
    assert len(load_suite("livecodebench", str(partial), lcb_version="release_v5").problems) == 5
    with pytest.raises(SuiteError, match="from a folder"):
        load_suite("livecodebench", str(release / "test.jsonl"), lcb_version="release_v1")
    with pytest.raises(SuiteError, match="only for livecodebench"):
        load_suite("humaneval", lcb_version="release_v1")


def test_offline_gives_one_line_naming_the_options(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(SuiteError) as info:
        load_suite("livecodebench", lcb_version="release_v2")
    message = str(info.value)
    assert "\n" not in message
    assert HUB_REPO in message and "--lcb-version release_v2" in message
    assert "--dataset FOLDER" in message and "offline" in message
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"problem_id": "p1", "program": "print(1)"}) + "\n")
    args = ["evaluate", "--suite", "livecodebench", "--samples", str(samples)]
    result = CliRunner().invoke(bench, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "--dataset FOLDER" in result.output and "release_latest" in result.output


def test_report_shows_the_version_and_the_window(release, tmp_path, bench_cache):
    samples = tmp_path / "samples.jsonl"
    with samples.open("w") as f:
        for n in (2, 3):
            for program in ("print(input())", "print(0)"):
                f.write(json.dumps({"problem_id": f"p{n}", "program": program}) + "\n")
    out = tmp_path / "eval"
    args = ["evaluate", "--suite", "livecodebench", "--dataset", str(release)]
    args += ["--lcb-version", "release_v3", "--since", "2024-02-01", "--samples", str(samples)]
    result = CliRunner().invoke(bench, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    shown = CliRunner().invoke(bench, ["report", "--out", str(out)])
    assert shown.exit_code == 0, shown.output
    report = Report.model_validate_json((out / "report.json").read_text())
    assert report.suite.split == "2024-02-01..any (release_v3)"
    assert report.overall.n_problems == 2
    assert report.overall.pass_at_k["pass@1"].value == pytest.approx(0.5)
    assert "contests 2024-02-01..any (release_v3)" in " ".join(shown.stdout.split())
