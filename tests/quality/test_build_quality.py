"""The quality steps inside `appsplus build`: rejections, flags, manifest, card, load filters,
the `appsplus quality` command, and a build that stays byte-reproducible and resumable."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import sqlite3
import struct
import subprocess
import sys
import termios

import pytest
from click.testing import CliRunner

import appsplus
from appsplus.cli.app import main as cli
from appsplus.curate.pipeline import BuildConfig, build, output_hashes, read_rejections
from appsplus.curate.verify import VerifyConfig
from appsplus.dataset import DatasetError
from appsplus.execution import Limits
from appsplus.quality.models import QualityConfig

COLLATZ = "n = int(input())\nif n % 2 == 0:\n    print(n // 2)\nelse:\n    print(3 * n + 1)\n"
STATEMENT_A = (
    "Lothar studies a sequence: from a positive integer n the next term is n / 2 when n is even "
    "and 3n + 1 when n is odd. Given n, print the next term of the sequence."
)
STATEMENT_C = (
    "A frog sits on stone n. When the stone number is divisible by two it jumps back to half "
    "of it, else it leaps forward to three times the number plus one. Where does it land?"
)
BENCH_TEXT = (
    "Write a function that returns the number of distinct prime factors of a positive "
    "integer given on a single line of the input."
)


def step(n: int) -> int:
    return n // 2 if n % 2 == 0 else 3 * n + 1


def row(pid, split, question, inputs, solutions=(COLLATZ,), fn=step):
    io = {"inputs": [f"{n}\n" for n in inputs], "outputs": [f"{fn(n)}\n" for n in inputs]}
    return {
        "problem_id": pid,
        "split": split,
        "difficulty": "introductory",
        "question": question,
        "solutions": json.dumps(list(solutions)),
        "input_output": json.dumps(io),
        "url": "",
        "starter_code": "",
    }


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality_source")
    prime = (
        "n = int(input())\nc, d = 0, 2\nwhile d * d <= n:\n    if n % d == 0:\n        c += 1\n"
        "        while n % d == 0:\n            n //= d\n    d += 1\nprint(c + (n > 1))\n"
    )

    def distinct(n):
        return len({d for d in range(2, n + 1) if n % d == 0 and all(d % k for k in range(2, d))})

    rows = [
        row(4010, "test", STATEMENT_A, [2, 3, 7, 10, 1]),  # strong tests: kept
        row(11, "train", STATEMENT_A, [4, 5, 6]),  # the same statement: a duplicate of 4010
        row(12, "train", STATEMENT_C, [2, 4, 10]),  # even inputs only: weak tests
        row(13, "train", BENCH_TEXT, [6, 12, 30, 7], (prime,), distinct),  # contaminated
        row(14, "train", STATEMENT_C + " One test only.", [8]),  # too few tests
        row(
            15,
            "train",
            STATEMENT_C + " If there are multiple answers, print any of them.",
            [3, 8, 9],
        ),
    ]
    path = root / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench = root / "bench.jsonl"
    bench.write_text(json.dumps({"task_id": "B/1", "text": BENCH_TEXT, "code": ""}) + "\n")
    return path, bench


def config_for(source) -> BuildConfig:
    path, bench = source
    return BuildConfig(
        source=str(path),
        verify=VerifyConfig(limits=Limits(time_s=2.0)),
        quality=QualityConfig(min_tests=2, decontaminate=[str(bench)], augment_tests=2),
    )


@pytest.fixture(scope="module")
def built(source, tmp_path_factory):
    out = tmp_path_factory.mktemp("quality_build") / "out"
    return build(config_for(source), out, workers=2)


def test_rejections_flags_and_manifest(built):
    rejections = {r.problem_id: r for r in read_rejections(built.out)}
    assert {pid: r.reason.value for pid, r in rejections.items()} == {
        "apps/train/0011": "duplicate_problem",
        "apps/train/0013": "contaminated",
        "apps/train/0014": "too_few_tests",
    }
    assert "apps/test/4010" in rejections["apps/train/0011"].detail
    assert "B/1" in rejections["apps/train/0013"].detail
    m = built.manifest
    assert m.counts.kept == 3 and m.counts.rejected == 3
    assert m.rejected_by_reason == {"contaminated": 1, "duplicate_problem": 1, "too_few_tests": 1}
    q = m.quality
    assert q["duplicates"]["train_test_overlaps"] == 1 and q["duplicates"]["exact"] == 1
    assert q["contamination"]["rejected_by_benchmark"] == {"bench": 1}
    assert q["flags"]["weak_tests"] >= 1 and q["flags"]["needs_checker"] == 1
    assert sum(q["mutation"]["histogram"].values()) == q["mutation"]["problems_scored"] == 3
    assert q["augmentation"]["tests_added"] == m.totals["generated_tests"] > 0
    assert m.kept_by_split_difficulty["train"]["introductory"] == 2  # duplicate unkept
    card = (built.out / "README.md").read_text()
    assert "## Quality" in card and "train/test overlaps: 1" in card


def test_records_carry_quality(built):
    ds = appsplus.load(built.out)
    by_id = {r["problem_id"]: json.loads(r["quality"]) for s in ds for r in ds[s]}
    weak = by_id["apps/train/0012"]
    assert "weak_tests" in weak["flags"] and weak["surviving_mutants"]
    assert weak["mutation_score_augmented"] >= weak["mutation_score"]
    assert "needs_checker" in by_id["apps/train/0015"]["flags"]
    assert by_id["apps/test/4010"]["mutation_score"] == 1.0
    runtimes = appsplus.load(built.out)["train"]["reference_runtimes_s"]
    assert all(r is not None for r in runtimes)  # generated tests have runtimes too


def test_load_filters(built):
    ds = appsplus.load(built.out, exclude_flags=["weak_tests", "needs_checker"])
    assert sorted(r["problem_id"] for s in ds for r in ds[s]) == ["apps/test/4010"]
    strong = appsplus.load(built.out, min_mutation_score=0.99)
    found = sorted(r["problem_id"] for s in strong for r in strong[s])
    assert found == ["apps/test/4010", "apps/train/0015"]  # 0015's tests cover both branches
    with pytest.raises(DatasetError, match="unknown flag"):
        appsplus.load(built.out, exclude_flags=["nonsense"])


def test_reproducible_and_resumable(built, source, tmp_path):
    again = build(config_for(source), tmp_path / "serial", workers=1, batch_problems=2)
    assert output_hashes(again.out) == output_hashes(built.out)
    # forget a third of the finished executions, as if the build had been killed
    db = sqlite3.connect(again.out / ".cache" / "verify.sqlite")
    keys = [k for (k,) in db.execute("SELECT key FROM results ORDER BY key")]
    forgotten = keys[::3]
    db.executemany("DELETE FROM results WHERE key = ?", [(k,) for k in forgotten])
    db.commit()
    db.close()
    resumed = build(config_for(source), again.out, workers=2)
    assert resumed.executed_jobs == len(forgotten)
    assert output_hashes(resumed.out) == output_hashes(built.out)


def test_quality_command(built):
    result = CliRunner().invoke(cli, ["quality", str(built.out), "--json", "--survivors", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["counts"]["kept"] == 3
    assert report["quality"]["duplicates"]["rejected"] == 1
    assert report["weakest"][0]["problem_id"] == "apps/train/0012"
    text = CliRunner().invoke(cli, ["quality", str(built.out)])
    assert text.exit_code == 0 and "Mutation score" in text.output
    missing = CliRunner().invoke(cli, ["quality", str(built.out / ".cache")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output


def on_terminal(args: list[str], columns: int = 120) -> tuple[int, str]:
    """Run `python -m appsplus ARGS` with its stdout and stderr on a real pseudo-terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"}  # box lines
    proc = subprocess.Popen(
        [sys.executable, "-m", "appsplus", *args], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks = []
    try:
        while select.select([master], [], [], 60)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode()


BOX = ("┃", "│", "━")


def test_quality_prints_tables_on_a_terminal_and_markdown_elsewhere(built):
    status, shown = on_terminal(["quality", str(built.out), "--survivors", "2"])
    assert status == 0, shown
    assert all(c in shown for c in BOX) and "|---|" not in shown
    assert "mutation scores" in shown and "apps/train/0012" in shown  # the weakest problem
    status, marked = on_terminal(["quality", str(built.out), "--markdown"])
    assert status == 0, marked
    assert "| mutation score | problems |" in marked and "|---|" in marked
    assert not any(c in marked for c in BOX)
    piped = subprocess.run(
        [sys.executable, "-m", "appsplus", "quality", str(built.out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.returncode == 0, piped.stderr
    assert "|---|" in piped.stdout and "\x1b[" not in piped.stdout
    assert not any(c in piped.stdout for c in BOX)


def test_build_cli_quality_options(source, tmp_path):
    path, bench = source
    args = ["build", "--source", str(path), "--out", str(tmp_path / "o"), "--workers", "2"]
    args += ["--time-limit", "2", "--json", "--no-mutation", "--no-rerun"]
    args += ["--min-tests", "4", "--decontaminate", str(bench), "--no-dedupe"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output[result.output.index("{") :])
    assert manifest["rejected_by_reason"] == {"contaminated": 1, "too_few_tests": 4}
    assert manifest["quality"]["mutation"] == {} and manifest["quality"]["duplicates"] == {}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("[1, 2]\n")
    args = ["build", "--source", str(path), "--out", str(tmp_path / "p"), "--decontaminate"]
    result = CliRunner().invoke(cli, [*args, str(bad)])
    assert result.exit_code != 0 and "bad.jsonl" in result.output
    assert "Traceback" not in result.output
