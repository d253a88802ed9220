"""The quality checks on real data from ../shared/data (skipped cleanly when it is absent)."""

from __future__ import annotations

import json

from appsplus.curate.pipeline import BuildConfig, build
from appsplus.curate.verify import VerifyConfig
from appsplus.dataset import load
from appsplus.execution import Limits
from appsplus.quality.checks import needs_checker
from appsplus.quality.decontam import DecontaminationFilter, load_benchmarks
from appsplus.quality.models import QualityConfig


def test_known_any_answer_problems_need_a_checker(shared_data):
    # the data README names these as accepting any valid answer
    raw = (shared_data / "apps" / "raw" / "test" / "0283" / "question.txt").read_text()
    assert needs_checker(raw)
    rows = [json.loads(line) for line in (shared_data / "apps" / "apps_rows.jsonl").open()]
    by_id = {(r["split"], r["problem_id"]): r["question"] for r in rows}
    # (train 2153 accepts any valid answer too, but its statement never says so: a
    # construction problem that wording cannot reveal)
    for key in (("test", 381), ("test", 4411)):
        assert needs_checker(by_id[key]), key


def test_stepcoder_quoted_arguments_flagged(shared_data, tmp_path):
    items = json.loads((shared_data / "apps-plus" / "stepcoder_apps_plus_sample.json").read_text())
    subset = tmp_path / "subset.json"
    subset.write_text(json.dumps([items[267], items[0]]))  # 267: '"../"' with its quotes
    quality = QualityConfig(dedupe=False, mutation=False, nondeterminism=False)
    config = BuildConfig(
        source=f"stepcoder:{subset}", verify=VerifyConfig(limits=Limits(time_s=2)), quality=quality
    )
    report = build(config, tmp_path / "out", workers=2)
    assert report.manifest.quality["flags"]["quoted_string_args"] == 1
    ds = load(tmp_path / "out", exclude_flags=["quoted_string_args"])
    assert [r["problem_id"] for r in ds["train"]] == ["stepcoder/train/0001"]


def test_humaneval_and_mbpp_load_as_benchmarks(shared_data):
    index = load_benchmarks(
        [
            str(shared_data / "humaneval" / "HumanEval.jsonl.gz"),
            str(shared_data / "mbpp" / "mbpp.jsonl"),
        ]
    )
    assert len(index.items) == 164 + 974
    assert {i.benchmark for i in index.items} == {"HumanEval", "mbpp"}
    assert DecontaminationFilter(index, 0.5).index.files.keys() == {
        "HumanEval.jsonl.gz",
        "mbpp.jsonl",
    }
