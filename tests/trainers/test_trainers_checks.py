"""Trainers you can leave running: output folders they may write, resumes that apply or
refuse changed settings and process counts, a stop on the first non-finite number, data
folders that are not builds, the quick start's splits, progress and Ctrl-C, LoRA
checkpoints, and the training features (accumulation, warmup, gradient checkpointing, SFT
checkpoints). Real tiny models, real data, real subprocesses where the CLI is the subject.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from appsplus.execution import StdioTest  # noqa: E402
from appsplus.trainers.checks import (  # noqa: E402
    DivergenceError,
    ResumeError,
    check_processes,
    config_changes,
    resume_command,
)
from appsplus.trainers.data import TaskRecord, load_records  # noqa: E402
from appsplus.trainers.sft import SFTConfig  # noqa: E402
from appsplus.trainers.sft import main as sft_main  # noqa: E402
from appsplus.trainers.sft import train as sft_train  # noqa: E402
from appsplus.trainers.stepcoder import StepCoderConfig  # noqa: E402
from appsplus.trainers.stepcoder import main as stepcoder_main  # noqa: E402
from appsplus.trainers.stepcoder import train as stepcoder_train  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
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
    return build_tiny(folder, sample_corpus(), vocab_size=512, hidden_size=32, layers=1)


def sft_args(tiny, out, **sets) -> list[str]:
    base = {
        "model": tiny,
        "output_dir": out,
        "epochs": 1,
        "batch_size": 4,
        "learning_rate": 3e-3,
        "log_every": 1,
        "progress": False,
        "torch_threads": 1,
        **sets,
    }
    return [a for k, v in base.items() for a in ("--set", f"{k}={v}")]


def sft_config(tiny, out, **sets) -> SFTConfig:
    base = {
        "model": str(tiny),
        "output_dir": str(out),
        "epochs": 1,
        "batch_size": 4,
        "learning_rate": 3e-3,
        "log_every": 1,
        "progress": False,
        "torch_threads": 1,
    }
    return SFTConfig.model_validate({**base, **sets})


def step_config(tiny, out, **sets) -> StepCoderConfig:
    base = {
        "model": str(tiny),
        "output_dir": str(out),
        "iterations": 1,
        "prompts_per_iteration": 2,
        "max_new_tokens": 8,
        "max_prompt_tokens": 256,
        "minibatch_size": 2,
        "ppo_epochs": 1,
        "learning_rate": 1e-3,
        "execution_workers": 1,
        "time_limit_s": 1.0,
        "checkpoint_every": 1,
        "progress": False,
        "torch_threads": 1,
    }
    return StepCoderConfig.model_validate({**base, **sets})


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


def metrics(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def parameters(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


# --------------------------------------------------------------------------- output folders
def test_sft_refuses_a_folder_of_the_users_files_and_overwrite_keeps_the_others(
    tiny, tmp_path, capsys
):
    mine = tmp_path / "mytrain"
    mine.mkdir()
    (mine / "metrics.jsonl").write_text("my own metrics\n")
    (mine / "notes.txt").write_text("notes\n")
    with pytest.raises(SystemExit) as stop:
        sft_main(sft_args(tiny, mine))
    assert stop.value.code == 2
    line = one_error_line(capsys)
    assert "mytrain: not empty (metrics.jsonl, notes.txt)" in line and "--overwrite" in line
    assert (mine / "metrics.jsonl").read_text() == "my own metrics\n"
    assert sorted(p.name for p in mine.iterdir()) == ["metrics.jsonl", "notes.txt"]

    sft_main([*sft_args(tiny, mine), "--overwrite"])
    assert metrics(mine / "metrics.jsonl")[0]["step"] == 1  # ours replaced the user's
    assert (mine / "notes.txt").read_text() == "notes\n"  # the rest is left alone
    assert (mine / "model" / "config.json").is_file()


def test_rerunning_sft_does_not_replace_the_model_it_saved(tiny, tmp_path, capsys):
    out = tmp_path / "sft"
    sft_main(sft_args(tiny, out))
    before = (out / "model" / "model.safetensors").read_bytes()
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        sft_main(sft_args(tiny, out, learning_rate=1e-2))
    assert stop.value.code == 2
    line = one_error_line(capsys)
    assert "sft holds checkpoints: resume it (--resume latest)" in line and "--overwrite" in line
    assert (out / "model" / "model.safetensors").read_bytes() == before


def test_stepcoder_refuses_a_folder_holding_the_users_config_and_metrics(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("mine: 1\n")
    (out / "metrics.jsonl").write_text("{}\n")
    args = [a for k, v in {"model": tiny, "output_dir": out}.items() for a in ("--set", f"{k}={v}")]
    with pytest.raises(SystemExit) as stop:
        stepcoder_main(args)
    assert stop.value.code == 2
    assert "not empty (config.yaml, metrics.jsonl)" in one_error_line(capsys)
    assert (out / "config.yaml").read_text() == "mine: 1\n"
    assert (out / "metrics.jsonl").read_text() == "{}\n"


# --------------------------------------------------------------------------- resume settings
def optimizer_lr(ckpt: Path) -> float:
    return json.loads((ckpt / "optimizer.json").read_text())["param_groups"][0]["lr"]


def test_stepcoder_resume_applies_a_new_learning_rate_and_refuses_other_changes(tiny, tmp_path):
    records = [DOUBLE, SIGN]
    out = tmp_path / "run"
    stepcoder_train(step_config(tiny, out), records=records)
    assert optimizer_lr(out / "checkpoints/iteration_000001") == pytest.approx(1e-3)

    with pytest.raises(ResumeError, match=r"ppo_epochs \(1 -> 2\)"):
        stepcoder_train(step_config(tiny, out, iterations=2, ppo_epochs=2), "latest", records)
    assert yaml.safe_load((out / "config.yaml").read_text())["ppo_epochs"] == 1  # unchanged

    stepcoder_train(step_config(tiny, out, iterations=2, learning_rate=5e-2), "latest", records)
    ckpt = out / "checkpoints/iteration_000002"
    assert optimizer_lr(ckpt) == pytest.approx(5e-2)  # what ran: the new rate
    for saved in (out / "config.yaml", ckpt / "config.yaml"):
        assert yaml.safe_load(saved.read_text())["learning_rate"] == pytest.approx(5e-2)


def test_a_resume_with_another_process_count_is_refused_before_loading(tiny, tmp_path):
    records = [DOUBLE, SIGN]
    out = tmp_path / "run"
    stepcoder_train(step_config(tiny, out), records=records)
    ckpt = out / "checkpoints/iteration_000001"
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state["processes"] == 1
    check_processes(ckpt, 1)
    (ckpt / "trainer_state.json").write_text(json.dumps({**state, "processes": 2}))
    started = time.time()
    with pytest.raises(ResumeError, match="written by 2 processes, this run has 1"):
        stepcoder_train(step_config(tiny, out, iterations=2), "latest", records)
    assert time.time() - started < 5  # nothing was loaded
    # a checkpoint written before the count was recorded: its rng_rankR files tell
    del state["processes"]
    (ckpt / "trainer_state.json").write_text(json.dumps(state))
    check_processes(ckpt, 1)
    (ckpt / "rng_rank1.safetensors").write_bytes((ckpt / "rng_rank0.safetensors").read_bytes())
    with pytest.raises(ResumeError, match="written by 2 processes"):
        check_processes(ckpt, 1)


def test_config_changes_name_nested_keys():
    changes = config_changes(
        {"a": 1, "rewards": {"passed": 1.0}}, {"a": 1, "rewards": {"passed": 2.0}}
    )
    assert changes == {"rewards.passed": (1.0, 2.0)}
    # a callable is saved as its repr: the same function in another process is no change
    saved = {"generate_kwargs": {"fn": "<function allow at 0x7f01>"}}
    assert config_changes(saved, {"generate_kwargs": {"fn": "<function allow at 0x7f99>"}}) == {}


# --------------------------------------------------------------------------- divergence
def test_sft_with_a_diverging_learning_rate_stops_with_one_line_and_saves_nothing(
    tiny, tmp_path, capsys
):
    out = tmp_path / "sft"
    with pytest.raises(SystemExit) as stop:
        sft_main(sft_args(tiny, out, learning_rate=1e3, epochs=3, checkpoint_every=1))
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if "error" in x]
    assert "error: step " in line and "is nan" in line and "learning_rate (it is 1000.0)" in line
    step = int(line.split("error: step ")[1].split(":")[0])
    assert step <= 2  # within one step of the update that broke it
    assert not (out / "model").exists()
    for ckpt in (out / "checkpoints").glob("step_*"):  # only those of the finite steps before
        assert int(ckpt.name.split("_")[1]) < step
        assert all(torch.isfinite(t).all() for t in parameters(ckpt / "model").values())
    assert all(m["step"] < step for m in metrics(out / "metrics.jsonl"))


def test_stepcoder_with_a_diverging_learning_rate_stops_without_a_checkpoint(tiny, tmp_path):
    out = tmp_path / "run"
    cfg = step_config(tiny, out, iterations=3, ppo_epochs=2, learning_rate=1e3, checkpoint_every=0)
    # two optimizer steps an iteration: the first update's damage shows in the next step
    with pytest.raises(DivergenceError, match=r"iteration [12] \(ppo epoch \d\): \S+ is (nan|inf)"):
        stepcoder_train(cfg, records=[DOUBLE, SIGN])
    assert not (out / "checkpoints").exists()


# --------------------------------------------------------------------------- data folders
@pytest.mark.parametrize("kind", ["empty", "model", "curriculum export", "validation split"])
def test_a_data_folder_that_is_not_a_build_is_one_line_and_writes_nothing(
    kind, tiny, tmp_path, capsys
):
    data = tmp_path / "data"
    sets: dict = {"data": data}
    if kind == "empty":
        data.mkdir()
        want = "is not an APPS+ build"
    elif kind == "model":
        sets["data"] = tiny
        want = "is not an APPS+ build"
    elif kind == "curriculum export":
        from appsplus.curriculum.subtasks import export_subtasks

        rows = [r.model_dump() for r in load_records("sample", "train")]
        export_subtasks(rows, str(data), "builds/apps-plus", "0" * 64, "train", "jsonl")
        want = "is a curriculum export (subtasks), not a build"
    else:
        sets = {"data": "sample", "split": "validation"}
        want = "split: 'validation' is not a split of sample (it has train, test)"
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        sft_main(sft_args(tiny, out, **sets))
    assert stop.value.code == 2
    assert want in one_error_line(capsys)
    assert not out.exists()


# --------------------------------------------------------------------------- quick start
@pytest.mark.parametrize(
    "name", ["sft_sample_cpu.yaml", "stepcoder_sample_cpu.yaml", "coderl_sample_cpu.yaml"]
)
def test_the_quick_start_trains_on_train_and_evaluates_on_test(name):
    from appsplus.trainers.stage_eval import EvalConfig

    assert yaml.safe_load((REPO / "configs" / name).read_text())["split"] == "train"
    assert EvalConfig(model="m").split == "test"
    train = {r.problem_id for r in load_records("sample", "train")}
    test = {r.problem_id for r in load_records("sample", "test")}
    assert train and test and not train & test


# --------------------------------------------------------------------------- progress, logs, Ctrl-C
def test_the_progress_bar_goes_to_stderr_not_stdout(tiny, tmp_path, capfd):
    sft_main(sft_args(tiny, tmp_path / "sft", progress=True))
    captured = capfd.readouterr()
    assert captured.out == ""


def test_only_the_main_process_logs_info_lines(tmp_path):
    code = (
        "import logging\nfrom appsplus.trainers.checks import setup_logging\n"
        "setup_logging()\nlogging.getLogger('x').info('hello')\n"
    )
    for rank, want in (("0", True), ("1", False)):
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "RANK": rank},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ("hello" in done.stderr) is want


@pytest.mark.slow  # a real process started and interrupted: ~20-40 s on 2 busy cores
def test_ctrl_c_is_one_line_with_the_command_that_resumes(tiny, tmp_path):
    out = tmp_path / "sft"
    args = sft_args(tiny, out, epochs=500, checkpoint_every=1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "appsplus.trainers.sft", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 90
    while not list((out / "checkpoints").glob("step_*")) and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("python -m appsplus.trainers.sft: interrupted; continue from")
    assert last.endswith("--resume latest") and f"output_dir={out}" in last


def test_resume_command_drops_overwrite_and_an_earlier_resume():
    got = resume_command(["--config", "c.yaml", "--overwrite", "--resume", "x", "--set", "a=1"])
    assert got.endswith("--config c.yaml --set a=1 --resume latest")


# --------------------------------------------------------------------------- LoRA checkpoints
def test_a_lora_sft_model_loads_from_anywhere_evaluates_and_merges(tiny, tmp_path, monkeypatch):
    pytest.importorskip("peft")
    from appsplus.trainers.config import check_locations
    from appsplus.trainers.model import adapter_base, load_lm
    from appsplus.trainers.model import main as model_main
    from appsplus.trainers.stage_eval import EvalConfig

    out = tmp_path / "sft"
    monkeypatch.chdir(tmp_path)
    sft_train(sft_config(tiny, "sft", lora_r=4, learning_rate=1e-2))
    adapter = out / "model"
    assert adapter_base(adapter) == str(Path(tiny).resolve())  # absolute: loads from anywhere
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    check_locations(EvalConfig(model=str(adapter)))  # stage_eval accepts an adapter folder
    lm = load_lm(str(adapter), trainable=False).eval()
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        want = lm(input_ids=ids).logits
    model_main(["merge", "--adapter", str(adapter), "--out", str(tmp_path / "merged")])
    assert (tmp_path / "merged" / "config.json").is_file()
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    merged = load_lm(str(tmp_path / "merged")).eval()
    with torch.no_grad():
        got = merged(input_ids=ids).logits
    assert torch.allclose(got, want, atol=1e-4)
    base = load_lm(str(tiny)).eval()
    with torch.no_grad():
        assert not torch.allclose(base(input_ids=ids).logits, want, atol=1e-4)


# --------------------------------------------------------------------------- training features
def test_sft_gradient_accumulation_takes_the_steps_of_the_whole_batch(tiny, tmp_path):
    whole = sft_train(sft_config(tiny, tmp_path / "whole", batch_size=4))
    parts = sft_train(
        sft_config(tiny, tmp_path / "parts", batch_size=2, gradient_accumulation_steps=2)
    )
    a, b = metrics(tmp_path / "whole/metrics.jsonl"), metrics(tmp_path / "parts/metrics.jsonl")
    assert [m["losses/sft"] for m in a] == pytest.approx([m["losses/sft"] for m in b], rel=1e-5)
    pa, pb = parameters(whole), parameters(parts)
    assert all(torch.allclose(pa[k], pb[k], atol=1e-5) for k in pa)


def test_sft_warmup_and_schedule_set_each_steps_learning_rate(tiny, tmp_path):
    from appsplus.trainers.model import lr_at

    sft_train(sft_config(tiny, tmp_path / "s", epochs=2, warmup_steps=3, lr_schedule="cosine"))
    lines = metrics(tmp_path / "s/metrics.jsonl")
    total = len(lines)
    got = [m["charts/learning_rate"] for m in lines]
    assert got == pytest.approx([lr_at(s, 3e-3, 3, total, "cosine") for s in range(1, total + 1)])
    assert got[0] == pytest.approx(1e-3) and got[2] == pytest.approx(3e-3) and got[-1] == 0.0


def test_sft_gradient_checkpointing_computes_the_same_steps(tiny, tmp_path):
    sft_train(sft_config(tiny, tmp_path / "plain"))
    sft_train(sft_config(tiny, tmp_path / "ckpt", gradient_checkpointing=True))
    a, b = metrics(tmp_path / "plain/metrics.jsonl"), metrics(tmp_path / "ckpt/metrics.jsonl")
    assert [m["losses/sft"] for m in a] == pytest.approx([m["losses/sft"] for m in b], rel=1e-5)


def test_sft_resume_ends_with_the_model_of_an_uninterrupted_run(tiny, tmp_path):
    full = sft_train(sft_config(tiny, tmp_path / "full", epochs=2, checkpoint_every=2))
    parts = tmp_path / "parts"
    sft_train(sft_config(tiny, parts, epochs=1, checkpoint_every=2))  # "interrupted" here
    resumed = sft_train(sft_config(tiny, parts, epochs=2, checkpoint_every=2), resume="latest")
    assert metrics(tmp_path / "full/metrics.jsonl") == [
        {**m, "time/elapsed_s": f["time/elapsed_s"]}
        for m, f in zip(metrics(parts / "metrics.jsonl"), metrics(tmp_path / "full/metrics.jsonl"))
    ]
    pa, pb = parameters(full), parameters(resumed)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)


# --------------------------------------------------------------------------- CodeRL
def coderl_ready(tiny, base: Path, **sets):
    """A CodeRL config over labelled chosen programs of DOUBLE and SIGN in `base` (samples
    file written, the critic not yet trained)."""
    from appsplus.trainers.coderl import CodeRLConfig, SampleRow, label_programs

    cfg = CodeRLConfig.model_validate(
        {
            "model": str(tiny),
            "output_dir": str(base),
            "max_length": 256,
            "execution_workers": 1,
            "time_limit_s": 1.0,
            "torch_threads": 1,
            "critic_epochs": 1,
            "critic_batch_size": 4,
            "critic_learning_rate": 1e-3,
            "heldout_fraction": 0.5,
            "seed": 3,
            "actor_steps": 2,
            "actor_batch_size": 2,
            "learning_rate": 1e-3,
            "checkpoint_every": 1,
            "progress": False,
            **sets,
        }
    )
    programs = [
        (
            DOUBLE,
            [
                "def (:\n",
                "n = int(input())\nprint(n * 3)\n",
                DOUBLE.canonical_solution,
                "print(0)\n",
            ],
        ),
        (SIGN, ["raise ValueError\n", SIGN.canonical_solution, "print('neg')\n", "print(0)\n"]),
    ]
    lines = []
    for record, progs in programs:
        labels = label_programs([record] * len(progs), progs, cfg)
        lines += [
            SampleRow(
                problem_id=record.problem_id,
                index=i,
                greedy=i == len(progs) - 1,
                program=p,
                **label,
            ).model_dump_json()
            for i, (p, label) in enumerate(zip(progs, labels))
        ]
    base.mkdir(parents=True, exist_ok=True)
    (base / "samples.jsonl").write_text("\n".join(lines) + "\n")
    return cfg


def test_a_diverging_critic_stops_and_saves_nothing_and_a_constant_one_says_so(tiny, tmp_path):
    from appsplus.bench.critic import OUTCOMES
    from appsplus.trainers.coderl import critic_accuracy, train_critic

    cfg = coderl_ready(tiny, tmp_path / "run", critic_learning_rate=1e3, critic_epochs=3)
    with pytest.raises(DivergenceError, match=r"critic step \d+ \(epoch \d\): .* is (nan|inf)"):
        train_critic(cfg, records=[DOUBLE, SIGN])
    assert not (tmp_path / "run/critic/head.safetensors").exists()
    assert not (tmp_path / "run/critic/eval.json").exists()

    constant = critic_accuracy([2, 2, 2], [0, 1, 2], majority=2)
    assert constant["constant_prediction"] == OUTCOMES[2]
    assert critic_accuracy([0, 1, 2], [0, 1, 2], majority=2)["constant_prediction"] is None


def test_coderl_actor_resume_applies_a_new_rate_refuses_other_changes_and_stops_on_nan(
    tiny, tmp_path, caplog
):
    import logging

    from appsplus.trainers.coderl import train_actor, train_critic

    records = [DOUBLE, SIGN]
    cfg = coderl_ready(tiny, tmp_path / "run")
    with caplog.at_level(logging.INFO, logger="appsplus.trainers.coderl"):
        train_critic(cfg, records=records)
        train_actor(cfg, records=records)
    said = [r.getMessage() for r in caplog.records]  # the stages report while they train
    assert any(m.startswith("critic epoch 1: held-out accuracy") for m in said), said
    assert any(m.startswith("actor step 2/2: ce loss") for m in said), said
    actor = tmp_path / "run/actor"
    assert optimizer_lr(actor / "checkpoints/step_000002") == pytest.approx(1e-3)
    with pytest.raises(ResumeError, match=r"pg_steps \(1 -> 2\)"):
        train_actor(cfg.model_copy(update={"actor_steps": 3, "pg_steps": 2}), "latest", records)
    assert yaml.safe_load((actor / "config.yaml").read_text())["pg_steps"] == 1

    resumed = cfg.model_copy(update={"actor_steps": 3, "learning_rate": 5e-2})
    train_actor(resumed, "latest", records)
    assert optimizer_lr(actor / "checkpoints/step_000003") == pytest.approx(5e-2)
    for saved in (actor / "config.yaml", actor / "checkpoints/step_000003/config.yaml"):
        assert yaml.safe_load(saved.read_text())["learning_rate"] == pytest.approx(5e-2)
    state = json.loads((actor / "checkpoints/step_000003/trainer_state.json").read_text())
    assert state["processes"] == 1

    diverging = cfg.model_copy(
        update={
            "output_dir": str(tmp_path / "nan"),
            "learning_rate": 1e3,
            "actor_steps": 4,
            "samples_file": str(tmp_path / "run/samples.jsonl"),
            "critic": str(tmp_path / "run/critic"),
            "checkpoint_every": 0,
        }
    )
    with pytest.raises(DivergenceError, match=r"actor step [1-3]: \S+ is (nan|inf)"):
        train_actor(diverging, records=records)
    assert not (tmp_path / "nan/actor/checkpoints").exists()


def test_coderl_train_critic_refuses_to_replace_a_critic_without_overwrite(tiny, tmp_path, capsys):
    from appsplus.trainers.coderl import main

    cfg = coderl_ready(tiny, tmp_path / "run")
    critic = tmp_path / "run/critic"
    critic.mkdir()
    (critic / "eval.json").write_text("{}")
    (critic / "mine.txt").write_text("mine")
    args = [
        "train-critic",
        *(
            a
            for k, v in {"model": tiny, "output_dir": cfg.output_dir}.items()
            for a in ("--set", f"{k}={v}")
        ),
    ]
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    assert "critic: not empty (eval.json, mine.txt)" in one_error_line(capsys)
    assert (critic / "eval.json").read_text() == "{}"


def test_stepcoder_trains_from_a_lora_sft_adapter_and_saves_an_adapter(tiny, tmp_path):
    pytest.importorskip("peft")
    from appsplus.trainers.model import adapter_base, is_adapter

    adapter = sft_train(sft_config(tiny, tmp_path / "sft", lora_r=4))
    out = tmp_path / "run"
    stepcoder_train(step_config(tiny, out, model=str(adapter)), records=[DOUBLE, SIGN])
    saved = out / "checkpoints/iteration_000001/model"
    assert is_adapter(saved) and adapter_base(saved) == str(Path(tiny).resolve())


def test_stepcoder_gradient_accumulation_takes_the_steps_of_the_whole_minibatch(tiny, tmp_path):
    records = [DOUBLE, SIGN]
    common = {"prompts_per_iteration": 2, "samples_per_prompt": 2, "minibatch_size": 4}
    stepcoder_train(step_config(tiny, tmp_path / "whole", **common), records=records)
    stepcoder_train(
        step_config(tiny, tmp_path / "parts", gradient_accumulation_steps=2, **common),
        records=records,
    )
    (a,), (b,) = (
        metrics(tmp_path / "whole/metrics.jsonl"),
        metrics(tmp_path / "parts/metrics.jsonl"),
    )
    for key in ("losses/policy", "losses/value", "losses/approx_kl", "charts/pass_rate"):
        assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
    pa = parameters(tmp_path / "whole/checkpoints/iteration_000001/model")
    pb = parameters(tmp_path / "parts/checkpoints/iteration_000001/model")
    assert all(torch.allclose(pa[k], pb[k], atol=1e-5) for k in pa)
    # gradient checkpointing recomputes activations: the same step
    stepcoder_train(
        step_config(tiny, tmp_path / "recompute", gradient_checkpointing=True, **common),
        records=records,
    )
    pc = parameters(tmp_path / "recompute/checkpoints/iteration_000001/model")
    assert all(torch.allclose(pa[k], pc[k], atol=1e-5) for k in pa)


@pytest.mark.slow
def test_two_sft_processes_take_one_processs_steps_and_log_once(tiny, tmp_path, torchrun_cpu):
    """torchrun with 2 CPU processes, one of them without examples in its shard, against
    one process taking the same global batch; INFO lines come from the main process only."""
    two = sft_args(tiny, tmp_path / "two", epochs=2, batch_size=16)  # 14 examples: 14 + 0
    done = torchrun_cpu("-m", "appsplus.trainers.sft", *two)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("model saved") == 1
    sft_train(sft_config(tiny, tmp_path / "one", epochs=2, batch_size=32))
    a, b = metrics(tmp_path / "one/metrics.jsonl"), metrics(tmp_path / "two/metrics.jsonl")
    assert [m["losses/sft"] for m in a] == pytest.approx([m["losses/sft"] for m in b], rel=1e-5)


def test_coderl_actor_accumulates_gradients_and_trains_a_lora_adapter(tiny, tmp_path):
    pytest.importorskip("peft")
    from appsplus.trainers.coderl import train_actor, train_critic
    from appsplus.trainers.model import adapter_base, is_adapter

    records = [DOUBLE, SIGN]
    base = coderl_ready(tiny, tmp_path / "base", actor_batch_size=4, checkpoint_every=0)
    train_critic(base, records=records)
    shared = {"samples_file": str(tmp_path / "base/samples.jsonl"), "critic": base.critic}
    shared["critic"] = str(tmp_path / "base/critic")

    def run(name: str, **sets):
        cfg = base.model_copy(update={"output_dir": str(tmp_path / name), **shared, **sets})
        train_actor(cfg, records=records)
        lines = metrics(tmp_path / name / "actor/metrics.jsonl")
        return [{k: v for k, v in m.items() if not k.startswith("time/")} for m in lines]

    whole, parts = run("whole"), run("parts", gradient_accumulation_steps=2)
    assert [m["kind"] for m in whole] == [m["kind"] for m in parts] == ["pg", "ce"]
    for a, b in zip(whole, parts):
        assert a.keys() == b.keys()
        assert {k: a[k] for k in a if k != "kind"} == pytest.approx(
            {k: b[k] for k in b if k != "kind"}, rel=1e-4, abs=1e-6
        )
    run("lora", lora_r=4, gradient_checkpointing=True)
    saved = tmp_path / "lora/actor/checkpoints/step_000002/model"
    assert is_adapter(saved) and adapter_base(saved) == str(Path(tiny).resolve())


def test_a_policy_whose_sampling_probabilities_are_not_finite_stops_with_one_line(tiny, tmp_path):
    """Weights can be finite while the logits overflow; sampling then fails inside
    `generate` ('probability tensor contains inf, nan'): the run stops as a divergence."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    broken = tmp_path / "broken"
    lm = AutoModelForCausalLM.from_pretrained(tiny)
    with torch.no_grad():
        lm.model.norm.weight.fill_(float("inf"))  # every logit becomes +-inf or nan
    lm.save_pretrained(broken)
    AutoTokenizer.from_pretrained(tiny).save_pretrained(broken)
    out = tmp_path / "run"
    with pytest.raises(DivergenceError, match="iteration 1: sampling probabilities are not finite"):
        stepcoder_train(step_config(broken, out), records=[DOUBLE, SIGN])
    assert not (out / "checkpoints").exists()


def test_stepcoder_warms_up_the_learning_rate_over_iterations(tiny, tmp_path):
    cfg = step_config(tiny, tmp_path / "run", iterations=2, warmup_iterations=2, checkpoint_every=0)
    stepcoder_train(cfg, records=[DOUBLE, SIGN])
    lines = metrics(tmp_path / "run/metrics.jsonl")
    assert [m["charts/learning_rate"] for m in lines] == pytest.approx([5e-4, 1e-3])


@pytest.mark.slow
def test_two_processes_resuming_a_one_process_checkpoint_get_one_line(tiny, tmp_path, torchrun_cpu):
    """1 -> 2 processes: the launch's process count is checked before any model loads (it
    was a FileNotFoundError for rng_rank1.safetensors plus a gloo error)."""
    out = tmp_path / "run"
    sft_train(sft_config(tiny, out, epochs=1, checkpoint_every=2))
    args = [*sft_args(tiny, out, epochs=2, checkpoint_every=2), "--resume", "latest"]
    done = torchrun_cpu("-m", "appsplus.trainers.sft", *args)
    assert done.returncode != 0
    assert "written by 1 process, this run has 2" in done.stderr, done.stderr[-3000:]
    assert "rng_rank1" not in done.stderr and "FileNotFoundError" not in done.stderr
    ours = [line for line in done.stderr.splitlines() if "written by 1 process" in line]
    assert len(ours) == 1  # said once, by the main process
