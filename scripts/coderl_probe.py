"""Which part of CodeRL's actor update moves pass@1, measured on the TRAIN split only (a
developer script: settings may be chosen from its output without touching held-out data).

    nice python scripts/coderl_probe.py --out /tmp/probe \\
        --variant coderl:1:1:1e-4 --variant ce-only:0:1:1e-4 --variant pg-only:1:0:1e-4 \\
        --variant pg-positive:1:0:1e-4:positive --variant pg-only-low-lr:1:0:3e-5

One seed's synthetic data, tiny model and SFT start (exactly as scripts/ablation.py builds
them, same flags), CodeRL samples and critic, then one actor per `--variant
NAME:PG_STEPS:CE_STEPS:LR[:positive]` ('positive' drops the samples whose return
r - r(greedy) is negative), each `--actor-steps` steps, each measured by greedy pass@1 on
the train split per tier. Prints the returns' signs and one line per variant; writes
OUT/probe.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ablation  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    variants = [argv[i + 1] for i, a in enumerate(argv) if a == "--variant"]
    rest = [a for i, a in enumerate(argv) if a != "--variant" and argv[i - 1 : i] != ["--variant"]]
    rest += ["--seeds", "1"] if "--seeds" not in rest else []
    args = ablation.parse_args(rest)
    if not variants:
        raise SystemExit("give at least one --variant NAME:PG_STEPS:CE_STEPS:LR[:positive]")
    import torch

    from appsplus.execution import WorkerPool
    from appsplus.sources.synthetic import SyntheticSpec, tiers_by_problem_id
    from appsplus.trainers import coderl
    from appsplus.trainers.data import load_records

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = ablation.build_data(args, out)
    train = load_records(str(data), "train")
    tiers = tiers_by_problem_id(
        SyntheticSpec(args.data_seed, args.train_per_tier, args.test_per_tier)
    )
    folder = out / "seed-0"
    start = folder / "sft" / "model"
    if not start.is_dir():
        start = ablation.warm_start(0, args, data, train, folder)
    base = folder / "coderl"
    shared = {
        "model": str(start),
        "data": str(data),
        "split": "train",
        "seed": 0,
        "torch_threads": args.threads,
        "max_new_tokens": args.max_new_tokens,
        "execution_workers": args.workers,
        "temperature": args.sample_temperature,
        "samples_per_problem": args.samples_per_problem,
        "critic_epochs": args.critic_epochs,
        "critic_learning_rate": args.critic_lr,
        "actor_steps": args.actor_steps,
        "actor_batch_size": args.minibatch,
        "checkpoint_every": 0,
        "critic": str(base / "critic"),
    }
    samples = base / "samples.jsonl"
    if not (base / "critic" / "eval.json").exists():
        cfg = coderl.CodeRLConfig(**shared, output_dir=str(base), samples_file=str(samples))
        coderl.sample(cfg)
        coderl.train_critic(cfg)
    rows = [json.loads(x) for x in samples.read_text().splitlines() if x.strip()]
    greedy = {r["problem_id"]: r["reward"] for r in rows if r["greedy"]}
    positive = base / "samples_positive.jsonl"
    positive.write_text(
        "".join(
            json.dumps(r) + "\n"
            for r in rows
            if r["greedy"] or r["reward"] >= greedy[r["problem_id"]]
        )
    )
    regime = ablation.coderl_regime(samples)
    report = {"regime": regime, "args": vars(args), "variants": {}}
    print(f"returns of the samples (temperature {args.sample_temperature}): {json.dumps(regime)}")
    with WorkerPool(args.workers) as pool:

        def measure(model: Path) -> dict:
            passed = ablation.evaluate(model, train, args, pool)
            by_tier = {t: sum(v for p, v in passed.items() if tiers[p] == t) for t in (1, 2, 3, 4)}
            return {"passed": sum(passed.values()), "problems": len(passed), "by_tier": by_tier}

        report["SFT start"] = measure(start)
        print(f"SFT start: train pass {report['SFT start']}", flush=True)
        for spec in variants:
            name, pg, ce, lr, *flag = spec.split(":")
            started = time.time()
            cfg = coderl.CodeRLConfig(
                **{**shared, "learning_rate": float(lr)},
                output_dir=str(out / name),
                samples_file=str(positive if flag == ["positive"] else samples),
                pg_steps=int(pg),
                ce_steps=int(ce),
            )
            coderl.train_actor(cfg)
            final = out / name / "actor" / "checkpoints" / f"step_{args.actor_steps:06d}"
            result = measure(final / "model")
            lines = [json.loads(x) for x in (out / name / "actor" / "metrics.jsonl").open()]
            pg_lines = [x for x in lines if x["kind"] == "pg"]
            if pg_lines:
                result["return_mean"] = sum(x["charts/return_mean"] for x in pg_lines) / len(
                    pg_lines
                )
            result["wall_s"] = round(time.time() - started, 1)
            report["variants"][spec] = result
            print(f"{spec}: train pass {result}", flush=True)
    (out / "probe.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
