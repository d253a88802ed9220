"""Pass rates of a model on every CCCS stage of a dataset's records (a training-time check).

    python -m appsplus.trainers.stage_eval --model runs/sft-sample/model --data sample --set split=test \\
        --set samples=4 --out eval.json

For each record and each of its curriculum stages (`appsplus.trainers.data.stages_of`: stage 0 is
the easiest, the longest given prefix; the last stage is full generation), sample
completions of the stage prompt, run prefix + completion on the tests, and count passes.
Reports the pass rate per stage index, on each record's full-generation stage ('full'),
and over all subtasks ('overall'). Writes the report as JSON (`--out`, else stdout).
`--model` is a model folder, a hub id or a LoRA adapter folder (a trainer's model/ with
lora_r > 0). The default split is test: the problems the trainers (split train) did not
see. This is not pass@k: `bench` is the benchmark.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from appsplus.errors import exit_on_error
from appsplus.trainers.judge import RewardTable

log = logging.getLogger(__name__)


class EvalConfig(BaseModel):
    """Every setting of a stage-wise evaluation."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="hub id or folder of the AutoModelForCausalLM")
    tokenizer: str | None = Field(None, description="tokenizer hub id or folder; default: model")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="weights dtype")
    data: str = Field("sample", description="'sample' or a built APPS+ dataset path")
    split: str | None = Field(
        "test", description="split to evaluate (the trainers train on train); null: every split"
    )
    samples: int = Field(4, ge=1, description="completions sampled per (record, stage)")
    temperature: float = Field(1.0, ge=0, description="sampling temperature; 0 is greedy")
    max_new_tokens: int = Field(256, ge=1, description="tokens generated per completion")
    max_prompt_tokens: int = Field(1024, ge=8, description="prompts are cut from the left")
    batch_size: int = Field(32, ge=1, description="prompts per generate call")
    time_limit_s: float | None = Field(None, gt=0, description="per-test limit; null: record's")
    rewards: RewardTable = Field(default_factory=RewardTable, description="for the mean reward")
    seed: int = Field(0, description="torch seed of the sampler")
    torch_threads: int | None = Field(None, ge=1, description="torch CPU threads")


class Score(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subtasks: int = 0
    samples: int = 0
    passed: int = 0
    reward_sum: float = 0.0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.samples if self.samples else 0.0


class EvalReport(BaseModel):
    """Pass counts per stage index, on full generation, and overall."""

    model_config = ConfigDict(extra="forbid")

    config: EvalConfig
    by_stage: dict[int, Score]
    full: Score
    overall: Score
    wall_s: float

    def summary(self) -> dict:
        """{name: pass rate} for 'stage K', 'full' and 'overall'."""
        out = {f"stage {k}": s.pass_rate for k, s in sorted(self.by_stage.items())}
        return {**out, "full": self.full.pass_rate, "overall": self.overall.pass_rate}


def evaluate(cfg: EvalConfig, records: list | None = None) -> EvalReport:
    """Sample and judge completions of every (record, stage) subtask."""
    import time

    import torch
    from transformers import AutoTokenizer

    from appsplus.execution import WorkerPool
    from appsplus.trainers.data import load_records, stages_of
    from appsplus.trainers.judge import compute_rewards
    from appsplus.trainers.model import generate, load_lm

    started = time.time()
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    torch.manual_seed(cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer or cfg.model)
    lm = load_lm(cfg.model, cfg.dtype, trainable=False).eval()  # a LoRA adapter folder too
    records = records or load_records(cfg.data, cfg.split)
    jobs = [
        (record, stage, n_stages, prefix)
        for record in records
        for stages in [stages_of(record)]
        for n_stages in [len(stages)]
        for stage, prefix in enumerate(stages)
        for _ in range(cfg.samples)
    ]
    by_stage: dict[int, Score] = defaultdict(Score)
    full, overall = Score(), Score()
    seen: set[tuple[str, int]] = set()
    with WorkerPool() as pool:
        for i in range(0, len(jobs), cfg.batch_size):
            batch = jobs[i : i + cfg.batch_size]
            gen = generate(
                lm,
                tokenizer,
                [record.prompt(prefix) for record, _, _, prefix in batch],
                cfg.max_new_tokens,
                cfg.max_prompt_tokens,
                cfg.temperature,
            )
            completions = tokenizer.batch_decode(
                [row[mask] for row, mask in zip(gen.response, gen.response_mask)],
                skip_special_tokens=True,
                clean_up_tokenization_spaces=False,
            )
            results = compute_rewards(
                [record for record, *_ in batch],
                [prefix for *_, prefix in batch],
                completions,
                cfg.rewards,
                cfg.time_limit_s,
                pool=pool,
            )
            for (record, stage, n_stages, _), result in zip(batch, results):
                first = (record.problem_id, stage) not in seen
                seen.add((record.problem_id, stage))
                scores = [by_stage[stage], overall] + ([full] if stage == n_stages - 1 else [])
                for score in scores:
                    score.subtasks += first
                    score.samples += 1
                    score.passed += result.passed
                    score.reward_sum += result.scalar
            log.info("evaluated %d/%d samples", min(i + cfg.batch_size, len(jobs)), len(jobs))
    return EvalReport(
        config=cfg,
        by_stage=dict(sorted(by_stage.items())),
        full=full,
        overall=overall,
        wall_s=round(time.time() - started, 3),
    )


@exit_on_error("python -m appsplus.trainers.stage_eval")
def main(argv: list[str] | None = None) -> None:
    from appsplus.trainers.config import config_from_cli, config_parser

    parser = config_parser(
        "python -m appsplus.trainers.stage_eval",
        "Pass rate per curriculum stage. Example: python -m appsplus.trainers.stage_eval "
        "--model runs/sft-sample/model --set samples=4 --out eval.json",
        EvalConfig,
    )
    parser.add_argument("--model", help="shorthand for --set model=...")
    parser.add_argument("--out", help="write the JSON report here (default: stdout)")
    args = parser.parse_args(argv)
    overrides = list(args.set) + ([f"model={args.model}"] if args.model else [])
    cfg = config_from_cli(parser, EvalConfig, args, overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    report = evaluate(cfg)
    text = report.model_dump_json(indent=1)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    log.info("pass rates: %s", json.dumps(report.summary()))


if __name__ == "__main__":
    main()
