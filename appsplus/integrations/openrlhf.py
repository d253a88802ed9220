"""An OpenRLHF reward: `reward_func(queries, prompts, labels) -> {"rewards", "scores", "extra_logs"}`.

    --remote_rm_url $(python -c "import appsplus.integrations.openrlhf as m; print(m.__file__)") \\
    --prompt_data <export>/train.jsonl --input_key prompt --label_key label --apply_chat_template

The dataset is `appsplus export DATASET --format openrlhf`: `label` holds the typed tests
as JSON, or (curriculum) an object `{"tests", "prefix", "fn_name", "time_limit_s"}`.
`queries` are prompt + response as decoded text; the response is what follows the prompt.
Options come from the environment (`APPSPLUS_REWARD_SHAPE`, `APPSPLUS_REWARD_MAX_TESTS`,
`APPSPLUS_EXECUTOR`), since OpenRLHF passes none. torch is imported only when called.

Why rewards are low: `extra_logs` (numbers only: OpenRLHF turns each into a tensor and
averages it) has `appsplus_outcome_<verdict>`, 1.0 for the sample's outcome class, so the
logs show the share of wrong answers, runtime errors, timeouts, compile errors. The
answer's `appsplus_failures` (one per query, None when all tests passed) has the first
failing test (test index, verdict, input, expected and actual output, error; cut as
`bench show` cuts them), for a caller that reads the answer itself.
"""

from __future__ import annotations

import json
import os
from typing import Any

from appsplus.execution import Verdict
from appsplus.integrations.scoring import Item, shared_scorer

OUTCOMES = [v for v in Verdict if v is not Verdict.SKIPPED]


def _options() -> dict[str, Any]:
    options: dict[str, Any] = {}
    if os.environ.get("APPSPLUS_REWARD_SHAPE"):
        options["shape"] = os.environ["APPSPLUS_REWARD_SHAPE"]
    if os.environ.get("APPSPLUS_REWARD_MAX_TESTS"):
        options["max_tests"] = int(os.environ["APPSPLUS_REWARD_MAX_TESTS"])
    if os.environ.get("APPSPLUS_EXECUTOR"):
        options["executor"] = os.environ["APPSPLUS_EXECUTOR"]
    return options


def _item(query: str, prompt: str, label: Any) -> Item:
    response = query[len(prompt) :] if prompt and query.startswith(prompt) else query
    meta: dict[str, Any] = {}
    if isinstance(label, str) and label.lstrip().startswith("{"):
        decoded = json.loads(label)
        if isinstance(decoded, dict) and "tests" in decoded:
            meta, label = decoded, decoded["tests"]
    return Item(
        text=response,
        tests=label,
        prefix=meta.get("prefix") or "",
        fn_name=meta.get("fn_name"),
        time_limit_s=meta.get("time_limit_s"),
    )


def reward_func(queries: list[str], prompts: list[str], labels: list[Any]) -> dict[str, Any]:
    """Rewards of a batch of queries, as OpenRLHF's custom reward function contract wants."""
    import torch

    scorer = shared_scorer(**_options())
    scores = scorer.score([_item(q, p, lab) for q, p, lab in zip(queries, prompts, labels)])
    rewards = torch.tensor([s.reward for s in scores], dtype=torch.float32)
    return {
        "rewards": rewards,
        "scores": rewards.clone(),
        "extra_logs": {  # per sample, as OpenRLHF averages them into its logs
            "appsplus_passed": torch.tensor([float(s.outcome.value == "passed") for s in scores]),
            "appsplus_pass_fraction": torch.tensor([s.pass_fraction for s in scores]),
            **{
                f"appsplus_outcome_{v.value}": torch.tensor([float(s.outcome is v) for s in scores])
                for v in OUTCOMES
            },
        },
        "appsplus_failures": [s.failure for s in scores],
    }
