"""StepCoder end to end on CPU with a tiny random model built locally (no downloads).

Real components throughout: a Llama-architecture model with random weights, a BPE
tokenizer trained here, Hugging Face generate, the sandboxed executor, the curriculum.
To make outcomes predictable some tests constrain decoding through `generate_kwargs`
(forced EOS, or `prefix_allowed_tokens_fn` spelling out a chosen completion).
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from appsplus.execution import StdioTest  # noqa: E402
from appsplus.trainers.data import TaskRecord, load_records  # noqa: E402
from appsplus.trainers.stepcoder import StepCoderConfig, main, train  # noqa: E402

REQUIRED = [
    "losses/policy",
    "losses/value",
    "losses/approx_kl",
    "losses/clipfrac",
    "charts/pass_rate",
    "charts/stage_mean",
    "charts/fgo_masked_fraction",
    "charts/reward_mean",
    "time/generate_s",
    "time/execute_s",
    "time/train_s",
]
# the prefix of stage 0 alone is a correct program: an empty completion passes
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
SIGN = TaskRecord(
    problem_id="t/train/sign",
    split="train",
    difficulty="introductory",
    question="Print pos for a positive number, else neg.",
    kind="stdio",
    tests=[StdioTest(input="5\n", output="pos\n"), StdioTest(input="8\n", output="pos\n")],
    canonical_solution="n = int(input())\nif n > 0:\n    print('pos')\nelse:\n    print('neg')\n",
    time_limit_s=1.0,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from appsplus.trainers.model import build_tiny, sample_corpus

    folder = tmp_path_factory.mktemp("tiny")
    return build_tiny(folder, sample_corpus(), vocab_size=512, hidden_size=64, layers=2)


def config(tiny, out, **overrides) -> StepCoderConfig:
    base = {
        "model": str(tiny),
        "output_dir": str(out),
        "iterations": 2,
        "prompts_per_iteration": 4,
        "max_new_tokens": 16,
        "max_prompt_tokens": 384,
        "minibatch_size": 2,
        "ppo_epochs": 2,
        "learning_rate": 1e-3,
        "execution_workers": 2,
        "time_limit_s": 1.0,
        "checkpoint_every": 0,
        "progress": False,
        "torch_threads": 1,
    }
    return StepCoderConfig.model_validate({**base, **overrides})


def metrics_of(out) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def without_times(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in line.items() if not k.startswith("time/")} for line in lines]


def final_state(out) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    ckpt = sorted((out / "checkpoints").glob("iteration_*"))[-1]
    tensors = load_file(ckpt / "model" / "model.safetensors")
    tensors.update(
        {f"value_head.{k}": v for k, v in load_file(ckpt / "value_head.safetensors").items()}
    )
    tensors.update({f"optim.{k}": v for k, v in load_file(ckpt / "optimizer.safetensors").items()})
    return tensors


def test_smoke_two_iterations_change_parameters_and_write_metrics(tiny, tmp_path):
    from safetensors.torch import load_file

    out = tmp_path / "run"
    train(config(tiny, out), records=load_records("sample", "train"))
    lines = metrics_of(out)
    assert [line["iteration"] for line in lines] == [1, 2]
    for key in REQUIRED:
        assert all(isinstance(line[key], float | int) for line in lines), key
    assert all(line["charts/response_tokens"] > 0 for line in lines)
    before = load_file(tiny / "model.safetensors")
    after = final_state(out)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert len(changed) > len(before) // 2, "most weight tensors moved"
    assert after["value_head.weight"].abs().sum() > 0, "the value head trained"
    saved = StepCoderConfig.model_validate(
        __import__("yaml").safe_load((out / "config.yaml").read_text())
    )
    assert saved == config(tiny, out)
    ckpt = out / "checkpoints" / "iteration_000002"
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state == {"iteration": 2, "samples": 8, "processes": 1}
    with pytest.raises(FileExistsError):
        train(config(tiny, out), records=load_records("sample", "train"))


def test_resume_continues_exactly_like_an_uninterrupted_run(tiny, tmp_path):
    records = load_records("sample", "train")
    full, parts = tmp_path / "full", tmp_path / "parts"
    common = {"temperature": 1.0, "rho": 0.0, "samples_per_prompt": 2}
    train(config(tiny, full, iterations=4, checkpoint_every=2, **common), records=records)
    # interrupted after 3 iterations, resumed from the checkpoint of iteration 2 (line 3 redone)
    train(config(tiny, parts, iterations=3, checkpoint_every=2, **common), records=records)
    assert len(metrics_of(parts)) == 3
    ckpt = parts / "checkpoints" / "iteration_000002"
    train(
        config(tiny, parts, iterations=4, checkpoint_every=2, **common),
        resume=str(ckpt),
        records=records,
    )
    assert without_times(metrics_of(parts)) == without_times(metrics_of(full))
    a, b = final_state(full), final_state(parts)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "parameters and optimizer state identical"
    last = "checkpoints/iteration_000004/curriculum.json"
    assert (full / last).read_text() == (parts / last).read_text()


def test_curriculum_advances_inside_the_trainer_and_prefix_tokens_never_enter_the_loss(
    tiny, tokenizer, tmp_path
):
    # max_new_tokens=1 with a forced EOS: every completion is empty, so the program judged
    # is the stage prefix alone. Stage 0 of DOUBLE passes; stage 1 (full generation) cannot.
    forced = {"forced_eos_token_id": tokenizer.eos_token_id}
    cfg = config(
        tiny,
        tmp_path / "cccs",
        iterations=3,
        prompts_per_iteration=1,
        max_new_tokens=1,
        minibatch_size=1,
        rho=0.5,
        generate_kwargs=forced,
    )
    train(cfg, records=[DOUBLE])
    lines = metrics_of(tmp_path / "cccs")
    assert [line["charts/pass_rate"] for line in lines] == [1.0, 0.0, 0.0]
    assert [line["charts/advanced"] for line in lines] == [1, 0, 0]
    assert [line["charts/stage_mean"] for line in lines] == [0.0, 1.0, 1.0]
    assert [line["charts/reward_mean"] for line in lines] == [1.0, -0.3, -0.3]
    state = json.loads((tmp_path / "cccs/checkpoints/iteration_000003/curriculum.json").read_text())
    assert state["records"][DOUBLE.problem_id] == {
        "stage": 1,
        "n_stages": 2,
        "attempts": 2,
        "passes": 0,
    }
    # prefix masking: the stage-0 prompt carries the prefix, yet only the EOS is trained
    prefix = "n = int(input())\nprint(n * 2)"  # without its line break (see subtasks_for)
    assert [line["charts/loss_tokens"] for line in lines] == [1, 1, 1]
    assert [line["charts/response_tokens"] for line in lines] == [1, 1, 1]
    with_prefix = len(tokenizer(DOUBLE.prompt(prefix))["input_ids"])
    assert lines[0]["charts/prompt_tokens"] == with_prefix
    assert lines[1]["charts/prompt_tokens"] == len(tokenizer(DOUBLE.prompt())["input_ids"])
    assert with_prefix > lines[1]["charts/prompt_tokens"]

    # without CCCS every sample is full generation: nothing passes, nothing advances
    train(
        cfg.model_copy(update={"cccs": False, "output_dir": str(tmp_path / "plain")}),
        records=[DOUBLE],
    )
    plain = metrics_of(tmp_path / "plain")
    assert [line["charts/pass_rate"] for line in plain] == [0.0, 0.0, 0.0]
    assert [line["charts/stage_mean"] for line in plain] == [1.0, 1.0, 1.0]


def spell(tokenizer, prompt: str, completion: str) -> tuple[dict, list[int]]:
    """generate_kwargs that make the model write exactly `completion` then EOS."""
    n_prompt = len(tokenizer(prompt)["input_ids"])
    target = tokenizer(completion, add_special_tokens=False)["input_ids"]
    target.append(tokenizer.eos_token_id)

    def allowed(batch_id, ids):
        i = len(ids) - n_prompt
        return [target[i] if i < len(target) else tokenizer.eos_token_id]

    return {"prefix_allowed_tokens_fn": allowed}, target


def test_fgo_masks_the_untaken_branch_inside_the_trainer(tiny, tokenizer, tmp_path):
    from appsplus.trainers.data import completion_offsets

    code = SIGN.canonical_solution
    else_at = code.index("else")
    base = {"iterations": 1, "prompts_per_iteration": 1, "minibatch_size": 1, "max_new_tokens": 64}

    # full generation (no CCCS) of the canonical program: only the else branch is unexecuted
    kwargs, target = spell(tokenizer, SIGN.prompt(), code)
    _, offsets = completion_offsets(tokenizer, target)
    else_tokens = sum(1 for a, b in offsets if a >= else_at and b > a)
    for fgo in (True, False):
        out = tmp_path / f"full-fgo{fgo}"
        cfg = config(tiny, out, cccs=False, fgo=fgo, generate_kwargs=kwargs, **base)
        train(cfg, records=[SIGN])
        (line,) = metrics_of(out)
        assert line["charts/pass_rate"] == 1.0
        assert line["charts/response_tokens"] == len(target)
        assert line["charts/unexecuted_fraction"] == pytest.approx(else_tokens / len(target))
        masked = else_tokens if fgo else 0
        assert line["charts/loss_tokens"] == len(target) - masked
        assert line["charts/fgo_masked_fraction"] == pytest.approx(masked / len(target))

    # CCCS stage 0: the prefix ends before the line break before `else`, the completion is
    # that line break and the else branch. The else branch's tokens are all masked (the
    # prefix shift is right); the line break ends the executed `print('pos')` line and is
    # kept (this tokenizer spells it as one token), as is the EOS.
    prefix, completion = code[: else_at - 1], code[else_at - 1 :]
    kwargs, target = spell(tokenizer, SIGN.prompt(prefix), completion)
    out = tmp_path / "stage0"
    train(config(tiny, out, generate_kwargs=kwargs, **base), records=[SIGN])
    (line,) = metrics_of(out)
    assert line["charts/stage_mean"] == 0.0 and line["charts/pass_rate"] == 1.0
    assert tokenizer.convert_ids_to_tokens(target[0]) == "Ċ"  # the byte-level "\n" alone
    assert line["charts/loss_tokens"] == 2
    assert line["charts/fgo_masked_fraction"] == pytest.approx((len(target) - 2) / len(target))


def test_cli_switches_off_both_components(tiny, tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(f"model: {tiny}\niterations: 1\nprogress: false\n")
    out = tmp_path / "cli"
    main(
        [
            "--config",
            str(cfg_file),
            "--no-cccs",
            "--no-fgo",
            "--set",
            f"output_dir={out}",
            "--set",
            "prompts_per_iteration=2",
            "--set",
            "max_new_tokens=8",
            "--set",
            "torch_threads=1",
            "--set",
            "rewards.compile_error=-2.0",
        ]
    )
    saved = __import__("yaml").safe_load((out / "config.yaml").read_text())
    assert (saved["cccs"], saved["fgo"], saved["rewards"]["compile_error"]) == (False, False, -2.0)
    (line,) = metrics_of(out)
    assert line["charts/stage_mean"] == 1.0 and line["charts/fgo_masked_fraction"] == 0.0
    with pytest.raises(Exception, match="extra"):
        StepCoderConfig.model_validate({"model": "m", "no_such_field": 1})


def test_lora_trains_adapters_only_and_resumes_exactly(tiny, tmp_path):
    pytest.importorskip("peft")
    from safetensors.torch import load_file

    records = load_records("sample", "train")
    small = {"lora_r": 4, "prompts_per_iteration": 2, "learning_rate": 1e-2}
    train(config(tiny, tmp_path / "full", iterations=3, **small), records=records)
    parts = config(tiny, tmp_path / "parts", iterations=2, **small)
    train(parts, records=records)
    adapter = tmp_path / "parts/checkpoints/iteration_000002/model"
    assert (adapter / "adapter_model.safetensors").exists()
    assert not (adapter / "model.safetensors").exists(), "only the adapter is saved"
    train(parts.model_copy(update={"iterations": 3}), resume="latest", records=records)
    assert without_times(metrics_of(tmp_path / "parts")) == without_times(
        metrics_of(tmp_path / "full")
    )
    last = "checkpoints/iteration_000003/model/adapter_model.safetensors"
    a, b = load_file(tmp_path / "full" / last), load_file(tmp_path / "parts" / last)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(v.abs().sum() > 0 for k, v in a.items() if "lora_B" in k), "adapters trained"


@pytest.mark.slow
def test_two_processes_share_the_batch_and_the_curriculum(tiny, tmp_path, torchrun_cpu):
    """The multi-process path (DDP over gloo on CPU, as `accelerate launch` sets up on GPUs)."""
    out = tmp_path / "ddp"
    sets = {
        "model": tiny,
        "output_dir": out,
        "iterations": 2,
        "prompts_per_iteration": 4,
        "max_new_tokens": 8,
        "minibatch_size": 2,
        "ppo_epochs": 1,
        "progress": "false",
        "torch_threads": 1,
        "execution_workers": 1,
    }
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    done = torchrun_cpu("-m", "appsplus.trainers.stepcoder", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = metrics_of(out)
    assert [line["samples"] for line in lines] == [4, 8], "both processes' samples are gathered"
    ckpt = out / "checkpoints" / "iteration_000002"
    assert (ckpt / "rng_rank0.safetensors").exists() and (ckpt / "rng_rank1.safetensors").exists()
    state = json.loads((ckpt / "curriculum.json").read_text())
    # nothing passes, so nothing advances: every process counted all 8 samples' attempts
    assert sum(p["attempts"] for p in state["records"].values()) == 8
