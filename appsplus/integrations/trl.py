"""A TRL `GRPOTrainer` reward: `CodeReward(...)(prompts, completions, tests, **columns) -> list[float | None]`.

    from appsplus.integrations.trl import CodeReward
    trainer = GRPOTrainer(model=..., reward_funcs=[CodeReward(shape="fraction", max_tests=15)],
                          train_dataset=load_dataset("parquet", data_files="trl/train.parquet")["train"])

The dataset is `appsplus export DATASET --format trl`: TRL passes its columns `tests`,
`prefix`, `fn_name` and `time_limit_s` as keyword arguments. Completions may be strings or
chat messages (conversational prompts). A row whose tests are malformed gets `None` (TRL:
the reward does not apply). Verdict shares are logged through TRL's `log_metric` hook and,
through `log_extra` (columns of TRL's completions table), each completion's outcome and
its first failing test (`appsplus_first_failure`: test index, verdict, input, expected
and actual output, error, cut as `bench show` cuts them; '' when all passed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appsplus.execution import TestsError
from appsplus.integrations.scoring import (
    Item,
    RewardConfig,
    Scorer,
    completion_text,
    failure_text,
    verdict_counts,
)


def _column(columns: dict[str, Any], name: str, n: int) -> list[Any]:
    value = columns.get(name)
    return list(value) if value is not None else [None] * n


class CodeReward:
    """A TRL reward function (sync, batched) over the appsplus executor."""

    def __init__(self, scorer: Scorer | None = None, **options: Any) -> None:
        self.scorer = scorer or Scorer(RewardConfig(**options))
        self.__name__ = f"appsplus_{self.scorer.config.shape}"  # TRL names its metrics after it

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        tests: Sequence[Any] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        n = len(completions)
        if tests is None:
            raise TestsError("the dataset has no `tests` column: export it with `appsplus export`")
        prefixes = _column(columns, "prefix", n)
        fn_names = _column(columns, "fn_name", n)
        limits = _column(columns, "time_limit_s", n)
        items = [
            Item(
                text=completion_text(c),
                tests=t,
                prefix=p or "",
                fn_name=f,
                time_limit_s=lim,
            )
            for c, t, p, f, lim in zip(completions, tests, prefixes, fn_names, limits)
        ]
        scores = self.scorer.score(items, strict=False)
        judged = [s for s in scores if s is not None]
        log_metric = columns.get("log_metric")
        if callable(log_metric) and judged:
            for name, value in verdict_counts(judged).items():
                log_metric(name, value)
        log_extra = columns.get("log_extra")
        if callable(log_extra):
            log_extra("appsplus_outcome", [s.outcome.value if s else None for s in scores])
            log_extra("appsplus_first_failure", [failure_text(s) for s in scores])
        return [s.reward if s is not None else None for s in scores]

    def close(self) -> None:
        self.scorer.close()
