"""appsplus.trainers.data: records from the embedded sample, curriculum stages, SFT examples; and SFT."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from appsplus.execution import Job, run_many  # noqa: E402
from appsplus.trainers.data import TaskRecord, _task_record, load_records, sft_example, stages_of  # noqa: E402


@pytest.fixture(scope="module")
def records():
    return load_records("sample", split=None)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, records):
    from appsplus.trainers.model import build_tiny

    texts = [r.prompt() for r in records] + [r.canonical_solution for r in records]
    return build_tiny(tmp_path_factory.mktemp("tiny"), texts, vocab_size=400, hidden_size=32)


def test_sample_records_have_passing_canonical_solutions(records, pool):
    assert len(records) == 27  # the sample's documented kept count
    assert {r.split for r in records} == {"train", "test"}
    assert len(load_records("sample", "train")) == sum(r.split == "train" for r in records)
    results = run_many(
        [Job(program=r.canonical_solution, tests=r.tests) for r in records], pool=pool
    )
    assert all(res.passed for res in results)
    assert all(not t.apps_list_quirk for r in records for t in r.tests if t.kind == "call"), (
        "the one-element-list quirk is resolved"
    )
    ids = {r.problem_id for r in records}
    assert "apps/train/1982" not in ids  # no passing solution
    assert "apps/train/2912" not in ids  # disputed expected output


def test_sample_records_match_an_appsplus_build_of_the_sample(records, pool, tmp_path):
    build = pytest.importorskip("appsplus.curate.pipeline")
    from appsplus.curate.verify import VerifyConfig
    from appsplus.execution import Limits

    config = build.BuildConfig(source="sample", verify=VerifyConfig(limits=Limits(time_s=1.0)))
    build.build(config, tmp_path / "built", pool=pool)
    built = load_records(str(tmp_path / "built"), split=None)
    assert built == records
    assert load_records(str(tmp_path / "built"), "test") == [
        r for r in records if r.split == "test"
    ]


def test_stages_go_from_a_long_prefix_to_full_generation(records):
    for r in records:
        prefixes = stages_of(r)
        assert prefixes[-1] == ""
        assert all(r.canonical_solution.startswith(p) for p in prefixes)
        assert [len(p) for p in prefixes] == sorted((len(p) for p in prefixes), reverse=True)
        # a prefix ends before its last newline: the completion starts with newline + indent
        assert not any(p.endswith("\n") for p in prefixes)
        rest = [r.canonical_solution[len(p) :] for p in prefixes[:-1]]
        assert all(x.startswith(("\n", "\r\n", "\r")) for x in rest) or not rest
    assert max(len(stages_of(r)) for r in records) > 2


def test_sft_example_masks_the_prompt(records, tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    r = records[0]
    ex = sft_example(tok, r, max_length=4096)
    n_prompt = len(tok(r.prompt())["input_ids"])
    assert ex["labels"][:n_prompt] == [-100] * n_prompt
    target = ex["labels"][n_prompt:]
    assert target[-1] == tok.eos_token_id and -100 not in target
    assert tok.decode(target[:-1]) == r.canonical_solution
    assert ex["input_ids"][n_prompt:] == target
    short = sft_example(tok, r, max_length=len(target) + 5)
    assert len(short["input_ids"]) == len(target) + 5
    assert short["labels"][5:] == target  # the prompt loses tokens from the left first


def test_task_record_from_a_stored_row():
    row = {
        "problem_id": "apps/train/0001",
        "split": "train",
        "difficulty": "interview",
        "question": "q",
        "starter_code": "",
        "kind": "stdio",
        "fn_name": None,
        "tests": json.dumps([{"kind": "stdio", "input": "1\n", "output": "1\n"}]),
        "canonical_solution": "print(input())\n",
        "solutions": ["print(input())\n"],
        "time_limit_s": 1.0,
        "content_hash": "ignored",
        "spans": [],
    }
    record = _task_record(row)
    assert isinstance(record, TaskRecord) and record.tests[0].input == "1\n"


def test_sft_trains_on_solutions_and_saves_the_model(tmp_path, tiny):
    import torch
    from transformers import AutoModelForCausalLM

    from appsplus.trainers.sft import SFTConfig, main

    out = tmp_path / "sft"
    main(
        [
            "--set",
            f"model={tiny}",
            "--set",
            f"output_dir={out}",
            "--set",
            "epochs=3",
            "--set",
            "batch_size=4",
            "--set",
            "learning_rate=3e-3",
            "--set",
            "log_every=1",
            "--set",
            "progress=false",
            "--set",
            "torch_threads=1",
        ]
    )
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["losses/sft"] < lines[0]["losses/sft"]
    assert (
        SFTConfig.model_validate(
            __import__("yaml").safe_load((out / "config.yaml").read_text())
        ).epochs
        == 3
    )
    before = AutoModelForCausalLM.from_pretrained(tiny)
    after = AutoModelForCausalLM.from_pretrained(out / "model")
    assert any(not torch.equal(a, b) for a, b in zip(before.parameters(), after.parameters()))
    assert (out / "model" / "tokenizer.json").exists()
