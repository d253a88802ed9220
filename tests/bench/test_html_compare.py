"""`bench compare A B`: paired per-problem differences of pass@k with a paired bootstrap
interval, and the problems solved by only one run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from appsplus.bench.cli import main as bench
from appsplus.bench.files import (
    BenchProblem,
    ModelInfo,
    RunConfig,
    Sample,
    SampleResult,
    Sampling,
    SuiteInfo,
)
from appsplus.bench.paired import paired_comparison
from appsplus.bench.report import CompareError, build_report, report_json
from appsplus.execution import StdioTest

DIFFICULTIES = ("introductory", "interview", "competition")


def synthetic_report(rates: np.ndarray, n: int, seed: int, model: str = "m"):
    """A report of len(rates) problems, n samples each, sample j of problem i passing with
    probability rates[i] (real build_report over SampleResults)."""
    rng = np.random.default_rng(seed)
    problems, samples, keys, results = [], [], [], {}
    for i, rate in enumerate(rates):
        pid = f"p{i:04d}"
        problems.append(
            BenchProblem(
                problem_id=pid,
                difficulty=DIFFICULTIES[i % 3],
                prompt="p",
                chat_prompt="p",
                assembly="apps",
                tests=[StdioTest(input="", output="")],
                time_limit_s=1.0,
            )
        )
        for j in range(n):
            ok = bool(rng.random() < rate)
            key = f"{pid}-{j}"
            samples.append(Sample(problem_id=pid, index=j, program="x"))
            keys.append(key)
            results[key] = SampleResult(
                key=key,
                problem_id=pid,
                passed=ok,
                outcome="passed" if ok else "wrong_answer",
                n_tests=1,
                n_passed=int(ok),
            )
    config = RunConfig(
        suite=SuiteInfo(
            name="sample", dataset_hash="sha256:x", n_problems=len(rates), prompt_version="1"
        ),
        model=ModelInfo(backend="samples", model=model),
        sampling=Sampling(n=n, temperature=0.8, top_p=0.95, max_new_tokens=8, batch_size=n),
        extraction_version="1",
    )
    return build_report(config, problems, samples, keys, results, [1, 5])


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(7)
    base = rng.beta(0.5, 1.5, size=300)  # problems differ a lot in difficulty: pairing helps
    a = synthetic_report(base, 10, seed=1, model="a")
    b = synthetic_report(np.clip(base + 0.05, 0, 1), 10, seed=2, model="b")
    return a, b


def test_paired_difference_matches_the_reports_and_is_tighter_than_unpaired(pair):
    a, b = pair
    comparison = paired_comparison(a, b, ("a", "b"))
    assert comparison.n_paired == 300 and comparison.unpaired == {"a": 0, "b": 0}
    groups = {"overall": (a.overall, b.overall)}
    groups |= {d: (a.by_difficulty[d], b.by_difficulty[d]) for d in DIFFICULTIES}
    assert {(d.group, d.metric) for d in comparison.deltas} == {
        (g, m) for g in groups for m in ("pass@1", "pass@5")
    }
    for d in comparison.deltas:
        ga, gb = groups[d.group]
        ea, eb = ga.pass_at_k[d.metric], gb.pass_at_k[d.metric]
        assert d.a == pytest.approx(ea.value) and d.b == pytest.approx(eb.value)
        assert d.difference == pytest.approx(eb.value - ea.value)
        assert d.ci_low <= d.difference <= d.ci_high
        assert d.n_problems == ga.n_problems
        # per-problem pairing removes the spread of problem difficulty: the paired
        # interval is narrower than the unpaired one (the two widths added in quadrature)
        unpaired_width = math.hypot(ea.ci_high - ea.ci_low, eb.ci_high - eb.ci_low)
        assert d.ci_high - d.ci_low < (0.6 if d.group == "overall" else 1.0) * unpaired_width
    overall = next(d for d in comparison.deltas if d.group == "overall" and d.metric == "pass@1")
    assert overall.ci_low > 0  # the +5 points of b are detected

    ca = {p.problem_id: p.c for p in a.problems}
    cb = {p.problem_id: p.c for p in b.problems}
    assert set(comparison.solved_only_by_a) == {p for p in ca if ca[p] and not cb[p]}
    assert set(comparison.solved_only_by_b) == {p for p in cb if cb[p] and not ca[p]}
    assert comparison.solved_only_by_b  # some, with these rates

    same = paired_comparison(a, a)
    assert all(d.difference == d.ci_low == d.ci_high == 0 for d in same.deltas)
    assert not same.solved_only_by_a and not same.solved_only_by_b


def test_unpaired_problems_are_left_out_and_nothing_in_common_refused(pair):
    a, b = pair
    fewer = b.model_copy(update={"problems": b.problems[:100]})
    comparison = paired_comparison(a, fewer, ("a", "b"))
    assert comparison.n_paired == 100 and comparison.unpaired == {"a": 200, "b": 0}
    none = b.model_copy(update={"problems": []})
    with pytest.raises(CompareError, match="no problem in common"):
        paired_comparison(a, none)


def test_compare_command_prints_the_paired_table_and_json(pair, tmp_path):
    a, b = pair
    for name, report in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(report_json(report))
    args = [str(tmp_path / "a"), str(tmp_path / "b")]
    result = CliRunner().invoke(bench, ["compare", *args])
    assert result.exit_code == 0, result.output
    assert "paired difference B - A on 300 problems" in result.output
    assert "solved only by b (b)" in result.output
    result = CliRunner().invoke(bench, ["compare", *args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = paired_comparison(a, b, ("a (a)", "b (b)"))
    assert data == json.loads(expected.model_dump_json())
    result = CliRunner().invoke(bench, ["compare", *args, str(tmp_path / "a"), "--json"])
    assert result.exit_code != 0 and "exactly two reports" in result.output


def test_compare_html_in_a_browser(pair, tmp_path):
    from test_html_report import _browser_or_skip

    chromium, sync_playwright = _browser_or_skip()
    a, b = pair
    for name, report in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(report_json(report))
    page_path = tmp_path / "b-vs-a.html"
    args = ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--html", str(page_path)]
    result = CliRunner().invoke(bench, args)
    assert result.exit_code == 0, result.output
    expected = paired_comparison(a, b, ("a (a)", "b (b)"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri())
        dots = page.locator("#paired-chart g.delta")
        assert dots.count() == len(expected.deltas)
        for i, d in enumerate(expected.deltas):
            assert dots.nth(i).get_attribute("data-group") == d.group
            assert float(dots.nth(i).get_attribute("data-difference")) == pytest.approx(
                d.difference, abs=1e-6
            )
        only_b = page.locator("#only-b li")
        assert [only_b.nth(i).text_content() for i in range(only_b.count())] == (
            expected.solved_only_by_b
        )
        browser.close()
    assert errors == [] and requests and all(u.startswith("file://") for u in requests)
    # a second --html writes over its own page; a page it did not write is refused
    assert CliRunner().invoke(bench, args).exit_code == 0
    other = tmp_path / "mine.html"
    other.write_text("<p>mine</p>")
    result = CliRunner().invoke(bench, [*args[:-1], str(other)])
    assert result.exit_code != 0 and "left as it is" in result.output
    assert other.read_text() == "<p>mine</p>"
