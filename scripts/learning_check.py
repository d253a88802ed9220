"""Does an RL trainer learn? A CPU check on the embedded sample (a script, not a unit test).

    python scripts/learning_check.py --algo stepcoder [--out DIR] [--iterations 25]
    python scripts/learning_check.py --algo coderl [--out DIR] [--actor-steps 200]

Steps, each a subprocess running a trainer's own command line (so this script imports
neither torch nor `trainers`: benchmarks never import trainers):

1. build a tiny random Llama model and a BPE tokenizer locally (`python -m appsplus.trainers.model tiny`);
2. SFT-warm it on the canonical solution of every sample problem (`python -m appsplus.trainers.sft`;
   coderl: on all the solutions, which its actor's cross-entropy steps train on);
3. measure the pass rate per curriculum stage (`python -m appsplus.trainers.stage_eval`): "before";
4. train each variant of the algorithm from the same SFT model with the same seed and
   measure its final checkpoint: "after".
   - stepcoder: StepCoder, and vanilla PPO (`--no-cccs --no-fgo`);
   - coderl (`python -m appsplus.trainers.coderl`): sample and label programs of the SFT model, train
     the critic, then the actor (critic-weighted policy gradient alternated with
     ground-truth cross-entropy), and as an ablation an actor with as many steps, all
     cross-entropy (`pg_steps=0`): does the policy gradient add anything beyond more CE?
5. print pass rates per stage, on full generation and overall, before and after, then the
   algorithm's own report (stepcoder: the wall-time split of an iteration and training
   charts; coderl: the class counts of the samples, the critic's accuracy per class, overall
   and balanced (mean over classes), on its training and held-out rows, against the
   majority-class baseline, the actor's charts), the wall time of every step, and
   write it all as OUT/summary.json.

Training and measurement use the same problems (both splits of the sample): this checks
that training improves the policy on what it trains on, not that it generalizes (the
CodeRL critic alone is also measured on problems held out of its training).
Another algorithm plugs in as an `Algo` (a train function and a report function) in ALGOS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from appsplus.bench.critic import OUTCOMES


@dataclass
class Check:
    """Shared settings and results of one learning check."""

    out: Path
    args: argparse.Namespace
    timings: dict[str, float] = field(default_factory=dict)
    evals: dict[str, dict] = field(default_factory=dict)  # label -> evaluate's JSON report
    runs: dict[str, Path] = field(default_factory=dict)  # label -> training output dir
    summary: dict = field(default_factory=dict)  # the algorithm's own results, for summary.json

    def run(self, name: str, module: str, *args: str) -> None:
        """`python -m module args...`, output to OUT/logs/NAME.log; timed."""
        log = self.out / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        started = time.time()
        print(f"[{time.strftime('%H:%M:%S')}] {name}: python -m {module} ...", flush=True)
        with log.open("w") as f:
            done = subprocess.run(
                [sys.executable, "-m", module, *args], stdout=f, stderr=subprocess.STDOUT
            )
        self.timings[name] = time.time() - started
        if done.returncode != 0:
            tail = log.read_text()[-3000:]
            raise SystemExit(f"{name} failed (exit {done.returncode}); end of {log}:\n{tail}")

    def common(self) -> list[str]:
        a = self.args
        return [
            "--set",
            "split=null",
            "--set",
            f"torch_threads={a.threads}",
            "--set",
            f"max_new_tokens={a.max_new_tokens}",
            "--set",
            f"temperature={a.temperature}",
        ]

    def evaluate(self, label: str, model: Path) -> None:
        report = self.out / f"eval_{label.replace(' ', '_')}.json"
        self.run(
            f"eval {label}",
            "appsplus.trainers.stage_eval",
            "--model",
            str(model),
            *self.common(),
            "--set",
            f"samples={self.args.samples}",
            "--set",
            f"seed={self.args.seed + 1}",
            "--out",
            str(report),
        )
        self.evals[label] = json.loads(report.read_text())


def prepare(check: Check, all_solutions: bool) -> Path:
    """Steps 1-3: tiny model, SFT warm start (on the canonical solution of every problem, or
    on all its solutions), the 'before' measurement. Returns the SFT model."""
    a = check.args
    tiny = check.out / "tiny"
    check.run(
        "tiny model",
        "appsplus.trainers.model",
        "tiny",
        "--out",
        str(tiny),
        "--hidden",
        str(a.hidden),
        "--layers",
        str(a.layers),
        "--vocab",
        str(a.vocab),
        "--seed",
        str(a.seed),
    )
    sft = check.out / "sft"
    check.run(
        "sft",
        "appsplus.trainers.sft",
        "--set",
        f"model={tiny}",
        "--set",
        f"output_dir={sft}",
        "--set",
        "split=null",
        "--set",
        f"epochs={a.sft_epochs}",
        "--set",
        f"all_solutions={str(all_solutions).lower()}",
        "--set",
        "batch_size=8",
        "--set",
        f"learning_rate={a.sft_lr}",
        "--set",
        f"torch_threads={a.threads}",
        "--set",
        "progress=false",
        "--set",
        f"seed={a.seed}",
    )
    check.evaluate("SFT start", sft / "model")
    return sft / "model"


def check_stepcoder(check: Check, start: Path) -> None:
    """Step 4 for StepCoder: full StepCoder and vanilla PPO from the same start."""
    a = check.args
    for label, flags in (("stepcoder", []), ("vanilla PPO", ["--no-cccs", "--no-fgo"])):
        out = check.out / label.replace(" ", "_")
        check.run(
            f"train {label}",
            "appsplus.trainers.stepcoder",
            *flags,
            *check.common(),
            "--set",
            f"model={start}",
            "--set",
            f"output_dir={out}",
            "--set",
            f"iterations={a.iterations}",
            "--set",
            f"prompts_per_iteration={a.prompts}",
            "--set",
            "minibatch_size=8",
            "--set",
            "ppo_epochs=2",
            "--set",
            f"learning_rate={a.lr}",
            "--set",
            "checkpoint_every=0",
            "--set",
            "progress=false",
            "--set",
            f"seed={a.seed}",
        )
        check.runs[label] = out
        final = out / "checkpoints" / f"iteration_{a.iterations:06d}" / "model"
        check.evaluate(label, final)


def report_stepcoder(check: Check) -> None:
    """The wall-time split of a training iteration and the training charts of each variant."""
    print("wall time per training iteration (mean over iterations), and training-time charts")
    print("(mean of the first -> last fifth of the iterations):")
    for label, out in check.runs.items():
        lines = read_jsonl(out / "metrics.jsonl")
        parts = {
            k: sum(x[f"time/{k}_s"] for x in lines) / len(lines)
            for k in ("generate", "execute", "train")
        }
        total = sum(parts.values())
        split = "  ".join(f"{k} {v:.2f}s ({v / total:.0%})" for k, v in parts.items())
        print(f"  {label:12} {split}")
        for x in lines:
            x["tokens"] = x["charts/response_tokens"] / x["samples"] * x["iteration"]
        fgo = sum(x["charts/fgo_masked_fraction"] for x in lines) / len(lines)
        print(
            f"  {'':12} pass rate {trend(lines, 'charts/pass_rate', '.3f')}, "
            f"reward {trend(lines, 'charts/reward_mean', '.2f')}, "
            f"tokens/completion {trend(lines, 'tokens', '.0f')}, "
            f"KL to SFT {trend(lines, 'charts/kl_ref', '.2f')}; "
            f"final stage_mean {lines[-1]['charts/stage_mean']:.2f}; FGO masked {fgo:.1%}"
        )
        check.summary.setdefault("time_per_iteration_s", {})[label] = parts


def check_coderl(check: Check, start: Path) -> None:
    """Step 4 for CodeRL: sample and label programs of the SFT model, train the critic, then
    the actor (pg/ce alternation) and, as an ablation, as many steps of cross-entropy only."""
    a = check.args
    base = check.out / "coderl"  # samples.jsonl and critic/, shared by both actors

    def coderl(name: str, command: str, *settings: str) -> None:
        sets = [x for kv in (f"model={start}", f"seed={a.seed}", *settings) for x in ("--set", kv)]
        check.run(name, "appsplus.trainers.coderl", command, *check.common(), *sets)

    coderl(
        "sample",
        "sample",
        f"output_dir={base}",
        f"temperature={a.sample_temperature}",
        f"samples_per_problem={a.samples_per_problem}",
        "problems_per_batch=4",
    )
    coderl(
        "train critic",
        "train-critic",
        f"output_dir={base}",
        f"critic_epochs={a.critic_epochs}",
        f"critic_learning_rate={a.critic_lr}",
        "critic_batch_size=8",
        f"heldout_fraction={a.heldout_fraction}",
        f"critic_class_weights={a.critic_class_weights}",
    )
    for label, pg_steps in (("coderl", a.pg_steps), ("CE only", 0)):
        out = check.out / label.replace(" ", "_")
        coderl(
            f"train {label}",
            "train-actor",
            f"output_dir={out}",
            f"samples_file={base / 'samples.jsonl'}",
            f"critic={base / 'critic'}",
            f"actor_steps={a.actor_steps}",
            f"pg_steps={pg_steps}",
            f"ce_steps={a.ce_steps}",
            "actor_batch_size=8",
            f"learning_rate={a.lr}",
            "checkpoint_every=0",
        )
        check.runs[label] = out / "actor"
        final = out / "actor" / "checkpoints" / f"step_{a.actor_steps:06d}"
        # a save_pretrained folder, or (newer trainer) one holding model/ beside its state
        check.evaluate(label, final / "model" if (final / "model").is_dir() else final)


def report_coderl(check: Check) -> None:
    """Class counts of the samples, the critic's accuracy per class against the
    majority-class baseline, and the actors' training charts."""
    a = check.args
    base = check.out / "coderl"
    rows = read_jsonl(base / "samples.jsonl")
    critic = json.loads((base / "critic" / "eval.json").read_text())
    sampled = {c: sum(r["outcome"] == c and not r["greedy"] for r in rows) for c in OUTCOMES}
    greedy = {c: sum(r["outcome"] == c and r["greedy"] for r in rows) for c in OUTCOMES}
    majority = critic["majority_class"]
    per_problem = a.samples_per_problem + 1
    print(
        f"CodeRL samples of the SFT model: {a.samples_per_problem} sampled (temperature "
        f"{a.sample_temperature}) + 1 greedy program for each of {len(rows) // per_problem} "
        f"problems. Critic: {critic['train_rows']} rows ({critic['train_rows'] // per_problem} "
        f"problems) to train, {critic['n']} rows ({critic['n'] // per_problem} problems) held "
        f"out; majority class of its training rows: {majority}."
    )
    train = critic.get("train")  # the training rows' evaluation (older trainers: none)
    weights = critic.get("class_weights")
    if weights:
        text = ", ".join(f"{c} {weights[c]:.3f}" for c in OUTCOMES)
        print(f"critic loss class weights ({critic.get('class_weights_mode')}): {text}")
    print(
        f"{'class':16}{'sampled':>9}{'greedy':>8}{'train':>7}{'held-out':>10}"
        f"{'train acc':>11}{'held-out acc':>14}{'majority acc':>14}"
    )
    print(f"{'':60}(critic accuracy on the rows of the class)")

    def cell(report: dict | None, c: str) -> str:
        ok = report is not None and report[f"n/{c}"]
        return f"{report[f'accuracy/{c}']:.3f}" if ok else "-"

    for c in OUTCOMES:
        n = critic[f"n/{c}"]
        majority_cell = f"{float(c == majority):.3f}"
        print(
            f"{c:16}{sampled[c]:>9}{greedy[c]:>8}{critic['train_counts'][c]:>7}{n:>10}"
            f"{cell(train, c):>11}{cell(critic, c):>14}{majority_cell:>14}"
        )
    present = [c for c in OUTCOMES if critic[f"n/{c}"]]
    balanced = sum(critic[f"accuracy/{c}"] for c in present) / max(1, len(present))
    balanced_base = (majority in present) / max(1, len(present))
    lines = [x for x in read_jsonl(base / "critic" / "metrics.jsonl") if "losses/critic" in x]
    last = [x for x in lines if x["epoch"] == lines[-1]["epoch"]]
    train_acc = sum(x["charts/train_accuracy"] for x in last) / len(last)
    train_base = critic["train_counts"][majority] / critic["train_rows"]
    table = [
        ("held-out accuracy", critic["accuracy"], critic["baseline_accuracy"]),
        ("held-out balanced accuracy (mean over its classes)", balanced, balanced_base),
    ]
    if train:
        table += [
            (
                "train accuracy (after the last epoch)",
                train["accuracy"],
                train["baseline_accuracy"],
            ),
            (
                "train balanced accuracy (mean over its classes)",
                train["balanced_accuracy"],
                train["baseline_balanced_accuracy"],
            ),
        ]
    table.append(("train accuracy (batches of the last epoch)", train_acc, train_base))
    print(f"{'':50}{'critic':>12}{'majority':>14}")
    for name, value, baseline in table:
        print(f"{name:50}{value:>12.3f}{baseline:>14.3f}")
    print(
        f"critic loss {trend(lines, 'losses/critic', '.3f')} (mean of the first -> last fifth "
        f"of its {len(lines)} steps, {lines[-1]['epoch']} epochs)"
    )
    epochs = [x for x in read_jsonl(base / "critic" / "metrics.jsonl") if "eval/accuracy" in x]
    if epochs:  # trainers that evaluate the held-out problems after every epoch
        for name, key in (
            ("held-out accuracy", "eval/accuracy"),
            ("held-out balanced accuracy", "eval/balanced_accuracy"),
            ("train accuracy", "train/accuracy"),
            ("train balanced accuracy", "train/balanced_accuracy"),
        ):
            if all(x.get(key) is not None for x in epochs):
                curve = " ".join(f"{x[key]:.3f}" for x in epochs)
                print(f"{name + ' after each epoch:':46}{curve}")

    # the policy-gradient rows of the actor: samples whose reward differs from the greedy one's
    greedy_reward = {r["problem_id"]: r["reward"] for r in rows if r["greedy"]}
    returns = [r["reward"] - greedy_reward[r["problem_id"]] for r in rows if not r["greedy"]]
    moving = [g for g in returns if g]
    print()
    print(
        f"actor: {len(moving)} of {len(returns)} samples have a nonzero return r - r(greedy) "
        f"({sum(g > 0 for g in moving)} positive, {sum(g < 0 for g in moving)} negative); "
        "charts, mean of the first -> last fifth of each kind of step:"
    )
    actors = {}
    for label, out in check.runs.items():
        lines = read_jsonl(out / "metrics.jsonl")
        pg = [x for x in lines if x["kind"] == "pg"]
        ce = [x for x in lines if x["kind"] == "ce"]
        text = f"  {label:8} {len(pg)} pg + {len(ce)} ce steps"
        if ce:
            text += f"; ce loss {trend(ce, 'losses/ce', '.3f')}"
        if pg:
            text += (
                f"; pg loss {trend(pg, 'losses/pg', '.3f')}, return "
                f"{trend(pg, 'charts/return_mean', '.2f')}, critic weight "
                f"{trend(pg, 'charts/weight_mean', '.3f')}"
            )
        print(text)
        actors[label] = {"pg_steps": len(pg), "ce_steps": len(ce)}
    check.summary.update(
        samples={"sampled": sampled, "greedy": greedy, "nonzero_returns": len(moving)},
        critic={
            **critic,
            "balanced_accuracy": balanced,
            "baseline_balanced_accuracy": balanced_base,
            "train_batch_accuracy_last_epoch": train_acc,
            "train_balanced_accuracy": train["balanced_accuracy"] if train else None,
            "train_baseline_balanced_accuracy": (
                train["baseline_balanced_accuracy"] if train else None
            ),
            "train_majority_share": train_base,
        },
        actors=actors,
    )


class Algo(NamedTuple):
    train: Callable[[Check, Path], None]  # step 4: fill check.runs and check.evals
    report: Callable[[Check], None]  # its own part of the report (and of check.summary)
    # SFT on every solution of a problem, not only the canonical one: CodeRL's actor keeps
    # training with cross-entropy on all of them, so its warm start sees the same data
    sft_all_solutions: bool = False


ALGOS: dict[str, Algo] = {
    "stepcoder": Algo(check_stepcoder, report_stepcoder),
    "coderl": Algo(check_coderl, report_coderl, sft_all_solutions=True),
}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def trend(lines: list[dict], key: str, fmt: str) -> str:
    """Mean of `key` over the first fifth of `lines` -> over the last fifth."""
    k = max(1, len(lines) // 5)
    first = sum(x[key] for x in lines[:k]) / k
    last = sum(x[key] for x in lines[-k:]) / k
    return f"{first:{fmt}} -> {last:{fmt}}"


def rate(score: dict) -> str:
    return f"{score['passed'] / score['samples']:.3f}" if score["samples"] else "-"


def print_report(check: Check, wall: float) -> None:
    labels = list(check.evals)
    first = check.evals[labels[0]]
    rows = [(f"stage {k}", k) for k in first["by_stage"]] + [("full generation", "full")]
    rows.append(("overall", "overall"))
    print()
    print(f"pass rate at temperature {check.args.temperature}, {check.args.samples} samples per")
    print("(problem, stage); stage 0 = longest given prefix, 'full generation' = each problem's")
    print("last stage (no prefix), 'overall' = every (problem, stage) subtask.")
    width = max(14, *(len(label) + 2 for label in labels))
    print(f"{'':24}" + "".join(f"{label:>{width}}" for label in labels))
    pass_rates: dict[str, dict[str, float | None]] = {label: {} for label in labels}
    for name, key in rows:
        cells = []
        for label in labels:
            report = check.evals[label]
            score = report[key] if key in ("full", "overall") else report["by_stage"].get(key)
            cells.append(rate(score) if score else "-")
            ok = score and score["samples"]
            pass_rates[label][name] = score["passed"] / score["samples"] if ok else None
        n = (first[key] if key in ("full", "overall") else first["by_stage"][key])["subtasks"]
        print(f"{name + f' ({n})':24}" + "".join(f"{c:>{width}}" for c in cells))
    print()
    ALGOS[check.args.algo].report(check)
    print()
    print("wall time per step: " + ", ".join(f"{k} {v:.0f}s" for k, v in check.timings.items()))
    print(f"total wall time: {wall:.0f}s ({wall / 60:.1f} min); outputs in {check.out}")
    summary = {
        "algo": check.args.algo,
        "args": vars(check.args),
        "pass_rates": pass_rates,
        **check.summary,
        "wall_s": {**check.timings, "total": wall},
    }
    (check.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"summary: {check.out / 'summary.json'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="SFT-warm a tiny model on the embedded sample, train it with an RL "
        "algorithm, and compare pass rates per curriculum stage before and after. "
        "Example: python scripts/learning_check.py --algo coderl --out /tmp/lc",
    )
    parser.add_argument("--algo", choices=sorted(ALGOS), default="stepcoder")
    parser.add_argument("--out", help="output folder (default: a new temporary folder)")
    parser.add_argument("--lr", type=float, default=1e-4, help="RL (actor) learning rate")
    parser.add_argument("--sft-epochs", type=int, default=60)
    parser.add_argument("--sft-lr", type=float, default=3e-3)
    parser.add_argument("--samples", type=int, default=6, help="eval samples per subtask")
    parser.add_argument("--temperature", type=float, default=1.0, help="train and eval sampling")
    parser.add_argument("--max-new-tokens", type=int, default=288)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per process")
    parser.add_argument("--seed", type=int, default=0)
    group = parser.add_argument_group("stepcoder")
    group.add_argument("--iterations", type=int, default=30, help="RL iterations per variant")
    group.add_argument("--prompts", type=int, default=16, help="prompts per RL iteration")
    group = parser.add_argument_group("coderl")
    group.add_argument(
        "--samples-per-problem", type=int, default=16, help="sampled programs per problem"
    )
    group.add_argument(
        "--sample-temperature",
        type=float,
        default=0.7,
        help="temperature of the critic's and the actor's samples (at 1.0 the tiny model's "
        "samples are mostly compile errors)",
    )
    group.add_argument("--critic-epochs", type=int, default=10)
    group.add_argument("--critic-lr", type=float, default=1e-4)
    group.add_argument(
        "--heldout-fraction", type=float, default=0.2, help="problems held out of the critic"
    )
    group.add_argument(
        "--critic-class-weights",
        choices=["none", "balanced"],
        default="none",
        help="critic cross-entropy class weights ('balanced': n / (classes * n_class) of its "
        "training rows)",
    )
    group.add_argument(
        "--actor-steps", type=int, default=200, help="actor steps (pg and ce) per variant"
    )
    group.add_argument("--pg-steps", type=int, default=1, help="pg steps per cycle (CodeRL run)")
    group.add_argument("--ce-steps", type=int, default=1, help="ce steps per cycle")
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="appsplus-learning-check-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    check = Check(out=out, args=args)
    start = prepare(check, ALGOS[args.algo].sft_all_solutions)
    ALGOS[args.algo].train(check, start)
    print_report(check, time.time() - started)


if __name__ == "__main__":
    main()
