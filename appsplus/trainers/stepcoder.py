"""StepCoder: PPO with a curriculum of code-completion subtasks (CCCS) and fine-grained
optimization (FGO), after Dou et al. 2024, "StepCoder" (arXiv 2402.01391).

    python -m appsplus.trainers.stepcoder --config configs/stepcoder_example.yaml [--set key=value ...]
    python -m appsplus.trainers.stepcoder --config cfg.yaml --no-cccs --no-fgo      # vanilla PPO
    python -m appsplus.trainers.stepcoder --config cfg.yaml --resume latest         # continue a run
    accelerate launch --config_file configs/accelerate_multi_gpu.yaml -m appsplus.trainers.stepcoder --config cfg.yaml

Each iteration runs these stages (numbered in the loop below):

1. curriculum: pick records; CCCS gives each its current stage, i.e. a prefix of the
   canonical solution (easiest = longest prefix first; the last stage is the empty prefix).
   Without CCCS every record is at its last stage (full generation).
2. rollout: sample a completion of the stage prompt (the shared prompt builder, ending
   with the prefix). The prefix is part of the prompt: its tokens are never generated.
3. execute: the program prefix + completion runs on every unit test with line tracing.
4. rewards and masks: the outcome's reward (`appsplus.trainers.judge.RewardTable`) scores the
   whole program. The loss mask covers generated tokens only (so never the prefix); with
   FGO it also drops generated tokens on lines no test executed (the EOS that ends a
   completion is always kept).
5. advantages: values and log-probs of the sampled tokens, a per-token KL penalty to the
   frozen reference (the starting model), the score on the last kept token, GAE over the
   kept tokens (`appsplus.trainers.common.masked_gae`).
6. PPO: epochs x minibatches of the clipped policy loss and the clipped value loss, both
   averaged over the kept tokens.
7. curriculum and log: count each sample's pass at its record's stage, advance records
   whose accumulated pass rate exceeds rho, append a line to OUTPUT_DIR/metrics.jsonl,
   checkpoint every `checkpoint_every` iterations.

Outputs: OUTPUT_DIR/config.yaml, metrics.jsonl and checkpoints/iteration_NNNNNN/ (model/ with
the tokenizer, value_head, optimizer, curriculum.json, rng_rankR, trainer_state.json and
config.yaml). Resuming restores all of them, so a resumed run continues exactly as an
uninterrupted one (same samples, same metrics, same parameters); it needs the same number of
processes, and may change only the settings in `RESUMABLE` (plus
`appsplus.trainers.checks.RESUMABLE_ALWAYS`: a new learning_rate is applied and logged).
A non-finite loss, gradient norm or parameter stops the run with one line naming the
iteration and the quantity; no checkpoint is written after it.
"""

from __future__ import annotations

import json
import logging
import random
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from appsplus.errors import exit_on_error
from appsplus.trainers.display import one_progress_display
from appsplus.trainers.judge import RewardTable
from appsplus.trainers.tracking import REPORT_TO_HELP, ReportTo

log = logging.getLogger(__name__)

# besides checks.RESUMABLE_ALWAYS: more iterations continue the run
RESUMABLE = ("iterations", "report_to")


class StepCoderConfig(BaseModel):
    """Every setting of a StepCoder run; saved as config.yaml beside its outputs."""

    model_config = ConfigDict(extra="forbid")

    # --- model and data
    model: str = Field(description="policy init and KL reference: hub id or folder (the SFT model)")
    tokenizer: str | None = Field(None, description="tokenizer hub id or folder; default: model")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="weights dtype")
    lora_r: int = Field(0, ge=0, description="LoRA rank (needs peft); 0 trains every weight")
    lora_alpha: int = Field(16, ge=1, description="LoRA alpha")
    gradient_checkpointing: bool = Field(
        False, description="recompute activations in backward: less memory, more compute"
    )
    data: str = Field("sample", description="'sample' (embedded) or a built APPS+ dataset path")
    split: str | None = Field("train", description="split to train on; null for every split")
    output_dir: str = Field("runs/stepcoder", description="metrics, config and checkpoints")
    seed: int = Field(0, description="seed of python, numpy and torch (torch: + process index)")
    # --- the two StepCoder components
    cccs: bool = Field(
        True, description="curriculum of code-completion subtasks (else full generation)"
    )
    fgo: bool = Field(True, description="mask generated tokens on lines no test executed")
    rho: float = Field(0.8, ge=0, le=1, description="CCCS: advance when the pass rate exceeds this")
    min_attempts: int = Field(1, ge=1, description="CCCS: attempts at a stage before advancing")
    # --- rollout
    iterations: int = Field(100, ge=1, description="training iterations (rollout + update)")
    prompts_per_iteration: int = Field(
        16, ge=1, description="records sampled per iteration, over all processes"
    )
    samples_per_prompt: int = Field(1, ge=1, description="completions sampled per record")
    max_prompt_tokens: int = Field(1024, ge=8, description="prompts are cut from the left")
    max_new_tokens: int = Field(256, ge=1, description="tokens generated per completion")
    temperature: float = Field(
        1.0, gt=0, description="sampling temperature (also used in the loss)"
    )
    top_k: int = Field(0, ge=0, description="top-k sampling; 0 disables")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling; 1 disables")
    generate_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="extra keyword arguments of model.generate"
    )
    forward_batch_size: int = Field(16, ge=1, description="rows per no-grad scoring forward")
    # --- execution and rewards
    rewards: RewardTable = Field(default_factory=RewardTable, description="outcome -> reward")
    time_limit_s: float | None = Field(
        None, gt=0, description="per-test time limit; null: the record's own"
    )
    memory_mb: int = Field(2048, ge=64, description="address-space limit of a program")
    execution_workers: int | None = Field(
        None, ge=1, description="sandbox workers per process; null: CPUs / processes"
    )
    executor: str = Field(
        "local",
        description="where programs run: local (this machine's sandbox workers), ray, auto "
        "or ray://HOST:PORT (a Ray cluster; workers are then CPUs per node actor)",
    )
    # --- PPO
    ppo_epochs: int = Field(4, ge=1, description="passes over each rollout batch")
    minibatch_size: int = Field(8, ge=1, description="rows per gradient step, per process")
    gradient_accumulation_steps: int = Field(
        1,
        ge=1,
        description="micro-batches a minibatch is split into (their gradients add up to the "
        "minibatch's: the same step with less memory)",
    )
    learning_rate: float = Field(1e-5, gt=0, description="AdamW peak learning rate")
    lr_schedule: Literal["constant", "linear", "cosine"] = Field(
        "constant", description="after warmup: constant, or linear / cosine decay to 0"
    )
    warmup_iterations: int = Field(0, ge=0, description="iterations of linear warmup from 0")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping norm")
    clip_range: float = Field(0.2, gt=0, description="PPO ratio clip epsilon")
    value_clip_range: float = Field(0.2, gt=0, description="clip of value updates")
    vf_coef: float = Field(0.1, ge=0, description="weight of the value loss")
    kl_coef: float = Field(0.05, ge=0, description="per-token KL penalty to the reference")
    gamma: float = Field(1.0, ge=0, le=1, description="discount over kept tokens")
    lam: float = Field(
        1.0,
        ge=0,
        le=1,
        description="GAE lambda. 1 gives every kept token the final score minus its value; "
        "below 1 the sparse end-of-program reward reaches mostly the last tokens, and with a "
        "young value head failing programs then teach the policy not to emit EOS (measured: "
        "0.95 made completions 4-5x longer and compile errors rise within 25 iterations)",
    )
    whiten_advantages: bool = Field(True, description="whiten advantages over kept tokens")
    # --- checkpoints and logging
    checkpoint_every: int = Field(
        50, ge=0, description="iterations between checkpoints (0: only the final one)"
    )
    progress: bool = Field(True, description="show a rich progress bar on stderr")
    torch_threads: int | None = Field(
        None, ge=1, description="torch intra-op CPU threads; null: torch's default"
    )
    report_to: ReportTo = Field(default_factory=list, description=REPORT_TO_HELP)


def loss_mask(results, offsets, response_mask, fgo: bool, eos_ended):
    """Stage 4's mask over generated tokens: [B, R] bool.

    results[i].token_mask(offsets[i]) keeps the tokens some test executed (FGO); without
    FGO every generated token is kept. A response's final EOS is always kept (it ends the
    program the reward judges). Prompt and prefix tokens are not in the response at all.
    """
    import torch

    from appsplus.curriculum.masks import fgo_keep

    keep = torch.zeros_like(response_mask)  # [B, R]
    for i, (result, row_offsets) in enumerate(zip(results, offsets)):
        n = len(row_offsets)
        row = fgo_keep(result.completion_ranges, row_offsets, eos_ended[i]) if fgo else [True] * n
        keep[i, :n] = torch.tensor(row, dtype=torch.bool)
    return keep & response_mask


@one_progress_display
def train(cfg: StepCoderConfig, resume: str | None = None, records: list | None = None) -> Path:
    """Run StepCoder; returns the output dir.

    `resume`: 'latest' or a checkpoint folder. `records`: TaskRecords to train on instead
    of loading `cfg.data` (for programmatic use).
    """
    import torch
    from accelerate import Accelerator
    from accelerate.utils import gather_object
    from transformers import AutoTokenizer

    from appsplus.curriculum.subtasks import CurriculumState
    from appsplus.execution import open_executor, usable_cpus
    from appsplus.trainers.checks import (
        DivergenceError,
        check_finite,
        check_parameters_finite,
        check_processes,
        check_resume_config,
        lr_hint,
        progress_bar,
        report_now,
        set_learning_rate,
    )
    from appsplus.trainers.common import masked_gae, masked_mean, masked_whiten
    from appsplus.trainers.config import ConfigError, save_config
    from appsplus.trainers.data import completion_offsets, load_records, stages_of
    from appsplus.trainers.judge import compute_rewards
    from appsplus.trainers.model import (
        checkpoint_to_resume,
        enable_gradient_checkpointing,
        generate,
        lm_logprobs,
        load_reference,
        lr_at,
        policy_forward,
        restart_metrics,
        seed_everything,
    )

    # ------------------------------------------------------------------ 0. setup
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    accelerator = Accelerator()
    rank, world = accelerator.process_index, accelerator.num_processes
    if cfg.prompts_per_iteration % world:
        raise ConfigError(
            f"prompts_per_iteration ({cfg.prompts_per_iteration}) must be a multiple of the "
            f"number of processes ({world})"
        )
    seed_everything(cfg.seed)  # python and numpy agree on every process (record picks)
    torch.manual_seed(cfg.seed + rank)  # torch differs (samples)
    out = Path(cfg.output_dir)

    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer or cfg.model)
    records = {r.problem_id: r for r in (records or load_records(cfg.data, cfg.split))}
    stages = {pid: stages_of(r) for pid, r in records.items()}  # prefixes, easiest first
    curriculum = CurriculumState.start(
        {pid: len(s) for pid, s in stages.items()}, cfg.rho, cfg.min_attempts
    )
    ckpt = checkpoint_to_resume(out, resume)
    if ckpt is not None:  # before anything is loaded or written
        check_processes(ckpt, world)
        check_resume_config(ckpt, cfg, RESUMABLE)
    if accelerator.is_main_process:
        save_config(cfg, out)
    policy = _load_policy(cfg, ckpt)
    if cfg.gradient_checkpointing:
        enable_gradient_checkpointing(policy.lm)
    reference = load_reference(cfg.model, cfg.dtype).to(accelerator.device)
    optimizer = torch.optim.AdamW(
        [p for p in policy.parameters() if p.requires_grad], lr=cfg.learning_rate, eps=1e-5
    )
    start, samples_seen = 0, 0
    if ckpt is not None:
        curriculum, start, samples_seen = restore_checkpoint(ckpt, policy, optimizer, rank)
        set_learning_rate(optimizer, cfg.learning_rate)  # the configured rate, not the saved one
    policy, optimizer = accelerator.prepare(policy, optimizer)
    unwrapped = accelerator.unwrap_model(policy)
    pool = open_executor(cfg.executor, cfg.execution_workers or max(1, usable_cpus() // world))

    metrics_path = out / "metrics.jsonl"
    if accelerator.is_main_process:  # a resumed run drops the lines after its checkpoint
        restart_metrics(metrics_path, "iteration", None if ckpt is None else start)
    from appsplus.trainers.tracking import Tracker

    tracker = Tracker(
        cfg.report_to,
        out,
        "iteration",
        name="stepcoder",
        config=cfg,
        resume_step=None if ckpt is None else start,
        main_process=accelerator.is_main_process,
    )

    hint = lr_hint(cfg)
    progress = progress_bar(cfg.progress)
    task = progress.add_task("stepcoder", total=cfg.iterations, completed=start)
    progress.start()
    try:
        for iteration in range(start + 1, cfg.iterations + 1):
            clock = {"start": time.time()}
            lr = lr_at(
                iteration, cfg.learning_rate, cfg.warmup_iterations, cfg.iterations, cfg.lr_schedule
            )
            set_learning_rate(optimizer, lr)
            # ------------------------------------------------------------------ 1. curriculum
            picked = random.sample(sorted(records), k=min(cfg.prompts_per_iteration, len(records)))
            mine = [pid for pid in picked[rank::world] for _ in range(cfg.samples_per_prompt)]
            stage_of = {
                pid: curriculum.stage(pid) if cfg.cccs else len(stages[pid]) - 1 for pid in mine
            }
            prefixes = [stages[pid][stage_of[pid]] for pid in mine]
            prompts = [records[pid].prompt(prefix) for pid, prefix in zip(mine, prefixes)]

            # ------------------------------------------------------------------ 2. rollout
            unwrapped.eval()
            try:
                gen = generate(
                    unwrapped.lm,
                    tokenizer,
                    prompts,
                    cfg.max_new_tokens,
                    cfg.max_prompt_tokens,
                    cfg.temperature,
                    cfg.top_k,
                    cfg.top_p,
                    **cfg.generate_kwargs,
                )  # input_ids, attention_mask: [B, P + R]; response, response_mask: [B, R]
            except RuntimeError as e:  # finite weights whose logits overflow
                if "inf" not in str(e) and "nan" not in str(e):
                    raise
                raise DivergenceError(
                    f"iteration {iteration}: sampling probabilities are not finite (the run "
                    f"diverged); stopped without saving a checkpoint; {hint}"
                ) from None
            n_rows, n_resp = gen.response.shape  # B, R
            lengths = gen.response_mask.sum(-1).tolist()  # [B] generated tokens, EOS included
            eos_ended = [
                n > 0 and gen.response[i, n - 1].item() == tokenizer.eos_token_id
                for i, n in enumerate(lengths)
            ]
            decoded = [
                completion_offsets(tokenizer, gen.response[i, :n].tolist())
                for i, n in enumerate(lengths)
            ]  # per row: (completion text, character span of each generated token)
            completions = [text for text, _ in decoded]
            clock["generated"] = time.time()

            # ------------------------------------------------------------------ 3. execute
            results = compute_rewards(
                [records[pid] for pid in mine],
                prefixes,
                completions,
                cfg.rewards,
                cfg.time_limit_s,
                cfg.memory_mb,
                pool=pool,
            )
            clock["executed"] = time.time()

            # ------------------------------------------------------------------ 4. rewards and masks
            device = gen.response.device
            scores = torch.tensor([r.scalar for r in results], device=device)  # [B]
            generated = gen.response_mask  # [B, R] bool: tokens the policy produced
            offsets = [o for _, o in decoded]
            keep = loss_mask(results, offsets, generated, cfg.fgo, eos_ended)  # [B, R] bool
            executed = loss_mask(results, offsets, generated, True, eos_ended)  # [B, R] bool

            # ------------------------------------------------------------------ 5. values, KL, GAE
            with torch.no_grad():
                old_logprobs, old_values, ref_logprobs = [], [], []
                for chunk in torch.arange(n_rows).split(cfg.forward_batch_size):
                    ids, mask = gen.input_ids[chunk], gen.attention_mask[chunk]  # [b, P+R]
                    lp, v = policy_forward(unwrapped, ids, mask, n_resp, cfg.temperature)
                    old_logprobs.append(lp)  # [b, R]
                    old_values.append(v)  # [b, R]
                    ref_logprobs.append(lm_logprobs(reference, ids, mask, n_resp, cfg.temperature))
                old_logprobs = torch.cat(old_logprobs)  # [B, R]
                old_values = torch.cat(old_values)  # [B, R]
                ref_logprobs = torch.cat(ref_logprobs)  # [B, R]
                check_finite(
                    f"iteration {iteration}",
                    {
                        "rollout log-probs": masked_mean(old_logprobs, generated),
                        "rollout values": masked_mean(old_values, generated),
                    },
                    hint,
                )
                kl = (old_logprobs - ref_logprobs) * keep  # [B, R] per-token KL estimate
                rewards = -cfg.kl_coef * kl  # [B, R]
                positions = torch.arange(n_resp, device=device).expand(n_rows, -1)  # [B, R]
                last = torch.where(keep, positions, -1).max(-1).values  # [B] last kept token
                has_kept = last >= 0  # [B]
                rows = torch.arange(n_rows, device=device)[has_kept]  # [K] rows with a kept token
                rewards[rows, last[has_kept]] += scores[has_kept]  # [B, R]
                advantages, returns = masked_gae(
                    rewards, old_values, keep, cfg.gamma, cfg.lam
                )  # [B, R], [B, R]
                if cfg.whiten_advantages:
                    advantages = masked_whiten(advantages, keep)  # [B, R]

            # ------------------------------------------------------------------ 6. PPO epochs x minibatches
            unwrapped.train()
            stats: dict[str, list[float]] = {k: [] for k in LOSSES}
            for epoch in range(cfg.ppo_epochs):
                for mb in torch.randperm(n_rows).split(cfg.minibatch_size):
                    optimizer.zero_grad()
                    n_kept = keep[mb].sum().clamp(min=1)  # the minibatch's means are over these
                    parts = mb.tensor_split(min(cfg.gradient_accumulation_steps, len(mb)))
                    policy_loss = value_loss = 0.0
                    ratios, log_ratios = [], []
                    for j, part in enumerate(parts):  # micro-batches: their gradients add up
                        m = keep[part]  # [b, R]
                        sync = accelerator.no_sync(policy) if j < len(parts) - 1 else nullcontext()
                        with sync:
                            logprobs, values = policy_forward(
                                policy,
                                gen.input_ids[part],
                                gen.attention_mask[part],
                                n_resp,
                                cfg.temperature,
                            )  # [b, R], [b, R]
                            log_ratio = logprobs - old_logprobs[part]  # [b, R]
                            ratio = log_ratio.exp()  # [b, R]
                            ratios.append(ratio.detach())
                            log_ratios.append(log_ratio.detach())
                            adv = advantages[part]  # [b, R]
                            pg_losses = torch.max(
                                -adv * ratio,
                                -adv * ratio.clamp(1 - cfg.clip_range, 1 + cfg.clip_range),
                            )  # [b, R]
                            part_policy = (pg_losses * m).sum() / n_kept  # its share of the mean
                            values_clipped = old_values[part] + (values - old_values[part]).clamp(
                                -cfg.value_clip_range, cfg.value_clip_range
                            )  # [b, R]
                            part_value = (
                                0.5
                                * (
                                    torch.max(
                                        (values - returns[part]) ** 2,
                                        (values_clipped - returns[part]) ** 2,
                                    )
                                    * m
                                ).sum()
                                / n_kept
                            )  # scalar: its share of the masked mean
                            accelerator.backward(part_policy + cfg.vf_coef * part_value)
                        policy_loss = policy_loss + part_policy.detach()
                        value_loss = value_loss + part_value.detach()
                    grad_norm = accelerator.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
                    where = f"iteration {iteration} (ppo epoch {epoch + 1})"
                    check_finite(
                        where,
                        {
                            "grad_norm": grad_norm,
                            "losses/policy": policy_loss,
                            "losses/value": value_loss,
                        },
                        hint,
                    )
                    optimizer.step()
                    check_parameters_finite(where, unwrapped, hint)
                    record_ppo_stats(
                        stats,
                        policy_loss,
                        value_loss,
                        torch.cat(ratios),
                        torch.cat(log_ratios),
                        keep[mb],
                        cfg,
                    )  # ratios: [b, R] of the whole minibatch (its parts in order)
            clock["trained"] = time.time()

            # ------------------------------------------------------------------ 7. curriculum and log
            rows_here = sample_rows(
                mine, results, stage_of, stages, old_logprobs, ref_logprobs, gen, keep, executed
            )
            rows_all = gather_object(rows_here)  # every process's samples, same order everywhere
            if cfg.cccs:
                for row in rows_all:
                    curriculum.record(row["pid"], row["passed"])
            moved = curriculum.advance() if cfg.cccs else []
            samples_seen += len(rows_all)
            losses = accelerator.reduce(
                torch.tensor([sum(v) / len(v) for v in stats.values()], device=device), "mean"
            ).tolist()  # [4] each process's mean loss, averaged over the processes
            progress_made = curriculum.mean_stage_fraction() if cfg.cccs else 1.0
            metrics = iteration_metrics(
                iteration, samples_seen, rows_all, losses, progress_made, len(moved), clock
            )
            metrics["charts/learning_rate"] = lr
            if accelerator.is_main_process:
                with metrics_path.open("a") as f:
                    f.write(json.dumps(metrics) + "\n")
                tracker.log(metrics)
            progress.update(
                task,
                advance=1,
                description=f"stepcoder pass {metrics['charts/pass_rate']:.2f} "
                f"stage {metrics['charts/stage_mean']:.2f}",
            )
            if report_now(iteration, cfg.iterations):
                log.info(
                    "iteration %d/%d: pass rate %.3f, stage %.2f, policy loss %.4f (%.1fs)",
                    iteration,
                    cfg.iterations,
                    metrics["charts/pass_rate"],
                    metrics["charts/stage_mean"],
                    metrics["losses/policy"],
                    metrics["time/iteration_s"],
                )
            if iteration == cfg.iterations or (
                cfg.checkpoint_every and iteration % cfg.checkpoint_every == 0
            ):
                save_checkpoint(
                    accelerator,
                    out / "checkpoints" / f"iteration_{iteration:06d}",
                    unwrapped,
                    tokenizer,
                    optimizer,
                    curriculum,
                    {"iteration": iteration, "samples": samples_seen, "processes": world},
                    cfg,
                )
    finally:
        progress.stop()
        pool.close()
        tracker.close()
    accelerator.end_training()
    if accelerator.is_main_process:  # the last line: where the final policy is
        final = out / "checkpoints" / f"iteration_{cfg.iterations:06d}" / "model"
        log.info("stepcoder: %d iterations; model saved to %s", cfg.iterations, final)
    return out


# --------------------------------------------------------------------------- train's parts

LOSSES = ("policy", "value", "approx_kl", "clipfrac")  # stage 6's statistics, in this order


def _load_policy(cfg: StepCoderConfig, ckpt: Path | None):
    """The policy (LM + value head) to train: from `cfg.model`, or a checkpoint's weights
    (LoRA: the base model plus the checkpoint's adapter). The value head is restored by
    `restore_checkpoint`."""
    from appsplus.trainers.model import load_policy

    lora = {"r": cfg.lora_r, "lora_alpha": cfg.lora_alpha} if cfg.lora_r else None
    if ckpt is None:
        return load_policy(cfg.model, cfg.dtype, lora=lora)
    if lora:
        return load_policy(cfg.model, cfg.dtype, adapter=str(ckpt / "model"))
    return load_policy(str(ckpt / "model"), cfg.dtype)


def restore_checkpoint(ckpt: Path, policy, optimizer, rank: int):
    """Restore the value head, optimizer and this process's RNG from `ckpt`; returns the
    curriculum, the iteration it ended and the samples seen so far."""
    from appsplus.curriculum.subtasks import CurriculumState
    from appsplus.trainers.model import load_tensors_and_json, restore_optimizer, restore_rng

    tensors, _ = load_tensors_and_json(ckpt / "value_head")
    policy.value_head.load_state_dict(tensors)
    restore_optimizer(optimizer, *load_tensors_and_json(ckpt / "optimizer"))
    curriculum = CurriculumState.model_validate_json((ckpt / "curriculum.json").read_text())
    state = json.loads((ckpt / "trainer_state.json").read_text())
    restore_rng(*load_tensors_and_json(ckpt / f"rng_rank{rank}"))
    log.info("resumed from %s (iteration %d)", ckpt, state["iteration"])
    return curriculum, state["iteration"], state["samples"]


def save_checkpoint(
    accelerator, folder: Path, policy, tokenizer, optimizer, curriculum, state: dict, cfg
) -> None:
    """Write everything `restore_checkpoint` reads (and the model with its tokenizer) into
    `folder`, atomically (`appsplus.trainers.model.checkpoint_folder` adds each process's RNG)."""
    from appsplus.trainers.config import save_config
    from appsplus.trainers.model import (
        checkpoint_folder,
        optimizer_state,
        save_lm,
        save_tensors_and_json,
    )

    with checkpoint_folder(accelerator, folder) as tmp:
        if accelerator.is_main_process:
            save_lm(policy.lm, tokenizer, tmp / "model", cfg.model)
            save_tensors_and_json(tmp / "value_head", policy.value_head.state_dict(), {})
            save_tensors_and_json(tmp / "optimizer", *optimizer_state(optimizer))
            (tmp / "curriculum.json").write_text(curriculum.model_dump_json(indent=1))
            (tmp / "trainer_state.json").write_text(json.dumps(state))
            save_config(cfg, tmp)


def record_ppo_stats(stats: dict, policy_loss, value_loss, ratio, log_ratio, mask, cfg) -> None:
    """Append one minibatch's losses, approximate KL and clip fraction to `stats` (LOSSES)."""
    import torch

    from appsplus.trainers.common import masked_mean

    with torch.no_grad():
        stats["policy"].append(float(policy_loss))
        stats["value"].append(float(value_loss))
        stats["approx_kl"].append(masked_mean((ratio - 1) - log_ratio, mask).item())
        clipped = ((ratio - 1).abs() > cfg.clip_range).float()  # [b, R]
        stats["clipfrac"].append(masked_mean(clipped, mask).item())


def sample_rows(
    mine, results, stage_of, stages, old_logprobs, ref_logprobs, gen, keep, executed
) -> list[dict]:
    """Plain per-sample facts of this process's rows (gathered, then summed by
    `iteration_metrics`): [B] dicts from [B, R] tensors."""
    generated = gen.response_mask  # [B, R]
    return [
        {
            "pid": pid,
            "stage": stage_of[pid],
            "n_stages": len(stages[pid]),
            "passed": r.passed,
            "reward": r.scalar,
            "outcome": r.outcome.value,
            "kl": float(((old_logprobs[i] - ref_logprobs[i]) * generated[i]).sum()),
            "generated": int(generated[i].sum()),
            "kept": int(keep[i].sum()),
            "unexecuted": int(generated[i].sum() - executed[i].sum()),
            "prompt": int(gen.attention_mask[i].sum() - generated[i].sum()),
        }
        for i, (pid, r) in enumerate(zip(mine, results))
    ]


def iteration_metrics(
    iteration: int,
    samples_seen: int,
    rows: list[dict],
    losses: list[float],
    curriculum_progress: float,
    advanced: int,
    clock: dict[str, float],
) -> dict:
    """One metrics.jsonl line from every process's `sample_rows`, the mean LOSSES and the
    stage times of `clock` (start, generated, executed, trained)."""
    n = len(rows)
    n_generated = sum(row["generated"] for row in rows)
    n_kept = sum(row["kept"] for row in rows)
    full = [row for row in rows if row["stage"] == row["n_stages"] - 1]
    return {
        "iteration": iteration,
        "samples": samples_seen,
        **{f"losses/{k}": v for k, v in zip(LOSSES, losses)},
        "charts/pass_rate": sum(row["passed"] for row in rows) / n,
        "charts/pass_rate_full": sum(row["passed"] for row in full) / len(full) if full else None,
        "charts/reward_mean": sum(row["reward"] for row in rows) / n,
        "charts/stage_mean": sum(
            row["stage"] / (row["n_stages"] - 1) if row["n_stages"] > 1 else 1.0 for row in rows
        )
        / n,
        "charts/curriculum_progress": curriculum_progress,
        "charts/advanced": advanced,
        "charts/fgo_masked_fraction": 1 - n_kept / max(1, n_generated),
        "charts/unexecuted_fraction": sum(row["unexecuted"] for row in rows) / max(1, n_generated),
        "charts/kl_ref": sum(row["kl"] for row in rows) / n,
        "charts/response_tokens": n_generated,
        "charts/loss_tokens": n_kept,
        "charts/prompt_tokens": sum(row["prompt"] for row in rows),
        **{
            f"charts/outcome_{o}": sum(row["outcome"] == o for row in rows) / n
            for o in sorted({row["outcome"] for row in rows})
        },
        "time/generate_s": round(clock["generated"] - clock["start"], 4),
        "time/execute_s": round(clock["executed"] - clock["generated"], 4),
        "time/train_s": round(clock["trained"] - clock["executed"], 4),
        "time/iteration_s": round(time.time() - clock["start"], 4),
    }


def check_inputs(cfg: StepCoderConfig, resume: str | None, overwrite: bool = False) -> None:
    """Raise ConfigError before anything is loaded: a location the run reads is missing
    (the model and data folders, the checkpoint to resume), the checkpoint cannot continue
    with these settings, or output_dir holds other files (unless resumed or `overwrite`)."""
    from appsplus.trainers.checks import check_output_dir, check_resumable, checkpoint_to_resume
    from appsplus.trainers.config import check_locations, check_resume
    from appsplus.trainers.tracking import check_report_to

    check_locations(cfg)
    check_report_to(cfg.report_to)
    check_resume(cfg.output_dir, resume, overwrite)
    if resume is not None:
        ckpt = checkpoint_to_resume(Path(cfg.output_dir), resume)
        check_resumable(ckpt, cfg, RESUMABLE)
    check_output_dir(
        cfg.output_dir,
        is_resume=resume is not None,
        overwrite=overwrite,
        what="a stepcoder run to resume (--resume latest)",
        ours=("checkpoints", "metrics.jsonl", "config.yaml", "tensorboard", "wandb"),
    )


@exit_on_error("python -m appsplus.trainers.stepcoder")
def main(argv: list[str] | None = None) -> None:
    from appsplus.trainers.checks import continue_hint, run_cli, setup_logging
    from appsplus.trainers.config import config_from_cli, config_parser

    parser = config_parser(
        "python -m appsplus.trainers.stepcoder",
        "StepCoder (PPO + CCCS + FGO). Example: python -m appsplus.trainers.stepcoder "
        "--config configs/stepcoder_example.yaml --set iterations=10 --no-fgo",
        StepCoderConfig,
    )
    parser.add_argument("--no-cccs", action="store_true", help="always generate whole programs")
    parser.add_argument("--no-fgo", action="store_true", help="keep every generated token")
    parser.add_argument("--resume", metavar="latest|PATH", help="continue from a checkpoint")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in an output_dir that holds files: replace the ones this command "
        "writes (checkpoints/, config.yaml, metrics.jsonl), leave the others",
    )
    args = parser.parse_args(argv)
    overrides = list(args.set)
    if args.no_cccs:
        overrides.append("cccs=false")
    if args.no_fgo:
        overrides.append("fgo=false")
    cfg = config_from_cli(
        parser,
        StepCoderConfig,
        args,
        overrides,
        lambda c: check_inputs(c, args.resume, args.overwrite),
    )
    setup_logging()
    hint = lambda: continue_hint(cfg.output_dir, argv)  # noqa: E731
    run_cli(parser.prog, lambda: train(cfg, resume=args.resume), hint)


if __name__ == "__main__":
    main()
