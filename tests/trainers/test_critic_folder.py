"""appsplus/bench/critic.py, the one home of the CodeRL critic: importing it loads neither torch
nor trainers, and its folder format is stable (a folder written file by file as documented,
as critics trained before the critic code moved there were, loads as the trainer's
CriticModel and scores in bench as documented)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_the_critic_module_imports_neither_torch_nor_trainers():
    """bench never imports the trainers; torch is imported by the functions that need it."""
    code = (
        "import sys, appsplus.bench.critic\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert not [m for m in sys.modules if m.startswith('appsplus.trainers')], 'trainers imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_critic_folder_in_the_documented_format_loads_and_scores(tiny_model, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    from appsplus.bench.critic import OUTCOMES, PASSED, load_critic, load_critic_model

    folder = tmp_path / "critic"
    backbone = AutoModel.from_pretrained(tiny_model)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    backbone.save_pretrained(folder / "backbone")
    tokenizer.save_pretrained(folder / "backbone")
    hidden = backbone.config.get_text_config().hidden_size
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(4, hidden, generator=generator)  # [4, H]
    bias = torch.randn(4, generator=generator)  # [4]
    save_file({"weight": weight, "bias": bias}, str(folder / "head.safetensors"))
    (folder / "head.json").write_text(json.dumps({"classes": list(OUTCOMES)}, indent=1))

    model = load_critic_model(folder)
    assert torch.equal(model.head.weight, weight) and torch.equal(model.head.bias, bias)

    prompt, program = "QUESTION:\nDouble.\nANSWER:\n", "print(2 * int(input()))\n"
    prompt_ids = tokenizer(prompt)["input_ids"]
    program_ids = tokenizer(program, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + program_ids + [tokenizer.eos_token_id]])  # [1, L]
    with torch.no_grad():
        hidden_states = backbone.eval()(input_ids=ids).last_hidden_state[0]  # [L, H]
    logits = hidden_states @ weight.T + bias  # [L, 4]
    on_program = logits[len(prompt_ids) :]  # [T + 1, 4] (EOS last)

    [score] = load_critic(folder, device="cpu").score([(prompt, program)])
    want_tokens = on_program[:-1].softmax(-1)[:, PASSED].tolist()
    assert score.token_p_pass == pytest.approx(want_tokens, abs=1e-5)
    pooled = on_program.max(0).values.softmax(-1)  # [4]
    assert score.p_pass == pytest.approx(float(pooled[PASSED]), abs=1e-5)
    assert score.outcome == OUTCOMES[int(pooled.argmax())]
