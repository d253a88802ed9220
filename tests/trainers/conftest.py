"""Fixtures of the trainer tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _torchrun_cpu(*args: str, processes: int = 2) -> subprocess.CompletedProcess:
    """`python -m torch.distributed.run --standalone --nproc_per_node N ARGS` on CPU (DDP over
    gloo, as `accelerate launch` sets up on GPUs); output captured as text."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        str(processes),
        *args,
    ]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1"}
    return subprocess.run(command, env=env, capture_output=True, text=True)


@pytest.fixture
def torchrun_cpu():
    """Runs `python -m torch.distributed.run` on CPU with N processes (see _torchrun_cpu)."""
    return _torchrun_cpu


@pytest.fixture(scope="module")
def tokenizer(tiny):
    """The tokenizer of the test module's `tiny` model."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny)
