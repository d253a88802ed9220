"""Reward adapters on the embedded sample: equal to run_tests verdicts, loaded the libraries' way."""

from __future__ import annotations

import asyncio
import inspect
import json

import pytest
from testkit import require

from appsplus.execution import Limits, run_tests
from appsplus.integrations.scoring import (
    Item,
    RewardConfig,
    Scorer,
    parse_tests,
    program_of,
    tests_json,
)
from appsplus.record import Record


def fenced(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}```\nIt reads the input."


@pytest.fixture(scope="module")
def cases(sample_records):
    """(completion, tests JSON, record) for a right and a wrong answer per record."""
    out = []
    for row in sample_records[:6]:
        record = Record.from_row(row)
        tests = tests_json(record.tests)
        out.append((fenced(record.canonical_solution), tests, record))
        out.append((fenced("print('no')\n"), tests, record))
    return out


@pytest.fixture(scope="module")
def scorer():
    s = Scorer(RewardConfig(shape="fraction", workers=2))
    yield s
    s.close()


def expected_fraction(completion: str, record: Record) -> float:
    program = program_of(completion, "", record.fn_name)
    limits = Limits(time_s=record.time_limit_s or Limits().time_s)
    return run_tests(program, record.tests, limits).pass_fraction


def test_scores_equal_run_tests(cases, scorer):
    scores = scorer.score([Item(text=c, tests=t) for c, t, _ in cases])
    assert [s.reward for s in scores] == [expected_fraction(c, r) for c, _, r in cases]
    assert scores[0].reward == 1.0 and scores[1].reward < 1.0


def test_shapes_and_test_cap():
    tests = {"inputs": ["1\n", "2\n"], "outputs": ["1\n", "4\n"]}
    texts = ["print(input())", "print(int(input()) ** 2)", "def (", "1/0"]
    items = [Item(text=t, tests=tests) for t in texts]
    table = Scorer(RewardConfig(shape="table", workers=1))
    capped = Scorer(RewardConfig(shape="binary", workers=1, max_tests=1))
    try:
        assert [s.reward for s in table.score(items)] == [-0.3, 1.0, -1.0, -0.6]
        assert [s.reward for s in capped.score(items)] == [1.0, 1.0, 0.0, 0.0]
        assert [len(s.verdicts) for s in capped.score(items)] == [1, 1, 1, 1]
    finally:
        table.close()
        capped.close()


def test_trl_reward_conversational_and_logging(cases):
    from appsplus.integrations.trl import CodeReward

    reward = CodeReward(shape="binary", workers=2)
    metrics: dict[str, float] = {}
    extra: dict[str, list] = {}
    completions = [[{"role": "assistant", "content": c}] for c, _, _ in cases]
    values = reward(
        prompts=[[{"role": "user", "content": "q"}]] * len(cases),
        completions=completions,
        tests=[t for _, t, _ in cases],
        prefix=[""] * len(cases),
        fn_name=[r.fn_name for _, _, r in cases],
        time_limit_s=[r.time_limit_s for _, _, r in cases],
        log_metric=lambda name, value: metrics.__setitem__(name, value),
        log_extra=lambda column, vals: extra.__setitem__(column, vals),
        trainer_state=None,
    )
    reward.close()
    assert values == [1.0 if expected_fraction(c, r) == 1.0 else 0.0 for c, _, r in cases]
    assert metrics["appsplus/pass_rate"] == sum(values) / len(values)
    assert len(extra["appsplus_outcome"]) == len(cases)


def test_trl_reward_malformed_tests_give_none():
    from appsplus.integrations.trl import CodeReward

    reward = CodeReward(workers=1)
    good = tests_json(parse_tests({"inputs": ["1\n"], "outputs": ["1\n"]}))
    values = reward(prompts=["p", "p"], completions=["print(1)", "print(1)"], tests=["{", good])
    reward.close()
    assert values == [None, 1.0]


def test_bad_programs_never_raise(scorer):
    tests = tests_json(parse_tests({"inputs": ["1\n"], "outputs": ["1\n"]}))
    texts = ["", "def (", "import os\nos._exit(3)\n", "raise SystemExit(2)", "```python\n"]
    scores = scorer.score([Item(text=t, tests=tests) for t in texts])
    assert [s.reward for s in scores] == [0.0] * len(texts)


def test_curriculum_prefix_is_judged_with_the_completion(scorer):
    tests = {"inputs": ["3\n"], "outputs": ["6\n"]}
    prefix = "n = int(input())\n"
    scores = scorer.score(
        [
            Item(text="print(n * 2)\n", tests=tests, prefix=prefix),  # a raw continuation
            Item(text=fenced("print(n * 2)\n"), tests=tests, prefix=prefix),  # fenced rest
            Item(text=fenced(prefix + "print(n * 2)\n"), tests=tests, prefix=prefix),  # restated
        ]
    )
    assert [s.reward for s in scores] == [1.0, 1.0, 1.0]


def test_verl_loads_compute_score_through_its_own_loader(cases):
    require("verl", "the developer install line of the README installs it")
    try:
        from omegaconf import OmegaConf
        from verl.trainer.ppo.reward import get_custom_reward_fn
    except ImportError as e:
        pytest.skip(f"verl's reward loader does not import without its GPU stack here: {e}")
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
    fn = get_custom_reward_fn(config)
    results = [
        fn(
            data_source="appsplus/apps-plus",
            solution_str=c,
            ground_truth=t,
            extra_info={"fn_name": r.fn_name, "time_limit_s": r.time_limit_s, "prefix": ""},
        )
        for c, t, r in cases
    ]
    assert [x["score"] for x in results] == [expected_fraction(c, r) for c, _, r in cases]
    assert {x["outcome"] for x in results} <= {"passed", "wrong_answer", "runtime_error"}
    batch = module.compute_score_batch(
        ["appsplus/apps-plus"] * len(cases),
        [c for c, _, _ in cases],
        [t for _, t, _ in cases],
        [{"fn_name": r.fn_name, "time_limit_s": r.time_limit_s} for _, _, r in cases],
        shape="fraction",
        workers=2,
    )
    assert [x["score"] for x in batch] == [x["score"] for x in results]


def test_verl_signature():
    from appsplus.integrations.verl import compute_score

    params = list(inspect.signature(compute_score).parameters)
    assert params[:4] == ["data_source", "solution_str", "ground_truth", "extra_info"]
    assert inspect.signature(compute_score).parameters["extra_info"].default is None


def test_openrlhf_loads_reward_func_through_its_agent(cases):
    torch = pytest.importorskip("torch")
    try:
        from openrlhf.utils.agent import SingleTurnAgentExecutor
    except ImportError as e:
        pytest.skip(f"OpenRLHF's agent module does not import here: {e}")
    import appsplus.integrations.openrlhf as module

    executor = SingleTurnAgentExecutor(remote_rm_url=module.__file__)  # OpenRLHF's own loader
    prompt = "<|user|>\nQUESTION...\n<|assistant|>\n"
    labels = [json.dumps({"tests": json.loads(t), "fn_name": r.fn_name}) for _, t, r in cases]
    outputs = asyncio.run(
        executor._fetch_rewards_via_func(
            [prompt + c for c, _, _ in cases], [prompt] * len(cases), labels
        )
    )
    rewards = [float(o["rewards"][0]) for o in outputs]
    assert rewards == [1.0 if expected_fraction(c, r) == 1.0 else 0.0 for c, _, r in cases]
    assert isinstance(outputs[0]["rewards"], torch.Tensor)
    assert "appsplus_pass_fraction" in outputs[0]["extra_logs"]


def test_integrations_import_no_torch():
    import subprocess
    import sys

    code = (
        "import sys, appsplus.integrations.trl, appsplus.integrations.verl, "
        "appsplus.integrations.openrlhf, appsplus.integrations.export, appsplus.integrations.serve; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
