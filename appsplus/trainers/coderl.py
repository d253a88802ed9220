"""CodeRL: actor-critic program synthesis with a learned critic, after Le et al. 2022,
"CodeRL" (arXiv 2207.01780). Three commands, each one stage of the method:

    python -m appsplus.trainers.coderl sample       --config configs/coderl_example.yaml [--set key=value ...]
    python -m appsplus.trainers.coderl train-critic --config configs/coderl_example.yaml
    python -m appsplus.trainers.coderl train-actor  --config configs/coderl_example.yaml [--resume latest]
    python -m appsplus.trainers.coderl sample train-critic train-actor --config cfg.yaml   # all three
    accelerate launch --config_file configs/accelerate_multi_gpu.yaml \
        -m appsplus.trainers.coderl sample --config configs/coderl_example.yaml

1. sample: for every training problem, `samples_per_problem` programs sampled from the
   current actor (`model`: the SFT model, or OUTPUT_DIR/actor/checkpoints/step_NNNNNN/model)
   plus one greedy program (the baseline), each run on the problem's unit tests and
   labelled with its outcome class (compile error / runtime error / failed test / passed),
   the per-test verdicts and the first error message. Each problem is generated on its own
   from a seed derived from (seed, problem_id), so its rows do not depend on batching, on
   the number of processes or on interruptions. Processes share the problems and append to
   their own part files; OUTPUT_DIR/samples.jsonl (`SampleRow`s, problems in data order)
   is rebuilt from them at the end. A rerun keeps the complete problems and samples the
   rest (resumable; the result is the file an uninterrupted run writes).
2. train-critic: a critic = any `AutoModel` backbone + a linear 4-way outcome head on every
   token of (problem prompt, program). Token-level outcome logits [B, L, 4]; the sequence
   prediction is their max-pool over the program tokens (as in CodeRL), trained with
   cross-entropy against the sample's outcome class (optionally class-weighted,
   `critic_class_weights`). Problems are split into train and held-out; after every epoch
   the per-class, overall and balanced accuracy of the held-out rows (`eval/...`) and of the
   training rows (`train/...`) are logged against the majority-class baseline; the last
   ones (and the class weights) are OUTPUT_DIR/critic/eval.json.
3. train-actor: policy gradient on the sampled programs. Token t of sample s gets the
   weight q_t = p_critic(outcome(s) | prompt, program[:t]) and the return
   r(s) - r(greedy baseline of the problem) (rewards from `appsplus.trainers.judge.RewardTable`):
   loss = -mean_t[(r(s) - r(b)) * q_t * log p(w_t)] over program tokens. Policy-gradient
   steps alternate with cross-entropy steps on ground-truth solutions
   (`pg_steps` then `ce_steps`, repeated). Samples whose return is 0 (the greedy rows, and
   samples scoring like their baseline) carry no gradient and are skipped.

Processes (`accelerate launch` / torchrun; one process runs on CUDA when there is one):
sample shards problems; the critic and the actor shard every batch (`critic_batch_size`,
`actor_batch_size` count rows over all processes) and normalize each process's loss by the
whole batch (critic: the summed class weights of its rows, i.e. its rows when unweighted;
actor: its program tokens), so N processes take the steps
one process would take (the critic pads a short last batch of an epoch with repeated rows).

Outputs: OUTPUT_DIR/config_sample.yaml and samples.jsonl; critic/ (config.yaml,
metrics.jsonl, eval.json, backbone/, head.safetensors + head.json); actor/ (config.yaml,
metrics.jsonl, checkpoints/step_NNNNNN/ with model/ and the tokenizer, optimizer,
rng_rankR, trainer_state.json with the step and the batch sampler's state, config.yaml).
`--resume` restores all of them, so a resumed actor continues exactly as an uninterrupted
one (same batches, metrics and parameters); it needs the same number of processes and may
change only the settings in `RESUMABLE` (plus `appsplus.trainers.checks.RESUMABLE_ALWAYS`:
a new learning_rate is applied and logged). A non-finite loss, gradient norm or parameter
stops the critic or the actor with one line naming the step and the quantity; nothing is
saved after it. A critic that predicts one class for every held-out row says so in
eval.json (`constant_prediction`).

The critic reads the same token ids as the actor (the actor's tokenizer is used for both),
so its per-token probabilities line up with the actor's tokens; a critic backbone with a
different vocabulary is rejected. The critic itself (outcome classes, model, folder format,
input encoding, max-pooling) is defined once in benchmarks/critic.py, which bench's critic
sampling at inference (refine / repair, benchmarks/critic_sampling.py) scores with.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from appsplus.bench.critic import (
    OUTCOMES,
    Outcome,
    collate,
    critic_model_class,
    encode,
    load_critic_model,
    outcome_class,
    pad_id,
    save_critic,
    sequence_logits,
)
from appsplus.errors import exit_on_error
from appsplus.trainers.display import one_progress_display
from appsplus.trainers.judge import RewardTable
from appsplus.trainers.tracking import REPORT_TO_HELP, ReportTo

log = logging.getLogger(__name__)

# besides checks.RESUMABLE_ALWAYS: more steps continue the actor
RESUMABLE = ("actor_steps", "report_to")


class CodeRLConfig(BaseModel):
    """Every setting of the three CodeRL stages; saved as config.yaml beside their outputs."""

    model_config = ConfigDict(extra="forbid")

    # --- model and data
    model: str = Field(description="actor: hub id or folder (the SFT model)")
    tokenizer: str | None = Field(None, description="tokenizer hub id or folder; default: model")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="weights dtype")
    data: str = Field("sample", description="'sample' (embedded) or a built APPS+ dataset path")
    split: str | None = Field("train", description="split to train on; null for every split")
    output_dir: str = Field("runs/coderl", description="samples, critic/ and actor/")
    samples_file: str | None = Field(None, description="default: OUTPUT_DIR/samples.jsonl")
    seed: int = Field(
        0, description="seed of python, numpy and torch; sampling: one seed per (seed, problem)"
    )
    max_length: int = Field(1024, ge=16, description="prompt + program tokens (prompt cut first)")
    # --- 1. sample
    samples_per_problem: int = Field(4, ge=1, description="sampled programs per problem")
    problems_per_batch: int = Field(
        4, ge=1, description="problems executed and written together, per process"
    )
    max_prompt_tokens: int = Field(1024, ge=8, description="prompts are cut from the left")
    max_new_tokens: int = Field(256, ge=1, description="tokens generated per program")
    temperature: float = Field(1.0, gt=0, description="sampling temperature")
    top_k: int = Field(0, ge=0, description="top-k sampling; 0 disables")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling; 1 disables")
    generate_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="extra keyword arguments of model.generate"
    )
    rewards: RewardTable = Field(default_factory=RewardTable, description="outcome -> reward")
    time_limit_s: float | None = Field(None, gt=0, description="per-test limit; null: record's")
    memory_mb: int = Field(2048, ge=64, description="address-space limit of a program")
    execution_workers: int | None = Field(
        None, ge=1, description="sandbox workers per process; null: CPUs / processes"
    )
    executor: str = Field(
        "local",
        description="where programs run: local (this machine's sandbox workers), ray, auto "
        "or ray://HOST:PORT (a Ray cluster; workers are then CPUs per node actor)",
    )
    # --- 2. critic
    critic_backbone: str | None = Field(None, description="AutoModel hub id/folder; default: model")
    critic_epochs: int = Field(3, ge=1, description="passes over the training samples")
    critic_batch_size: int = Field(8, ge=1, description="rows per critic step, all processes")
    critic_learning_rate: float = Field(2e-5, gt=0, description="AdamW learning rate")
    heldout_fraction: float = Field(0.2, ge=0, lt=1, description="problems held out for eval")
    critic_class_weights: Literal["none", "balanced"] = Field(
        "none",
        description="critic cross-entropy weight per class. 'balanced': n_rows / (n_classes "
        "present * n_rows of the class), counted on the training rows (sklearn's 'balanced'); "
        "a class absent from them gets weight 0 (it never occurs in a batch). The loss is the "
        "weighted mean: divided by the summed weights of the batch's rows",
    )
    # --- 3. actor
    critic: str | None = Field(None, description="critic folder; default: OUTPUT_DIR/critic")
    actor_steps: int = Field(100, ge=1, description="optimizer steps (pg and ce together)")
    pg_steps: int = Field(1, ge=0, description="policy-gradient steps per cycle")
    ce_steps: int = Field(1, ge=0, description="ground-truth cross-entropy steps per cycle")
    actor_batch_size: int = Field(
        8, ge=1, description="rows per actor step over all processes (a multiple of them)"
    )
    gradient_accumulation_steps: int = Field(
        1,
        ge=1,
        description="actor: micro-batches a batch is split into (their gradients add up to "
        "the batch's: the same step with less memory)",
    )
    learning_rate: float = Field(1e-5, gt=0, description="actor AdamW peak learning rate")
    lr_schedule: Literal["constant", "linear", "cosine"] = Field(
        "constant", description="actor, after warmup: constant, or linear / cosine decay to 0"
    )
    warmup_steps: int = Field(0, ge=0, description="actor steps of linear warmup from 0")
    max_grad_norm: float = Field(1.0, gt=0, description="actor gradient clipping norm")
    lora_r: int = Field(0, ge=0, description="actor LoRA rank (needs peft); 0 trains every weight")
    lora_alpha: int = Field(16, ge=1, description="actor LoRA alpha")
    gradient_checkpointing: bool = Field(
        False, description="actor and critic: recompute activations in backward (less memory)"
    )
    checkpoint_every: int = Field(
        50, ge=0, description="actor steps between checkpoints (0: only the final one)"
    )
    progress: bool = Field(True, description="show a rich progress bar on stderr")
    torch_threads: int | None = Field(None, ge=1, description="torch CPU threads")
    report_to: ReportTo = Field(
        default_factory=list,
        description=REPORT_TO_HELP.replace("OUTPUT_DIR", "the critic and actor folders"),
    )


class SampleRow(BaseModel):
    """One labelled program of the sample dataset (one line of samples.jsonl)."""

    model_config = ConfigDict(extra="forbid")

    problem_id: str
    index: int = Field(ge=0, description="0..n-1 sampled; n is the greedy baseline")
    greedy: bool = Field(description="the greedy (temperature 0) baseline program")
    program: str
    outcome: Outcome = Field(description="the critic's class")
    verdict: str = Field(description="the reward outcome (appsplus.trainers.judge.program_outcome)")
    verdicts: list[str] = Field(description="one executor verdict per test")
    error: str | None = Field(None, description="compile error or the first test's error")
    reward: float = Field(description="reward under the table used when sampling")


# --------------------------------------------------------------------------- pure helpers
def step_kind(step: int, pg_steps: int, ce_steps: int) -> Literal["pg", "ce"]:
    """Alternation schedule, 1-based steps: `pg_steps` pg steps, then `ce_steps` ce steps, ..."""
    if pg_steps + ce_steps == 0:
        raise ValueError("pg_steps + ce_steps must be positive")
    return "pg" if (step - 1) % (pg_steps + ce_steps) < pg_steps else "ce"


def returns_with_baseline(rows: Sequence[SampleRow], table: RewardTable) -> list[float]:
    """r(sample) - r(greedy baseline of its problem), one per row; 0 for the baselines."""
    from appsplus.execution import Verdict

    base = {r.problem_id: table.of(Verdict(r.verdict)) for r in rows if r.greedy}
    missing = {r.problem_id for r in rows} - base.keys()
    if missing:
        raise ValueError(f"no greedy baseline for {sorted(missing)[:3]}")
    return [table.of(Verdict(r.verdict)) - base[r.problem_id] for r in rows]


def token_weights(token_logits, labels, program_mask):
    """Critic probability of each row's true outcome at each token: [B, L, 4], [B], [B, L]
    -> [B, L] (0 off the program tokens)."""
    import torch

    probs = token_logits.float().softmax(-1)  # [B, L, 4]
    index = labels.view(-1, 1, 1).expand(-1, probs.shape[1], 1)  # [B, L, 1]
    q = probs.gather(-1, index).squeeze(-1)  # [B, L]
    return torch.where(program_mask.bool(), q, torch.zeros_like(q))


def heldout(problem_id: str, fraction: float, seed: int) -> bool:
    """A stable split of problems: held out when the hash falls under `fraction`."""
    digest = hashlib.sha256(f"{seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def problem_seed(seed: int, problem_id: str) -> int:
    """The torch seed a problem's programs are sampled with (independent of sharding)."""
    digest = hashlib.sha256(f"sample:{seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # 63 bits


def draw(rng, n: int, k: int) -> list[int]:
    """`k` row indices out of `n`: without replacement when k <= n, else whole shuffled
    passes over the rows, repeated (so a batch always has k rows)."""
    if n <= 0:
        raise ValueError("no rows to draw from")
    if k <= n:
        return rng.sample(range(n), k)
    picked: list[int] = []
    while len(picked) < k:
        picked += rng.sample(range(n), n)
    return picked[:k]


def fill_to_multiple(batch: list[int], world: int) -> list[int]:
    """`batch` extended by its own first items to a multiple of `world` rows (every process
    gets a share; only a short last batch of an epoch changes)."""
    missing = -len(batch) % world
    return batch + [batch[i % len(batch)] for i in range(missing)]


# --------------------------------------------------------------------------- critic
def build_critic(backbone: str, dtype: str = "float32"):
    """A new critic (`appsplus.bench.critic`'s model, a random head) on a backbone, no dropout."""
    from transformers import AutoModel

    from appsplus.trainers.model import DTYPES, adapter_base, disable_dropout, is_adapter

    if is_adapter(backbone):  # a LoRA actor: the critic starts from its base model
        backbone = adapter_base(backbone)
    model = AutoModel.from_pretrained(backbone, dtype=DTYPES[dtype])
    disable_dropout(model)
    return critic_model_class()(model)


# --------------------------------------------------------------------------- files
def samples_path(cfg: CodeRLConfig) -> Path:
    return Path(cfg.samples_file or Path(cfg.output_dir) / "samples.jsonl")


def part_path(path: Path, rank: int) -> Path:
    """The file process `rank` appends its sampled rows to (merged into `path` at the end)."""
    return path.with_name(f"{path.stem}.rank{rank}{path.suffix}")


def read_samples(path: Path) -> list[SampleRow]:
    """Rows of a samples file; a torn last line (an interrupted write) is dropped."""
    if not path.exists():
        return []
    rows = []
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(SampleRow.model_validate_json(line))
        except ValueError:
            if i == len(lines) - 1:
                log.warning("%s: dropped a torn last line", path)
                continue
            raise
    return rows


def complete_problems(rows: Sequence[SampleRow], n: int) -> set[str]:
    """Problems whose rows are exactly indices 0..n (n samples and the greedy baseline)."""
    indices: dict[str, list[int]] = {}
    for row in rows:
        indices.setdefault(row.problem_id, []).append(row.index)
    return {pid for pid, idx in indices.items() if sorted(idx) == list(range(n + 1))}


def merge_samples(path: Path, n: int, order: Sequence[str]) -> set[str]:
    """Fold the part files into `path`, keeping complete problems only, each once, in
    `order` (problems not in it after, by id); returns the complete problem ids."""
    parts = sorted(path.parent.glob(f"{path.stem}.rank*{path.suffix}"))
    rows: dict[tuple[str, int], SampleRow] = {}
    for file in [path, *parts]:
        for row in read_samples(file):
            rows.setdefault((row.problem_id, row.index), row)
    done = complete_problems(list(rows.values()), n)
    position = {pid: i for i, pid in enumerate(order)}
    kept = sorted(
        (row for (pid, _), row in rows.items() if pid in done),
        key=lambda r: (position.get(r.problem_id, len(position)), r.problem_id, r.index),
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(row.model_dump_json() + "\n" for row in kept))
    os.replace(tmp, path)
    for part in parts:
        part.unlink()
    return done


def _append_metrics(path: Path, line: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps(line) + "\n")


def map_chunks(accelerator, chunks: list, fn) -> list:
    """`fn` of every chunk, chunk i computed by process i % N; every process gets all the
    results, in chunk order (the same batches as one process would run)."""
    from accelerate.utils import gather_object

    rank, world = accelerator.process_index, accelerator.num_processes
    mine = [(i, fn(chunks[i])) for i in range(rank, len(chunks), world)]
    return [result for _, result in sorted(gather_object(mine), key=lambda pair: pair[0])]


# --------------------------------------------------------------------------- 1. sample
def label_programs(records, programs, cfg: CodeRLConfig, pool=None) -> list[dict]:
    """Run each program on its record's tests: outcome class, verdicts, error, reward."""
    from appsplus.execution import Job, run_many
    from appsplus.trainers.judge import limits_for, program_outcome

    jobs = [
        Job(
            program=program,
            tests=list(record.tests),
            limits=limits_for(record, cfg.time_limit_s, cfg.memory_mb),
        )
        for record, program in zip(records, programs)
    ]
    labels = []
    for result in run_many(jobs, workers=cfg.execution_workers, pool=pool):
        verdict = program_outcome(result)
        errors = [t.error for t in result.tests if t.error]
        labels.append(
            {
                "outcome": outcome_class(verdict),
                "verdict": verdict.value,
                "verdicts": [v.value for v in result.verdicts],
                "error": result.compile_error or (errors[0] if errors else None),
                "reward": cfg.rewards.of(verdict),
            }
        )
    return labels


@one_progress_display
def sample(cfg: CodeRLConfig, records: list | None = None) -> Path:
    """Stage 1: write (or complete) the labelled samples file; returns its path."""
    import torch
    from accelerate import Accelerator
    from transformers import AutoTokenizer

    from appsplus.execution import open_executor, usable_cpus
    from appsplus.trainers.config import save_config
    from appsplus.trainers.data import load_records
    from appsplus.trainers.model import generate, load_lm, seed_everything

    # ------------------------------------------------------------------ 1a. setup and resume
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    accelerator = Accelerator()
    rank, world = accelerator.process_index, accelerator.num_processes
    seed_everything(cfg.seed)
    path = samples_path(cfg)
    records = records or load_records(cfg.data, cfg.split)
    n = cfg.samples_per_problem
    if accelerator.is_main_process:  # keep complete problems (parts of an interrupted run too)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_config(cfg, Path(cfg.output_dir), "config_sample.yaml")
        merge_samples(path, n, [r.problem_id for r in records])
    accelerator.wait_for_everyone()
    done = complete_problems(read_samples(path), n)
    todo = [r for r in records if r.problem_id not in done]
    log.info("sampling %d problems (%d already done)", len(todo), len(records) - len(todo))
    if not todo:
        return path
    mine = todo[rank::world]  # this process's problems

    if mine:
        tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer or cfg.model)
        lm = load_lm(cfg.model, cfg.dtype).to(accelerator.device).eval()
        workers = cfg.execution_workers or max(1, usable_cpus() // world)
        common = (cfg.max_new_tokens, cfg.max_prompt_tokens)
        with open_executor(cfg.executor, workers) as pool:
            for start in range(0, len(mine), cfg.problems_per_batch):
                batch = mine[start : start + cfg.problems_per_batch]
                # ------------------------------------------------------------------ 1b. generate, problem by problem
                programs, owners, index = [], [], []
                for record in batch:
                    prompt = record.prompt()
                    torch.manual_seed(problem_seed(cfg.seed, record.problem_id))
                    sampled = generate(
                        lm,
                        tokenizer,
                        [prompt] * n,
                        *common,
                        cfg.temperature,
                        cfg.top_k,
                        cfg.top_p,
                        **cfg.generate_kwargs,
                    )  # [n, P + R] one prompt: no padding, no dependence on other problems
                    greedy = generate(
                        lm, tokenizer, [prompt], *common, 0.0, **cfg.generate_kwargs
                    )  # [1, P + R]
                    programs += _decode(tokenizer, sampled) + _decode(tokenizer, greedy)
                    owners += [record] * (n + 1)
                    index += range(n + 1)
                # ------------------------------------------------------------------ 1c. execute and label
                labels = label_programs(owners, programs, cfg, pool)
                rows = [
                    SampleRow(
                        problem_id=r.problem_id, index=i, greedy=i == n, program=prog, **label
                    )
                    for r, i, prog, label in zip(owners, index, programs, labels)
                ]
                # ------------------------------------------------------------------ 1d. append to this process's part
                with part_path(path, rank).open("a") as f:
                    f.write("".join(row.model_dump_json() + "\n" for row in rows))
                log.info(
                    "process %d: sampled %d / %d problems",
                    rank,
                    min(start + len(batch), len(mine)),
                    len(mine),
                )

    # ------------------------------------------------------------------ 1e. merge, in data order
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        merge_samples(path, n, [r.problem_id for r in records])
    accelerator.wait_for_everyone()
    return path


def _decode(tokenizer, gen) -> list[str]:
    lengths = gen.response_mask.sum(-1).tolist()  # [B]
    return tokenizer.batch_decode(
        [gen.response[i, :k].tolist() for i, k in enumerate(lengths)],
        skip_special_tokens=True,
        clean_up_tokenization_spaces=False,
    )


# --------------------------------------------------------------------------- 2. critic
def critic_batch(rows: Sequence[SampleRow], prompts: dict, tokenizer, max_length: int):
    """(input_ids, attention_mask, program_mask) [B, L] each and labels [B] of SampleRows."""
    import torch

    encoded = [encode(tokenizer, prompts[r.problem_id], r.program, max_length) for r in rows]
    labels = torch.tensor([OUTCOMES.index(r.outcome) for r in rows])  # [B]
    return (*collate(encoded, pad_id(tokenizer)), labels)


def class_weights(labels: Sequence[int], mode: Literal["none", "balanced"]) -> list[float]:
    """Cross-entropy weight of each class, from the training labels: all 1 ('none'), or
    n / (k * n_c) for the k classes present and 0 for the absent ones ('balanced')."""
    if mode == "none":
        return [1.0] * len(OUTCOMES)
    counts = [sum(t == k for t in labels) for k in range(len(OUTCOMES))]
    present = sum(c > 0 for c in counts)
    return [len(labels) / (present * c) if c else 0.0 for c in counts]


def weighted_ce_sum(logits, labels, weights):
    """sum_i weights[labels_i] * cross-entropy_i and sum_i weights[labels_i]: [B, 4], [B], [4]
    -> two scalars (their ratio, over the whole batch, is torch's weighted 'mean')."""
    import torch

    loss = torch.nn.functional.cross_entropy(logits, labels, weight=weights, reduction="sum")
    return loss, weights[labels].sum()


def critic_accuracy(predicted: list[int], truth: list[int], majority: int) -> dict:
    """Per-class, overall and balanced accuracy (the mean recall over the classes present in
    `truth`) of the critic and of always predicting `majority`."""
    report: dict[str, Any] = {"n": len(truth), "majority_class": OUTCOMES[majority]}
    # a critic that answers one class for every row (e.g. a diverged one): name the class
    report["constant_prediction"] = (
        OUTCOMES[predicted[0]] if len(truth) > 1 and len(set(predicted)) == 1 else None
    )
    present = []
    for k, name in enumerate(OUTCOMES):
        idx = [i for i, t in enumerate(truth) if t == k]
        report[f"n/{name}"] = len(idx)
        report[f"accuracy/{name}"] = sum(predicted[i] == k for i in idx) / len(idx) if idx else None
        if idx:
            present.append(k)
    n = len(truth)  # no rows: no accuracy (None), rather than a 0
    report["accuracy"] = sum(p == t for p, t in zip(predicted, truth)) / n if n else None
    report["baseline_accuracy"] = sum(t == majority for t in truth) / n if n else None
    recalls = [report[f"accuracy/{OUTCOMES[k]}"] for k in present]
    report["balanced_accuracy"] = sum(recalls) / len(present) if present else None
    report["baseline_balanced_accuracy"] = (majority in present) / len(present) if present else None
    return report


def predict_outcomes(
    accelerator, critic, rows, prompts, tokenizer, cfg
) -> tuple[list[int], list[int]]:
    """Predicted and true class indices of `rows` (batches shared by the processes)."""
    import torch

    device = accelerator.device
    critic.eval()
    size = cfg.critic_batch_size

    def predict(chunk: range) -> tuple[list[int], list[int]]:
        ids, attn, prog, labels = critic_batch(
            [rows[i] for i in chunk], prompts, tokenizer, cfg.max_length
        )
        with torch.no_grad():
            logits = sequence_logits(critic(ids.to(device), attn.to(device)), prog.to(device))
        return logits.argmax(-1).tolist(), labels.tolist()  # [b], [b]

    chunks = [range(s, min(s + size, len(rows))) for s in range(0, len(rows), size)]
    results = map_chunks(accelerator, chunks, predict)
    return [p for ps, _ in results for p in ps], [t for _, ts in results for t in ts]


@one_progress_display
def train_critic(cfg: CodeRLConfig, records: list | None = None) -> Path:
    """Stage 2: train the critic on the samples file; returns the critic folder."""
    import torch
    from accelerate import Accelerator
    from transformers import AutoTokenizer

    from appsplus.trainers.checks import (
        check_finite,
        check_parameters_finite,
        lr_hint,
        progress_bar,
    )
    from appsplus.trainers.config import ConfigError, save_config
    from appsplus.trainers.data import load_records
    from appsplus.trainers.model import (
        enable_gradient_checkpointing,
        seed_everything,
    )

    # ------------------------------------------------------------------ 2a. data
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    accelerator = Accelerator()
    rank, world = accelerator.process_index, accelerator.num_processes
    seed_everything(cfg.seed)  # the same head init and batch order on every process
    out = Path(cfg.critic or Path(cfg.output_dir) / "critic")
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, out)
    records = records or load_records(cfg.data, cfg.split)
    prompts = {r.problem_id: r.prompt() for r in records}
    rows = [r for r in read_samples(samples_path(cfg)) if r.problem_id in prompts]
    if not rows:
        raise ConfigError(f"no samples of these problems in {samples_path(cfg)}")
    train_rows = [r for r in rows if not heldout(r.problem_id, cfg.heldout_fraction, cfg.seed)]
    eval_rows = [r for r in rows if heldout(r.problem_id, cfg.heldout_fraction, cfg.seed)]
    counts = [sum(r.outcome == o for r in train_rows) for o in OUTCOMES]
    majority = max(range(len(OUTCOMES)), key=lambda k: counts[k])
    train_labels = [OUTCOMES.index(r.outcome) for r in train_rows]  # [N]
    weights = class_weights(train_labels, cfg.critic_class_weights)  # [4]
    log.info("critic class weights (%s): %s", cfg.critic_class_weights, weights)

    # ------------------------------------------------------------------ 2b. model
    device = accelerator.device
    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer or cfg.model)
    critic = build_critic(cfg.critic_backbone or cfg.model, cfg.dtype)
    if critic.backbone.config.get_text_config().vocab_size < len(tokenizer):
        raise ConfigError("critic_backbone: its vocabulary does not cover the actor tokenizer")
    if cfg.gradient_checkpointing:
        enable_gradient_checkpointing(critic.backbone)
    optimizer = torch.optim.AdamW(critic.parameters(), lr=cfg.critic_learning_rate)
    critic, optimizer = accelerator.prepare(critic, optimizer)
    unwrapped = accelerator.unwrap_model(critic)
    metrics_path = out / "metrics.jsonl"
    if accelerator.is_main_process:
        metrics_path.write_text("")
    from appsplus.trainers.tracking import Tracker

    tracker = Tracker(
        cfg.report_to,
        out,
        "step",
        name="coderl-critic",
        config=cfg,
        main_process=accelerator.is_main_process,
    )
    order_rng = torch.Generator().manual_seed(cfg.seed)  # batch order, the same everywhere
    weight_of = torch.tensor(weights, device=device)  # [4]

    # ------------------------------------------------------------------ 2c. epochs of cross-entropy
    step = 0
    hint = lr_hint(cfg, "critic_learning_rate")
    steps_per_epoch = -(-len(train_rows) // cfg.critic_batch_size)
    progress = progress_bar(cfg.progress)
    task = progress.add_task("critic", total=cfg.critic_epochs * steps_per_epoch)
    progress.start()
    for epoch in range(1, cfg.critic_epochs + 1):
        critic.train()
        order = torch.randperm(len(train_rows), generator=order_rng).tolist()
        for s in range(0, len(order), cfg.critic_batch_size):
            t0 = time.time()
            batch = fill_to_multiple(order[s : s + cfg.critic_batch_size], world)  # global rows
            ids, attn, prog, labels = (
                t.to(device)
                for t in critic_batch(
                    [train_rows[i] for i in batch[rank::world]], prompts, tokenizer, cfg.max_length
                )
            )  # [b, L] x3, [b]
            logits = sequence_logits(critic(ids, attn), prog)  # [b, 4]
            loss_sum, _ = weighted_ce_sum(logits, labels, weight_of)  # scalar
            # the whole batch's summed class weights (its rows when unweighted), all processes
            total_weight = sum(weights[train_labels[i]] for i in batch)
            optimizer.zero_grad()
            # DDP averages gradients: the weighted mean over the whole batch
            accelerator.backward(loss_sum / total_weight * world)
            grad_norm = accelerator.clip_grad_norm_(critic.parameters(), cfg.max_grad_norm)
            step += 1
            correct = (logits.argmax(-1) == labels).sum()  # scalar
            totals = accelerator.reduce(torch.stack([loss_sum.detach(), correct.float()]), "sum")
            where = f"critic step {step} (epoch {epoch})"
            losses = {"grad_norm": grad_norm, "losses/critic": totals[0]}
            check_finite(where, losses, hint)
            optimizer.step()
            check_parameters_finite(where, unwrapped, hint)
            progress.update(
                task, advance=1, description=f"critic loss {totals[0].item() / total_weight:.3f}"
            )
            if accelerator.is_main_process:
                line = {
                    "epoch": epoch,
                    "step": step,
                    "losses/critic": totals[0].item() / total_weight,
                    "charts/train_accuracy": totals[1].item() / len(batch),
                    "charts/rows": len(batch),
                    "time/step_s": round(time.time() - t0, 4),
                }
                _append_metrics(metrics_path, line)
                tracker.log(line)

        # ------------------------------------------------------------------ 2d. evaluation, held-out and train
        t0 = time.time()
        report = critic_accuracy(
            *predict_outcomes(accelerator, unwrapped, eval_rows, prompts, tokenizer, cfg), majority
        )
        train_report = critic_accuracy(
            *predict_outcomes(accelerator, unwrapped, train_rows, prompts, tokenizer, cfg), majority
        )
        log.info(
            "critic epoch %d: held-out accuracy %s (majority baseline %s), train accuracy %s",
            epoch,
            report["accuracy"],
            report["baseline_accuracy"],
            train_report["accuracy"],
        )
        if accelerator.is_main_process:
            line = {
                "epoch": epoch,
                "step": step,
                **{f"eval/{k}": v for k, v in report.items() if not isinstance(v, str)},
                **{f"train/{k}": v for k, v in train_report.items() if not isinstance(v, str)},
                "time/eval_s": round(time.time() - t0, 4),
            }
            _append_metrics(metrics_path, line)
            tracker.log(line)

    # ------------------------------------------------------------------ 2e. save
    progress.stop()
    tracker.close()
    for name, rep in (("held-out", report), ("training", train_report)):
        if rep["constant_prediction"]:
            log.warning(
                "critic: predicts %s for every %s row (a constant critic: its accuracy is a "
                "class share, not a skill)",
                rep["constant_prediction"],
                name,
            )
    report = {
        "train_rows": len(train_rows),
        "train_counts": dict(zip(OUTCOMES, counts)),
        "class_weights": dict(zip(OUTCOMES, weights)),
        "class_weights_mode": cfg.critic_class_weights,
        **report,
        "train": train_report,
    }
    if accelerator.is_main_process:
        (out / "eval.json").write_text(json.dumps(report, indent=1))
        log.info("critic held-out: %s", report)
        save_critic(unwrapped, out, tokenizer)
    accelerator.wait_for_everyone()
    return out


# --------------------------------------------------------------------------- 3. actor
def pg_loss(logprobs, weights, returns, mask, n_tokens=None):
    """-sum over program tokens of return * critic weight * log p, over `n_tokens` (default:
    this batch's program tokens, i.e. the mean): [B, L] x3, [B] -> scalar."""
    terms = returns.unsqueeze(-1) * weights * logprobs * mask  # [B, L]
    if n_tokens is None:
        n_tokens = mask.sum()
    return -terms.sum() / n_tokens.clamp(min=1)


def shifted_weights(weights: list[list[float]], width: int):
    """Per-sequence token weights [w_0..w_{n-1}] -> [B, width] aligned with the actor's
    log-probs of tokens 1..: column t holds w_{t+1} (0 past a row's end)."""
    import torch

    q = torch.zeros(len(weights), width)  # [B, L-1]
    for b, row in enumerate(weights):
        q[b, : len(row) - 1] = torch.tensor(row[1:])
    return q


@one_progress_display
def train_actor(cfg: CodeRLConfig, resume: str | None = None, records: list | None = None) -> Path:
    """Stage 3: critic-weighted policy gradient alternated with ground-truth CE; returns the
    actor folder. `resume`: 'latest' or a checkpoint folder."""
    import random

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
    from appsplus.trainers.common import position_ids, token_logprobs
    from appsplus.trainers.config import ConfigError, save_config
    from appsplus.trainers.data import load_records
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

    # ------------------------------------------------------------------ 3a. setup and resume
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    accelerator = Accelerator()
    rank, world = accelerator.process_index, accelerator.num_processes
    if cfg.actor_batch_size % world:
        raise ConfigError(
            f"actor_batch_size ({cfg.actor_batch_size}) must be a multiple of the number of "
            f"processes ({world})"
        )
    seed_everything(cfg.seed)
    out = Path(cfg.output_dir) / "actor"
    ckpt = checkpoint_to_resume(out, resume)
    if ckpt is not None:  # before anything is loaded or written
        check_processes(ckpt, world)
        check_resume_config(ckpt, cfg, RESUMABLE)
    if accelerator.is_main_process:
        save_config(cfg, out)
    device = accelerator.device
    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer or cfg.model)
    records = records or load_records(cfg.data, cfg.split)
    by_id = {r.problem_id: r for r in records}
    prompts = {pid: r.prompt() for pid, r in by_id.items()}

    # ------------------------------------------------------------------ 3b. returns and critic weights
    rows = [r for r in read_samples(samples_path(cfg)) if r.problem_id in by_id]
    returns = returns_with_baseline(rows, cfg.rewards)  # [N] floats
    pg_rows = [(r, g) for r, g in zip(rows, returns) if not r.greedy and g != 0.0]
    encoded = [
        encode(tokenizer, prompts[r.problem_id], r.program, cfg.max_length) for r, _ in pg_rows
    ]
    weights: list[list[float]] = []  # per row, per token of `encoded` (0 on the prompt)
    if pg_rows:
        critic = load_critic_model(cfg.critic or Path(cfg.output_dir) / "critic", cfg.dtype)
        critic = critic.to(device)

        def score(chunk: range) -> list[list[float]]:
            ids, attn, prog = collate([encoded[i] for i in chunk], pad_id(tokenizer))
            labels = torch.tensor([OUTCOMES.index(pg_rows[i][0].outcome) for i in chunk])  # [b]
            with torch.no_grad():
                q = token_weights(
                    critic(ids.to(device), attn.to(device)), labels.to(device), prog.to(device)
                )  # [b, L]
            return [q[j, : len(encoded[i][0])].tolist() for j, i in enumerate(chunk)]

        size = cfg.actor_batch_size
        chunks = [range(s, min(s + size, len(pg_rows))) for s in range(0, len(pg_rows), size)]
        weights = [w for ws in map_chunks(accelerator, chunks, score) for w in ws]
        del critic
    ce_rows = [
        encode(tokenizer, prompts[r.problem_id], s, cfg.max_length)
        for r in records
        for s in (r.solutions or [r.canonical_solution])
    ]
    log.info("actor: %d pg rows (nonzero return), %d ce rows", len(pg_rows), len(ce_rows))

    # ------------------------------------------------------------------ 3c. model, optimizer, sampler
    lora = {"r": cfg.lora_r, "lora_alpha": cfg.lora_alpha} if cfg.lora_r else None
    lm = load_lm(str(ckpt / "model") if ckpt else cfg.model, cfg.dtype, lora=lora)
    if cfg.gradient_checkpointing:
        enable_gradient_checkpointing(lm)
    optimizer = torch.optim.AdamW(
        [p for p in lm.parameters() if p.requires_grad], lr=cfg.learning_rate
    )
    sampler = random.Random(cfg.seed)  # picks every step's batch, the same on every process
    start = 0
    if ckpt is not None:
        restore_optimizer(optimizer, *load_tensors_and_json(ckpt / "optimizer"))
        state = json.loads((ckpt / "trainer_state.json").read_text())
        start = state["step"]
        version, internal, gauss = state["sampler"]
        sampler.setstate((version, tuple(internal), gauss))
        restore_rng(*load_tensors_and_json(ckpt / f"rng_rank{rank}"))
        log.info("resumed from %s (step %d)", ckpt, start)
    set_learning_rate(optimizer, cfg.learning_rate)  # a resume: the configured rate
    lm, optimizer = accelerator.prepare(lm, optimizer)
    unwrapped = accelerator.unwrap_model(lm)
    metrics_path = out / "metrics.jsonl"
    if accelerator.is_main_process:  # a resumed run drops the lines after its checkpoint
        restart_metrics(metrics_path, "step", None if ckpt is None else start)
    from appsplus.trainers.tracking import Tracker

    tracker = Tracker(
        cfg.report_to,
        out,
        "step",
        name="coderl-actor",
        config=cfg,
        resume_step=None if ckpt is None else start,
        main_process=accelerator.is_main_process,
    )

    def forward(batch):  # [(ids, n_prompt)] -> logprobs of tokens 1.. and their program mask
        ids, attn, prog = (t.to(device) for t in collate(batch, pad_id(tokenizer)))
        logits = lm(input_ids=ids, attention_mask=attn, position_ids=position_ids(attn)).logits
        logprobs = token_logprobs(logits[:, :-1], ids[:, 1:])  # [b, L-1] log p(token t+1)
        return logprobs, prog[:, 1:]  # [b, L-1], [b, L-1]

    # ------------------------------------------------------------------ 3d. alternating steps
    hint = lr_hint(cfg)
    progress = progress_bar(cfg.progress)
    task = progress.add_task("actor", total=cfg.actor_steps, completed=start)
    progress.start()
    for step in range(start + 1, cfg.actor_steps + 1):
        t0 = time.time()
        lr = lr_at(step, cfg.learning_rate, cfg.warmup_steps, cfg.actor_steps, cfg.lr_schedule)
        set_learning_rate(optimizer, lr)
        kind = step_kind(step, cfg.pg_steps, cfg.ce_steps)
        if kind == "pg" and not pg_rows:
            kind = "ce"  # every sample scored like its baseline: nothing to reinforce
        unwrapped.train()
        n_rows = len(pg_rows) if kind == "pg" else len(ce_rows)
        pick = draw(sampler, n_rows, cfg.actor_batch_size)  # the global batch
        mine = pick[rank::world]  # this process's rows
        n_tokens = accelerator.reduce(  # program tokens of the whole batch, all processes
            torch.tensor(
                float(
                    sum(program_tokens(encoded[i] if kind == "pg" else ce_rows[i]) for i in mine)
                ),
                device=device,
            ),
            "sum",
        )
        parts = [
            mine[j :: cfg.gradient_accumulation_steps]
            for j in range(cfg.gradient_accumulation_steps)
        ]
        parts = [part for part in parts if part] or [mine]
        optimizer.zero_grad()
        loss = weight_sum = return_sum = torch.zeros((), device=device)
        for j, part in enumerate(parts):  # micro-batches: their gradients add up to the batch's
            sync = accelerator.no_sync(lm) if j < len(parts) - 1 else nullcontext()
            with sync:
                if kind == "pg":
                    logprobs, mask = forward([encoded[i] for i in part])  # [b, L-1] x2
                    q = shifted_weights([weights[i] for i in part], logprobs.shape[1]).to(device)
                    g = torch.tensor([pg_rows[i][1] for i in part], device=device)  # [b]
                else:
                    logprobs, mask = forward([ce_rows[i] for i in part])  # [b, L-1] x2
                    q = torch.ones_like(logprobs)  # [b, L-1]
                    g = torch.ones(len(part), device=device)  # [b] so the loss is -mean log p
                part_loss = pg_loss(logprobs, q, g, mask, n_tokens)  # its share of the mean
                accelerator.backward(part_loss * world)  # DDP averages: the global token mean
            loss = loss + part_loss.detach()
            weight_sum = weight_sum + (q * mask).sum().detach()
            return_sum = return_sum + g.sum()
        grad_norm = accelerator.clip_grad_norm_(lm.parameters(), cfg.max_grad_norm)
        with torch.no_grad():
            totals = accelerator.reduce(torch.stack([loss, weight_sum, return_sum]), "sum").tolist()
        check_finite(
            f"actor step {step}", {"grad_norm": grad_norm, f"losses/{kind}": totals[0]}, hint
        )
        optimizer.step()
        check_parameters_finite(f"actor step {step}", unwrapped, hint)
        # ------------------------------------------------------------------ 3e. log and checkpoint
        line = {
            "step": step,
            "kind": kind,
            f"losses/{kind}": totals[0],
            "charts/tokens": int(n_tokens.item()),
            "charts/rows": len(pick),
            "charts/learning_rate": lr,
            "time/step_s": round(time.time() - t0, 4),
        }
        if kind == "pg":
            line["charts/return_mean"] = totals[2] / len(pick)
            line["charts/weight_mean"] = totals[1] / max(1.0, n_tokens.item())
        if accelerator.is_main_process:
            _append_metrics(metrics_path, line)
            tracker.log(line)
        progress.update(task, advance=1, description=f"actor {kind} loss {totals[0]:.3f}")
        if report_now(step, cfg.actor_steps):
            log.info("actor step %d/%d: %s loss %.4f", step, cfg.actor_steps, kind, totals[0])
        if step == cfg.actor_steps or (cfg.checkpoint_every and step % cfg.checkpoint_every == 0):
            with checkpoint_folder(accelerator, out / "checkpoints" / f"step_{step:06d}") as tmp:
                if accelerator.is_main_process:
                    save_lm(unwrapped, tokenizer, tmp / "model", cfg.model)
                    save_tensors_and_json(tmp / "optimizer", *optimizer_state(optimizer))
                    version, internal, gauss = sampler.getstate()
                    state = {
                        "step": step,
                        "sampler": [version, list(internal), gauss],
                        "processes": world,
                    }
                    (tmp / "trainer_state.json").write_text(json.dumps(state))
                    save_config(cfg, tmp)
    progress.stop()
    tracker.close()
    return out


def program_tokens(encoded_row) -> int:
    """Program tokens of an encoded row whose log-probs enter the loss (tokens 1..)."""
    ids, n_prompt = encoded_row
    return len(ids) - max(n_prompt, 1)


# --------------------------------------------------------------------------- CLI
STAGES = ("sample", "train-critic", "train-actor")


CRITIC_FILES = (
    "config.yaml",
    "metrics.jsonl",
    "eval.json",
    "backbone",
    "head.safetensors",
    "head.json",
    "tensorboard",
    "wandb",
)


def check_inputs(
    cfg: CodeRLConfig, commands: Sequence[str], resume: str | None, overwrite: bool = False
) -> None:
    """Raise ConfigError when a location the stages read is missing (loads no model): the
    model folders, the data, the samples or critic an earlier stage should have made, the
    actor checkpoint to resume (or, fresh, an actor folder that already has checkpoints),
    a checkpoint that cannot continue with these settings; or when a folder a stage writes
    holds other files (`appsplus.outdir`'s rule: sample continues an earlier CodeRL output
    folder, train-critic needs a new or empty critic folder, train-actor one or --resume;
    `overwrite` replaces the files the stage writes)."""
    from appsplus.bench.critic import CriticError, check_critic_folder
    from appsplus.trainers.checks import (
        check_output_dir,
        check_resumable,
        checkpoint_to_resume,
    )
    from appsplus.trainers.config import ConfigError, check_locations, check_resume
    from appsplus.trainers.tracking import check_report_to

    check_locations(cfg)
    check_report_to(cfg.report_to)
    if "sample" not in commands and not samples_path(cfg).is_file():
        raise ConfigError(
            f"samples_file: no such file: {samples_path(cfg)} (run the sample stage first)"
        )
    if "train-actor" in commands and "train-critic" not in commands:
        try:
            check_critic_folder(cfg.critic or Path(cfg.output_dir) / "critic")
        except CriticError as e:
            raise ConfigError(f"critic: {e} (run train-critic first)") from None
    out = Path(cfg.output_dir)
    actor = out / "actor"
    if "train-actor" in commands:
        check_resume(actor, resume, overwrite)
        if resume is not None:
            check_resumable(checkpoint_to_resume(actor, resume), cfg, RESUMABLE)
    if "sample" in commands:  # continues its own samples (and a folder of later stages)
        earlier = any((out / name).exists() for name in ("config_sample.yaml", "samples.jsonl"))
        check_output_dir(
            out,
            is_resume=earlier and not overwrite,
            overwrite=overwrite,
            what="a CodeRL output folder",
            ours=("samples.jsonl", "config_sample.yaml"),
        )
        for part in out.glob("samples.rank*.jsonl") if overwrite else ():
            part.unlink()
    if "train-critic" in commands:
        check_output_dir(
            Path(cfg.critic or out / "critic"),
            is_resume=False,
            overwrite=overwrite,
            what="a critic to replace (train-critic starts afresh)",
            ours=CRITIC_FILES,
        )
    if "train-actor" in commands:
        check_output_dir(
            actor,
            is_resume=resume is not None,
            overwrite=overwrite,
            what="an actor run to resume (--resume latest)",
            ours=("checkpoints", "metrics.jsonl", "config.yaml", "tensorboard", "wandb"),
        )


@exit_on_error("python -m appsplus.trainers.coderl")
def main(argv: list[str] | None = None) -> None:
    from appsplus.trainers.checks import checkpoints_in, resume_command, run_cli, setup_logging
    from appsplus.trainers.config import config_from_cli, config_parser

    parser = config_parser(
        "python -m appsplus.trainers.coderl",
        "CodeRL stages, run in the order given. Example: python -m appsplus.trainers.coderl "
        "sample train-critic train-actor --config configs/coderl_sample_cpu.yaml "
        "--set samples_per_problem=8",
        CodeRLConfig,
    )
    parser.add_argument(
        "command", nargs="*", metavar="STAGE", help=f"{', '.join(STAGES)}, run in the order given"
    )
    parser.add_argument(
        "--resume", metavar="latest|PATH", help="train-actor: continue from a checkpoint"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start the given stages afresh in folders that hold files: replace the ones they "
        "write (samples.jsonl, the critic's files, the actor's checkpoints/ and metrics), "
        "leave the others",
    )
    args = parser.parse_args(argv)
    unknown = [c for c in args.command if c not in STAGES]
    if unknown or not (args.command or args.show_config):
        what = f"unknown stage {unknown[0]!r}" if unknown else "no stage given"
        parser.exit(2, f"{parser.prog}: error: {what}; the stages: {', '.join(STAGES)}\n")
    if args.resume and "train-actor" not in args.command:
        parser.error("--resume is for train-actor (sample resumes by itself)")
    cfg = config_from_cli(
        parser,
        CodeRLConfig,
        args,
        list(args.set),
        lambda c: check_inputs(c, args.command, args.resume, args.overwrite),
    )
    setup_logging()
    from accelerate import PartialState

    running = []  # the stage under way

    def run() -> None:
        for command in args.command:
            running.append(command)
            if command == "sample":
                saved = f"samples saved to {sample(cfg)}"
            elif command == "train-critic":
                saved = f"critic saved to {train_critic(cfg)}"
            else:
                actor = train_actor(cfg, resume=args.resume)
                final = actor / "checkpoints" / f"step_{cfg.actor_steps:06d}" / "model"
                saved = f"actor model saved to {final}"
            if PartialState().is_main_process:  # each stage ends with where its output is
                log.info("coderl %s: %s", command, saved)

    def hint() -> str:  # how to go on after Ctrl-C in the stage under way
        if not running:
            return "nothing was written yet: rerun the command"
        rest = args.command[args.command.index(running[-1]) :]
        if running[-1] == "sample":  # sampling keeps its complete problems
            return f"rerun to continue sampling: {resume_command(argv, False, rest)}"
        if running[-1] == "train-actor" and checkpoints_in(Path(cfg.output_dir) / "actor"):
            return f"continue from the last checkpoint: {resume_command(argv, True, rest)}"
        return f"rerun the stage afresh: {resume_command(argv, False, rest)} --overwrite"

    run_cli(parser.prog, run, hint)
    PartialState().destroy_process_group()


if __name__ == "__main__":
    main()
