"""StepCoder's CCCS and FGO inside TRL's real GRPOTrainer, on CPU with the tiny local model.

The FGO masks of the TRL path equal the bundled trainer's (`trainers.stepcoder.loss_mask`)
for the same completions and coverage; the curriculum takes the same stage decisions as
`CurriculumState` given the same outcomes; a real run rewrites prompts to the current stage,
masks the loss through `tool_mask`, saves the curriculum with TRL's checkpoint and resumes
it; a 2-process run (torchrun, DDP over gloo) takes the same decisions on both processes.

This file is also the 2-process worker: `python test_trl_stepcoder.py worker OUT MODEL DATA`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl", reason="TRL is not installed (extra `integrations`)")

from appsplus.integrations.trl_stepcoder import (  # noqa: E402
    CURRICULUM_FILE,
    ExecutionReward,
    StepCoderCurriculum,
    StepCoderTRLError,
)


def grpo_config(out: Path, **overrides):
    from trl import GRPOConfig

    settings = dict(
        output_dir=str(out),
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=16,
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
    settings.update(overrides)
    return GRPOConfig(**settings)


# --------------------------------------------------------------------------- FGO masks
def test_fgo_masks_equal_the_bundled_trainers(tiny_model, sample_dataset):
    import torch
    from transformers import AutoTokenizer

    from appsplus.trainers.data import completion_offsets
    from appsplus.trainers.judge import compute_rewards
    from appsplus.trainers.stepcoder import loss_mask

    tok = AutoTokenizer.from_pretrained(tiny_model)
    curriculum = StepCoderCurriculum.from_data(str(sample_dataset), "train")
    pids = sorted(curriculum.records)[:4]
    rows, ids = [], []
    for k, pid in enumerate(pids):
        record, prefix = curriculum.records[pid], curriculum.stages[pid][0]
        rest = record.canonical_solution[len(prefix) :]
        # dead code no test reaches (masked), a crash (partly run), a compile error (all kept)
        text = [rest + "\nif len('x') > 5:\n    print(1)\n", rest + "\nz = 1 // 0\nprint(2)\n",
                rest, "def (:\n"][k]  # fmt: skip
        token_ids = tok(text, add_special_tokens=False)["input_ids"]
        if k % 2 == 0:
            token_ids = [*token_ids, tok.eos_token_id]
        rows.append(
            curriculum.at_stage(curriculum.dataset()[sorted(curriculum.records).index(pid)])
        )
        ids.append(token_ids)

    reward = ExecutionReward(shape="table", workers=2)
    reward.tokenizer, reward.eos_token_ids = tok, {tok.eos_token_id}
    texts = [tok.decode(i, skip_special_tokens=True) for i in ids]
    values = reward(
        [r["prompt"] for r in rows],
        texts,
        completion_ids=ids,
        tests=[r["tests"] for r in rows],
        prefix=[r["prefix"] for r in rows],
        time_limit_s=[r["time_limit_s"] for r in rows],
        problem_id=[r["problem_id"] for r in rows],
    )
    reward.close()

    # the bundled trainer's steps 2-4 on the same generated tokens
    width = max(len(i) for i in ids)
    response_mask = torch.zeros(len(ids), width, dtype=torch.bool)
    for i, token_ids in enumerate(ids):
        response_mask[i, : len(token_ids)] = True
    decoded = [completion_offsets(tok, i) for i in ids]
    results = compute_rewards(
        [curriculum.records[pid] for pid in pids],
        [r["prefix"] for r in rows],
        [text for text, _ in decoded],
        workers=2,
    )
    eos_ended = [i[-1] == tok.eos_token_id for i in ids]
    bundled = loss_mask(results, [o for _, o in decoded], response_mask, True, eos_ended)

    assert values == [r.scalar for r in results]
    for i, judged in enumerate(reward.last):
        assert judged.problem_id == pids[i]
        assert judged.passed == results[i].passed
        assert judged.keep == bundled[i, : len(ids[i])].tolist(), i
    masked = [j.keep for j in reward.last]
    assert not all(masked[0]) and not all(masked[1])  # dead code and code after a crash
    assert masked[0][-1] and masked[2][-1]  # the EOS is kept
    assert all(masked[3])  # a compile error says nothing about lines: every token kept
    assert masked[0].count(False) > 3


# --------------------------------------------------------------------------- CCCS rule
def test_curriculum_takes_the_bundled_decisions(sample_dataset):
    import random

    from appsplus.curriculum.subtasks import CurriculumState
    from appsplus.trainers.data import load_records, stages_of

    curriculum = StepCoderCurriculum.from_data(str(sample_dataset), "train", rho=0.5)
    records = load_records(str(sample_dataset), "train")
    stages = {r.problem_id: stages_of(r) for r in records}
    assert curriculum.stages == stages
    bundled = CurriculumState.start({pid: len(s) for pid, s in stages.items()}, 0.5, 1)
    rng = random.Random(0)
    moves = 0
    for _ in range(30):  # the bundled trainer's step 7: record every row, then advance once
        outcomes = [(pid, rng.random() < 0.7) for pid in rng.choices(sorted(stages), k=6)]
        for pid, passed in outcomes:
            bundled.record(pid, passed)
        expected = bundled.advance()
        assert curriculum.update(outcomes) == expected
        assert curriculum.state == bundled
        moves += len(expected)
    assert moves > 0
    row = curriculum.dataset()[0]
    staged = curriculum.at_stage(row)
    pid = row["problem_id"]
    prefix = stages[pid][curriculum.state.stage(pid)]
    assert staged["prefix"] == prefix and staged["prompt"].endswith(prefix)
    assert staged["prompt"] == curriculum.records[pid].prompt(prefix)
    with pytest.raises(StepCoderTRLError, match="not in the curriculum"):
        curriculum.at_stage({**row, "problem_id": "nope"})


# --------------------------------------------------------------------------- real TRL runs
class Recording(ExecutionReward):
    """ExecutionReward that keeps the prompts it judged and its masks."""

    def __call__(self, prompts, completions, completion_ids=None, tests=None, **columns):
        values = super().__call__(prompts, completions, completion_ids, tests, **columns)
        self.calls.append((list(prompts), list(columns["prefix"]), list(columns["stage"])))
        self.problem_ids.append(list(columns["problem_id"]))
        return values


DEAD = "\nif len('x') > 5:\n    print(1)\n"  # a branch no test takes: FGO masks its body


def scripted_rollout(curriculum, tokenizer):
    """A TRL `rollout_func` (generation outside the trainer, as with a vLLM server) that
    completes each prompt with the rest of the canonical solution plus a dead branch."""
    completion_of = {}
    for pid, stages in curriculum.stages.items():
        record = curriculum.records[pid]
        for prefix in stages:
            rest = record.canonical_solution[len(prefix) :]
            completion_of[record.prompt(prefix)] = rest + DEAD

    def rollout(prompts, trainer):
        return {
            "prompt_ids": [tokenizer(p)["input_ids"] for p in prompts],
            "completion_ids": [
                [
                    *tokenizer(completion_of[p], add_special_tokens=False)["input_ids"],
                    tokenizer.eos_token_id,
                ]
                for p in prompts
            ],  # fmt: skip
            "logprobs": None,
        }

    return rollout


def make_trainer(model, curriculum, out, fgo=True, rollout=False, **config):
    from transformers import AutoTokenizer

    from appsplus.integrations.trl_stepcoder import StepCoderGRPOTrainer

    class Checked(StepCoderGRPOTrainer):
        """Keeps what the loss saw: the masks after our hook."""

        outputs: list

        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            judged = [j.keep for j in self.execution_reward.last]
            self.outputs.append((output, judged))
            return output

    reward = Recording(shape="binary", workers=2, time_limit_s=2.0)
    reward.calls, reward.problem_ids = [], []
    tokenizer = AutoTokenizer.from_pretrained(model)
    trainer = Checked(
        model=str(model),
        reward_funcs=[reward],
        args=grpo_config(out, **config),
        train_dataset=curriculum.dataset(),
        curriculum=curriculum,
        fgo=fgo,
        rollout_func=scripted_rollout(curriculum, tokenizer) if rollout else None,
    )
    trainer.outputs = []
    return trainer, reward


def two_record_curriculum(sample_dataset):
    """Two records of 3+ stages: each generation batch (2 prompts x 2) sees both."""
    records = StepCoderCurriculum.from_data(str(sample_dataset), "train")
    pids = sorted(pid for pid, s in records.stages.items() if len(s) >= 3)[:2]
    assert len(pids) == 2
    return StepCoderCurriculum([records.records[pid] for pid in pids])


def test_grpo_with_cccs_and_fgo_masks_the_loss_and_resumes(tiny_model, sample_dataset, tmp_path):
    os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"
    curriculum = two_record_curriculum(sample_dataset)
    out = tmp_path / "out"
    trainer, reward = make_trainer(
        tiny_model, curriculum, out, rollout=True, save_strategy="steps", save_steps=2
    )
    trainer.train()
    reward.close()
    assert trainer.state.global_step == 2
    # prompts end with the current stage's prefix: stage 0 first, then the advanced stage
    history = [dict.fromkeys(curriculum.records, 0), *trainer.stage_history]
    for k, (prompts, prefixes, stages) in enumerate(reward.calls):
        pids = reward.problem_ids[k]
        for prompt, prefix, stage, pid in zip(prompts, prefixes, stages, pids):
            assert stage == history[k][pid]
            assert prefix == curriculum.stages[pid][stage] and prompt.endswith(prefix)
    # the scripted completions pass (dead code does not run): every record seen advanced
    assert set(reward.problem_ids[0]) == set(curriculum.records)
    assert trainer.stage_history == [dict.fromkeys(curriculum.records, 1),
                                     dict.fromkeys(curriculum.records, 2)]  # fmt: skip
    assert reward.calls[1][2] == [1, 1, 1, 1]
    # the loss mask: completion_mask * tool_mask, tool_mask = the reward's FGO rows
    for output, keeps in trainer.outputs:
        tool_mask = output["tool_mask"]
        for i, keep in enumerate(keeps):
            assert tool_mask[i, : len(keep)].tolist() == [int(k) for k in keep]
            assert not all(keep) and keep[-1]  # the dead branch masked, the EOS kept
        loss_mask = output["completion_mask"] * tool_mask
        assert int(output["num_items_in_batch"]) == int(loss_mask.sum())
        assert loss_mask.sum() < output["completion_mask"].sum()
    logged = [e for e in trainer.state.log_history if "stepcoder/fgo_masked_fraction" in e]
    assert logged and all(e["stepcoder/fgo_masked_fraction"] > 0 for e in logged)
    ckpt = out / "checkpoint-2"
    saved = json.loads((ckpt / CURRICULUM_FILE).read_text())
    assert saved == json.loads(curriculum.state.model_dump_json())

    # resume: a fresh curriculum continues from the saved one (its stages, not stage 0)
    fresh = two_record_curriculum(sample_dataset)
    trainer, reward = make_trainer(tiny_model, fresh, out, rollout=True, max_steps=3)
    trainer.train(resume_from_checkpoint=str(ckpt))
    reward.close()
    assert trainer.state.global_step == 3
    (prompts, prefixes, stages), pids = reward.calls[0], reward.problem_ids[0]
    assert stages == [curriculum.state.stage(pid) for pid in pids]


def test_grpo_generates_with_the_model_and_counts_every_sample(
    tiny_model, sample_dataset, tmp_path
):
    """The model's own generation path (TRL's `_generate_single_turn`): masks applied."""
    curriculum = StepCoderCurriculum.from_data(str(sample_dataset), "train")
    trainer, reward = make_trainer(tiny_model, curriculum, tmp_path / "out", max_steps=1)
    trainer.train()
    reward.close()
    ((output, keeps),) = trainer.outputs
    for i, keep in enumerate(keeps):
        assert output["tool_mask"][i, : len(keep)].tolist() == [int(k) for k in keep]
    assert sum(p.attempts for p in curriculum.state.records.values()) == 4


def test_fgo_needs_the_execution_reward(tiny_model, sample_dataset, tmp_path):
    from appsplus.integrations.trl import CodeReward
    from appsplus.integrations.trl_stepcoder import StepCoderGRPOTrainer

    curriculum = StepCoderCurriculum.from_data(str(sample_dataset), "train")
    other = CodeReward(shape="binary", workers=1)
    with pytest.raises(StepCoderTRLError, match="exactly one ExecutionReward"):
        StepCoderGRPOTrainer(
            model=str(tiny_model),
            reward_funcs=[other],
            args=grpo_config(tmp_path / "out"),
            train_dataset=curriculum.dataset(),
            curriculum=curriculum,
        )
    other.close()


# --------------------------------------------------------------------------- 2 processes
def test_two_processes_take_the_same_stage_decisions(tiny_model, sample_dataset, tmp_path):
    pytest.importorskip("accelerate")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        __file__,
        "worker",
        str(tmp_path),
        str(tiny_model),
        str(sample_dataset),
    ]  # fmt: skip  (DDP over gloo on CPU, as `accelerate launch` sets up on GPUs)
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["history"] == ranks[1]["history"]
    assert ranks[0]["state"] == ranks[1]["state"]
    # each process counted both processes' samples (8 per generation batch, 2 batches) ...
    attempts = sum(r["attempts"] for r in ranks[0]["state"]["records"].values())
    assert attempts == 2 * 8
    # ... in the same order: the decisions replay from the gathered outcomes
    assert ranks[0]["outcomes"] == ranks[1]["outcomes"]
    assert ranks[0]["mine"] != ranks[1]["mine"]  # the processes judged different samples


# --------------------------------------------------------------------------- ablation harness
def test_ablation_quick_runs_the_trl_path(tmp_path):
    """`scripts/ablation.py --quick --trl-only`: TRL GRPO vs + CCCS + FGO, paired, reported."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "ablation.py"
    out = tmp_path / "ablation"
    command = [sys.executable, str(script), "--out", str(out), "--quick", "--trl-only"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "ablation.json").read_text())
    summary = report["summary"]
    assert set(summary["methods"]) == {"SFT start", "TRL GRPO", "TRL GRPO + CCCS + FGO"}
    paired = summary["comparisons"]["TRL GRPO + CCCS + FGO - TRL GRPO"]
    assert paired["test"]["n_problems"] == 4 and paired["train"]["n_problems"] == 8
    for seed in (0, 1):
        result = json.loads((out / f"seed-{seed}" / "results.json").read_text())
        charts = result["trl_charts"]
        assert charts["TRL GRPO"]["final_stage_mean"] == 1.0  # no curriculum: full programs
        assert charts["TRL GRPO + CCCS + FGO"]["final_stage_mean"] < 1.0  # starts at stage 0
        assert (out / f"seed-{seed}" / "TRL_GRPO_and_CCCS_and_FGO" / "model").is_dir()
    assert "| TRL GRPO + CCCS + FGO - TRL GRPO |" in (out / "ablation.md").read_text()


def _worker(out: str, model: str, data: str) -> None:
    from accelerate.utils import gather_object

    from appsplus.integrations.trl_stepcoder import StepCoderGRPOTrainer

    curriculum = StepCoderCurriculum.from_data(data, "train", rho=0.0)
    seen: list = []
    original = curriculum.update

    def update(outcomes):
        seen.append([list(o) for o in outcomes])
        return original(outcomes)

    curriculum.update = update
    mine: list = []

    class Mine(ExecutionReward):
        def __call__(self, *args, **kwargs):
            values = super().__call__(*args, **kwargs)
            mine.append([(j.problem_id, j.passed) for j in self.last])
            return values

    reward = Mine(shape="binary", workers=1, time_limit_s=2.0)
    trainer = StepCoderGRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=grpo_config(Path(out) / "run", per_device_train_batch_size=4, max_steps=2),
        train_dataset=curriculum.dataset(),
        curriculum=curriculum,
    )
    trainer.train()
    reward.close()
    rank = trainer.accelerator.process_index
    gather_object([rank])  # both processes reach the end
    (Path(out) / f"rank{rank}.json").write_text(
        json.dumps(
            {
                "history": trainer.stage_history,
                "state": curriculum.state.model_dump(),
                "outcomes": seen,
                "mine": mine,
            }
        )
    )


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "worker":
    _worker(*sys.argv[2:])
