"""`bench report --html` in a real browser: the system Chromium (Debian's `chromium`) driven by
playwright's Python package, the report opened from file://.

Skips (with the reason) where Chromium or playwright is missing; APPSPLUS_REQUIRE_BROWSER=1
(set in CI) makes that a failure instead.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from bench_samples import bugged
from click.testing import CliRunner

from appsplus.bench.cli import main as bench
from appsplus.bench.report import Report


def _browser_or_skip():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = []
    if chromium is None:
        missing.append("no chromium on PATH (apt-get install chromium)")
    if sync_playwright is None:
        missing.append("no playwright package (pip install playwright)")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("APPSPLUS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"APPSPLUS_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return chromium, sync_playwright


def invoke(*args: str):
    result = CliRunner().invoke(bench, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def html_run(sample_suite, tmp_path_factory):
    """A run of canonical, bugged and crashing samples on 6 sample problems, reported as HTML."""
    tmp = tmp_path_factory.mktemp("html")
    problems = sample_suite.problems[:6]
    crash = "raise ValueError('boom')\n"
    rows = []
    for i, p in enumerate(problems):
        programs = [p.canonical_solution, bugged(p)] if i % 2 else [bugged(p), crash]
        rows += [{"problem_id": p.problem_id, "program": prog} for prog in programs]
    samples = tmp / "samples.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp / "run"
    # one command from samples to the page
    invoke("run", "--suite", "sample", "--samples", str(samples), "--allow-missing",
           "--k", "1,2", "--out", str(out), "--html")  # fmt: skip
    assert (out / "report.html").is_file()
    invoke("report", "--out", str(out), "--k", "1,2", "--html")  # replaces its own page
    report = Report.model_validate_json((out / "report.json").read_text())
    return out, report, {p.problem_id: p for p in problems}


@pytest.fixture(scope="module")
def page_of(html_run):
    chromium, sync_playwright = _browser_or_skip()
    out, _, _ = html_run
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])

        def open_page(fragment: str = ""):
            page = browser.new_page()
            page.problems_seen = {"console": [], "requests": []}
            page.on(
                "console",
                lambda m: (
                    page.problems_seen["console"].append(m.text) if m.type == "error" else None
                ),
            )
            page.on("pageerror", lambda e: page.problems_seen["console"].append(str(e)))
            page.on("request", lambda r: page.problems_seen["requests"].append(r.url))
            page.goto((out / "report.html").as_uri() + fragment)
            return page

        yield open_page
        browser.close()


def _only_local(page):
    assert page.problems_seen["console"] == []
    assert page.problems_seen["requests"]  # the page and its lazily loaded problem files
    assert all(u.startswith("file://") for u in page.problems_seen["requests"]), page.problems_seen


def test_chart_and_tables_show_the_reports_numbers(html_run, page_of):
    out, report, _ = html_run
    page = page_of()
    groups = page.locator("#chart g.group")
    labels = [*report.by_difficulty, "overall"]
    assert groups.count() == len(labels)
    for i, label in enumerate(labels):
        g = groups.nth(i)
        assert g.get_attribute("data-difficulty") == label
        metrics = report.overall if label == "overall" else report.by_difficulty[label]
        bars = g.locator("rect.bar")
        assert bars.count() == len(report.ks)
        for j, k in enumerate(report.ks):
            e = metrics.pass_at_k[f"pass@{k}"]
            assert float(bars.nth(j).get_attribute("data-value")) == pytest.approx(
                e.value, abs=1e-6
            )
            assert float(bars.nth(j).get_attribute("data-ci-low")) == pytest.approx(
                e.ci_low, abs=1e-6
            )
            assert f"{100 * e.value:.1f}%" in bars.nth(j).locator("title").text_content()
    for label in labels:
        metrics = report.overall if label == "overall" else report.by_difficulty[label]
        row = page.locator(f'#outcomes tr[data-difficulty="{label}"] td')
        assert int(row.nth(1).text_content()) == metrics.verdicts.get("wrong_answer", 0)
    assert page.locator("#problems tbody tr").count() == len(report.problems)
    _only_local(page)


def test_filtering_the_problem_table(html_run, page_of):
    _, report, _ = html_run
    page = page_of()
    rows = page.locator("#problems tbody tr")
    page.select_option("#f-verdict", "runtime_error")
    expected = {p.problem_id for p in report.problems if p.verdicts.get("runtime_error")}
    assert expected and len(expected) < len(report.problems)
    assert {rows.nth(i).get_attribute("data-id") for i in range(rows.count())} == expected
    page.select_option("#f-verdict", "solved")
    expected = {p.problem_id for p in report.problems if p.c > 0}
    assert {rows.nth(i).get_attribute("data-id") for i in range(rows.count())} == expected
    page.select_option("#f-verdict", "")
    page.fill("#f-text", report.problems[0].problem_id)
    assert rows.count() == 1
    # the filters are in the link: reopening it shows the same rows
    link = page.url
    assert "q=" in link
    again = page_of(link[link.index("#") :])
    assert again.locator("#problems tbody tr").count() == 1
    _only_local(page)


def test_opening_a_failed_sample_shows_expected_and_actual(html_run, page_of):
    _, report, problems = html_run
    page = page_of()
    wrong = next(
        p for p in report.problems if p.verdicts.get("wrong_answer") and p.c == 0
    )  # a problem whose first sample is the bugged program
    page.select_option("#f-verdict", "wrong_answer")
    page.locator(f'#problems tbody tr[data-id="{wrong.problem_id}"]').click()
    sample = page.locator('#problem details.sample[data-verdict="wrong_answer"]').first
    sample.wait_for()
    assert sample.get_attribute("open") is not None  # the first failure is opened
    test = problems[wrong.problem_id].tests[0]
    expected_cells = sample.locator("table.diff td.e")
    actual_cells = sample.locator("table.diff td.x")
    if test.kind == "stdio":
        want = test.output.split("\n")
        got = [expected_cells.nth(i).text_content() for i in range(len(want))]
        assert got == want
        actual = "\n".join(actual_cells.nth(i).text_content() for i in range(actual_cells.count()))
        assert "off by one" in actual
        assert sample.locator("table.diff tr.bad").count() >= 1
    assert wrong.problem_id in page.locator("#problem h2").text_content()
    code = sample.locator("pre code.py")
    assert code.locator("span.kw").count() + code.locator("span.bi").count() > 0  # coloured
    page.go_back()
    assert page.locator("#summary").is_visible()
    _only_local(page)


def test_the_diff_tolerance_marks_follow_the_suites_rules(html_run):
    """The sample suite is judged by the APPS rules, so the page's diff may mark lines equal
    within their float tolerance as accepted (a livecodebench page may not:
    test_suite_livecodebench checks it)."""
    import re

    page = (html_run[0] / "report.html").read_text(encoding="utf-8")
    data = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    assert data and json.loads(data.group(1))["near"] is True
