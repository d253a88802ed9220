"""`report_to:` tiny real trainer runs log metrics.jsonl's scalars to TensorBoard and W&B.

TensorBoard's event files are read back with its own EventAccumulator; W&B runs offline
(`WANDB_MODE=offline`) and leaves its local run folder. A logger that is not importable is
a one-line error from the trainer's CLI before anything is trained.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testkit import require

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from appsplus.execution import StdioTest  # noqa: E402
from appsplus.trainers.data import TaskRecord  # noqa: E402
from appsplus.trainers.sft import SFTConfig  # noqa: E402
from appsplus.trainers.sft import train as sft_train  # noqa: E402
from appsplus.trainers.stepcoder import StepCoderConfig  # noqa: E402
from appsplus.trainers.stepcoder import train as stepcoder_train  # noqa: E402

DOUBLE = TaskRecord(
    problem_id="t/train/double",
    split="train",
    difficulty="introductory",
    question="Print twice the number.",
    kind="stdio",
    tests=[StdioTest(input="3\n", output="6\n"), StdioTest(input="5\n", output="10\n")],
    canonical_solution="n = int(input())\nprint(n * 2)\nif n < 0:\n    print('negative')\n",
    time_limit_s=1.0,
)


@pytest.fixture(scope="module")
def tiny(tiny_model):
    """The session's tiny random model (tests/conftest.py: a small corpus, built in seconds)."""
    return tiny_model


def metrics(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def tensorboard_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the event files in `folder`: tag -> [(step, value)], TensorBoard's way."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    return {
        tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]
    }


def expected_scalars(lines: list[dict], step_key: str) -> dict[str, list[tuple[int, float]]]:
    """metrics.jsonl's numbers by name, at each line's step."""
    out: dict[str, list[tuple[int, float]]] = {}
    for line in lines:
        for key, value in line.items():
            if key != step_key and isinstance(value, int | float) and not isinstance(value, bool):
                out.setdefault(key, []).append((line[step_key], float(value)))
    return out


def assert_same_scalars(logged, expected) -> None:
    assert set(logged) == set(expected)
    for tag, points in expected.items():
        got = logged[tag]
        assert [s for s, _ in got] == [s for s, _ in points], tag
        assert [v for _, v in got] == pytest.approx([v for _, v in points], rel=1e-6), tag


def test_sft_tensorboard_scalars_equal_metrics_jsonl(tiny, tmp_path):
    require("tensorboard", "the extra appsplus[tracking] installs it")
    out = tmp_path / "sft"
    cfg = SFTConfig.model_validate(
        {
            "model": str(tiny),
            "output_dir": str(out),
            "epochs": 1,
            "batch_size": 4,
            "learning_rate": 3e-3,
            "log_every": 1,
            "progress": False,
            "torch_threads": 1,
            "report_to": "tensorboard",
        }
    )
    assert cfg.report_to == ["tensorboard"]
    sft_train(cfg)
    lines = metrics(out / "metrics.jsonl")
    assert len(lines) >= 3  # one line per step
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    expected = expected_scalars(lines, "step")
    assert {"losses/sft", "charts/learning_rate", "charts/grad_norm"} <= set(expected)
    assert_same_scalars(tensorboard_scalars(out / "tensorboard"), expected)


def test_stepcoder_tensorboard_and_wandb_offline(tiny, tmp_path, monkeypatch):
    require("tensorboard", "the extra appsplus[tracking] installs it")
    require("wandb", "the extra appsplus[tracking] installs it")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    out = tmp_path / "stepcoder"
    cfg = StepCoderConfig.model_validate(
        {
            "model": str(tiny),
            "output_dir": str(out),
            "iterations": 2,
            "prompts_per_iteration": 2,
            "max_new_tokens": 8,
            "max_prompt_tokens": 256,
            "minibatch_size": 2,
            "ppo_epochs": 1,
            "learning_rate": 1e-3,
            "execution_workers": 1,
            "time_limit_s": 1.0,
            "checkpoint_every": 0,
            "progress": False,
            "torch_threads": 1,
            "report_to": ["tensorboard", "wandb"],
        }
    )
    stepcoder_train(cfg, records=[DOUBLE])
    lines = metrics(out / "metrics.jsonl")
    assert [line["iteration"] for line in lines] == [1, 2]
    expected = expected_scalars(lines, "iteration")
    assert {"charts/pass_rate", "losses/policy", "charts/stage_mean"} <= set(expected)
    assert_same_scalars(tensorboard_scalars(out / "tensorboard"), expected)
    # the W&B offline run: its folder with the run's data file and the config
    runs = list((out / "wandb" / "wandb").glob("offline-run-*")) or list(
        (out / "wandb").glob("offline-run-*")
    )
    assert len(runs) == 1, list((out / "wandb").rglob("*"))[:20]
    (data_file,) = runs[0].glob("run-*.wandb")  # W&B's local record of the run, synced later
    names = ("losses/policy", "charts/pass_rate", "max_new_tokens")  # scalars and config
    deadline = time.monotonic() + 60  # W&B's service process writes the file after finish()
    while True:
        data = data_file.read_bytes()
        if all(n.encode() in data for n in names) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for name in names:
        assert name.encode() in data, (name, len(data))


def test_a_logger_that_is_not_installed_is_a_one_line_error(tiny, tmp_path):
    """The CLI with tensorboard made unimportable: exit 2, one line naming the extra."""
    code = (
        "import sys; sys.modules['tensorboard'] = None; "
        "from appsplus.trainers.sft import main; main(sys.argv[1:])"
    )
    out = tmp_path / "sft"
    sets = {"model": tiny, "output_dir": out, "progress": False, "report_to": "[tensorboard]"}
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "report_to: tensorboard is not installed" in lines[0]
    assert "appsplus[tracking]" in lines[0]
    assert not (out / "metrics.jsonl").exists()  # nothing was trained


def test_report_to_rejects_an_unknown_logger(tiny, tmp_path):
    from appsplus.trainers.config import ConfigError, validate_config

    with pytest.raises(ConfigError, match="report_to"):
        validate_config(
            SFTConfig, {"model": str(tiny), "output_dir": str(tmp_path), "report_to": "mlflow"}
        )


def test_coderl_critic_and_actor_tensorboard_scalars_equal_metrics_jsonl(tiny, tmp_path):
    require("tensorboard", "the extra appsplus[tracking] installs it")
    from test_trainers_checks import DOUBLE as D
    from test_trainers_checks import SIGN, coderl_ready

    from appsplus.trainers.coderl import train_actor, train_critic

    cfg = coderl_ready(tiny, tmp_path / "run", report_to="tensorboard", checkpoint_every=0)
    train_critic(cfg, records=[D, SIGN])
    train_actor(cfg, records=[D, SIGN])
    for stage in ("critic", "actor"):
        folder = tmp_path / "run" / stage
        expected = expected_scalars(metrics(folder / "metrics.jsonl"), "step")
        assert expected, stage
        assert_same_scalars(tensorboard_scalars(folder / "tensorboard"), expected)
    assert "eval/accuracy" in tensorboard_scalars(tmp_path / "run" / "critic" / "tensorboard")
