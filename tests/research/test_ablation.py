"""scripts/ablation.py --quick end to end: every stage of every method on a handful of
synthetic problems with a tiny model, the table and the JSON agree with the raw passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ablation.py"
METHODS = [
    "SFT start",
    "vanilla PPO",
    "StepCoder",
    "w/o CCCS",
    "w/o FGO",
    "CE only",
    "CE only, CodeRL's ce steps",
    "CodeRL",
]


def test_quick_run_end_to_end(tmp_path):
    out = tmp_path / "ablation"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--quick", "--threads", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "ablation.json").read_text())
    summary = report["summary"]
    seeds = [json.loads((out / f"seed-{s}" / "results.json").read_text()) for s in range(2)]
    assert set(summary["methods"]) == set(METHODS)
    for method in METHODS:
        for split in ("train", "test"):
            cells = [float(v) for r in seeds for v in r["passes"][method][split].values()]
            ci = summary["methods"][method][split]
            assert abs(ci["mean"] - sum(cells) / len(cells)) < 1e-12
            assert ci["low"] <= ci["mean"] <= ci["high"]
            assert ci["n_seeds"] == 2
        tiers = [k for k in summary["methods"][method] if k.startswith("test tier")]
        assert len(tiers) == 4
    assert "StepCoder - vanilla PPO" in summary["comparisons"]
    assert "CodeRL - CE only" in summary["comparisons"]
    assert len(summary["critic"]["per_seed"]) == 2
    assert all(r["coderl_regime"]["problems"] == 8 for r in seeds)
    table = (out / "ablation.md").read_text()
    assert done.stdout.strip() == table.strip()
    for method in METHODS:
        assert f"| {method} |" in table
    assert (out / "data" / "manifest.json").is_file()
    # a rerun keeps the finished seeds (their results files are not rewritten)
    stamp = (out / "seed-0" / "results.json").stat().st_mtime_ns
    again = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "seed-0" / "results.json").stat().st_mtime_ns == stamp
    assert (
        json.loads((out / "ablation.json").read_text())["summary"]["methods"] == summary["methods"]
    )


def test_help_has_an_example():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    )
    assert "Example:" in done.stdout and "--quick" in done.stdout
