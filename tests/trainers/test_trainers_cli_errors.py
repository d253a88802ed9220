"""Config mistakes on the trainer CLIs: one line naming the key, exit 2, no traceback, nothing
heavy loaded; --help and --show-config describe every key from the config class.

Each command runs in a real subprocess in which `import torch` fails, so an error reported
there was reported before any heavy loading.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from appsplus.trainers.coderl import CodeRLConfig
from appsplus.trainers.sft import SFTConfig
from appsplus.trainers.stage_eval import EvalConfig
from appsplus.trainers.stepcoder import StepCoderConfig

CONFIGS = {
    "appsplus.trainers.sft": SFTConfig,
    "appsplus.trainers.stepcoder": StepCoderConfig,
    "appsplus.trainers.coderl": CodeRLConfig,
    "appsplus.trainers.stage_eval": EvalConfig,
}
NO_TORCH = "import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"


def run_cli(module: str, *args: str, cwd: Path, env: dict | None = None, torch: bool = False):
    """`main(args)` of a trainer module in a fresh interpreter (that cannot import torch
    unless `torch`)."""
    code = f"{'' if torch else NO_TORCH}from {module} import main\nmain({list(args)!r})\n"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def assert_one_line_error(done, *fragments: str) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A folder that passes as a model folder (the checks load nothing)."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


@pytest.mark.parametrize("module", list(CONFIGS))
def test_an_unknown_key_names_it_suggests_the_closest_and_lists_the_valid_ones(
    module, tmp_path, model_dir
):
    stage = ["sample"] if module == "appsplus.trainers.coderl" else []
    config = tmp_path / "cfg.yaml"
    config.write_text(f"model: {model_dir}\nseeed: 3\n")
    before = config.read_bytes()
    done = run_cli(module, *stage, "--config", str(config), cwd=tmp_path)
    line = assert_one_line_error(
        done, f"python -m {module}: error:", "unknown config key 'seeed'", "did you mean 'seed'?"
    )
    valid = line.split("valid keys: ")[1].split(", ")
    assert valid == list(CONFIGS[module].model_fields)
    assert config.read_bytes() == before  # the user's file is untouched


@pytest.mark.parametrize(
    ("module", "args", "fragments"),
    [
        (
            "appsplus.trainers.stepcoder",
            ["--set", "rewards.pased=2"],
            [
                "unknown config key 'rewards.pased'",
                "did you mean 'rewards.passed'?",
                "rewards.timeout",
            ],
        ),
        (
            "appsplus.trainers.stepcoder",
            ["--set", "ppo_epochs=0"],
            ["'ppo_epochs'", "greater than or equal to 1"],
        ),
        ("appsplus.trainers.sft", ["--set", "dtype=fp8"], ["'dtype'", "'float32'", "'fp8'"]),
        (
            "appsplus.trainers.stage_eval",
            ["--set", "samples=[1,"],
            ["--set samples", "not a YAML value"],
        ),
        (
            "appsplus.trainers.coderl",
            ["sample", "--set", "top_p"],
            ["--set expects key=value", "'top_p'"],
        ),
    ],
)
def test_a_bad_value_names_the_key(module, args, fragments, tmp_path, model_dir):
    done = run_cli(module, *args, "--set", f"model={model_dir}", cwd=tmp_path)
    assert_one_line_error(done, *fragments)


@pytest.mark.parametrize("module", ["appsplus.trainers.sft", "appsplus.trainers.coderl"])
def test_no_config_at_all_asks_for_the_required_model(module, tmp_path):
    stage = ["sample"] if module == "appsplus.trainers.coderl" else []
    done = run_cli(module, *stage, cwd=tmp_path)
    assert_one_line_error(done, "missing config key 'model'", "--set model=")


def test_a_missing_or_malformed_config_file(tmp_path):
    done = run_cli("appsplus.trainers.stepcoder", "--config", "nope.yaml", cwd=tmp_path)
    assert_one_line_error(done, "no such config file: nope.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    done = run_cli("appsplus.trainers.sft", "--config", str(listed), cwd=tmp_path)
    assert_one_line_error(done, "list.yaml: a config file must hold a mapping")
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed\n")
    done = run_cli("appsplus.trainers.stage_eval", "--config", str(broken), cwd=tmp_path)
    assert_one_line_error(done, "broken.yaml: cannot read the config")


@pytest.mark.parametrize(
    ("module", "value", "fragment"),
    [
        (
            "appsplus.trainers.stepcoder",
            "./nonexistent-model",
            "model: no such folder: ./nonexistent-model",
        ),
        ("appsplus.trainers.sft", "runs/nothing-here", "model: no such folder: runs/nothing-here"),
        (
            "appsplus.trainers.stage_eval",
            "cfg.yaml",
            "model: cfg.yaml is a file, not a model folder",
        ),
        (
            "appsplus.trainers.coderl",
            "runs",
            "model: runs is not a model folder (no config.json or adapter_config.json)",
        ),
        (
            "appsplus.trainers.sft",
            "no-such-hub-model",
            "no cached hub model of that id (HF_HUB_OFFLINE",
        ),
    ],
)
def test_a_bad_model_location_is_no_such_folder_before_loading(module, value, fragment, tmp_path):
    (tmp_path / "runs").mkdir()  # `runs/...` is then a local path, not a hub id
    (tmp_path / "cfg.yaml").write_text("seed: 1\n")
    stage = ["sample"] if module == "appsplus.trainers.coderl" else []
    done = run_cli(
        module, *stage, "--set", f"model={value}", cwd=tmp_path, env={"HF_HUB_OFFLINE": "1"}
    )
    assert_one_line_error(done, fragment)


def test_coderl_names_the_missing_stage_outputs(tmp_path, model_dir):
    base = ["--set", f"model={model_dir}", "--set", f"output_dir={tmp_path / 'run'}"]
    done = run_cli("appsplus.trainers.coderl", "train-critic", *base, cwd=tmp_path)
    assert_one_line_error(done, "samples_file: no such file", "run the sample stage first")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "samples.jsonl").write_text("")
    done = run_cli("appsplus.trainers.coderl", "train-actor", *base, cwd=tmp_path)
    assert_one_line_error(done, "critic:", "no backbone", "run train-critic first")
    done = run_cli("appsplus.trainers.coderl", "smaple", *base, cwd=tmp_path)
    assert_one_line_error(done, "unknown stage 'smaple'", "sample, train-critic, train-actor")
    done = run_cli(
        "appsplus.trainers.stepcoder",
        "--set",
        f"model={model_dir}",
        "--set",
        "data=nope",
        cwd=tmp_path,
    )
    assert_one_line_error(done, "data: no such dataset folder: nope")


def test_resume_mistakes_are_named_before_loading(tmp_path, model_dir):
    """Checkpoint files are found with torch imported, but before any model is loaded."""
    run = tmp_path / "run"
    base = ["--set", f"model={model_dir}", "--set", f"output_dir={run}"]
    done = run_cli(
        "appsplus.trainers.stepcoder", *base, "--resume", "latest", cwd=tmp_path, torch=True
    )
    assert_one_line_error(done, "no checkpoint to resume in", "checkpoints")
    done = run_cli(
        "appsplus.trainers.stepcoder", *base, "--resume", "nope", cwd=tmp_path, torch=True
    )
    assert_one_line_error(done, "--resume nope: no such checkpoint folder")
    (run / "checkpoints" / "iteration_000001").mkdir(parents=True)
    done = run_cli("appsplus.trainers.stepcoder", *base, cwd=tmp_path, torch=True)
    assert_one_line_error(
        done,
        "holds checkpoints: resume it (--resume latest), use another output_dir, or pass --overwrite",
    )
    (tmp_path / "samples.jsonl").write_text("")
    (tmp_path / "critic").mkdir()
    coderl = [*base, "--set", f"samples_file={tmp_path / 'samples.jsonl'}"]
    done = run_cli(
        "appsplus.trainers.coderl",
        "train-critic",
        "train-actor",
        *coderl,
        "--resume",
        "latest",
        cwd=tmp_path,
        torch=True,
    )
    assert_one_line_error(done, "no checkpoint to resume in", "actor")


@pytest.mark.parametrize("module", list(CONFIGS))
def test_help_lists_every_key_with_its_default_and_meaning(module, tmp_path):
    done = run_cli(module, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # descriptions wrap over lines
    for name, field in CONFIGS[module].model_fields.items():
        if name == "rewards":  # a section: its keys are listed dotted
            assert "rewards.passed float, default 1.0 every test passed" in text
            continue
        assert f" {name} " in text
        assert " ".join(field.description.split()) in text
    assert "max_new_tokens int, default 256" in text or module == "appsplus.trainers.sft"
    assert "model str, required" in text


def test_show_config_prints_the_resolved_config_as_yaml(tmp_path, model_dir):
    config = tmp_path / "cfg.yaml"
    config.write_text(f"model: {model_dir}\niterations: 7\n")
    done = run_cli(
        "appsplus.trainers.stepcoder",
        "--config",
        str(config),
        "--set",
        "rewards.passed=2",
        "--no-fgo",
        "--show-config",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    shown = yaml.safe_load(done.stdout)  # the meanings are YAML comments
    expected = StepCoderConfig(
        model=str(model_dir), iterations=7, fgo=False, rewards={"passed": 2.0}
    ).model_dump(mode="json")
    assert shown == expected
    assert "# GAE lambda" in done.stdout
    # no model yet: shown as a required null, and nothing else is demanded
    done = run_cli("appsplus.trainers.coderl", "--show-config", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "model: null  # REQUIRED" in done.stdout
    assert yaml.safe_load(done.stdout)["samples_per_problem"] == 4
