"""`appsplus.bench.api`: the Python functions behind every `bench` command."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from bench_samples import canonical_samples_file
from click.testing import CliRunner

from appsplus.bench import api
from appsplus.bench.cli import main as bench

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    """The python block of the README's "Python API" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs_as_written(tmp_path, tiny_model, bench_cache, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-model").symlink_to(tiny_model, target_is_directory=True)
    namespace: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, api.RunResult)
    assert result.report_path == Path("runs/py-sample/report.json")
    assert result.report.overall.n_problems == 3 and result.report.sampling.n == 2
    assert result.generation.written == 6 and result.evaluation.n_samples == 6
    assert isinstance(namespace["again"], api.ReportResult)


def test_cli_and_api_make_the_same_report(tmp_path, sample_suite):
    samples = canonical_samples_file(tmp_path / "s.jsonl", sample_suite.problems, copies=2)
    cli = CliRunner().invoke(
        bench,
        ["run", "--suite", "sample", "--samples", str(samples), "--k", "1,2"]
        + ["--workers", "2", "--out", str(tmp_path / "cli")],
    )
    assert cli.exit_code == 0, cli.output

    stages: list[tuple[str, int, int]] = []

    @contextlib.contextmanager
    def stage(description: str, total: int):
        done = [0]
        yield lambda n: done.__setitem__(0, done[0] + n)
        stages.append((description, total, done[0]))

    result = api.run(
        api.RunSpec(
            out=tmp_path / "py",
            suite=api.SuiteSpec(name="sample"),
            samples=api.SamplesSpec(path=samples),
            execution=api.ExecutionSpec(workers=2),
            ks=[1, 2],
        ),
        stage=stage,
    )
    assert (tmp_path / "py" / "report.json").read_bytes() == (
        tmp_path / "cli" / "report.json"
    ).read_bytes()
    n = 2 * len(sample_suite.problems)
    assert stages == [("executing", n, n)]
    assert result.generation.n == 2 and result.critic_sampling is None

    # the other commands over the same folders
    again = api.report(tmp_path / "py", ks=[1, 2])
    assert again.report == result.report and again.critic_sampling is None
    evaluated = api.evaluate(tmp_path / "py")  # everything cached: nothing runs again
    assert evaluated.n_samples == n
    comparison = api.compare([tmp_path / "py", tmp_path / "cli" / "report.json"])
    assert comparison.warnings == [] and len(comparison.names) == 2
