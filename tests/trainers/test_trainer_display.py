"""One progress display per trainer, on a real pseudo-terminal; the last line says where
the model (CodeRL: each stage's output) was saved.

Hugging Face's own bars (transformers' "Loading weights" and "Writing model shards") used
to interleave with the trainer's rich bar; the trainers now turn them off.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

HF_BARS = (
    "Loading weights",
    "Writing model shards",
    "Generating train split",
    "it/s]",
    "examples/s]",
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(module: str, args: list[str], columns: int = 160) -> tuple[int, str]:
    """`python -m MODULE ARGS` with stdout and stderr on a real pseudo-terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"}
    env.pop("TRANSFORMERS_VERBOSITY", None)
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks = []
    try:
        while select.select([master], [], [], 300)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def lines_of(shown: str) -> list[str]:
    """The terminal's text lines, escape codes and carriage-return redraws removed."""
    text = ANSI.sub("", shown).replace("\r\n", "\n")
    return [line.split("\r")[-1].strip() for line in text.split("\n") if line.strip()]


def sets(**values) -> list[str]:
    return [a for k, v in values.items() for a in ("--set", f"{k}={v}")]


def assert_one_display(shown: str, bar: str) -> None:
    assert bar in shown, shown[-3000:]  # the trainer's own rich bar is on the terminal
    for hf in HF_BARS:
        assert hf not in shown, f"{hf!r} printed beside the trainer's bar:\n{shown[-3000:]}"


def test_sft_one_display_and_the_model_folder_last(tiny_model, tmp_path):
    out = tmp_path / "sft"
    status, shown = on_terminal(
        "appsplus.trainers.sft",
        sets(model=tiny_model, output_dir=out, epochs=1, batch_size=8, torch_threads=1),
    )
    assert status == 0, shown[-3000:]
    assert_one_display(shown, "sft loss")
    last = lines_of(shown)[-1]
    assert last.endswith(f"model saved to {out / 'model'}"), last
    assert (out / "model" / "config.json").is_file()


def test_stepcoder_one_display_and_the_model_folder_last(tiny_model, tmp_path):
    out = tmp_path / "stepcoder"
    args = sets(
        model=tiny_model,
        output_dir=out,
        iterations=1,
        prompts_per_iteration=2,
        max_new_tokens=8,
        max_prompt_tokens=256,
        minibatch_size=2,
        execution_workers=1,
        time_limit_s=1.0,
        torch_threads=1,
    )
    status, shown = on_terminal("appsplus.trainers.stepcoder", args)
    assert status == 0, shown[-3000:]
    assert_one_display(shown, "stepcoder pass")
    model = out / "checkpoints" / "iteration_000001" / "model"
    last = lines_of(shown)[-1]
    assert last.endswith(f"model saved to {model}"), last
    assert (model / "config.json").is_file()


def test_coderl_each_stage_ends_with_where_it_saved(tiny_model, tmp_path):
    out = tmp_path / "coderl"
    args = sets(
        model=tiny_model,
        output_dir=out,
        samples_per_problem=1,
        problems_per_batch=8,
        max_new_tokens=4,
        max_length=384,
        max_prompt_tokens=256,
        critic_epochs=1,
        actor_steps=2,
        actor_batch_size=2,
        execution_workers=2,
        torch_threads=1,
    )
    status, shown = on_terminal(
        "appsplus.trainers.coderl", ["sample", "train-critic", "train-actor", *args]
    )
    assert status == 0, shown[-3000:]
    assert_one_display(shown, "actor")
    lines = lines_of(shown)
    model = out / "actor" / "checkpoints" / "step_000002" / "model"
    expected = [
        f"coderl sample: samples saved to {out / 'samples.jsonl'}",
        f"coderl train-critic: critic saved to {out / 'critic'}",
        f"coderl train-actor: actor model saved to {model}",
    ]
    at = [next(i for i, line in enumerate(lines) if line.endswith(e)) for e in expected]
    assert at == sorted(at), lines  # each stage's line, in stage order
    assert lines[-1].endswith(expected[-1]), lines[-1]
    assert (out / "actor" / "checkpoints" / "step_000002" / "model" / "config.json").is_file()


def test_hugging_face_bars_are_off_inside_a_trainer_and_back_after_it():
    """`train()` called from Python: the bars that were on come back when it returns or
    raises (the trainers' entry points are wrapped by one_progress_display)."""
    import datasets.utils.logging as ds_logging
    import huggingface_hub.utils as hub_utils
    import transformers.utils.logging as tf_logging

    from appsplus.trainers import coderl, sft, stepcoder
    from appsplus.trainers.display import one_progress_display

    def bars_on() -> tuple[bool, bool, bool]:
        return (
            tf_logging.is_progress_bar_enabled(),
            not hub_utils.are_progress_bars_disabled(),
            ds_logging.is_progress_bar_enabled(),
        )

    seen = []

    @one_progress_display
    def trainer(fail: bool) -> str:
        seen.append(bars_on())
        if fail:
            raise RuntimeError("stopped")
        return "model"

    # what can be on depends on the process: `appsplus` commands run in this test session
    # set HF_DATASETS_DISABLE_PROGRESS_BARS / HF_HUB_DISABLE_PROGRESS_BARS, which the libraries
    # obey over any enable call; transformers' own switch always obeys
    tf_logging.enable_progress_bar()
    before = bars_on()
    assert before[0] is True
    assert trainer(False) == "model" and bars_on() == before
    with pytest.raises(RuntimeError):
        trainer(True)
    assert seen == [(False, False, False)] * 2 and bars_on() == before
    # a bar the user had turned off stays off
    tf_logging.disable_progress_bar()
    off = bars_on()
    assert off[0] is False
    trainer(False)
    assert bars_on() == off
    tf_logging.enable_progress_bar()
    for entry in (sft.train, stepcoder.train, coderl.sample, coderl.train_critic,
                  coderl.train_actor):  # fmt: skip
        assert entry.__wrapped__.__module__ == entry.__module__  # wrapped, same function
