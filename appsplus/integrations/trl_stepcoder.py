"""StepCoder's curriculum (CCCS) and fine-grained optimization (FGO) inside TRL's GRPOTrainer.

    from appsplus.integrations.trl_stepcoder import (
        ExecutionReward, StepCoderCurriculum, StepCoderGRPOTrainer)

    curriculum = StepCoderCurriculum.from_data("apps-plus", split="train", rho=0.8)
    trainer = StepCoderGRPOTrainer(
        model=..., args=GRPOConfig(...),                 # any GRPOConfig; vLLM too
        reward_funcs=[ExecutionReward()],                # runs prefix + completion, traced
        train_dataset=curriculum.dataset(),
        curriculum=curriculum, fgo=True)
    trainer.train()                                      # resume_from_checkpoint=... resumes CCCS

The same two mechanisms as the bundled `appsplus.trainers.stepcoder`, from the same code:

* CCCS. `StepCoderCurriculum` holds each record's stages (`appsplus.trainers.data.stages_of`:
  prefixes of the canonical solution, easiest first) and a `CurriculumState` (the rule:
  advance a record when its accumulated pass rate at its stage exceeds rho). The dataset
  rows name a record; just before each generation the trainer rewrites every row's text
  prompt to the record's *current* stage (the shared prompt builder, ending with the
  prefix) and its `prefix` column. After the rewards, every process gathers every
  process's (record, passed) pairs in the same order, records them and advances once per
  generation batch (the bundled trainer's iteration), so all processes hold the same
  state and make the same stage decisions. The state is written into each TRL checkpoint
  (`stepcoder_curriculum.json`) and read back by `trainer.train(resume_from_checkpoint=...)`.
* FGO. `ExecutionReward` judges `prefix + completion` with line tracing (the bundled
  trainer's `appsplus.trainers.judge.compute_rewards`) and keeps, per completion, which of
  its tokens lie on lines some test executed (`appsplus.curriculum.masks.fgo_keep`, the
  EOS kept). The trainer multiplies that into TRL's `tool_mask`, the per-token loss mask
  `GRPOTrainer._compute_loss` applies (`completion_mask * tool_mask`), and recounts
  `num_items_in_batch`. Attention is unchanged: masked tokens are still context.

Both hooks sit in `_generate_and_score_completions`, around generation, so they apply the
same with `use_vllm=True` (vLLM returns the completion token ids the mask is built on).
Not supported: tool calling / multi-turn rollouts (their completions interleave tool
output with generated code) and conversational prompts for CCCS (the prompt must end with
the prefix that the completion continues, as in the bundled trainer: text prompts).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from appsplus.curriculum.masks import fgo_keep
from appsplus.curriculum.subtasks import CurriculumState
from appsplus.errors import AppsplusError
from appsplus.rewards import DEFAULT_TABLE, RewardTable

log = logging.getLogger(__name__)

CURRICULUM_FILE = "stepcoder_curriculum.json"  # in each TRL checkpoint folder


class StepCoderTRLError(AppsplusError, ValueError):
    """The trainer, reward or dataset cannot run StepCoder's CCCS / FGO as configured."""


# --------------------------------------------------------------------------- CCCS
class StepCoderCurriculum:
    """CCCS for TRL: the records, their stages and the shared `CurriculumState`."""

    def __init__(self, records: Sequence[Any], rho: float = 0.8, min_attempts: int = 1):
        from appsplus.trainers.data import stages_of

        self.records = {r.problem_id: r for r in records}
        if not self.records:
            raise StepCoderTRLError("the curriculum has no records")
        self.stages = {pid: stages_of(r) for pid, r in self.records.items()}
        self.state = CurriculumState.start(
            {pid: len(s) for pid, s in self.stages.items()}, rho, min_attempts
        )

    @classmethod
    def from_data(
        cls, data: str = "sample", split: str | None = "train", **options: Any
    ) -> StepCoderCurriculum:
        """From an `appsplus build` folder (or 'sample', the embedded one), one split or all."""
        from appsplus.trainers.data import load_records

        return cls(load_records(data, split), **options)

    def dataset(self):
        """A `datasets.Dataset` of one row per record (sorted by id), at full generation.

        Columns: `prompt` (text), `problem_id`, `tests` (JSON), `fn_name`, `time_limit_s`,
        `prefix`, `stage`. `StepCoderGRPOTrainer` rewrites `prompt`, `prefix` and `stage`
        to the current stage just before generation.
        """
        import datasets

        from appsplus.integrations.scoring import tests_json

        rows = []
        for pid in sorted(self.records):
            r = self.records[pid]
            rows.append(
                {
                    "prompt": r.prompt(""),
                    "problem_id": pid,
                    "tests": tests_json(r.tests),
                    "fn_name": r.fn_name,
                    "time_limit_s": r.time_limit_s,
                    "prefix": "",
                    "stage": len(self.stages[pid]) - 1,
                }
            )
        return datasets.Dataset.from_list(rows)

    def at_stage(self, row: dict) -> dict:
        """`row` (a dataset row) with the prompt, prefix and stage of its record's current stage."""
        pid = row.get("problem_id")
        if pid not in self.records:
            raise StepCoderTRLError(
                f"row with problem_id {pid!r} is not in the curriculum: train on "
                "curriculum.dataset() (or rows with its problem_id column)"
            )
        stage = self.state.stage(pid)
        prefix = self.stages[pid][stage]
        return {**row, "prompt": self.records[pid].prompt(prefix), "prefix": prefix, "stage": stage}

    def update(self, outcomes: Sequence[tuple[str, bool]]) -> list[str]:
        """Count each (record, passed) at its record's stage, then advance (the bundled
        trainer's step 7); returns the ids that moved."""
        for pid, passed in outcomes:
            self.state.record(pid, passed)
        return self.state.advance()

    def save(self, folder: str | Path) -> None:
        (Path(folder) / CURRICULUM_FILE).write_text(self.state.model_dump_json(indent=1))

    def load(self, folder: str | Path) -> bool:
        """Restore the state saved in `folder`; False when it holds none."""
        path = Path(folder) / CURRICULUM_FILE
        if not path.exists():
            return False
        state = CurriculumState.model_validate_json(path.read_text())
        if set(state.records) != set(self.records):
            raise StepCoderTRLError(
                f"{path}: the saved curriculum is over other records "
                f"({len(state.records)} saved, {len(self.records)} here)"
            )
        self.state = state
        return True


# --------------------------------------------------------------------------- FGO reward
@dataclass(frozen=True)
class Judged:
    """What `ExecutionReward` learned about one completion."""

    problem_id: str | None
    passed: bool
    keep: list[bool] | None  # per completion token: FGO keeps it (None: no token ids given)


class ExecutionReward:
    """A TRL reward: run `prefix + completion` on the row's tests with line tracing.

    The reward is StepCoder's outcome table (`shape="table"`, the bundled trainer's) or
    1.0/0.0 (`shape="binary"`). The program is the completion verbatim after the prefix (no
    code extraction), as in the bundled trainer. With a tokenizer set (the trainer sets
    it), the completion text is decoded from TRL's `completion_ids` the way the bundled
    trainer decodes (`completion_offsets`), and `last` holds each completion's FGO keep
    mask over those ids.
    """

    def __init__(
        self,
        shape: str = "table",
        table: RewardTable = DEFAULT_TABLE,
        time_limit_s: float | None = None,
        memory_mb: int = 2048,
        executor: str = "local",
        workers: int | None = None,
    ) -> None:
        if shape not in ("table", "binary"):
            raise StepCoderTRLError(f"shape must be table or binary, got {shape!r}")
        self.shape, self.table = shape, table
        self.time_limit_s, self.memory_mb = time_limit_s, memory_mb
        self.executor_spec, self.workers = executor, workers
        self._pool = None
        self.tokenizer = None
        self.eos_token_ids: set[int] = set()
        self.last: list[Judged | None] = []
        self.__name__ = f"appsplus_execution_{shape}"  # TRL names its metric after it

    @property
    def pool(self):
        if self._pool is None:
            from appsplus.execution import open_executor

            self._pool = open_executor(self.executor_spec, self.workers)
        return self._pool

    def texts_and_masks(self, completions, completion_ids):
        """Per completion: its text and token offsets (None without a tokenizer)."""
        from appsplus.integrations.scoring import completion_text
        from appsplus.trainers.data import completion_offsets

        if self.tokenizer is None or completion_ids is None:
            return [(completion_text(c), None) for c in completions]
        return [completion_offsets(self.tokenizer, list(ids)) for ids in completion_ids]

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        tests: Sequence[Any] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        from appsplus.execution import TestsError
        from appsplus.integrations.scoring import parse_tests
        from appsplus.trainers.judge import compute_rewards

        n = len(completions)
        if tests is None:
            raise TestsError(
                "the dataset has no `tests` column: use StepCoderCurriculum.dataset() "
                "or `appsplus export`"
            )
        prefixes = [p or "" for p in columns.get("prefix") or [""] * n]
        limits = list(columns.get("time_limit_s") or [None] * n)
        pids = list(columns.get("problem_id") or [None] * n)
        decoded = self.texts_and_masks(completions, completion_ids)
        problems, index = [], []
        for i, t in enumerate(tests):
            try:
                problems.append(SimpleNamespace(tests=parse_tests(t), time_limit_s=limits[i]))
                index.append(i)
            except ValueError as e:
                log.warning("completion %d: malformed tests, no reward: %s", i, e)
        results = compute_rewards(
            problems,
            [prefixes[i] for i in index],
            [decoded[i][0] for i in index],
            self.table,
            self.time_limit_s,
            self.memory_mb,
            pool=self.pool,
        )
        self.last = [None] * n
        rewards: list[float | None] = [None] * n
        for i, result in zip(index, results):
            offsets = decoded[i][1]
            keep = None
            if offsets is not None:
                ids = completion_ids[i]
                eos_ended = bool(len(ids)) and int(ids[-1]) in self.eos_token_ids
                keep = fgo_keep(result.completion_ranges, offsets, eos_ended)
            self.last[i] = Judged(pids[i], result.passed, keep)
            rewards[i] = result.scalar if self.shape == "table" else float(result.passed)
        log_metric = columns.get("log_metric")
        judged = [j for j in self.last if j is not None]
        if callable(log_metric) and judged:
            log_metric("appsplus/pass_rate", sum(j.passed for j in judged) / len(judged))
        return rewards

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


# --------------------------------------------------------------------------- the trainer
def _grpo_trainer():
    from trl import GRPOTrainer

    return GRPOTrainer


class StepCoderGRPOMixin:
    """CCCS and FGO for a `trl.GRPOTrainer` (or a subclass of it): put this class first.

    Keyword arguments: `curriculum` (a `StepCoderCurriculum`, or None for no CCCS) and `fgo`
    (mask the tokens no test executed). Both need exactly one `ExecutionReward` among the
    reward functions (other rewards may sit beside it).
    """

    def __init__(self, *args: Any, curriculum: StepCoderCurriculum | None = None, fgo: bool = True,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.curriculum, self.fgo = curriculum, fgo
        ours = [f for f in self.reward_funcs if isinstance(f, ExecutionReward)]
        if (fgo or curriculum is not None) and len(ours) != 1:
            raise StepCoderTRLError(
                f"CCCS and FGO need exactly one ExecutionReward in reward_funcs, found {len(ours)}"
            )
        self.execution_reward = ours[0] if ours else None
        if self.execution_reward is not None:
            self.execution_reward.tokenizer = self._tokenizer
            self.execution_reward.eos_token_ids = {int(t) for t in self.eos_token_ids}
        if self.tools or getattr(self, "environment_factories", None) is not None:
            raise StepCoderTRLError("CCCS and FGO do not support tool calling or environments")
        self.stage_history: list[dict[str, int]] = []  # stages after each generation batch

    def _generate_and_score_completions(self, inputs):
        import torch
        from accelerate.utils import gather_object

        training = self.model.training
        if self.curriculum is not None and training:
            inputs = [self.curriculum.at_stage(x) for x in inputs]
        reward = self.execution_reward
        if reward is not None:
            reward.last = []
        output = super()._generate_and_score_completions(inputs)
        if reward is None or not training:
            return output
        judged = reward.last
        if len(judged) != len(inputs):
            raise StepCoderTRLError(
                f"the ExecutionReward judged {len(judged)} completions, not {len(inputs)}"
            )
        mode = "train"
        completion_mask = output["completion_mask"]  # [B, C]
        if self.fgo:
            keep = torch.ones_like(completion_mask)  # [B, C]
            for i, j in enumerate(judged):
                if j is not None and j.keep is not None:
                    keep[i, : len(j.keep)] = torch.tensor(j.keep, dtype=keep.dtype)
            tool_mask = output.get("tool_mask")
            output["tool_mask"] = keep if tool_mask is None else tool_mask * keep
            loss_mask = completion_mask * output["tool_mask"]  # [B, C]
            output["num_items_in_batch"] = self.accelerator.gather(loss_mask.sum()).sum()
            totals = torch.tensor(
                [float(completion_mask.sum()), float(loss_mask.sum())],
                device=completion_mask.device,
            )
            generated, kept = self.accelerator.gather(totals).view(-1, 2).sum(0).tolist()
            self._metrics[mode]["stepcoder/fgo_masked_fraction"].append(
                1 - kept / max(1.0, generated)
            )
        if self.curriculum is not None:
            mine = [(j.problem_id, j.passed) for j in judged if j is not None]
            outcomes = [pair for part in gather_object([mine]) for pair in part]
            moved = self.curriculum.update(outcomes)
            self.stage_history.append(
                {pid: p.stage for pid, p in self.curriculum.state.records.items()}
            )
            self._metrics[mode]["stepcoder/curriculum_progress"].append(
                self.curriculum.state.mean_stage_fraction()
            )
            self._metrics[mode]["stepcoder/advanced"].append(float(len(moved)))
            stages = [x["stage"] / max(1, len(self.curriculum.stages[x["problem_id"]]) - 1)
                      for x in inputs]  # fmt: skip
            self._metrics[mode]["stepcoder/stage_mean"].append(sum(stages) / len(stages))
        return output

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if self.curriculum is not None and self.args.should_save:
            from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

            folder = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
            self.curriculum.save(Path(self._get_output_dir(trial=trial)) / folder)

    def _load_optimizer_and_scheduler(self, checkpoint):
        super()._load_optimizer_and_scheduler(checkpoint)
        if self.curriculum is not None and checkpoint is not None:
            if not self.curriculum.load(checkpoint):
                raise StepCoderTRLError(
                    f"{checkpoint} has no {CURRICULUM_FILE}: it was not saved by a CCCS run"
                )
            log.info("curriculum restored from %s", checkpoint)


def __getattr__(name: str):
    # StepCoderGRPOTrainer is built on first use, so importing this module needs no TRL
    if name == "StepCoderGRPOTrainer":
        cls = type("StepCoderGRPOTrainer", (StepCoderGRPOMixin, _grpo_trainer()), {})
        cls.__module__ = __name__
        cls.__doc__ = "trl.GRPOTrainer with StepCoder's CCCS and FGO (see StepCoderGRPOMixin)."
        globals()[name] = cls
        return cls
    raise AttributeError(name)


__all__ = [
    "CURRICULUM_FILE",
    "ExecutionReward",
    "Judged",
    "StepCoderCurriculum",
    "StepCoderGRPOMixin",
    "StepCoderGRPOTrainer",  # noqa: F822 (built on first use by __getattr__)
    "StepCoderTRLError",
]
