"""Mixed builds (several --source in one `appsplus build`): per-source counts, cross-source
duplicates kept once by the stated rule, no test-split problem in train, --tests-only, and
the README's DeepCoder-style command run as written on the fixtures in
tests/data/fixtures/mixed/ (real sandboxed verification throughout).

The fixtures plant: a TACO row copied from an APPS row (apps/train/1971), Codeforces
1500A in TACO train and CodeContests test (worded differently: the same URL finds it),
1600B in TACO train and CodeContests train (the same statement; TACO is listed first),
1700C in TACO train and CodeContests test where the CodeContests copy has only a C++
solution, a HumanEval+ item (HumanEval/0's prompt) in TACO, and LiveCodeBench problems
before and after a cutoff."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from testkit import REPO_ROOT, SHARED_DATA  # $APPSPLUS_DATA_DIR or ../shared/data

from appsplus.cli.app import main as cli
from appsplus.curate.pipeline import BuildConfig, build, output_hashes, read_rejections
from appsplus.dataset import checked_manifest
from appsplus.outdir import OutputError
from appsplus.quality.dedup import Deduplicator, url_key
from appsplus.quality.models import QualityConfig

MIXED = Path(__file__).parent / "fixtures" / "mixed"
FIXTURES = Path(__file__).parent / "fixtures"
APPS = str(MIXED / "apps")
TACO = f"taco:{MIXED / 'taco'}"
CC = f"codecontests:{MIXED / 'codecontests'}"
LCB = f"livecodebench,until=2024-06-30:{MIXED / 'livecodebench'}"
HUMANEVAL_PLUS = SHARED_DATA / "evalplus" / "HumanEvalPlus.jsonl.gz"
FAST = ["--workers", "2", "--time-limit", "2", "--no-mutation", "--no-rerun"]


def run_build(out: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["build", "--out", str(out), *FAST, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{") :])


def kept_ids(out: Path, name: str) -> list[str]:
    return [r["problem_id"] for r in pq.read_table(out / f"{name}.parquet").to_pylist()]


def same_problem(out: Path, name: str) -> dict[str, list[str]]:
    found = {}
    for row in pq.read_table(out / f"{name}.parquet").to_pylist():
        notes = json.loads(row["provenance"])["notes"]
        if "same_problem" in notes:
            found[row["problem_id"]] = notes["same_problem"]
    return found


def rejections(out: Path) -> dict[str, tuple[str, str]]:
    return {r.problem_id or "": (r.reason.value, r.detail) for r in read_rejections(out)}


@pytest.mark.skipif(not HUMANEVAL_PLUS.is_file(), reason=f"no {HUMANEVAL_PLUS}")
def test_mixed_build_finds_cross_source_duplicates_and_a_planted_humaneval_item(tmp_path):
    out = tmp_path / "mix"
    manifest = run_build(
        out,
        *("--source", APPS, "--source", TACO, "--source", CC, "--source", LCB),
        *("--tests-only", "--decontaminate", f"humaneval+={HUMANEVAL_PLUS}"),
    )
    assert manifest["counts"] == {"read": 13, "kept": 8, "rejected": 5, "balanced": True}
    found = rejections(out)
    assert found == {
        "taco/train/00000": ("duplicate_problem", found["taco/train/00000"][1]),
        "taco/train/00001": ("duplicate_problem", found["taco/train/00001"][1]),
        "taco/train/00003": ("duplicate_problem", found["taco/train/00003"][1]),
        "codecontests/train/00000": ("duplicate_problem", found["codecontests/train/00000"][1]),
        "taco/train/00004": ("contaminated", found["taco/train/00004"][1]),
    }
    # each rejection names the id kept; APPS is listed before TACO, TACO before CodeContests
    assert "exact statement of apps/train/1971 (train split)" in found["taco/train/00000"][1]
    assert "exact statement of taco/train/00002" in found["codecontests/train/00000"][1]
    # the same Codeforces problem worded differently: the URL finds it; the test copy wins
    assert found["taco/train/00001"][1].startswith(
        "same problem URL (statement Jaccard 0.08) as codecontests/test/00000 (test split)"
    )
    assert "codecontests/test/00001 (test split)" in found["taco/train/00003"][1]
    assert "humaneval+ HumanEval/0 (100%" in found["taco/train/00004"][1]
    assert kept_ids(out, "train") == [
        "apps/train/1971",
        "apps/train/1972",
        "codecontests/train/00001",
        "taco/train/00002",
        "taco/train/00005",
    ]
    assert kept_ids(out, "test") == ["codecontests/test/00000"]
    # the kept copy points at its copies in other sources
    assert same_problem(out, "train") == {
        "apps/train/1971": ["taco/train/00000"],
        "taco/train/00002": ["codecontests/train/00000"],
    }
    assert same_problem(out, "test") == {"codecontests/test/00000": ["taco/train/00001"]}
    assert kept_ids(out, "tests_only") == [
        "codecontests/test/00001",
        "livecodebench/train/abc350_a",
    ]
    # per source: counts (balanced), rejections by reason, licence, revision, left out
    by_spec = {s["spec"]: s for s in manifest["sources"]}
    assert list(by_spec) == [APPS, TACO, CC, LCB]
    for s in manifest["sources"]:
        assert s["read"] == s["kept"] + s["rejected"], s
        assert s["revision"].startswith("sha256:")
    assert by_spec[TACO]["rejected_by_reason"] == {"contaminated": 1, "duplicate_problem": 3}
    assert (by_spec[TACO]["read"], by_spec[TACO]["licence"]) == (6, "apache-2.0")
    assert by_spec[CC]["licence"] == "cc-by-4.0" and by_spec[CC]["tests_only"] == 1
    assert by_spec[LCB]["left_out"] == {"contest_date after 2024-06-30": 1}
    assert (by_spec[LCB]["kept"], by_spec[LCB]["tests_only"]) == (1, 1)
    assert manifest["totals"]["tests_only"] == 2
    assert manifest["quality"]["duplicates"]["train_test_overlaps"] == 2
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "license: other" in card and "config_name: tests_only" in card
    for s in manifest["sources"]:  # the card lists every source, its licence and counts
        assert f"| `{s['spec']}` | {s['licence']} |" in card


def test_taco_listed_first_keeps_its_row_with_a_pointer_to_the_apps_id(tmp_path):
    out = tmp_path / "taco-first"
    run_build(out, "--source", TACO, "--source", APPS, "--no-dedupe")
    assert "taco/train/00000" in kept_ids(out, "train")  # no dedup: both kept, no pointer
    assert same_problem(out, "train") == {}
    out = tmp_path / "deduped"
    run_build(out, "--source", TACO, "--source", APPS)
    assert same_problem(out, "train")["taco/train/00000"] == ["apps/train/1971"]
    reason, detail = rejections(out)["apps/train/1971"]
    assert reason == "duplicate_problem" and "taco/train/00000" in detail


def test_rejected_test_problem_keeps_its_duplicate_out_of_train(tmp_path):
    """Without --tests-only, CodeContests' test copy of 1700C (C++ only) is rejected, and
    still keeps TACO's train copy out; LiveCodeBench's problem is rejected (no solution)."""
    out = tmp_path / "mix"
    manifest = run_build(out, "--source", TACO, "--source", CC, "--source", LCB)
    found = rejections(out)
    assert found["codecontests/test/00001"] == (
        "no_solutions",
        "no Python 3 solution (the source has 1 cpp)",
    )
    reason, detail = found["taco/train/00003"]
    assert reason == "duplicate_problem"
    assert "codecontests/test/00001 (test split; rejected itself" in detail
    assert found["livecodebench/train/abc350_a"][0] == "no_solutions"
    assert "taco/train/00003" not in kept_ids(out, "train")
    assert not (out / "tests_only.parquet").exists()
    assert "tests_only" not in manifest["config"] and "tests_only" not in manifest["totals"]
    # no problem of a test split is in train: every train statement differs from every
    # test-split problem of the sources (kept or not)
    train = {r["question"] for r in pq.read_table(out / "train.parquet").to_pylist()}
    test_rows = [json.loads(line) for line in (MIXED / "codecontests" / "test.jsonl").open()]
    assert not train & {r["description"] for r in test_rows}


def test_tests_only_keeps_unsolved_rows_of_every_source_flagged(tmp_path):
    out = tmp_path / "tests-only"
    taco = f"taco:{FIXTURES / 'taco'}"
    manifest = run_build(
        out, "--source", "sample", "--source", taco, "--limit", "4", "--tests-only"
    )
    rows = {r["problem_id"]: r for r in pq.read_table(out / "tests_only.parquet").to_pylist()}
    # --limit is per source: the sample's row 4810 has no solutions; TACO's files are read
    # in name order (test.jsonl, 1 row, then train.jsonl), its train row 2 has solutions "[]"
    assert sorted(rows) == ["apps/train/4810", "taco/train/00002"]
    for row in rows.values():
        notes = json.loads(row["provenance"])["notes"]
        assert row["tests_only"] and notes["tests_only"] is True and "unverified" in notes
        assert row["solutions"] == [] and row["canonical_index"] == -1 and row["tests"] != "[]"
    assert manifest["totals"]["tests_only"] == 2
    assert {s["spec"]: s["tests_only"] for s in manifest["sources"]} == {"sample": 1, taco: 1}
    assert manifest["files"]["tests_only.parquet"]["rows"] == 2
    # the default rejects them with the reason
    plain = run_build(tmp_path / "plain", "--source", "sample", "--source", taco, "--limit", "4")
    assert plain["rejected_by_reason"]["no_solutions"] == 2
    assert plain["counts"]["kept"] == manifest["counts"]["kept"] - 2


def test_mixed_build_resumes_and_its_config_covers_every_source_in_order(tmp_path):
    out = tmp_path / "mix"
    config = BuildConfig(source=[TACO, CC], quality=QualityConfig(mutation=False))
    first = build(config, out, workers=2)
    hashes = output_hashes(out)
    again = build(config, out, workers=2)  # the same config: a resume from the cache
    assert again.executed_jobs == 0 and again.cache_hits > 0
    assert output_hashes(out) == hashes
    assert first.manifest.config["source"] == [TACO, CC]
    swapped = BuildConfig(source=[CC, TACO], quality=QualityConfig(mutation=False))
    with pytest.raises(OutputError, match="different source"):
        build(swapped, out, workers=2)
    one = BuildConfig(source=[TACO])  # a list of one is the single-source config
    assert one.source == TACO and one.as_json()["source"] == TACO


def test_extra_codecontests_tests_reach_quality_not_the_record(tmp_path):
    out = tmp_path / "cc"
    spec = f"codecontests,tests=public+private:{MIXED / 'codecontests'}"
    run_build(out, "--source", spec)
    rows = {r["problem_id"]: r for r in pq.read_table(out / "train.parquet").to_pylist()}
    record = rows["codecontests/train/00001"]
    notes = json.loads(record["provenance"])["notes"]
    assert notes["extra_tests"] == 3 and notes["extra_tests_by_group"] == {"generated": 3}
    assert len(json.loads(record["tests"])) == 2  # public + private only are scored


def test_dedup_rule_test_split_then_kept_then_source_order():
    d = Deduplicator(0.8)
    text = "print the sum of the two integers a and b given on one line of input"
    d.add("taco/train/00001", "train", text, rank=1)
    d.add("apps/train/0005", "train", text, rank=0)
    d.add("codecontests/train/00002", "train", text, rank=2)
    found = {x.problem_id: x.kept_id for x in d.duplicates()}
    assert found == {
        "taco/train/00001": "apps/train/0005",
        "codecontests/train/00002": "apps/train/0005",
    }
    d.add("codecontests/test/00009", "test", text, rank=2, shadow=True)
    found = {x.problem_id: (x.kept_id, x.kept_rejected) for x in d.duplicates()}
    assert found == {  # a rejected test problem keeps every train copy out, is never reported
        "apps/train/0005": ("codecontests/test/00009", True),
        "taco/train/00001": ("codecontests/test/00009", True),
        "codecontests/train/00002": ("codecontests/test/00009", True),
    }
    d.add("taco/test/00003", "test", text, rank=1)
    kept = {x.kept_id for x in d.duplicates()}
    assert kept == {"taco/test/00003"}  # a kept test problem before a rejected one


def test_same_url_only_across_sources():
    assert url_key("https://codeforces.com/contest/1700/problem/C") == "codeforces:1700/c"
    assert url_key("http://www.codeforces.com/problemset/problem/1700/C/") == "codeforces:1700/c"
    assert url_key("") == url_key("not a url") == ""
    d = Deduplicator(0.8)
    url = "https://codeforces.com/problemset/problem/1/A"
    d.add("apps/train/1", "train", "first wording of a problem about squares", url=url)
    d.add("apps/train/2", "train", "another text entirely, on theatre flagstones", url=url)
    assert d.duplicates() == []  # the same source: its own curation stands
    d.add("taco/train/7", "train", "a third text about covering a square", rank=1, url=url)
    assert [(x.problem_id, x.same_url) for x in d.duplicates()] == [("taco/train/7", True)]


def test_mixed_build_errors_are_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli, ["build", "--out", str(tmp_path / "o"), "--source", TACO, "--source", TACO]
    )
    assert result.exit_code != 0 and "given more than once" in result.output
    assert len(result.output.strip().splitlines()) == 1
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runner.invoke(
        cli, ["build", "--out", str(tmp_path / "p"), "--source", TACO, "--source", str(empty)]
    )
    assert result.exit_code != 0 and "no rows at all" in result.output
    assert not (tmp_path / "p").exists()


def _readme_command() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- mixed-build -->\n```bash\n(.*?)```", text, re.S)
    assert block, "the README's mixed-build command is gone"
    return shlex.split(block.group(1).replace("\\\n", " "))


@pytest.mark.skipif(
    not (SHARED_DATA / "evalplus" / "MbppPlus.jsonl.gz").is_file() or not HUMANEVAL_PLUS.is_file(),
    reason=f"no EvalPlus files in {SHARED_DATA / 'evalplus'}",
)
def test_readme_deepcoder_mix_command_runs_as_written_on_the_fixtures(tmp_path):
    argv = _readme_command()
    assert argv[:2] == ["appsplus", "build"]
    # the command's paths, as folders of the fixtures; the suites' data where it documents
    for name, fixture in (("TACO", "taco"), ("code_contests", "codecontests")):
        (tmp_path / name).symlink_to(MIXED / fixture)
    (tmp_path / "code_generation_lite").symlink_to(MIXED / "livecodebench")
    data = tmp_path / "data"
    data.mkdir()
    (data / "evalplus").symlink_to(SHARED_DATA / "evalplus")
    (data / "livecodebench").symlink_to(MIXED / "livecodebench")
    env = {**os.environ, "APPSPLUS_DATA_DIR": str(data)}
    command = [sys.executable, "-m", "appsplus", *argv[1:]]  # as written
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "deepcoder-mix"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["spec"] for s in manifest["sources"]] == [a for a in argv if ":" in a and "/" in a]
    found = rejections(out)
    assert found["taco/train/00004"][0] == "contaminated"  # the planted HumanEval+ item
    assert (
        found["taco/train/00001"][0] == found["codecontests/train/00000"][0] == "duplicate_problem"
    )
    assert set(manifest["quality"]["contamination"]["benchmarks"]) == {
        "humaneval+",
        "mbpp+",
        "livecodebench:2024-08-01",
    }
    # the problem before the cutoff is trained on (tests only), the one after is left out
    assert "livecodebench/train/abc350_a" in kept_ids(out, "tests_only")
    lcb = next(s for s in manifest["sources"] if s["spec"].startswith("livecodebench"))
    assert lcb["left_out"] == {"contest_date after 2024-07-31": 1}


def test_overwrite_without_tests_only_removes_its_file_and_the_manifest_hashes_it(tmp_path):
    out = tmp_path / "b"
    first = run_build(out, "--source", "sample", "--limit", "4", "--tests-only")
    # the manifest hashes every file of the folder but the measurements (runtimes.parquet)
    assert "tests_only.parquet" in first["files"]
    assert set(output_hashes(out)) == {*first["files"], "manifest.json"}
    assert checked_manifest(out).files["tests_only.parquet"].rows == 1
    second = run_build(out, "--source", "sample", "--limit", "4", "--overwrite")
    assert not (out / "tests_only.parquet").exists()  # the earlier build's, not described
    assert set(output_hashes(out)) == {*second["files"], "manifest.json"}
    assert second["rejected_by_reason"]["no_solutions"] == 1
    checked_manifest(out)
    # and back: the tests-only build writes it again, from the cache
    third = run_build(out, "--source", "sample", "--limit", "4", "--tests-only", "--overwrite")
    assert third["files"]["tests_only.parquet"] == first["files"]["tests_only.parquet"]


def test_tests_only_rows_load_as_a_split_and_with_datasets(tmp_path):
    import datasets

    import appsplus
    from appsplus.dataset import DatasetError, check_tests_only_row

    out = tmp_path / "b"
    run_build(out, "--source", "sample", "--limit", "4", "--tests-only")
    cache = str(tmp_path / "hf")
    ds = appsplus.load(out, include_tests_only=True, cache_dir=cache)
    assert list(ds["tests_only"]["problem_id"]) == ["apps/train/4810"]
    assert set(ds) == {"train", "test", "tests_only"}
    row = ds["tests_only"][0]
    assert row["tests_only"] and row["solutions"] == [] and row["canonical_solution"] == ""
    assert "tests_only" not in appsplus.load(out, cache_dir=cache)  # the default: verified only
    # filters on quality leave tests-only rows (no quality) alone
    filtered = appsplus.load(out, include_tests_only=True, cache_dir=cache, min_mutation_score=1.1)
    assert filtered["tests_only"].num_rows == 1 and filtered["train"].num_rows == 0
    # its rows are checked: a changed test breaks the content hash, a solution is refused
    bad = dict(row)
    bad["tests"] = bad["tests"].replace('"output": "', '"output": "x', 1)
    with pytest.raises(ValueError, match="content_hash"):
        check_tests_only_row(bad)
    with pytest.raises(ValueError, match="no solution"):
        check_tests_only_row({**row, "solutions": ["print(1)"]})
    # datasets: the README's line on the file, and the card's `tests_only` config
    plain = datasets.load_dataset(
        "parquet", data_files={"tests_only": str(out / "tests_only.parquet")}, cache_dir=cache
    )
    assert plain["tests_only"]["problem_id"] == ["apps/train/4810"]
    card = datasets.load_dataset(str(out), "tests_only", cache_dir=cache)
    assert list(card) == ["tests_only"] and card["tests_only"].num_rows == 1
    # a build without --tests-only: one line
    plain_out = tmp_path / "plain"
    run_build(plain_out, "--source", "sample", "--limit", "2")
    with pytest.raises(DatasetError, match="built without --tests-only"):
        appsplus.load(plain_out, include_tests_only=True, cache_dir=cache)
    # the curriculum (and the RL export's curriculum) refuse them with one line
    runner = CliRunner()
    for argv, says in (
        (["curriculum", "export", str(out), "--out", str(tmp_path / "c")], "no canonical"),
        (
            ["export", str(out), "--format", "trl", "--out", str(tmp_path / "e"), "--curriculum"],
            "no canonical",
        ),
    ):
        result = runner.invoke(cli, [*argv, "--split", "tests_only"])
        assert result.exit_code == 1 and says in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "c").exists() and not (tmp_path / "e").exists()


def test_tests_only_rows_export_for_rl_and_score(tmp_path):
    """`appsplus export --split tests_only`: the unsolved problems reach the RL library with
    their tests as ground truth, and the reward judges a program on them."""
    from appsplus.integrations.verl import compute_score

    out = tmp_path / "b"
    run_build(out, "--source", "sample", "--limit", "4", "--tests-only")
    verl = tmp_path / "verl"
    result = CliRunner().invoke(
        cli, ["export", str(out), "--format", "verl", "--out", str(verl), "--split", "tests_only"]
    )
    assert result.exit_code == 0, result.output
    (row,) = pq.read_table(verl / "tests_only.parquet").to_pylist()
    (built,) = pq.read_table(out / "tests_only.parquet").to_pylist()
    assert row["extra_info"]["problem_id"] == built["problem_id"] == "apps/train/4810"
    tests = json.loads(row["reward_model"]["ground_truth"])
    assert tests == json.loads(built["tests"]) and all(t["kind"] == "stdio" for t in tests)
    # a program that answers every test right, and one that does not
    answers = {t["input"]: t["output"] for t in tests}
    right = f"import sys\nsys.stdout.write({answers!r}[sys.stdin.read()])\n"
    info = row["extra_info"]
    good = compute_score(row["data_source"], f"```python\n{right}```", tests, info)
    assert good["score"] == 1.0 and good["outcome"] == "passed", good
    bad = compute_score(row["data_source"], "```python\nprint('no')\n```", tests, info)
    assert bad["outcome"] == "wrong_answer" and bad["failure_expected"], bad
    manifest = json.loads((verl / "export_manifest.json").read_text())
    assert manifest["rows"] == {"tests_only": 1}


def test_readme_loads_tests_only_rows_as_written(tmp_path):
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- tests-only-load -->\n```python\n(.*?)```", text, re.S)
    assert block, "the README's tests-only loading lines are gone"
    run_build(tmp_path / "deepcoder-mix", "--source", LCB, "--tests-only")
    code = block.group(1) + "print(ds['tests_only'].num_rows, rl['tests_only'].num_rows)\n"
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "hf")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["1", "1"]  # abc350_a, before the cutoff


def test_a_livecodebench_window_without_problems_says_so(tmp_path):
    out = tmp_path / "w"
    source = f"livecodebench,until=2020-01-01:{MIXED / 'livecodebench'}"
    for argv in (["--source", source], ["--source", "sample", "--source", source]):
        result = CliRunner().invoke(
            cli, ["build", "--out", str(out), *FAST, *argv, "--tests-only", "--limit", "2"]
        )
        assert result.exit_code == 1
        line = result.output.strip()
        assert len(line.splitlines()) == 1 and "no rows at all" not in line
        assert "the window until=2020-01-01 selected no problem: all 2 rows" in line
        assert "dated 2024-04-20 to 2024-09-07" in line
        assert not out.exists()
