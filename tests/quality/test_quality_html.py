"""`appsplus quality DATASET --html` in a real browser: the system Chromium (Debian's
`chromium`) driven by playwright's Python package, the page opened from file://, on a real
build of the embedded sample (plus a copied row, so that a duplicate is rejected, and a
benchmark file holding one of its statements, so that a problem is contaminated) and, when
../shared/data is present, on a build of real APPS+ problems (the StepCoder release).

Skips (with the reason) where Chromium or playwright is missing; APPSPLUS_REQUIRE_BROWSER=1
(set in CI) makes that a failure instead (the bench tests' `_browser_or_skip`).
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from appsplus.cli.app import main as cli
from appsplus.curate.pipeline import BuildConfig, build, output_hashes, read_rejections
from appsplus.curate.verify import VerifyConfig
from appsplus.dataset import load
from appsplus.execution import Limits
from appsplus.quality.html import files_dir, survivors
from appsplus.quality.models import Quality, QualityConfig
from appsplus.quality.mutate import mutants
from appsplus.quality.report import histogram as report_histogram
from appsplus.sources.sample import sample_bytes

BENCH_TESTS = Path(__file__).parents[1] / "bench"
FAST = dict(max_mutants=12, probe_inputs=4, nondeterminism=False)


def _browser_or_skip():
    if str(BENCH_TESTS) not in sys.path:
        sys.path.insert(0, str(BENCH_TESTS))
    from test_html_report import _browser_or_skip as browser_or_skip

    return browser_or_skip()


def quality_of(out: Path) -> dict[str, tuple[dict, Quality]]:
    ds = load(out)
    return {
        r["problem_id"]: (r, Quality.model_validate_json(r["quality"]))
        for split in ds
        for r in ds[split]
    }


def write_page(out: Path, page: Path, *extra: str):
    result = CliRunner().invoke(cli, ["quality", str(out), "--html", str(page), *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory):
    """The embedded sample, one of its kept rows copied under a new id, and a benchmark file
    holding another kept row's statement; built with augmentation, reported as HTML."""
    root = tmp_path_factory.mktemp("quality_html")
    lines = sample_bytes().splitlines()
    copy = json.loads(lines[1])  # problem 1972, kept
    copy["problem_id"] = 1999
    source = root / "rows.jsonl"
    source.write_bytes(b"\n".join([*lines, json.dumps(copy).encode()]) + b"\n")
    lamps = json.loads(lines[0])["question"]  # problem 1971, kept
    bench = root / "bench.jsonl"
    bench.write_text(json.dumps({"task_id": "B/7", "text": lamps}) + "\n")
    config = BuildConfig(
        source=str(source),
        verify=VerifyConfig(limits=Limits(time_s=2.0)),
        quality=QualityConfig(augment_tests=2, decontaminate=[str(bench)], **FAST),
    )
    out = root / "out"
    report = build(config, out, workers=2)
    page = root / "report" / "quality.html"
    write_page(out, page)
    return out, report.manifest, page, lamps


@pytest.fixture(scope="module")
def browser():
    """open(page_path, fragment="") -> a new page in one headless Chromium, watched for
    console errors and requests."""
    chromium, sync_playwright = _browser_or_skip()
    with sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])

        def open_page(page_path: Path, fragment: str = ""):
            page = chrome.new_page()
            page.seen = {"console": [], "requests": []}
            page.on(
                "console",
                lambda m: page.seen["console"].append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: page.seen["console"].append(str(e)))
            page.on("request", lambda r: page.seen["requests"].append(r.url))
            page.goto(page_path.as_uri() + fragment)
            return page

        yield open_page
        chrome.close()


@pytest.fixture(scope="module")
def page_of(sample_build, browser):
    return lambda fragment="": browser(sample_build[2], fragment)


def only_local(page) -> None:
    assert page.seen["console"] == []
    assert page.seen["requests"]
    assert all(u.startswith("file://") for u in page.seen["requests"]), page.seen["requests"]


def check_histogram(page, out: Path, manifest) -> None:
    histogram = manifest.quality["mutation"]["histogram"]
    scores = [q.mutation_score for _, q in quality_of(out).values() if q.mutation_score is not None]
    assert histogram == report_histogram(scores)  # the records' own scores
    bins = page.locator("#histogram g.bin")
    assert bins.count() == len(histogram) == 10
    heights = {}
    for i, (label, count) in enumerate(histogram.items()):
        g = bins.nth(i)
        assert g.get_attribute("data-bin") == label
        assert int(g.get_attribute("data-count")) == count
        assert f"{label}: {count} problems" in g.locator("title").text_content()
        heights[label] = float(g.locator("rect").get_attribute("height"))
    top = max(histogram.values())
    tallest = heights[max(histogram, key=histogram.get)]
    for label, count in histogram.items():  # bar heights in proportion to the counts
        assert heights[label] == pytest.approx(tallest * count / top, abs=0.2)


def check_rejections(page, out: Path, manifest) -> None:
    rows = page.locator("#rejections tbody tr")
    shown = {
        rows.nth(i).get_attribute("data-reason"): int(rows.nth(i).get_attribute("data-count"))
        for i in range(rows.count())
    }
    assert shown == manifest.rejected_by_reason
    assert page.locator("#rejections tfoot td").nth(1).text_content() == str(
        manifest.counts.rejected
    )
    by_reason: dict[str, list[str]] = {}
    for r in read_rejections(out):
        by_reason.setdefault(r.reason.value, []).append(r.problem_id or r.locator)
    for reason, ids in by_reason.items():
        examples = page.locator(f'#rejections tr[data-reason="{reason}"] li b').all_text_contents()
        assert examples == ids[: len(examples)] and examples


def open_weakest(page, out: Path):
    """Open the first row of the problem table (the lowest score) and check its first
    surviving mutant's diff against the regenerated mutant."""
    qualities = quality_of(out)
    scored = {
        pid: q.mutation_score for pid, (_, q) in qualities.items() if q.mutation_score is not None
    }
    weakest = min(scored.values())
    first = page.locator("#problems tbody tr").first
    pid = first.get_attribute("data-id")
    assert scored[pid] == weakest
    row, q = qualities[pid]
    assert q.surviving_mutants, "the weakest problem of these builds has a survivor"
    first.click()
    mutant = page.locator("#problem details.mutant").first
    mutant.wait_for()
    assert mutant.get_attribute("data-mutant") == q.surviving_mutants[0]
    config = json.loads((out / "manifest.json").read_text())["config"]["quality"]
    found, missing, _ = survivors(
        row["canonical_solution"], q.surviving_mutants, config["max_mutants"],
        f"{config['seed']}:{pid}",
    )  # fmt: skip
    assert missing == []
    program = found[q.surviving_mutants[0]].split("\n")
    bad = mutant.locator("table.diff tr.bad")
    assert bad.count() >= 1
    for i in range(bad.count()):  # each changed line is the mutant's own line
        cells = bad.nth(i).locator("td")
        number, text = cells.nth(2).text_content(), cells.nth(3).text_content()
        assert program[int(number) - 1] == text
    assert "canonical (ast.unparse)" in mutant.locator("thead").text_content()
    return pid


# ---------------------------------------------------------------- the sample build


def test_no_console_error_no_network_histogram_and_rejections(sample_build, page_of):
    out, manifest, _, _ = sample_build
    page = page_of()
    page.locator("#problems tbody tr").first.wait_for()
    check_histogram(page, out, manifest)
    check_rejections(page, out, manifest)
    assert set(manifest.rejected_by_reason) >= {
        "duplicate_problem",
        "contaminated",
        "malformed_row",
    }
    m = manifest.quality["mutation"]["mutants"]
    cells = {
        td.get_attribute("data-kind"): int(td.text_content())
        for td in page.locator("#mutants td").all()
    }
    assert cells == {
        "counted": m["counted"], "killed": m["killed"], "survived": m["survivors"],
        "possibly equivalent": m["equivalent"], "uncounted": m["uncounted"],
    }  # fmt: skip
    # the conservative score ((killed + timed out) / compiled) beside the mean score
    low = manifest.quality["mutation"]["mean_score_min"]
    assert low is not None and f"mean {low}" in page.locator("#score-min").text_content()
    assert manifest.tool_version in page.locator("#facts").text_content()
    assert (
        page.locator("#count").text_content()
        == f"{manifest.counts.kept} of {manifest.counts.kept} problems"
    )
    only_local(page)


def test_weak_problem_shows_a_surviving_mutants_diff(sample_build, page_of):
    out, _, _, _ = sample_build
    page = page_of()
    pid = open_weakest(page, out)
    assert page.locator("#problem pre code.py").count() == 1  # the canonical, coloured
    low = quality_of(out)[pid][1].mutation_score_min
    assert low is not None
    assert f"conservative score {low:.2f}" in page.locator("#problem").text_content()
    only_local(page)  # the problem's details came from a file beside the page


def test_every_survivor_regenerates_from_the_seeded_mutation_code(sample_build):
    out, _, _, _ = sample_build
    config = json.loads((out / "manifest.json").read_text())["config"]["quality"]
    total = 0
    for pid, (row, q) in quality_of(out).items():
        found, missing, _ = survivors(
            row["canonical_solution"], q.surviving_mutants, config["max_mutants"],
            f"{config['seed']}:{pid}",
        )  # fmt: skip
        assert missing == [] and set(found) == set(q.surviving_mutants), pid
        made = mutants(
            row["canonical_solution"], k=config["max_mutants"], seed=f"{config['seed']}:{pid}"
        )
        assert found == {m.id: m.program for m in made if m.id in found}, pid  # the same text
        total += len(found)
    assert total > 0


def test_survivors_builds_exactly_the_mutants_of_the_build():
    """Only the wanted points are built, yet every id maps to the text `mutants` gives it,
    repeated ids (`#k`: nested operators and chained comparisons at one position) included."""
    import appsplus.quality.mutate as mutate_module

    chained = (
        "a = int(input())\nb = a + 1 + 2 + 3\nif 0 < a < b < 9 and not a:\n    print(a * 2 * 3)\n"
        "for i in range(a):\n    if i in (1, 2):\n        break\n    continue\n"
    )
    cases = [
        (chained, 10**6, ""),  # every mutant
        (Path(mutate_module.__file__).read_text(), 24, "0:apps/test/0001"),  # a build's sample
    ]
    for source, k, seed in cases:
        made = mutants(source, k=k, seed=seed)
        found, missing, base = survivors(source, [m.id for m in made], k, seed)
        assert found == {m.id: m.program for m in made} and missing == []
        assert base == ast.unparse(ast.parse(source))
    assert sum("#" in m.id for m in mutants(chained)) >= 3
    assert survivors(source, ["cmp_Lt_LtE@999:0"], 24, "")[1] == ["cmp_Lt_LtE@999:0"]


def test_duplicate_and_contamination_pairs_side_by_side(sample_build, page_of):
    out, _, _, lamps = sample_build
    page = page_of()
    rejections = {r.reason.value: r for r in read_rejections(out)}
    dup = page.locator('.pair[data-kind="duplicate"]')
    assert dup.count() == 1
    assert dup.get_attribute("data-id") == rejections["duplicate_problem"].problem_id
    left, right = dup.locator("pre.statement").all_text_contents()
    assert left == right and "digital root" in left  # an exact duplicate, both read back
    con = page.locator('.pair[data-kind="contaminated"]')
    assert con.get_attribute("data-id") == rejections["contaminated"].problem_id
    left, right = con.locator("pre.statement").all_text_contents()
    assert left == lamps and right == lamps  # the rejected problem and the benchmark item
    assert "bench B/7" in con.text_content()


def test_generated_tests_and_filters(sample_build, page_of):
    out, manifest, _, _ = sample_build
    page = page_of()
    added = manifest.quality["augmentation"]["tests_added"]
    assert added > 0
    assert f"{added} tests added to" in page.locator("#augmentation").text_content()
    qualities = quality_of(out)
    with_survivors = sum(bool(q.surviving_mutants) for _, q in qualities.values())
    page.select_option("#f-flag", "survivors")
    assert (
        page.locator("#count").text_content()
        == f"{with_survivors} of {manifest.counts.kept} problems"
    )
    page.select_option("#f-flag", "")
    link = page.locator("#augmented a").first
    pid = link.text_content()
    link.click()
    rows = page.locator("#problem table.tests tbody tr")
    rows.first.wait_for()
    row, q = qualities[pid]
    tests = json.loads(row["tests"])
    assert rows.count() == len(q.generated_tests)
    for i, g in enumerate(q.generated_tests):
        cells = rows.nth(i).locator("td")
        assert int(cells.nth(0).text_content()) == g.test_index
        shown = cells.nth(2).text_content()
        t = tests[g.test_index]
        assert shown == (t["input"] if t["kind"] == "stdio" else json.dumps(t["args"]))
    only_local(page)


def test_refuses_a_page_it_did_not_write(sample_build, tmp_path):
    out = sample_build[0]
    theirs = tmp_path / "notes.html"
    theirs.write_text("<p>mine</p>")
    result = CliRunner().invoke(cli, ["quality", str(out), "--html", str(theirs)])
    assert result.exit_code == 1 and "not written by `appsplus quality --html`" in result.output
    assert theirs.read_text() == "<p>mine</p>" and not files_dir(theirs).exists()
    write_page(out, theirs, "--overwrite")
    assert 'content="appsplus-quality"' in theirs.read_text()
    write_page(out, theirs)  # its own page: replaced without --overwrite
    (files_dir(theirs) / "keep.txt").write_text("x")
    result = CliRunner().invoke(cli, ["quality", str(out), "--html", str(theirs)])
    assert result.exit_code == 1 and "keep.txt" in result.output
    inside = CliRunner().invoke(cli, ["quality", str(out), "--html", str(out / "q.html")])
    assert inside.exit_code == 1 and not (out / "q.html").exists()
    assert CliRunner().invoke(cli, ["quality", str(out), "--overwrite"]).exit_code == 2


def test_default_page_beside_the_dataset(sample_build):
    out = sample_build[0]
    before = output_hashes(out)
    result = CliRunner().invoke(cli, ["quality", str(out), "--html"])
    assert result.exit_code == 0, result.output
    page = out.with_name(out.name + ".quality.html")
    assert page.is_file() and files_dir(page).is_dir()
    assert output_hashes(out) == before  # nothing written into the build folder
    # the flag first: --html takes an optional value, and a folder is the dataset, not the page
    mtime = page.stat().st_mtime_ns
    first = CliRunner().invoke(cli, ["quality", "--html", str(out)])
    assert first.exit_code == 0, first.output
    assert page.stat().st_mtime_ns > mtime and output_hashes(out) == before
    missing = CliRunner().invoke(cli, ["quality", "--html"])
    assert missing.exit_code == 2 and "Missing argument 'DATASET'" in missing.output


# ---------------------------------------------------------------- real APPS+ problems


def test_real_apps_plus_problems(shared_data, browser, tmp_path):
    items = json.loads((shared_data / "apps-plus" / "stepcoder_apps_plus_sample.json").read_text())
    subset = tmp_path / "subset.json"
    subset.write_text(json.dumps(items[:5]))  # item 4's tests leave mutants alive
    config = BuildConfig(
        source=f"stepcoder:{subset}",
        verify=VerifyConfig(limits=Limits(time_s=2.0)),
        quality=QualityConfig(augment_tests=1, **FAST),
    )
    out = tmp_path / "out"
    manifest = build(config, out, workers=2).manifest
    page_path = tmp_path / "quality.html"
    write_page(out, page_path)
    page = browser(page_path)
    page.locator("#problems tbody tr").first.wait_for()
    check_histogram(page, out, manifest)
    check_rejections(page, out, manifest)
    open_weakest(page, out)
    only_local(page)
