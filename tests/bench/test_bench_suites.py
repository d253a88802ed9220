"""Suites: prompt formats, tests, time limits and dataset hashes of apps+/sample, apps, humaneval, mbpp."""

from __future__ import annotations

import json

import pytest

from appsplus.bench.suites import SuiteError, load_suite
from appsplus.bench.suites.apps import APPS_STOP, APPS_TIME_LIMIT_S
from appsplus.prompts import build_prompt


def test_sample_suite_is_the_verified_test_split(sample_suite):
    problems = sample_suite.problems
    assert sample_suite.info.name == "sample" and sample_suite.info.split == "test"
    assert len(problems) == sample_suite.info.n_problems >= 10
    assert [p.problem_id for p in problems] == sorted(p.problem_id for p in problems)
    assert all(p.problem_id.startswith("apps/test/") for p in problems)
    for p in problems:
        kind = p.tests[0].kind
        assert p.assembly == "apps" and p.stop == APPS_STOP
        assert p.canonical_solution and p.time_limit_s >= 1.0
        assert p.prompt.startswith("QUESTION:\n") and p.prompt.endswith("ANSWER:\n")
        assert ("Use Call-Based format" in p.prompt) == (kind == "call")
        assert p.chat_prompt.endswith(p.prompt) and "```python" in p.chat_prompt
        assert (p.entry_point is not None) == (kind == "call")


def test_sample_suite_prompt_is_the_shared_prompt_builder(sample_suite, bench_cache):
    from appsplus.bench.suites.apps import built_sample, read_records

    records = {r.problem_id: r for r in read_records(built_sample(), "test")}
    for p in sample_suite.problems:
        r = records[p.problem_id]
        assert p.prompt == build_prompt(r.question, r.starter_code, r.kind)
        assert p.time_limit_s == r.time_limit_s and p.tests == r.tests


def test_limit_and_time_limit_override(bench_cache):
    suite = load_suite("sample", limit=3, time_limit_s=0.5)
    assert len(suite.problems) == 3 and suite.info.n_problems == 3 and suite.info.limit == 3
    assert {p.time_limit_s for p in suite.problems} == {0.5} and suite.info.time_limit_s == 0.5


def test_apps_suite_from_a_raw_folder_tree(shared_data):
    suite = load_suite("apps", str(shared_data / "apps" / "raw"))
    ids = [p.problem_id for p in suite.problems]
    assert ids == [
        "apps/test/0087",
        "apps/test/0108",
        "apps/test/0257",
        "apps/test/0283",
        "apps/test/0300",
    ]
    assert {p.difficulty for p in suite.problems} == {"interview"}  # from the id range
    assert {p.time_limit_s for p in suite.problems} == {APPS_TIME_LIMIT_S}
    assert all(len(p.tests) > 50 for p in suite.problems)
    assert suite.info.dataset_hash.startswith("sha256:")
    train = load_suite("apps", str(shared_data / "apps" / "raw"), split="train")
    assert {p.tests[0].kind for p in train.problems} == {"stdio", "call"}


def test_apps_suite_from_rows_counts_what_it_leaves_out(shared_data):
    suite = load_suite("apps", str(shared_data / "apps" / "apps_rows.jsonl"))
    assert suite.info.n_problems == len(suite.problems) > 200
    assert {p.difficulty for p in suite.problems} == {"introductory", "interview", "competition"}
    assert all(p.problem_id.startswith("apps/test/") for p in suite.problems)
    text = (shared_data / "apps" / "apps_rows.jsonl").read_text()
    rows = sum(1 for line in text.splitlines() if '"split": "test"' in line)
    assert len(suite.problems) + sum(suite.info.skipped.values()) <= rows


def test_apps_suite_offline_without_dataset_says_what_to_pass(monkeypatch):
    import appsplus.sources.hub as hub

    monkeypatch.setattr(hub, "_hub_reachable", lambda *a, **k: False)
    monkeypatch.setattr(
        hub,
        "hf_fetch",
        lambda *a: (_ for _ in ()).throw(hub.SourceUnavailable("offline; use --source PATH")),
    )
    with pytest.raises(SuiteError, match="offline"):
        load_suite("apps")


def test_humaneval_prompt_and_judge_format(shared_data):
    dataset = shared_data / "humaneval" / "HumanEval.jsonl.gz"
    suite = load_suite("humaneval", str(dataset))
    p = suite.problems[0]
    assert p.problem_id == "HumanEval/0" and p.entry_point == "has_close_elements"
    assert p.prompt.startswith("from typing import List") and p.difficulty is None
    assert p.stop == ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]
    assert "```python\n" + p.prompt in p.chat_prompt
    assert "def check(candidate):" in p.harness and "check(has_close_elements)" in p.harness
    assert suite.info.dataset_hash.startswith("sha256:") and suite.info.split is None


def test_mbpp_prompt_and_splits(shared_data):
    dataset = str(shared_data / "mbpp" / "mbpp.jsonl")
    suite = load_suite("mbpp", dataset)
    p = suite.problems[0]
    assert p.problem_id == "mbpp/11" and p.entry_point == "remove_Occ"
    assert p.prompt == (
        "You are an expert Python programmer, and here is your task: Write a python function to "
        "remove first and last occurrence of a given character from the string. Your code "
        'should pass these tests:\n\nassert remove_Occ("hello","l") == "heo"\n'
        'assert remove_Occ("abcda","a") == "bcd"\nassert remove_Occ("PHP","P") == "H"\n[BEGIN]\n'
    )
    assert "[DONE]" in p.stop and p.chat_prompt.endswith("code block.")
    sizes = {
        s: len(load_suite("mbpp", dataset, split=s).problems)
        for s in ("prompt", "test", "validation", "train")
    }
    assert sizes == {"prompt": 10, "test": 500, "validation": 90, "train": 374}
    with pytest.raises(SuiteError, match="split"):
        load_suite("mbpp", dataset, split="dev")


def test_mbpp_setup_code_runs_after_the_solution(shared_data):
    suite = load_suite("mbpp", str(shared_data / "mbpp" / "mbpp.jsonl"), split="all")
    with_setup = [p for p in suite.problems if "root = Node(1)" in p.harness]
    assert len(with_setup) == 2  # the two tasks with test_setup_code use the solution's Node


@pytest.mark.parametrize(
    ("name", "dataset", "message"),
    [
        ("nope", None, "unknown suite"),
        ("apps+", None, "needs --dataset"),
        ("apps+", "/no/such/folder", "no such folder"),
        ("humaneval", None, "needs --dataset"),
        ("humaneval", "/no/such/file.jsonl", "no such file"),
        ("mbpp", None, "needs --dataset"),
    ],
)
def test_suite_errors(name, dataset, message):
    with pytest.raises(SuiteError, match=message):
        load_suite(name, dataset)


def test_bad_humaneval_file(tmp_path):
    path = tmp_path / "he.jsonl"
    path.write_text(json.dumps({"task_id": "x", "prompt": "p"}) + "\n")
    with pytest.raises(SuiteError, match="lacks"):
        load_suite("humaneval", str(path))
    path.write_text("{not json\n")
    with pytest.raises(SuiteError, match="not valid JSON"):
        load_suite("humaneval", str(path))
