"""appsplus.trainers.config: YAML/JSON configs, --set overrides, saving beside outputs."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from appsplus.trainers.config import ConfigError, apply_overrides, load_config, save_config
from appsplus.trainers.judge import RewardTable


class Demo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    steps: int = 1
    rate: float = 0.1
    flag: bool = True
    tags: list[str] = []
    rewards: RewardTable = RewardTable()


def test_overrides_parse_yaml_values_and_reach_nested_fields(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("name: base\nsteps: 3\nrewards:\n  passed: 2.0\n")
    cfg = load_config(
        Demo,
        path,
        ["steps=7", "rate=1e-5", "flag=false", "tags=[a, b]", "rewards.wrong_answer=-0.5", "name="],
    )
    assert cfg == Demo(
        name="",
        steps=7,
        rate=1e-5,
        flag=False,
        tags=["a", "b"],
        rewards=RewardTable(passed=2.0, wrong_answer=-0.5),
    )


def test_unknown_keys_and_malformed_overrides_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key 'nope'; valid keys: name, steps"):
        load_config(Demo, None, ["name=x", "nope=1"])
    with pytest.raises(ConfigError, match="'rewards.nope'; valid keys: rewards.passed"):
        load_config(Demo, None, ["name=x", "rewards.nope=1"])
    with pytest.raises(ValueError, match="key=value"):
        apply_overrides({}, ["steps"])
    with pytest.raises(ValueError, match="not a section"):
        apply_overrides({"steps": 1}, ["steps.x=1"])
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="mapping"):
        load_config(Demo, bad)


def test_saved_config_round_trips(tmp_path):
    cfg = Demo(name="run", tags=["x"], rewards=RewardTable(timeout=-0.9))
    path = save_config(cfg, tmp_path / "out")
    assert path.name == "config.yaml"
    assert load_config(Demo, path) == cfg
    assert load_config(Demo, path, ["steps=5"]).steps == 5


@pytest.mark.parametrize(
    ("name", "module", "cls"),
    [
        ("stepcoder_example.yaml", "appsplus.trainers.stepcoder", "StepCoderConfig"),
        ("stepcoder_sample_cpu.yaml", "appsplus.trainers.stepcoder", "StepCoderConfig"),
        ("sft_example.yaml", "appsplus.trainers.sft", "SFTConfig"),
        ("sft_sample_cpu.yaml", "appsplus.trainers.sft", "SFTConfig"),
    ],
)
def test_shipped_configs_validate(name, module, cls):
    import importlib
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "configs" / name
    load_config(getattr(importlib.import_module(module), cls), path)
