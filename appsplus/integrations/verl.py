"""A verl reward: `compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)`.

Load it through verl's custom reward function (this file's path, from
`python -c "import appsplus.integrations.verl as m; print(m.__file__)"`)::

    custom_reward_function.path=<that path> custom_reward_function.name=compute_score \\
    +custom_reward_function.reward_kwargs.shape=fraction +custom_reward_function.reward_kwargs.max_tests=15

The dataset is `appsplus export DATASET --format verl`: `reward_model.ground_truth` holds
the typed tests as JSON (an APPS `input_output` object also works), `extra_info` the
curriculum `prefix`, `fn_name` and `time_limit_s`. `reward_kwargs` are `RewardConfig`
fields. Returns a dict: `score` plus `pass_fraction`, `passed` and `outcome`, and the
first failing test as text fields `failure_test_index`, `failure_verdict`,
`failure_input`, `failure_expected`, `failure_actual`, `failure_error` ('' when every
test passed; cut as `bench show` cuts them), which verl keeps as reward extra info (its
rollout and validation dumps have one column per key; text is not averaged). verl calls it from many threads at once: they share one
executor per option set. Malformed ground truth raises ValueError (corrupt data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appsplus.integrations.scoring import (
    Item,
    RewardConfig,
    Score,
    failure_fields,
    shared_scorer,
)

_OPTIONS = frozenset(RewardConfig.model_fields)


def _item(solution_str: str, ground_truth: Any, extra_info: Any) -> Item:
    extra = extra_info if isinstance(extra_info, dict) else {}
    return Item(
        text=solution_str or "",
        tests=ground_truth,
        prefix=extra.get("prefix") or "",
        fn_name=extra.get("fn_name"),
        time_limit_s=extra.get("time_limit_s"),
    )


def _result(score: Score) -> dict[str, Any]:
    return {
        "score": score.reward,
        "pass_fraction": score.pass_fraction,
        "passed": float(score.outcome.value == "passed"),
        "outcome": score.outcome.value,
        **failure_fields(score),
    }


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The reward of one response (verl's NaiveRewardManager signature)."""
    scorer = shared_scorer(**{k: v for k, v in kwargs.items() if k in _OPTIONS})
    (score,) = scorer.score([_item(solution_str, ground_truth, extra_info)])
    return _result(score)


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[dict | None] | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """The rewards of many responses in one executor batch (verl's batch reward manager)."""
    scorer = shared_scorer(**{k: v for k, v in kwargs.items() if k in _OPTIONS})
    extras = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    items = [_item(s, g, e) for s, g, e in zip(solution_strs, ground_truths, extras)]
    return [_result(s) for s in scorer.score(items)]
