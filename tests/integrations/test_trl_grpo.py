"""TRL's real GRPOTrainer, 2 steps on CPU with the tiny local chat model and our reward."""

from __future__ import annotations

import pytest

pytest.importorskip("trl", reason="TRL is not installed (extra `integrations`)")

from appsplus.execution import Limits, run_tests  # noqa: E402
from appsplus.integrations.export import export_dataset  # noqa: E402
from appsplus.integrations.scoring import parse_tests, program_of  # noqa: E402
from appsplus.integrations.trl import CodeReward  # noqa: E402


class Recording(CodeReward):
    """CodeReward that keeps what it was asked to judge, to compare with run_tests after."""

    calls: list

    def __call__(self, prompts, completions, tests=None, **columns):
        values = super().__call__(prompts, completions, tests, **columns)
        self.calls.append((list(completions), list(tests), list(columns["fn_name"]), values))
        return values


def test_grpo_two_steps_rewards_equal_run_tests(tiny_chat_model, sample_dataset, tmp_path):
    import datasets
    from trl import GRPOConfig, GRPOTrainer

    export_dataset(sample_dataset, tmp_path / "trl", "trl", splits=["train"])
    train = datasets.load_dataset(
        "parquet", data_files={"train": str(tmp_path / "trl" / "train.parquet")}
    )["train"].select(range(4))
    reward = Recording(shape="binary", workers=2, time_limit_s=2.0)
    reward.calls = []
    config = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=12,
        max_steps=2,
        learning_rate=1e-4,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        bf16=False,
        dataloader_num_workers=0,
        seed=0,
    )
    trainer = GRPOTrainer(
        model=str(tiny_chat_model), reward_funcs=[reward], args=config, train_dataset=train
    )
    trainer.train()
    reward.close()
    assert trainer.state.global_step == 2
    assert reward.calls, "the reward was never called"
    logged = [entry for entry in trainer.state.log_history if "appsplus/pass_rate" in str(entry)]
    assert logged, trainer.state.log_history  # our verdict shares reach TRL's logs
    for completions, tests, fn_names, values in reward.calls:
        for completion, t, fn_name, value in zip(completions, tests, fn_names, values):
            text = completion[-1]["content"] if isinstance(completion, list) else completion
            program = program_of(text, "", fn_name)
            result = run_tests(program, parse_tests(t), Limits(time_s=2.0))
            assert value == (1.0 if result.passed else 0.0)
