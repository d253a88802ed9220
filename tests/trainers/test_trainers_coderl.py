"""CodeRL on CPU with a tiny random model built locally (no downloads): sample generation
and its labels, the critic head, token weights, returns, the alternation schedule, and
short end-to-end runs of the three stages."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from appsplus.bench.critic import OUTCOMES, collate, encode, sequence_logits  # noqa: E402
from appsplus.execution import Limits, StdioTest, run_tests  # noqa: E402
from appsplus.trainers.coderl import (  # noqa: E402
    CodeRLConfig,
    SampleRow,
    build_critic,
    class_weights,
    critic_accuracy,
    label_programs,
    main,
    pg_loss,
    read_samples,
    returns_with_baseline,
    sample,
    shifted_weights,
    step_kind,
    token_weights,
    train_actor,
    train_critic,
    weighted_ce_sum,
)
from appsplus.trainers.data import TaskRecord  # noqa: E402
from appsplus.trainers.judge import RewardTable, program_outcome  # noqa: E402

DOUBLE = TaskRecord(
    problem_id="t/train/double",
    split="train",
    difficulty="introductory",
    question="Print twice the number.",
    kind="stdio",
    tests=[StdioTest(input="3\n", output="6\n"), StdioTest(input="5\n", output="10\n")],
    canonical_solution="n = int(input())\nprint(n * 2)\n",
    time_limit_s=1.0,
)
SIGN = TaskRecord(
    problem_id="t/train/sign",
    split="train",
    difficulty="introductory",
    question="Print pos for a positive number, else neg.",
    kind="stdio",
    tests=[StdioTest(input="5\n", output="pos\n"), StdioTest(input="-8\n", output="neg\n")],
    canonical_solution="n = int(input())\nprint('pos' if n > 0 else 'neg')\n",
    time_limit_s=1.0,
)
PROGRAMS = {  # program -> expected outcome class on DOUBLE
    "def (:\n": "compile_error",
    "raise ValueError('boom')\n": "runtime_error",
    "n = int(input())\nprint(n * 3)\n": "failed_test",
    "n = int(input())\nprint(n * 2)\n": "passed",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from appsplus.trainers.model import build_tiny, sample_corpus

    folder = tmp_path_factory.mktemp("tiny")
    return build_tiny(folder, sample_corpus(), vocab_size=512, hidden_size=32, layers=1)


def config(tiny, out, **overrides) -> CodeRLConfig:
    base = {
        "model": str(tiny),
        "output_dir": str(out),
        "samples_per_problem": 2,
        "max_new_tokens": 12,
        "max_prompt_tokens": 256,
        "max_length": 256,
        "execution_workers": 2,
        "time_limit_s": 1.0,
        "torch_threads": 1,
        "critic_epochs": 2,
        "critic_batch_size": 4,
        "critic_learning_rate": 1e-3,
        "actor_steps": 4,
        "actor_batch_size": 2,
        "learning_rate": 1e-3,
        "checkpoint_every": 0,
    }
    return CodeRLConfig.model_validate({**base, **overrides})


# --------------------------------------------------------------------------- pure parts
def test_token_weights_match_a_naive_loop():
    torch.manual_seed(0)
    logits = torch.randn(3, 7, 4)
    labels = torch.tensor([0, 3, 2])
    mask = torch.rand(3, 7) > 0.4
    got = token_weights(logits, labels, mask)
    assert got.shape == (3, 7)
    for b in range(3):
        for t in range(7):
            row = [float(x) for x in logits[b, t]]
            z = sum(pow(2.718281828459045, x) for x in row)
            want = pow(2.718281828459045, row[int(labels[b])]) / z if mask[b, t] else 0.0
            assert float(got[b, t]) == pytest.approx(want, rel=1e-5, abs=1e-7)


def test_sequence_logits_and_pg_loss_match_naive_loops():
    torch.manual_seed(1)
    logits = torch.randn(2, 5, 4)
    mask = torch.tensor([[0, 1, 1, 0, 0], [0, 0, 1, 1, 1]], dtype=torch.bool)
    pooled = sequence_logits(logits, mask)
    for b in range(2):
        for k in range(4):
            want = max(float(logits[b, t, k]) for t in range(5) if mask[b, t])
            assert float(pooled[b, k]) == pytest.approx(want)
    logprobs, weights = -torch.rand(2, 5), torch.rand(2, 5)
    returns = torch.tensor([1.3, -0.7])
    terms = [
        float(returns[b]) * float(weights[b, t]) * float(logprobs[b, t])
        for b in range(2)
        for t in range(5)
        if mask[b, t]
    ]
    assert float(pg_loss(logprobs, weights, returns, mask)) == pytest.approx(
        -sum(terms) / len(terms)
    )


def test_actor_weights_line_up_with_the_logprobs_of_the_same_tokens(tiny, tokenizer):
    """Column t of the actor's log-probs scores token t+1; its weight must be the critic's
    probability read at token t+1 (after seeing it), and 0 on padding."""
    critic = build_critic(str(tiny))
    batch = [encode(tokenizer, DOUBLE.prompt(), p, 128) for p in list(PROGRAMS)[:2]]
    ids, attn, prog = collate(batch, tokenizer.pad_token_id)
    labels = torch.tensor([0, 3])
    with torch.no_grad():
        q = token_weights(critic(ids, attn), labels, prog)  # [B, L]
    per_row = [q[b, : len(batch[b][0])].tolist() for b in range(2)]
    got = shifted_weights(per_row, ids.shape[1] - 1)
    for b in range(2):
        n = len(batch[b][0])
        for t in range(ids.shape[1] - 1):
            want = float(q[b, t + 1]) if t + 1 < n else 0.0
            assert float(got[b, t]) == pytest.approx(want)
            assert (want > 0) == bool(prog[b, t + 1])  # weights only on program tokens


def row(pid, index, verdict, greedy=False, outcome="failed_test") -> SampleRow:
    return SampleRow(
        problem_id=pid,
        index=index,
        greedy=greedy,
        program="",
        outcome=outcome,
        verdict=verdict,
        verdicts=[],
        reward=0.0,
    )


def test_return_is_reward_minus_the_greedy_baseline_of_the_same_problem():
    table = RewardTable()
    rows = [
        row("a", 0, "passed"),
        row("a", 1, "compile_error"),
        row("a", 2, "wrong_answer", greedy=True),
        row("b", 0, "wrong_answer"),
        row("b", 1, "runtime_error", greedy=True),
    ]
    assert returns_with_baseline(rows, table) == pytest.approx([1.3, -0.7, 0.0, 0.3, 0.0])
    custom = RewardTable(passed=2.0, wrong_answer=0.0)
    assert returns_with_baseline(rows[:3], custom)[0] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="greedy baseline"):
        returns_with_baseline(rows[:2], table)


def test_alternation_schedule():
    assert [step_kind(s, 1, 1) for s in range(1, 7)] == ["pg", "ce"] * 3
    assert [step_kind(s, 2, 1) for s in range(1, 7)] == ["pg", "pg", "ce"] * 2
    assert [step_kind(s, 1, 3) for s in range(1, 9)] == ["pg", "ce", "ce", "ce"] * 2
    assert {step_kind(s, 0, 1) for s in range(1, 5)} == {"ce"}
    assert {step_kind(s, 1, 0) for s in range(1, 5)} == {"pg"}
    with pytest.raises(ValueError):
        step_kind(1, 0, 0)


def test_critic_accuracy_reports_per_class_and_the_majority_baseline():
    report = critic_accuracy([3, 3, 0, 2], [3, 1, 0, 3], majority=3)
    assert report["accuracy"] == 0.5 and report["baseline_accuracy"] == 0.5
    assert report["accuracy/passed"] == 0.5 and report["accuracy/compile_error"] == 1.0
    assert report["accuracy/runtime_error"] == 0.0 and report["accuracy/failed_test"] is None
    # mean recall over the 3 classes present; the majority baseline recalls only its class
    assert report["balanced_accuracy"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert report["baseline_balanced_accuracy"] == pytest.approx(1 / 3)
    assert critic_accuracy([], [], majority=3)["balanced_accuracy"] is None


def test_balanced_class_weights_and_the_weighted_mean_match_a_naive_loop():
    labels = [3, 3, 3, 3, 0, 0, 1]  # no failed_test (class 2)
    assert class_weights(labels, "none") == [1.0] * 4
    got = class_weights(labels, "balanced")
    want = [7 / (3 * 2), 7 / (3 * 1), 0.0, 7 / (3 * 4)]  # n / (classes present * n_class)
    assert got == pytest.approx(want) and got[2] == 0.0
    assert sum(w * labels.count(k) for k, w in enumerate(got)) == pytest.approx(len(labels))
    torch.manual_seed(2)
    logits = torch.randn(len(labels), 4)
    y = torch.tensor(labels)
    w = torch.tensor(got)
    loss_sum, weight_sum = weighted_ce_sum(logits, y, w)
    naive = [  # (weight, -log softmax of the true class) per row
        (got[t], math.log(sum(math.exp(float(x)) for x in logits[i])) - float(logits[i, t]))
        for i, t in enumerate(labels)
    ]
    assert float(loss_sum) == pytest.approx(sum(a * b for a, b in naive), rel=1e-5)
    assert float(weight_sum) == pytest.approx(sum(a for a, _ in naive))
    mean = torch.nn.functional.cross_entropy(logits, y, weight=w)  # torch's weighted 'mean'
    assert float(loss_sum / weight_sum) == pytest.approx(float(mean), rel=1e-5)
    # split over 2 "processes": the shares, each over the whole batch's weight, add up
    halves = [weighted_ce_sum(logits[s], y[s], w)[0] for s in (slice(0, 3), slice(3, None))]
    assert float(sum(halves) / weight_sum) == pytest.approx(float(mean), rel=1e-5)


# --------------------------------------------------------------------------- critic model
def test_critic_head_shapes_and_loss(tiny, tokenizer):
    critic = build_critic(str(tiny))
    batch = [encode(tokenizer, DOUBLE.prompt(), program, 128) for program in list(PROGRAMS)[:3]]
    ids, attn, prog = collate(batch, tokenizer.pad_token_id)
    token_logits = critic(ids, attn)
    assert token_logits.shape == (*ids.shape, len(OUTCOMES))
    assert token_logits.dtype == torch.float32
    pooled = sequence_logits(token_logits, prog)
    assert pooled.shape == (3, 4)
    labels = torch.tensor([0, 1, 2])
    loss = torch.nn.functional.cross_entropy(pooled, labels)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert critic.head.weight.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in critic.backbone.parameters())
    # padding to the right does not change a row's token logits (causal backbone)
    alone = critic(*collate(batch[:1], tokenizer.pad_token_id)[:2])
    n = len(batch[0][0])
    assert torch.allclose(alone[0, :n], token_logits[0, :n], atol=1e-5)


# --------------------------------------------------------------------------- 1. sample
def test_labels_equal_the_executors_verdicts(tiny, tmp_path):
    cfg = config(tiny, tmp_path)
    programs = list(PROGRAMS)
    labels = label_programs([DOUBLE] * len(programs), programs, cfg)
    assert [label["outcome"] for label in labels] == list(PROGRAMS.values())
    for program, label in zip(programs, labels):
        result = run_tests(program, DOUBLE.tests, Limits(time_s=1.0))
        assert label["verdicts"] == [v.value for v in result.verdicts]
        assert label["verdict"] == program_outcome(result).value
        assert label["reward"] == cfg.rewards.of(program_outcome(result))
    assert "SyntaxError" in labels[0]["error"] and "boom" in labels[1]["error"]
    assert labels[3]["error"] is None


def test_sample_writes_labelled_rows_and_resume_skips_done_problems(tiny, tmp_path):
    out = tmp_path / "run"
    cfg = config(tiny, out)
    path = sample(cfg, records=[DOUBLE, SIGN])
    rows = read_samples(path)
    assert len(rows) == 2 * 3
    for pid in (DOUBLE.problem_id, SIGN.problem_id):
        mine = [r for r in rows if r.problem_id == pid]
        assert [(r.index, r.greedy) for r in mine] == [(0, False), (1, False), (2, True)]
    records = {DOUBLE.problem_id: DOUBLE, SIGN.problem_id: SIGN}
    for r in rows:  # every label is what the executor says about the written program
        result = run_tests(r.program, records[r.problem_id].tests, Limits(time_s=1.0))
        assert r.verdicts == [v.value for v in result.verdicts]
        assert r.verdict == program_outcome(result).value
    lines = path.read_text().splitlines()
    assert all(json.loads(line).keys() == SampleRow.model_fields.keys() for line in lines)

    # everything done: a rerun does nothing (it would fail loading a missing model)
    sample(cfg.model_copy(update={"model": str(tmp_path / "missing")}), records=[DOUBLE, SIGN])
    assert path.read_text().splitlines() == lines

    # interrupted inside the second problem (a torn line): only that problem is redone
    first = [i for i, line in enumerate(lines) if DOUBLE.problem_id in line]
    kept = [lines[i] for i in first]
    path.write_text("\n".join(kept) + "\n" + lines[-1][:20])
    sample(cfg, records=[DOUBLE, SIGN])
    again = path.read_text().splitlines()
    assert again[:3] == kept and len(again) == 6
    assert {SampleRow.model_validate_json(x).problem_id for x in again[3:]} == {SIGN.problem_id}
    assert again == lines, "per-problem seeds: the redone problem's rows are bit-identical"
    assert not list(out.glob("samples.rank*")), "part files are merged away"


def test_a_problems_samples_do_not_depend_on_batching_or_other_problems(tiny, tmp_path):
    both = read_samples(sample(config(tiny, tmp_path / "both"), records=[DOUBLE, SIGN]))
    alone = read_samples(sample(config(tiny, tmp_path / "alone"), records=[SIGN]))
    assert alone == [r for r in both if r.problem_id == SIGN.problem_id]
    reseeded = read_samples(sample(config(tiny, tmp_path / "seed", seed=1), records=[SIGN]))
    assert [r.program for r in reseeded[:2]] != [r.program for r in alone[:2]]
    assert reseeded[2] == alone[2], "the greedy baseline does not depend on the seed"


# --------------------------------------------------------------------------- 2 + 3. critic, actor
def write_samples(cfg, records, programs_by_problem):
    """A samples file of chosen programs, labelled by the executor; last one is greedy."""
    path = cfg.output_dir + "/samples.jsonl"
    lines = []
    for record, programs in zip(records, programs_by_problem):
        labels = label_programs([record] * len(programs), programs, cfg)
        for i, (program, label) in enumerate(zip(programs, labels)):
            lines.append(
                SampleRow(
                    problem_id=record.problem_id,
                    index=i,
                    greedy=i == len(programs) - 1,
                    program=program,
                    **label,
                ).model_dump_json()
            )
    __import__("pathlib").Path(path).parent.mkdir(parents=True, exist_ok=True)
    __import__("pathlib").Path(path).write_text("\n".join(lines) + "\n")


def test_critic_then_actor_end_to_end(tiny, tmp_path):
    from safetensors.torch import load_file

    out = tmp_path / "run"
    cfg = config(tiny, out, heldout_fraction=0.5, seed=3, critic_class_weights="balanced")
    programs = list(PROGRAMS)
    fail = "print(0)\n"  # greedy baseline: wrong answer
    write_samples(
        cfg, [DOUBLE, SIGN], [programs + [fail], [*programs[:2], SIGN.canonical_solution, fail]]
    )
    critic_dir = train_critic(cfg, records=[DOUBLE, SIGN])
    report = json.loads((critic_dir / "eval.json").read_text())
    for key in ("accuracy", "baseline_accuracy", "majority_class", "train_counts"):
        assert key in report
    for key in ("balanced_accuracy", "baseline_balanced_accuracy"):
        assert key in report and key in report["train"]
    assert all(f"accuracy/{o}" in report and f"accuracy/{o}" in report["train"] for o in OUTCOMES)
    assert report["train"]["n"] == report["train_rows"]
    assert report["class_weights_mode"] == "balanced"
    weights = report["class_weights"]
    present = [o for o in OUTCOMES if report["train_counts"][o]]
    for o in OUTCOMES:
        n_o = report["train_counts"][o]
        assert weights[o] == (
            pytest.approx(report["train_rows"] / (len(present) * n_o)) if n_o else 0
        )
    assert report["n"] + report["train_rows"] == 9 and report["n"] > 0
    metrics = [json.loads(x) for x in (critic_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [m for m in metrics if "losses/critic" in m]
    evals = [m for m in metrics if "eval/accuracy" in m]
    assert steps and all(m["losses/critic"] > 0 and "time/step_s" in m for m in steps)
    assert [m["epoch"] for m in evals] == [1, 2], "a held-out evaluation after every epoch"
    for key, value in report.items():  # the last evaluation is eval.json
        if (
            key not in ("train_rows", "train_counts", "majority_class", "train")
            and "class_w" not in key
        ):
            assert evals[-1][f"eval/{key}"] == value
    for key, value in report["train"].items():
        if key != "majority_class":
            assert evals[-1][f"train/{key}"] == value

    actor = config(tiny, out, pg_steps=1, ce_steps=1, checkpoint_every=2)
    train_actor(actor, records=[DOUBLE, SIGN])
    lines = [json.loads(x) for x in (out / "actor/metrics.jsonl").read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["pg", "ce", "pg", "ce"]
    for line in lines:
        assert line[f"losses/{line['kind']}"] == line[f"losses/{line['kind']}"]  # not NaN
    pg = [line for line in lines if line["kind"] == "pg"]
    assert all(0 < line["charts/weight_mean"] < 1 for line in pg)
    assert all(line["charts/return_mean"] != 0 for line in pg)
    before = load_file(tiny / "model.safetensors")
    after = load_file(out / "actor/checkpoints/step_000004/model/model.safetensors")
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert (out / "actor/checkpoints/step_000002").is_dir()


def test_cli_runs_the_three_stages_on_the_embedded_sample(tiny, tmp_path, capsys):
    out = tmp_path / "cli"
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(f"model: {tiny}\noutput_dir: {out}\ntorch_threads: 1\n")
    sets = {
        "samples_per_problem": 1,
        "problems_per_batch": 8,
        "max_new_tokens": 4,
        "max_length": 384,
        "max_prompt_tokens": 256,
        "critic_epochs": 1,
        "actor_steps": 2,
        "actor_batch_size": 2,
        "execution_workers": 2,
        "rewards.passed": 2.0,
    }
    args = ["--config", str(cfg_file), *(a for k, v in sets.items() for a in ("--set", f"{k}={v}"))]
    main(["sample", *args])
    main(["train-critic", "train-actor", *args])  # several stages, in the order given
    rows = read_samples(out / "samples.jsonl")
    assert len(rows) == 2 * len({r.problem_id for r in rows}) > 0
    assert (out / "critic/eval.json").exists() and (out / "critic/head.safetensors").exists()
    assert len((out / "actor/metrics.jsonl").read_text().splitlines()) == 2
    saved = __import__("yaml").safe_load((out / "actor/config.yaml").read_text())
    assert saved["rewards"]["passed"] == 2.0
    with pytest.raises(SystemExit) as stop:  # the actor has checkpoints: only --resume continues
        main(["train-actor", *args])
    assert stop.value.code == 2
    assert "actor holds checkpoints: resume it" in capsys.readouterr().err
    main(["train-actor", *args, "--set", "actor_steps=3", "--resume", "latest"])
    steps = [json.loads(x)["step"] for x in (out / "actor/metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]
    assert (out / "actor/checkpoints/step_000003/model/config.json").exists()
    with pytest.raises(SystemExit):
        main(["sample", *args, "--resume", "latest"])
    with pytest.raises(Exception, match="extra"):
        CodeRLConfig.model_validate({"model": "m", "no_such_field": 1})


# --------------------------------------------------------------------------- actor resume
def critic_ready(tiny, base) -> dict:
    """Samples of chosen programs and a critic trained on them, in `base`: the config
    fields that point an actor run at them."""
    cfg = config(tiny, base, heldout_fraction=0.5, seed=3)
    programs, fail = list(PROGRAMS), "print(0)\n"
    write_samples(
        cfg, [DOUBLE, SIGN], [programs + [fail], [*programs[:2], SIGN.canonical_solution, fail]]
    )
    train_critic(cfg, records=[DOUBLE, SIGN])
    return {"samples_file": str(base / "samples.jsonl"), "critic": str(base / "critic")}


def actor_metrics(out) -> list[dict]:
    lines = [json.loads(x) for x in (out / "actor/metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in line.items() if not k.startswith("time/")} for line in lines]


def actor_state(out, step: int) -> dict:
    """Parameters and optimizer tensors of an actor checkpoint."""
    from safetensors.torch import load_file

    ckpt = out / f"actor/checkpoints/step_{step:06d}"
    tensors = load_file(ckpt / "model/model.safetensors")
    tensors.update({f"optim.{k}": v for k, v in load_file(ckpt / "optimizer.safetensors").items()})
    return tensors


def test_actor_resume_continues_exactly_like_an_uninterrupted_run(tiny, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    shared = critic_ready(tiny, tmp_path / "base")
    records = [DOUBLE, SIGN]

    def run(out, steps: int) -> CodeRLConfig:
        return config(tiny, out, actor_steps=steps, checkpoint_every=2, **shared)

    full, parts = tmp_path / "full", tmp_path / "parts"
    train_actor(run(full, 4), records=records)
    # interrupted after step 3, resumed from the checkpoint of step 2 (line 3 redone)
    train_actor(run(parts, 3), records=records)
    assert len(actor_metrics(parts)) == 3
    with pytest.raises(FileExistsError):
        train_actor(run(parts, 4), records=records)
    step2 = parts / "actor/checkpoints/step_000002"
    state = json.loads((step2 / "trainer_state.json").read_text())
    assert state["step"] == 2 and len(state["sampler"][1]) == 625
    assert {"rng_rank0.safetensors", "optimizer.safetensors", "config.yaml"} <= {
        p.name for p in step2.iterdir()
    }
    copy = tmp_path / "step2"
    shutil.copytree(step2, copy)
    train_actor(run(parts, 4), resume=str(step2), records=records)
    want = actor_metrics(full)
    assert [line["kind"] for line in want] == ["pg", "ce", "pg", "ce"]
    assert actor_metrics(parts) == want
    a, b = actor_state(full, 4), actor_state(parts, 4)
    assert a.keys() == b.keys() and any(k.startswith("optim.") for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a), "parameters and optimizer state identical"

    # the comparison is sharp: a checkpoint that lost its sampler state or its optimizer
    # moments resumes into a different run
    def resume_broken(name: str, mutate) -> Path:
        out = tmp_path / name
        shutil.copytree(copy, out / "actor/checkpoints/step_000002")
        mutate(out / "actor/checkpoints/step_000002")
        train_actor(run(out, 4), resume="latest", records=records)
        return out

    def fresh_sampler(ckpt):
        import random

        version, internal, gauss = random.Random(0).getstate()
        fresh = {"step": 2, "sampler": [version, list(internal), gauss]}
        (ckpt / "trainer_state.json").write_text(json.dumps(fresh))

    def zero_moments(ckpt):
        tensors = load_file(ckpt / "optimizer.safetensors")
        zeroed = {k: v if k.endswith(".step") else torch.zeros_like(v) for k, v in tensors.items()}
        save_file(zeroed, ckpt / "optimizer.safetensors")

    resampled = resume_broken("sampler-lost", fresh_sampler)
    assert actor_metrics(resampled) != want[2:]
    forgot = resume_broken("moments-lost", zero_moments)
    assert actor_metrics(forgot)[0] == want[2], "step 3 only reads the restored parameters"
    c = actor_state(forgot, 4)
    assert not all(torch.equal(a[k], c[k]) for k in a if not k.startswith("optim."))


# --------------------------------------------------------------------------- configs
@pytest.mark.parametrize("name", ["coderl_example.yaml", "coderl_sample_cpu.yaml"])
def test_example_configs_validate(name):
    import yaml

    from appsplus.trainers.config import load_config

    path = Path(__file__).resolve().parents[2] / "configs" / name
    data = yaml.safe_load(path.read_text())
    assert set(data) <= set(CodeRLConfig.model_fields), set(data) - set(CodeRLConfig.model_fields)
    cfg = load_config(CodeRLConfig, path)  # every field validates (unknown keys are errors)
    dumped = cfg.model_dump(mode="json")
    assert {k: dumped[k] for k in data} == data, "values are taken as written"


# --------------------------------------------------------------------------- processes
@pytest.mark.slow
def test_two_processes_write_the_same_samples_and_take_the_same_actor_steps(
    tiny, tmp_path, torchrun_cpu
):
    """The three stages under torchrun with 2 CPU processes (DDP over gloo, as `accelerate
    launch` sets up on GPUs) against the same stages in this one process."""
    from safetensors.torch import load_file

    from appsplus.trainers.data import load_records

    records = load_records("sample", "train")
    # two problems come with chosen, labelled programs (so some returns are nonzero):
    # sampling keeps them and fills in the rest of the problems from the model
    chosen = [(record, ["def (:\n", record.solutions[0], "print(0)\n"]) for record in records[3:5]]
    lines = []
    for record, programs in chosen:
        labels = label_programs([record] * 3, programs, config(tiny, tmp_path))
        assert labels[1]["outcome"] == "passed" and labels[0]["outcome"] == "compile_error"
        lines += [
            SampleRow(
                problem_id=record.problem_id, index=i, greedy=i == 2, program=p, **label
            ).model_dump_json()
            for i, (p, label) in enumerate(zip(programs, labels))
        ]
    sets = {
        "max_new_tokens": 8,
        "critic_epochs": 1,
        "actor_steps": 4,
        "actor_batch_size": 2,
        "checkpoint_every": 2,
        "execution_workers": 1,
        "critic_class_weights": "balanced",
    }
    one, two = tmp_path / "one", tmp_path / "two"
    for out in (one, two):
        out.mkdir()
        (out / "samples.jsonl").write_text("\n".join(lines) + "\n")
    args = [
        a
        for k, v in {**sets, "model": tiny, "output_dir": two}.items()
        for a in ("--set", f"{k}={v}")
    ]
    cfg_file = tmp_path / "cfg.yaml"
    base = config(tiny, two).model_dump(mode="json", exclude={"model", "output_dir", *sets})
    cfg_file.write_text(__import__("yaml").safe_dump(base))
    done = torchrun_cpu(
        *("-m", "appsplus.trainers.coderl", "sample", "train-critic", "train-actor"),
        *("--config", str(cfg_file), *args),
    )
    assert done.returncode == 0, done.stderr[-3000:]

    # 1. sample: the same file, byte for byte, as one process writes
    cfg = config(tiny, one, **sets, critic=str(two / "critic"))
    sample(cfg, records=records)
    written = (two / "samples.jsonl").read_text()
    assert written == (one / "samples.jsonl").read_text()
    assert len(read_samples(two / "samples.jsonl")) == 3 * len(records)
    assert not list(two.glob("samples.rank*"))

    # 2. critic: held-out evaluation logged; the class-weighted steps of one process (a short
    # last batch is padded with repeated rows under 2 processes: compare the full ones)
    metrics = [json.loads(x) for x in (two / "critic/metrics.jsonl").read_text().splitlines()]
    assert any("eval/accuracy" in m for m in metrics) and (two / "critic/eval.json").exists()
    train_critic(cfg.model_copy(update={"critic": str(one / "critic")}), records=records)
    solo = [json.loads(x) for x in (one / "critic/metrics.jsonl").read_text().splitlines()]
    keys = ("step", "losses/critic", "charts/train_accuracy")
    got = [
        {k: m[k] for k in keys} for m in metrics if m.get("charts/rows") == cfg.critic_batch_size
    ]
    want = [{k: m[k] for k in keys} for m in solo if m.get("charts/rows") == cfg.critic_batch_size]
    assert got and got == [pytest.approx(w, rel=1e-4, abs=1e-6) for w in want]

    # 3. actor (with that critic): the steps of one process, up to float summation order
    train_actor(cfg, records=records)
    got, want = actor_metrics(two), actor_metrics(one)
    assert [m["kind"] for m in got] == [m["kind"] for m in want] == ["pg", "ce", "pg", "ce"]
    for g, w in zip(got, want):
        assert g.keys() == w.keys()
        assert {k: v for k, v in g.items() if isinstance(v, str)} == {
            k: v for k, v in w.items() if isinstance(v, str)
        }
        numbers = {k: v for k, v in g.items() if not isinstance(v, str)}
        assert numbers == pytest.approx(
            {k: v for k, v in w.items() if not isinstance(v, str)}, rel=1e-4, abs=1e-6
        )
    ckpt = two / "actor/checkpoints/step_000004"
    assert (ckpt / "rng_rank0.safetensors").exists() and (ckpt / "rng_rank1.safetensors").exists()
    a = load_file(ckpt / "model/model.safetensors")
    b = load_file(one / "actor/checkpoints/step_000004/model/model.safetensors")
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)

    # the 2-process checkpoint does not resume in 1 process: one line, before any loading
    from appsplus.trainers.checks import ResumeError

    two_cfg = cfg.model_copy(update={"output_dir": str(two), "actor_steps": 6})
    with pytest.raises(ResumeError, match="written by 2 processes, this run has 1"):
        train_actor(two_cfg, resume="latest", records=records)
