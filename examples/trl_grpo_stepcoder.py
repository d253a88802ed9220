"""TRL GRPO + StepCoder's curriculum (CCCS) and FGO on an `appsplus build` folder.

    appsplus build --source sample --out apps-plus-sample
    python examples/trl_grpo_stepcoder.py --data apps-plus-sample --model MODEL --out grpo-stepcoder
    accelerate launch examples/trl_grpo_stepcoder.py --data apps-plus --model MODEL --vllm ...
    python examples/trl_grpo_stepcoder.py ... --resume grpo-stepcoder/checkpoint-200
    python examples/trl_grpo_stepcoder.py --data apps-plus-sample --model TINY --out /tmp/x \
        --cpu --steps 2 --batch 2 --generations 2 --max-completion 16   # CPU smoke run

MODEL is a base/SFT code model (the prompt ends with the prefix of the canonical solution
that the completion continues: a plain-text prompt, not a chat turn). `--no-cccs` /
`--no-fgo` turn either mechanism off (both off: plain TRL GRPO with the same reward).
The lines that matter are the five marked `# StepCoder`; everything else is ordinary TRL.
"""

from __future__ import annotations

import argparse

from trl import GRPOConfig

from appsplus.integrations.trl_stepcoder import (
    ExecutionReward,
    StepCoderCurriculum,
    StepCoderGRPOTrainer,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="an `appsplus build` folder, or 'sample'")
    parser.add_argument("--split", default="train")
    parser.add_argument("--model", required=True, help="hub id or folder of a causal LM")
    parser.add_argument("--out", required=True, help="TRL output_dir (checkpoints, logs)")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch", type=int, default=8, help="per-device train batch size")
    parser.add_argument("--generations", type=int, default=8, help="completions per prompt")
    parser.add_argument("--max-completion", type=int, default=512)
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--rho", type=float, default=0.8, help="CCCS advance threshold")
    parser.add_argument("--workers", type=int, default=None, help="sandbox workers per process")
    parser.add_argument("--vllm", action="store_true", help="generate with vLLM (colocate)")
    parser.add_argument("--cpu", action="store_true", help="train on CPU in float32 (a smoke run)")
    parser.add_argument("--no-cccs", action="store_true")
    parser.add_argument("--no-fgo", action="store_true")
    parser.add_argument("--resume", default=None, help="a checkpoint-N folder of --out")
    args = parser.parse_args()

    curriculum = StepCoderCurriculum.from_data(args.data, args.split, rho=args.rho)  # StepCoder
    reward = ExecutionReward(shape="table", workers=args.workers)  # StepCoder
    config = GRPOConfig(
        output_dir=args.out,
        max_steps=args.steps,
        per_device_train_batch_size=args.batch,
        num_generations=args.generations,
        max_completion_length=args.max_completion,
        learning_rate=args.lr,
        logging_steps=1,
        save_steps=50,
        use_vllm=args.vllm,
        use_cpu=args.cpu,
        bf16=not args.cpu,
        vllm_mode="colocate",
        report_to=[],
    )
    trainer = StepCoderGRPOTrainer(  # StepCoder: instead of trl.GRPOTrainer
        model=args.model,
        args=config,
        reward_funcs=[reward],
        train_dataset=curriculum.dataset(),  # StepCoder: one row per record
        curriculum=None if args.no_cccs else curriculum,  # StepCoder
        fgo=not args.no_fgo,
    )
    trainer.train(resume_from_checkpoint=args.resume)
    reward.close()


if __name__ == "__main__":
    main()
