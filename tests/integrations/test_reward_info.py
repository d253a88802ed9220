"""Why rewards are low: each adapter hands its library the first failure of a wrong program.

The libraries' own code paths where they import: verl's reward loader and NaiveRewardManager
(and its validation metrics), TRL's GRPOTrainer reward call, OpenRLHF's reward_func loader,
`appsplus serve`'s /v1/run. Rewards are unchanged (compared with the plain scorer's).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from testkit import require

from appsplus.execution import Limits, run_tests
from appsplus.execution.record import DETAIL_CHARS, first_failure
from appsplus.integrations.scoring import (
    Item,
    RewardConfig,
    Scorer,
    failure_fields,
    parse_tests,
    tests_json,
)

# test 0 passes, test 1 expects 1800 b's: a wrong program prints 'c' * 1900 there
TESTS = tests_json(
    parse_tests({"inputs": ["2\n", "7\n", "3\n"], "outputs": ["4\n", "b" * 1800 + "\n", "6\n"]})
)
RIGHT = "n = int(input())\nprint(n * 2 if n != 7 else 'b' * 1800)\n"
WRONG = "n = int(input())\nprint(n * 2 if n != 7 else 'c' * 1900)\n"
CRASH = "n = int(input())\nprint(10 // (n - 7) + n * 2 - 10 // (n - 7))\n"
PROGRAMS = [RIGHT, WRONG, CRASH]


def fenced(code: str) -> str:
    return f"My answer:\n```python\n{code}```\n"


def assert_wrong_answer_fields(fields: dict[str, str]) -> None:
    """The text fields of WRONG's first failure (test 1), cut and marked."""
    assert fields["failure_test_index"] == "1" and fields["failure_verdict"] == "wrong_answer"
    assert fields["failure_input"] == "7\n"
    assert (
        fields["failure_expected"]
        == "b" * DETAIL_CHARS + f"\n[... {1801 - DETAIL_CHARS} characters cut]"
    )
    assert (
        fields["failure_actual"]
        == "c" * DETAIL_CHARS + f"\n[... {1901 - DETAIL_CHARS} characters cut]"
    )
    assert fields["failure_error"] == ""


@pytest.fixture(scope="module")
def plain():
    """Rewards and failures of the plain scorer, and of run_tests itself."""
    scorer = Scorer(RewardConfig(shape="fraction", workers=2))
    try:
        scores = scorer.score([Item(text=fenced(p), tests=TESTS) for p in PROGRAMS])
    finally:
        scorer.close()
    tests = parse_tests(TESTS)
    direct = [first_failure(tests, run_tests(p, tests, Limits())) for p in PROGRAMS]
    return scores, direct


def test_scorer_keeps_the_first_failure_as_bench_does(plain):
    scores, direct = plain
    assert [s.reward for s in scores] == [1.0, 2 / 3, 2 / 3]
    assert [s.failure for s in scores] == direct  # one builder: execution.record
    assert scores[0].failure is None
    assert_wrong_answer_fields(failure_fields(scores[1]))
    crash = scores[2].failure
    assert (crash["test_index"], crash["verdict"]) == (1, "runtime_error")
    assert "ZeroDivisionError" in crash["error"]
    assert set(failure_fields(scores[0]).values()) == {""}


def test_verl_reward_manager_keeps_the_failure_per_sample(plain, tiny_chat_model):
    require("verl", "the developer install line of the README installs it")
    try:
        import numpy as np
        import torch
        from omegaconf import OmegaConf
        from transformers import AutoTokenizer
        from verl import DataProto
        from verl.trainer.ppo.metric_utils import process_validation_metrics
        from verl.trainer.ppo.reward import get_custom_reward_fn
        from verl.workers.reward_manager.naive import NaiveRewardManager
    except ImportError as e:
        pytest.skip(f"verl's reward manager does not import without its GPU stack here: {e}")
    import appsplus.integrations.verl as module

    config = OmegaConf.create(
        {
            "reward": {
                "custom_reward_function": {
                    "path": module.__file__,
                    "name": "compute_score",
                    "reward_kwargs": {"shape": "fraction", "workers": 2},
                }
            }
        }
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_chat_model)
    prompt = tokenizer("Write the program.", return_tensors="pt").input_ids[0]
    responses = [tokenizer(fenced(p), return_tensors="pt").input_ids[0] for p in PROGRAMS]
    width = max(len(r) for r in responses)
    padded = torch.full((len(PROGRAMS), width), tokenizer.pad_token_id or 0)
    mask = torch.zeros((len(PROGRAMS), len(prompt) + width), dtype=torch.long)
    mask[:, : len(prompt)] = 1
    for i, r in enumerate(responses):
        padded[i, : len(r)] = r
        mask[i, len(prompt) : len(prompt) + len(r)] = 1
    data = DataProto.from_dict(
        tensors={
            "prompts": prompt.repeat(len(PROGRAMS), 1),
            "responses": padded,
            "attention_mask": mask,
        },
        non_tensors={
            "data_source": np.array(["appsplus/apps-plus"] * len(PROGRAMS), dtype=object),
            "reward_model": np.array([{"ground_truth": TESTS}] * len(PROGRAMS), dtype=object),
            "extra_info": np.array([{} for _ in PROGRAMS], dtype=object),
        },
    )
    manager = NaiveRewardManager(tokenizer, 0, compute_score=get_custom_reward_fn(config))
    out = manager(data, return_dict=True)
    scores, _ = plain
    rewards = out["reward_tensor"].sum(dim=-1).tolist()
    assert rewards == pytest.approx([s.reward for s in scores])  # unchanged by the extra info
    info = out["reward_extra_info"]
    assert_wrong_answer_fields({k: v[1] for k, v in info.items() if k.startswith("failure_")})
    assert info["failure_verdict"] == ["", "wrong_answer", "runtime_error"]
    assert "ZeroDivisionError" in info["failure_error"][2]
    # verl's validation metrics average the numbers and leave the text columns out
    metrics = process_validation_metrics(
        ["appsplus/apps-plus"] * 3, ["u0", "u1", "u2"], {"reward": rewards, **info}
    )
    names = set(metrics["appsplus/apps-plus"])
    assert {"reward", "score", "pass_fraction"} <= names
    assert not any(n.startswith("failure_") for n in names)


def test_trl_grpo_trainer_logs_the_first_failure(plain, tiny_chat_model, tmp_path):
    require("trl", "the integrations extra installs it")
    import datasets
    from trl import GRPOConfig, GRPOTrainer

    from appsplus.integrations.trl import CodeReward

    rows = {"prompt": ["Write the program."] * 3, "tests": [TESTS] * 3}
    train = datasets.Dataset.from_dict(rows)
    reward = CodeReward(shape="fraction", workers=2)
    config = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=3,
        num_generations=3,
        max_completion_length=8,
        max_steps=1,
        report_to=[],
        use_cpu=True,
        bf16=False,
        save_strategy="no",
    )
    trainer = GRPOTrainer(
        model=str(tiny_chat_model), reward_funcs=[reward], args=config, train_dataset=train
    )
    try:
        # TRL's own reward call (the one its training step makes), with our completions
        inputs = [dict(row) for row in train]
        completions = [fenced(p) for p in PROGRAMS]
        rewards = trainer._calculate_rewards(inputs, rows["prompt"], completions, [[1]] * 3)
    finally:
        reward.close()
    scores, _ = plain
    assert rewards[:, 0].tolist() == pytest.approx([s.reward for s in scores])
    pending = trainer._logs["extra"] or trainer._pending_extra_logs
    failures = pending["appsplus_first_failure"]
    assert failures[0] == ""
    assert failures[1].startswith("test 1: wrong_answer\ninput: 7\n\nexpected: bbb")
    assert f"[... {1801 - DETAIL_CHARS} characters cut]" in failures[1]
    assert "actual: ccc" in failures[1]
    assert failures[2].startswith("test 1: runtime_error") and "ZeroDivisionError" in failures[2]
    assert pending["appsplus_outcome"] == ["passed", "wrong_answer", "runtime_error"]


def test_openrlhf_answer_has_outcome_shares_and_failures(plain):
    torch = pytest.importorskip("torch")
    try:
        from openrlhf.utils.agent import SingleTurnAgentExecutor
    except ImportError as e:
        pytest.skip(f"OpenRLHF's agent module does not import here: {e}")
    import appsplus.integrations.openrlhf as module

    executor = SingleTurnAgentExecutor(remote_rm_url=module.__file__)  # OpenRLHF's own loader
    prompt = "<|user|>\nQUESTION\n<|assistant|>\n"
    queries = [prompt + fenced(p) for p in PROGRAMS]
    outputs = asyncio.run(
        executor._fetch_rewards_via_func(queries, [prompt] * 3, [TESTS] * 3)
    )  # one call per query, as OpenRLHF makes them
    scores, direct = plain
    assert [float(o["rewards"][0]) for o in outputs] == [1.0, 0.0, 0.0]  # binary by default
    logs = [o["extra_logs"] for o in outputs]
    for extra in logs:  # OpenRLHF turns each value into a tensor: numbers only
        assert all(
            isinstance(v, torch.Tensor) and v.dtype.is_floating_point for v in extra.values()
        )
    assert [float(x["appsplus_outcome_passed"][0]) for x in logs] == [1.0, 0.0, 0.0]
    assert [float(x["appsplus_outcome_wrong_answer"][0]) for x in logs] == [0.0, 1.0, 0.0]
    assert [float(x["appsplus_outcome_runtime_error"][0]) for x in logs] == [0.0, 0.0, 1.0]
    assert [o["appsplus_failures"][0] for o in outputs] == direct


def test_serve_v1_run_answers_the_first_failure(served, plain):
    import requests

    _, direct = plain
    jobs = [{"program": p, "tests": json.loads(TESTS)} for p in PROGRAMS]
    r = requests.post(
        served.url + "/v1/run", json={"jobs": jobs}, headers=served.headers, timeout=60
    )
    assert r.status_code == 200, r.text
    assert [x["failure"] for x in r.json()["results"]] == direct
