"""`bench` end to end: a tiny local model on CPU, an OpenAI-compatible server, resume, compare."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import click
import pytest
from bench_samples import bugged, canonical_samples_file
from click.testing import CliRunner

from appsplus.bench.cli import main as bench
from appsplus.bench.files import RunConfig
from appsplus.bench.report import Report


def invoke(*args: str, ok: bool = True):
    result = CliRunner().invoke(bench, list(args))
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_every_bench_command_has_an_example_in_its_help():
    assert "Example:" in invoke("--help").output
    for name, command in bench.commands.items():
        assert isinstance(command, click.Command)
        assert "Example:" in invoke(name, "--help").output, name


def test_tiny_model_end_to_end_on_cpu(tiny_model, tmp_path, bench_cache):
    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--suite", "sample", "--n", "2", "--k", "1,2"]
    args += ["--max-new-tokens", "8", "--limit", "5", "--workers", "2", "--device", "cpu"]
    result = invoke(*args, "--out", str(out))
    assert "pass@1" in result.stdout and "overall" in result.stdout
    report = Report.model_validate_json((out / "report.json").read_text())
    assert report.overall.n_problems == 5 and report.overall.n_samples == 10
    assert report.overall.pass_at_k["pass@1"].value == 0.0  # random weights
    assert sum(report.overall.verdicts.values()) == 10
    assert report.sampling.n == 2 and report.sampling.max_new_tokens == 8
    assert report.model.backend == "hf" and report.model.config_sha256
    assert report.tool.executor_version and report.tool.comparator_version
    assert report.suite.dataset_hash.startswith("sha256:")
    if importlib.util.find_spec("matplotlib"):
        assert (out / "pass_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:  # the plot is optional (pip install -e '.[bench]')
        assert not (out / "pass_at_k.png").exists()
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 10 and all(s["finish_reason"] in ("stop", "length") for s in samples)

    # the same command again does nothing new and gives the same report
    before = (out / "report.json").read_bytes()
    invoke(*args, "--out", str(out))
    assert (out / "report.json").read_bytes() == before

    # other settings in the same folder are refused, naming what differs
    result = invoke(*args, "--temperature", "0.2", "--out", str(out), ok=False)
    assert result.exit_code != 0 and "sampling" in result.output

    # k > n is an error, not a silently dropped problem
    result = invoke("report", "--out", str(out), "--k", "5", ok=False)
    assert result.exit_code != 0 and "pass@5 needs at least 5 samples" in result.output


def _answers(problems) -> dict[str, str]:
    return {p.prompt: p.canonical_solution for p in problems}


def _reply(answers: dict[str, str], delay: float = 0.0):
    """Deterministic server: per (prompt, seed) a canonical, a wrong or a truncated answer."""

    def reply(payload: dict) -> list[str]:
        time.sleep(delay)
        texts = []
        for i in range(payload["n"]):
            h = hashlib.sha256(f"{payload['prompt']}{payload['seed']}{i}".encode()).digest()[0]
            code = answers[payload["prompt"]]
            texts.append(
                (f"```python\n{code}```", "print('wrong')", f"```python\n{code[: len(code) // 2]}")[
                    h % 3
                ]
            )
        return texts

    return reply


def test_openai_backend_end_to_end(fake_openai, sample_suite, tmp_path):
    server = fake_openai(_reply(_answers(sample_suite.problems)))
    out = tmp_path / "run"
    result = invoke(
        "run", "--backend", "openai", "--base-url", server.base_url, "--model", "served",
        "--suite", "sample", "--n", "3", "--k", "1,3", "--out", str(out), "--json",
    )  # fmt: skip
    report = Report.model_validate_json(result.stdout)
    assert report.model.backend == "openai" and report.model.base_url == server.base_url
    p1 = report.overall.pass_at_k["pass@1"].value
    assert 0.0 < p1 < 1.0  # a mix of right, wrong and truncated answers
    c = sum(p.c for p in report.problems)
    assert p1 == pytest.approx(c / report.overall.n_samples)
    assert report.overall.pass_at_k["pass@3"].value >= p1
    assert {"passed", "wrong_answer"} <= set(report.overall.verdicts)
    assert all(payload["stop"] == ["\nQUESTION:", "\nANSWER:"] for _, payload in server.requests)


def test_killed_run_resumes_to_the_same_report(fake_openai, sample_suite, tmp_path):
    server = fake_openai(_reply(_answers(sample_suite.problems), delay=0.05))
    common = ["run", "--backend", "openai", "--base-url", server.base_url, "--model", "served"]
    common += ["--suite", "sample", "--n", "2", "--limit", "8", "--batch-size", "1", "--k", "1,2"]
    invoke(*common, "--out", str(tmp_path / "whole"))
    expected = (tmp_path / "whole" / "report.json").read_bytes()

    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "appsplus.bench.cli", *common, "--out", str(out)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        samples = out / "samples.jsonl"
        while time.monotonic() < deadline and proc.poll() is None:
            if samples.is_file() and samples.read_bytes().count(b"\n") >= 4:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert 4 <= samples.read_bytes().count(b"\n") < 16
    assert not (out / "report.json").exists()
    invoke(*common, "--out", str(out))
    assert (out / "report.json").read_bytes() == expected

    # an evaluation interrupted halfway (a partial last line included) also resumes
    results = out / "results.jsonl"
    lines = results.read_bytes().splitlines(keepends=True)
    results.write_bytes(b"".join(lines[: len(lines) // 2]) + lines[-1][:10])
    (out / "report.json").unlink()
    invoke(*common, "--out", str(out))
    assert (out / "report.json").read_bytes() == expected


def test_stages_separately_and_compare(sample_suite, tmp_path):
    good = canonical_samples_file(tmp_path / "good.jsonl", sample_suite.problems, copies=2)
    bad = canonical_samples_file(
        tmp_path / "bad.jsonl", sample_suite.problems, copies=2, bug=bugged
    )
    invoke("evaluate", "--suite", "sample", "--samples", str(good), "--out", str(tmp_path / "a"))
    config = RunConfig.model_validate_json((tmp_path / "a" / "run.json").read_text())
    assert config.model.samples_sha256 and config.sampling is None
    result = invoke("report", "--out", str(tmp_path / "a"), "--json")
    assert json.loads(result.stdout)["overall"]["pass_at_k"]["pass@1"]["value"] == 1.0
    invoke("run", "--suite", "sample", "--samples", str(bad), "--out", str(tmp_path / "b"))

    result = invoke("compare", str(tmp_path / "a" / "report.json"), str(tmp_path / "b"))
    assert "100.0" in result.stdout and "0.0" in result.stdout and "overall" in result.stdout

    # the train split of the sample is another dataset: refused unless forced
    train = [p for p in _train_problems()]
    other = canonical_samples_file(tmp_path / "train.jsonl", train)
    invoke(
        "run",
        "--suite",
        "sample",
        "--split",
        "train",
        "--samples",
        str(other),
        "--out",
        str(tmp_path / "c"),
    )
    result = invoke("compare", str(tmp_path / "a"), str(tmp_path / "c"), ok=False)
    assert result.exit_code != 0 and "different datasets" in result.output
    result = invoke("compare", str(tmp_path / "a"), str(tmp_path / "c"), "--force")
    assert "different datasets" in result.output


def _train_problems():
    from appsplus.bench.suites import load_suite

    return load_suite("sample", split="train").problems


def test_friendly_errors(tmp_path, bench_cache):
    result = invoke(
        "run", "--suite", "humaneval", "--model", "m", "--out", str(tmp_path / "x"), ok=False
    )
    assert result.exit_code == 1 and "needs --dataset" in result.output
    result = invoke("evaluate", "--out", str(tmp_path / "nothing"), ok=False)
    assert result.exit_code != 0 and "not a run folder" in result.output
    if "vllm" not in sys.modules:
        result = invoke(
            "generate", "--backend", "vllm", "--model", "m", "--suite", "sample", "--limit", "1",
            "--out", str(tmp_path / "v"), ok=False,
        )  # fmt: skip
        assert result.exit_code == 1 and "pip install vllm" in result.output
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"problem_id": "nope", "program": "print(1)"}) + "\n")
    result = invoke(
        "run",
        "--suite",
        "sample",
        "--samples",
        str(samples),
        "--out",
        str(tmp_path / "y"),
        ok=False,
    )
    assert result.exit_code == 1 and "not in the suite" in result.output


def test_a_runs_own_samples_file_evaluates_again_to_the_same_numbers(sample_suite, tmp_path):
    """`bench evaluate --samples RUN/samples.jsonl` (the README's Ray example) read the file
    bench itself wrote as a foreign one and refused its `index` and `finish_reason` fields."""
    mixed = canonical_samples_file(tmp_path / "mixed.jsonl", sample_suite.problems, copies=1)
    bad = canonical_samples_file(tmp_path / "bad.jsonl", sample_suite.problems, bug=bugged)
    mixed.write_text(mixed.read_text() + bad.read_text())  # one right, one wrong per problem
    invoke("run", "--suite", "sample", "--samples", str(mixed), "--out", str(tmp_path / "a"))
    own = tmp_path / "a" / "samples.jsonl"
    assert '"index"' in own.read_text() and '"program"' in own.read_text()
    invoke("evaluate", "--suite", "sample", "--samples", str(own), "--out", str(tmp_path / "b"))
    invoke("report", "--out", str(tmp_path / "b"))
    a, b = (json.loads((tmp_path / x / "report.json").read_text()) for x in "ab")
    assert a["overall"]["pass_at_k"] == b["overall"]["pass_at_k"]
    assert a["overall"]["pass_at_k"]["pass@1"]["value"] == 0.5
    # a row that claims to be bench's own but is not a valid sample is one line
    own.write_text('{"problem_id": "x", "index": -1, "program": "pass"}\n')
    result = invoke(
        "evaluate",
        "--suite",
        "sample",
        "--samples",
        str(own),
        "--out",
        str(tmp_path / "c"),
        ok=False,
    )
    assert result.exit_code != 0 and "not a bench sample: index" in result.output
