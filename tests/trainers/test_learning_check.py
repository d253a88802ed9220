"""scripts/learning_check.py: its command line and the CodeRL report, on trainer outputs
written by hand (the real check trains models for minutes; it is a script, run by hand)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from appsplus.bench.critic import OUTCOMES

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "learning_check.py"
_spec = importlib.util.spec_from_file_location("learning_check", SCRIPT)
lc = importlib.util.module_from_spec(_spec)
sys.modules["learning_check"] = lc  # dataclasses look their module up by name
_spec.loader.exec_module(lc)


def test_help_lists_both_algorithms():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    )
    assert "coderl" in done.stdout and "stepcoder" in done.stdout
    assert "--samples-per-problem" in done.stdout and "--actor-steps" in done.stdout
    assert "--critic-class-weights" in done.stdout


def _score(passed: int, samples: int, subtasks: int) -> dict:
    return {"subtasks": subtasks, "samples": samples, "passed": passed, "reward_sum": 0.0}


def _eval(passed: int) -> dict:
    return {
        "by_stage": {"0": _score(passed, 12, 2)},
        "full": _score(passed, 12, 2),
        "overall": _score(passed, 12, 2),
    }


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_coderl_report_and_summary(tmp_path, capsys):
    args = argparse.Namespace(algo="coderl", samples_per_problem=2, temperature=1.0, samples=6)
    args.sample_temperature = 0.7
    check = lc.Check(out=tmp_path, args=args)
    # 2 problems x (2 sampled + 1 greedy); problem b's greedy program fails to compile
    outcomes = {"a": ["passed", "compile_error", "passed"], "b": ["runtime_error", "passed", "x"]}
    rewards = {"passed": 1.0, "compile_error": -1.0, "runtime_error": -0.6, "x": -1.0}
    rows = [
        {
            "problem_id": pid,
            "index": i,
            "greedy": i == 2,
            "outcome": "compile_error" if o == "x" else o,
            "reward": rewards[o],
        }
        for pid, seq in outcomes.items()
        for i, o in enumerate(seq)
    ]
    _write_jsonl(tmp_path / "coderl" / "samples.jsonl", rows)
    critic = {
        "train_rows": 3,
        "train_counts": {"compile_error": 1, "runtime_error": 0, "failed_test": 0, "passed": 2},
        "n": 3,
        "majority_class": "passed",
        **{f"n/{c}": n for c, n in zip(OUTCOMES, (1, 1, 0, 1))},
        **{f"accuracy/{c}": a for c, a in zip(OUTCOMES, (0.0, 1.0, None, 1.0))},
        "accuracy": 2 / 3,
        "baseline_accuracy": 1 / 3,
        "class_weights": dict(zip(OUTCOMES, (1.5, 0.0, 0.0, 0.75))),
        "class_weights_mode": "balanced",
        "train": {  # the training rows: compile_error predicted right, 1 of 2 passed
            "n": 3,
            **{f"n/{c}": n for c, n in zip(OUTCOMES, (1, 0, 0, 2))},
            **{f"accuracy/{c}": a for c, a in zip(OUTCOMES, (1.0, None, None, 0.5))},
            "accuracy": 2 / 3,
            "baseline_accuracy": 2 / 3,
            "balanced_accuracy": 0.75,
            "baseline_balanced_accuracy": 0.5,
        },
    }
    (tmp_path / "coderl" / "critic" / "eval.json").parent.mkdir(parents=True)
    (tmp_path / "coderl" / "critic" / "eval.json").write_text(json.dumps(critic))
    steps = [{"epoch": e, "losses/critic": 1.0, "charts/train_accuracy": e / 2} for e in (1, 2)]
    _write_jsonl(tmp_path / "coderl" / "critic" / "metrics.jsonl", steps)
    pg = {"kind": "pg", "losses/pg": -1.0, "charts/return_mean": -1.5, "charts/weight_mean": 0.5}
    _write_jsonl(
        tmp_path / "coderl" / "actor" / "metrics.jsonl", [pg, {"kind": "ce", "losses/ce": 1}]
    )
    _write_jsonl(tmp_path / "CE_only" / "actor" / "metrics.jsonl", [{"kind": "ce", "losses/ce": 1}])
    check.runs = {
        "coderl": tmp_path / "coderl" / "actor",
        "CE only": tmp_path / "CE_only" / "actor",
    }
    check.evals = {"SFT start": _eval(3), "coderl": _eval(6), "CE only": _eval(0)}
    check.timings = {"sft": 1.0}

    lc.print_report(check, wall=2.0)

    text = capsys.readouterr().out
    assert "held-out balanced accuracy" in text and "train balanced accuracy" in text
    assert "class weights (balanced): compile_error 1.500" in text
    passed_row = next(line for line in text.splitlines() if line.startswith("passed "))
    assert passed_row.split()[-3:] == ["0.500", "1.000", "1.000"]  # train, held-out, majority
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["pass_rates"]["coderl"]["full generation"] == 0.5
    assert summary["pass_rates"]["CE only"]["overall"] == 0.0
    assert summary["samples"]["greedy"] == {
        "compile_error": 1,
        "runtime_error": 0,
        "failed_test": 0,
        "passed": 1,
    }
    # b's samples beat its failing greedy program; a's compile error falls below its baseline
    assert summary["samples"]["nonzero_returns"] == 3
    assert summary["critic"]["balanced_accuracy"] == 2 / 3  # mean over the 3 classes present
    assert summary["critic"]["baseline_balanced_accuracy"] == 1 / 3
    assert summary["critic"]["train_batch_accuracy_last_epoch"] == 1.0
    assert summary["critic"]["train"]["accuracy/passed"] == 0.5
    assert summary["critic"]["train_balanced_accuracy"] == 0.75
    assert summary["critic"]["train_baseline_balanced_accuracy"] == 0.5
    assert summary["actors"] == {
        "coderl": {"pg_steps": 1, "ce_steps": 1},
        "CE only": {"pg_steps": 0, "ce_steps": 1},
    }
