"""Supervised warm start: fine-tune a causal LM on APPS+ canonical solutions.

    python -m appsplus.trainers.sft --config configs/sft_example.yaml [--set epochs=5 ...]
    accelerate launch -m appsplus.trainers.sft --config ...        # several GPUs

Each example is the shared prompt (`appsplus.prompts.build_prompt`, no prefix) followed
by the solution and EOS; the loss covers only the solution and EOS tokens (prompt tokens
are labelled -100). Writes `OUTPUT_DIR/model` (model + tokenizer, the policy init for
StepCoder), `OUTPUT_DIR/config.yaml` and `OUTPUT_DIR/metrics.jsonl`.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)


class SFTConfig(BaseModel):
    """Every setting of a supervised warm-start run."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="hub id or folder of the AutoModelForCausalLM to fine-tune")
    tokenizer: str | None = Field(None, description="tokenizer hub id or folder; default: model")
    data: str = Field("sample", description="'sample' (embedded) or a built APPS+ dataset path")
    split: str | None = Field("train", description="split to train on; null for every split")
    output_dir: str = Field("runs/sft", description="where model/, config and metrics go")
    epochs: int = Field(3, ge=1, description="passes over the examples")
    batch_size: int = Field(8, ge=1, description="examples per optimizer step, per process")
    learning_rate: float = Field(1e-4, gt=0, description="AdamW learning rate (constant)")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping norm")
    max_length: int = Field(1024, ge=8, description="tokens per example (prompt cut from the left)")
    all_solutions: bool = Field(
        False, description="train on every passing solution, not only the canonical one"
    )
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="weights dtype")
    seed: int = Field(0, description="seed of python, numpy and torch")
    log_every: int = Field(10, ge=1, description="optimizer steps between metrics lines")
    progress: bool = Field(True, description="show a rich progress bar on stderr")
    torch_threads: int | None = Field(
        None, ge=1, description="torch intra-op CPU threads; null: torch's default"
    )


def train(cfg: SFTConfig) -> Path:
    """Run supervised fine-tuning; returns the folder of the saved model."""
    import torch
    from accelerate import Accelerator
    from rich.progress import Progress
    from transformers import AutoTokenizer

    from appsplus.trainers.config import save_config
    from appsplus.trainers.data import load_records, sft_example
    from appsplus.trainers.model import load_lm, seed_everything

    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    accelerator = Accelerator()
    seed_everything(cfg.seed)
    out = Path(cfg.output_dir)
    if accelerator.is_main_process:
        save_config(cfg, out)

    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer or cfg.model)
    records = load_records(cfg.data, cfg.split)
    examples = [
        sft_example(tokenizer, r, cfg.max_length, solution)
        for r in records
        for solution in (r.solutions if cfg.all_solutions else [r.canonical_solution])
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def collate(batch: list[dict]) -> dict:
        width = max(len(e["input_ids"]) for e in batch)
        ids = [e["input_ids"] + [pad] * (width - len(e["input_ids"])) for e in batch]
        labels = [e["labels"] + [-100] * (width - len(e["labels"])) for e in batch]
        mask = [[1] * len(e["input_ids"]) + [0] * (width - len(e["input_ids"])) for e in batch]
        return {
            "input_ids": torch.tensor(ids),  # [B, L]
            "labels": torch.tensor(labels),  # [B, L] -100 on prompt and padding
            "attention_mask": torch.tensor(mask),  # [B, L]
        }

    loader = torch.utils.data.DataLoader(
        examples, batch_size=cfg.batch_size, shuffle=True, collate_fn=collate
    )
    model = load_lm(cfg.model, cfg.dtype)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
    )
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    model.train()

    metrics = (out / "metrics.jsonl").open("w") if accelerator.is_main_process else None
    step, start = 0, time.time()
    progress = Progress(disable=not (cfg.progress and accelerator.is_main_process))
    with progress:
        task = progress.add_task("sft", total=cfg.epochs * len(loader))
        for epoch in range(cfg.epochs):
            for batch in loader:
                loss = model(**batch).loss  # mean over solution tokens
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
                step += 1
                loss = accelerator.reduce(loss.detach(), "mean").item()
                progress.update(task, advance=1, description=f"sft loss {loss:.3f}")
                if metrics is not None and (step % cfg.log_every == 0 or step == 1):
                    line = {"step": step, "epoch": epoch, "losses/sft": loss}
                    line["time/elapsed_s"] = round(time.time() - start, 3)
                    metrics.write(json.dumps(line) + "\n")
                    metrics.flush()
    model_dir = out / "model"
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)
        metrics.close()
        log.info("sft: %d steps in %.1fs; model saved to %s", step, time.time() - start, model_dir)
    accelerator.end_training()
    return model_dir


def main(argv: list[str] | None = None) -> None:
    from appsplus.trainers.config import config_from_cli, config_parser

    parser = config_parser(
        "python -m appsplus.trainers.sft",
        "Supervised warm start on canonical solutions. "
        "Example: python -m appsplus.trainers.sft --config configs/sft_example.yaml --set epochs=5",
        SFTConfig,
    )
    args = parser.parse_args(argv)
    cfg = config_from_cli(parser, SFTConfig, args, list(args.set))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    train(cfg)


if __name__ == "__main__":
    main()
