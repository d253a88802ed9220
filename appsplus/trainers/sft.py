"""Supervised warm start: fine-tune a causal LM on APPS+ canonical solutions.

    python -m appsplus.trainers.sft --config configs/sft_example.yaml [--set epochs=5 ...]
    python -m appsplus.trainers.sft --config configs/sft_example.yaml --resume latest
    accelerate launch -m appsplus.trainers.sft --config ...        # several GPUs

Each example is the shared prompt (`appsplus.prompts.build_prompt`, no prefix) followed
by the solution and EOS; the loss covers only the solution and EOS tokens (prompt tokens
are labelled -100) and is their mean over every example of an optimizer step (all
micro-batches of `gradient_accumulation_steps`, all processes).

1. data: tokenize the examples; each epoch visits them in an order drawn from (seed, epoch).
2. model: the LM (optionally a fresh LoRA adapter, gradient checkpointing), AdamW.
3. resume: the model, optimizer and step of a checkpoint; settings that may change on a
   resume are `RESUMABLE` (plus `appsplus.trainers.checks.RESUMABLE_ALWAYS`).
4. steps: learning rate of the schedule, micro-batches forward/backward, a stop on a
   non-finite loss or gradient norm, clip, optimizer step, a stop on non-finite parameters.
5. log and checkpoint: metrics.jsonl every `log_every` steps (and the same scalars to
   TensorBoard / W&B with `report_to`); checkpoints/step_NNNNNN.

Writes `OUTPUT_DIR/model` (model + tokenizer, or the LoRA adapter + tokenizer: the policy init
for StepCoder and CodeRL), `OUTPUT_DIR/config.yaml`, `OUTPUT_DIR/metrics.jsonl` and
`OUTPUT_DIR/checkpoints/step_NNNNNN/` (model/, optimizer, trainer_state.json, rng_rankR,
config.yaml). A resumed run ends with the model an uninterrupted one saves.
"""

from __future__ import annotations

import json
import logging
import math
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from appsplus.errors import exit_on_error
from appsplus.trainers.display import one_progress_display
from appsplus.trainers.tracking import REPORT_TO_HELP, ReportTo

log = logging.getLogger(__name__)

RESUMABLE = ("epochs", "report_to")  # besides checks.RESUMABLE_ALWAYS: more epochs continue the run


class SFTConfig(BaseModel):
    """Every setting of a supervised warm-start run."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        description="hub id or folder of the AutoModelForCausalLM to fine-tune (or a LoRA "
        "adapter folder)"
    )
    tokenizer: str | None = Field(None, description="tokenizer hub id or folder; default: model")
    data: str = Field("sample", description="'sample' (embedded) or a built APPS+ dataset path")
    split: str | None = Field("train", description="split to train on; null for every split")
    output_dir: str = Field("runs/sft", description="where model/, config and metrics go")
    epochs: int = Field(3, ge=1, description="passes over the examples")
    batch_size: int = Field(
        8,
        ge=1,
        description="examples per forward pass, per process; an optimizer step sees "
        "batch_size x gradient_accumulation_steps x processes examples",
    )
    gradient_accumulation_steps: int = Field(
        1, ge=1, description="micro-batches whose gradients make one optimizer step"
    )
    learning_rate: float = Field(1e-4, gt=0, description="AdamW peak learning rate")
    lr_schedule: Literal["constant", "linear", "cosine"] = Field(
        "constant", description="after warmup: constant, or linear / cosine decay to 0"
    )
    warmup_steps: int = Field(0, ge=0, description="optimizer steps of linear warmup from 0")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping norm")
    max_length: int = Field(1024, ge=8, description="tokens per example (prompt cut from the left)")
    all_solutions: bool = Field(
        False, description="train on every passing solution, not only the canonical one"
    )
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="weights dtype")
    lora_r: int = Field(0, ge=0, description="LoRA rank (needs peft); 0 trains every weight")
    lora_alpha: int = Field(16, ge=1, description="LoRA alpha")
    gradient_checkpointing: bool = Field(
        False, description="recompute activations in backward: less memory, more compute"
    )
    seed: int = Field(0, description="seed of python, numpy and torch, and of the epoch orders")
    log_every: int = Field(10, ge=1, description="optimizer steps between metrics lines")
    checkpoint_every: int = Field(
        0, ge=0, description="optimizer steps between checkpoints (0: only the final one)"
    )
    progress: bool = Field(True, description="show a rich progress bar on stderr")
    torch_threads: int | None = Field(
        None, ge=1, description="torch intra-op CPU threads; null: torch's default"
    )
    report_to: ReportTo = Field(default_factory=list, description=REPORT_TO_HELP)


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The order examples are visited in epoch `epoch` (depends only on seed and epoch, so a
    resumed run continues the same order)."""
    import torch

    return torch.randperm(
        n, generator=torch.Generator().manual_seed(seed * 1000003 + epoch)
    ).tolist()


@one_progress_display
def train(cfg: SFTConfig, resume: str | None = None) -> Path:
    """Run supervised fine-tuning; returns the folder of the saved model.
    `resume`: 'latest' or a checkpoint folder."""
    import torch
    from accelerate import Accelerator
    from transformers import AutoTokenizer

    from appsplus.trainers.checks import (
        check_finite,
        check_parameters_finite,
        check_processes,
        check_resume_config,
        lr_hint,
        progress_bar,
        report_now,
        set_learning_rate,
    )
    from appsplus.trainers.common import token_logprobs
    from appsplus.trainers.config import save_config
    from appsplus.trainers.data import load_records, sft_example
    from appsplus.trainers.model import (
        checkpoint_folder,
        checkpoint_to_resume,
        enable_gradient_checkpointing,
        load_lm,
        load_tensors_and_json,
        lr_at,
        optimizer_state,
        restart_metrics,
        restore_optimizer,
        restore_rng,
        save_lm,
        save_tensors_and_json,
        seed_everything,
    )
    from appsplus.trainers.tracking import Tracker

    # ------------------------------------------------------------------ 0. setup and resume checks
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    accelerator = Accelerator()
    rank, world = accelerator.process_index, accelerator.num_processes
    seed_everything(cfg.seed)
    out = Path(cfg.output_dir)
    ckpt = checkpoint_to_resume(out, resume)
    if ckpt is not None:  # before anything is loaded or written
        check_processes(ckpt, world)
        check_resume_config(ckpt, cfg, RESUMABLE)
    if accelerator.is_main_process:
        save_config(cfg, out)

    # ------------------------------------------------------------------ 1. data
    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer or cfg.model)
    records = load_records(cfg.data, cfg.split)
    examples = [
        sft_example(tokenizer, r, cfg.max_length, solution)
        for r in records
        for solution in (r.solutions if cfg.all_solutions else [r.canonical_solution])
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    per_step = cfg.batch_size * cfg.gradient_accumulation_steps * world  # examples per step
    steps_per_epoch = math.ceil(len(examples) / per_step)
    total_steps = cfg.epochs * steps_per_epoch

    def collate(batch: list[dict]) -> dict:
        width = max(len(e["input_ids"]) for e in batch)
        ids = [e["input_ids"] + [pad] * (width - len(e["input_ids"])) for e in batch]
        labels = [e["labels"] + [-100] * (width - len(e["labels"])) for e in batch]
        mask = [[1] * len(e["input_ids"]) + [0] * (width - len(e["input_ids"])) for e in batch]
        return {
            "input_ids": torch.tensor(ids, device=accelerator.device),  # [B, L]
            "labels": torch.tensor(labels, device=accelerator.device),  # [B, L] -100 off target
            "attention_mask": torch.tensor(mask, device=accelerator.device),  # [B, L]
        }

    def micro_batches(step: int) -> list[list[int]]:
        """This process's example indices of each micro-batch of optimizer step `step`
        (1-based); a process left without examples gets [] (it still joins the all-reduce)."""
        epoch, k = divmod(step - 1, steps_per_epoch)
        picked = epoch_order(len(examples), cfg.seed, epoch)[k * per_step : (k + 1) * per_step]
        shards = [
            picked[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            for i in range(cfg.gradient_accumulation_steps * world)
        ]  # micro-batch j of rank r: j * world + r
        return [shards[j * world + rank] for j in range(cfg.gradient_accumulation_steps)]

    def target_tokens(step: int) -> int:
        """Target (loss) tokens of the whole step, over every process and micro-batch."""
        epoch, k = divmod(step - 1, steps_per_epoch)
        picked = epoch_order(len(examples), cfg.seed, epoch)[k * per_step : (k + 1) * per_step]
        return sum(sum(t != -100 for t in examples[i]["labels"][1:]) for i in picked)

    # ------------------------------------------------------------------ 2. model and optimizer
    lora = {"r": cfg.lora_r, "lora_alpha": cfg.lora_alpha} if cfg.lora_r else None
    model = load_lm(str(ckpt / "model") if ckpt else cfg.model, cfg.dtype, lora=lora)
    if cfg.gradient_checkpointing:
        enable_gradient_checkpointing(model)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
    )

    # ------------------------------------------------------------------ 3. resume
    start = 0
    if ckpt is not None:
        restore_optimizer(optimizer, *load_tensors_and_json(ckpt / "optimizer"))
        set_learning_rate(optimizer, cfg.learning_rate)  # the configured rate, not the saved one
        start = json.loads((ckpt / "trainer_state.json").read_text())["step"]
        restore_rng(*load_tensors_and_json(ckpt / f"rng_rank{rank}"))
        log.info("resumed from %s (step %d of %d)", ckpt, start, total_steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    unwrapped = accelerator.unwrap_model(model)
    model.train()
    metrics_path = out / "metrics.jsonl"
    if accelerator.is_main_process:  # a resumed run drops the lines after its checkpoint
        restart_metrics(metrics_path, "step", None if ckpt is None else start)
    tracker = Tracker(
        cfg.report_to,
        out,
        "step",
        name="sft",
        config=cfg,
        resume_step=None if ckpt is None else start,
        main_process=accelerator.is_main_process,
    )

    def save_checkpoint(step: int) -> None:
        with checkpoint_folder(accelerator, out / "checkpoints" / f"step_{step:06d}") as tmp:
            if accelerator.is_main_process:
                save_lm(unwrapped, tokenizer, tmp / "model", cfg.model)
                save_tensors_and_json(tmp / "optimizer", *optimizer_state(optimizer))
                state = {"step": step, "processes": world}
                (tmp / "trainer_state.json").write_text(json.dumps(state))
                save_config(cfg, tmp)

    # ------------------------------------------------------------------ 4. optimizer steps
    hint = lr_hint(cfg)
    started = time.time()
    with progress_bar(cfg.progress) as progress:
        task = progress.add_task("sft", total=total_steps, completed=start)
        for step in range(start + 1, total_steps + 1):
            lr = lr_at(step, cfg.learning_rate, cfg.warmup_steps, total_steps, cfg.lr_schedule)
            set_learning_rate(optimizer, lr)
            n_target = max(1, target_tokens(step))  # the step's loss is the mean over these
            loss_sum = torch.zeros((), device=accelerator.device)
            micro = micro_batches(step)
            for j, indices in enumerate(micro):
                weight = 1.0 if indices else 0.0  # an empty shard joins with a zero loss
                batch = collate([examples[i] for i in indices or [0]])
                sync = accelerator.no_sync(model) if j < len(micro) - 1 else nullcontext()
                with sync:
                    logits = model(
                        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
                    ).logits  # [B, L, V]
                    labels = batch["labels"][:, 1:]  # [B, L-1] token t+1 is predicted at t
                    target = labels != -100  # [B, L-1]
                    logp = token_logprobs(logits[:, :-1], labels.clamp(min=0))  # [B, L-1]
                    loss = -(logp * target).sum() * weight / n_target  # this share of the mean
                    accelerator.backward(loss * world)  # DDP averages: the global token mean
                loss_sum += loss.detach()
            grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            loss = accelerator.reduce(loss_sum, "sum").item()  # the step's mean token loss
            check_finite(f"step {step}", {"losses/sft": loss, "grad_norm": grad_norm}, hint)
            optimizer.step()
            optimizer.zero_grad()
            check_parameters_finite(f"step {step}", unwrapped, hint)

            # ------------------------------------------------------------------ 5. log and checkpoint
            progress.update(task, advance=1, description=f"sft loss {loss:.3f}")
            if report_now(step, total_steps):
                log.info("step %d/%d: loss %.4f, lr %.3g", step, total_steps, loss, lr)
            if accelerator.is_main_process and (step % cfg.log_every == 0 or step == 1):
                line = {
                    "step": step,
                    "epoch": (step - 1) // steps_per_epoch,
                    "losses/sft": loss,
                    "charts/learning_rate": lr,
                    "charts/grad_norm": float(grad_norm),
                    "charts/tokens": n_target,
                    "time/elapsed_s": round(time.time() - started, 3),
                }
                with metrics_path.open("a") as f:
                    f.write(json.dumps(line) + "\n")
                tracker.log(line)
            if step == total_steps or (cfg.checkpoint_every and step % cfg.checkpoint_every == 0):
                save_checkpoint(step)

    # ------------------------------------------------------------------ 6. the model
    model_dir = out / "model"
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        save_lm(unwrapped, tokenizer, model_dir, cfg.model)
        log.info(
            "sft: steps %d-%d of %d in %.1fs; model saved to %s",
            start + 1,
            total_steps,
            total_steps,
            time.time() - started,
            model_dir,
        )
    tracker.close()
    accelerator.end_training()
    return model_dir


def check_inputs(cfg: SFTConfig, resume: str | None, overwrite: bool) -> None:
    """Raise ConfigError before anything is loaded: a missing model or data location, a
    checkpoint that cannot be resumed with these settings, an output_dir that holds other
    files (unless resumed or `overwrite`)."""
    from appsplus.trainers.checks import check_output_dir, check_resumable, checkpoint_to_resume
    from appsplus.trainers.config import check_locations, check_resume
    from appsplus.trainers.tracking import check_report_to

    check_locations(cfg)
    check_report_to(cfg.report_to)
    check_resume(cfg.output_dir, resume, overwrite)
    if resume is not None:
        check_resumable(checkpoint_to_resume(Path(cfg.output_dir), resume), cfg, RESUMABLE)
    check_output_dir(
        cfg.output_dir,
        is_resume=resume is not None,
        overwrite=overwrite,
        what="an sft run to resume (--resume latest)",
        ours=("checkpoints", "model", "metrics.jsonl", "config.yaml", "tensorboard", "wandb"),
    )


@exit_on_error("python -m appsplus.trainers.sft")
def main(argv: list[str] | None = None) -> None:
    from appsplus.trainers.checks import continue_hint, run_cli, setup_logging
    from appsplus.trainers.config import config_from_cli, config_parser

    parser = config_parser(
        "python -m appsplus.trainers.sft",
        "Supervised warm start on canonical solutions. "
        "Example: python -m appsplus.trainers.sft --config configs/sft_example.yaml --set epochs=5",
        SFTConfig,
    )
    parser.add_argument("--resume", metavar="latest|PATH", help="continue from a checkpoint")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in an output_dir that holds files: replace the ones this command "
        "writes (model/, checkpoints/, config.yaml, metrics.jsonl), leave the others",
    )
    args = parser.parse_args(argv)
    cfg = config_from_cli(
        parser,
        SFTConfig,
        args,
        list(args.set),
        lambda c: check_inputs(c, args.resume, args.overwrite),
    )
    setup_logging()
    hint = lambda: continue_hint(cfg.output_dir, argv)  # noqa: E731
    run_cli(parser.prog, lambda: train(cfg, resume=args.resume), hint)


if __name__ == "__main__":
    main()
