"""The report's expected-vs-actual diff in Chromium: lines the comparator accepts within its
float tolerance (`12.5` vs `12.500000`) are marked accepted ("near"), not as a difference.

The page's line rule (`linesAccepted`, shipped in assets.HELPERS) is checked line by line
against the one comparator, `appsplus.execution.compare.stdout_matches`.
"""

from __future__ import annotations

import json

from appsplus.bench.html import assets
from appsplus.execution.compare import stdout_matches

PAIRS = [
    ("12.5", "12.500000"),
    ("3 0.1", "3 0.10000001"),
    ("1e3", "1000"),
    ("-0", "0"),
    ("007", "7"),
    ("123456789012345678901", "123456789012345678902"),  # beyond float precision: differ
    ("0.5", "0.51"),
    ("1 2", "1 2 3"),
    ("inf", "INF"),
    ("nan", "NaN"),
    ("abc", "abd"),
    ("1.0", "1.00001"),
    ("x  y", "x y"),
]


def _page(tmp_path) -> str:
    expected = "12.5\n3 4\nyes\n0.5"
    actual = "12.500000\n3 4\nno\n0.500000001"
    e, a = json.dumps(expected), json.dumps(actual)
    script = assets.HELPERS + (
        f"document.body.append(diffTable({e}, {a}, undefined, linesAccepted));"
        f"document.body.append(diffTable({e}, {a}));"
        f"window.PAIRS = {json.dumps(PAIRS)}.map(([a, b]) => linesAccepted(a, b));"
    )
    page = tmp_path / "diff.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<style>{assets.STYLE}</style></head>"
        f"<body><script>{script}</script></body></html>"
    )
    return page.as_uri()


def test_diff_marks_lines_equal_within_tolerance_as_accepted(tmp_path):
    from test_html_report import _browser_or_skip

    chromium, sync_playwright = _browser_or_skip()
    url = _page(tmp_path)
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        tables = page.locator("table.diff")
        assert tables.count() == 2
        judged = tables.nth(0).locator("tbody tr")
        classes = [judged.nth(i).get_attribute("class") for i in range(judged.count())]
        assert classes == ["near", "same", "bad", "near"]
        assert "tolerance" in (judged.nth(0).get_attribute("title") or "")
        # without the comparator's rule (code diffs of the dataset report), text only
        plain = tables.nth(1).locator("tbody tr")
        assert [plain.nth(i).get_attribute("class") for i in range(plain.count())] == [
            "bad",
            "same",
            "bad",
            "bad",
        ]
        in_page = page.evaluate("window.PAIRS")
        browser.close()
    assert not errors, errors
    # the page's rule is the comparator's, pair by pair
    assert in_page == [stdout_matches(b, a) for a, b in PAIRS]
    assert in_page[0] is True and in_page[5] is False


def test_the_report_passes_the_comparators_rule_to_its_diff():
    # for the suites judged by those rules (the page's DATA.near; see test_html_report)
    assert "diffTable(f.expected, f.actual, undefined, DATA.near ? linesAccepted : null)" in (
        assets.SCRIPT
    )
    assert "{{REL_TOL}}" not in assets.HELPERS  # the tolerance comes from compare.py
