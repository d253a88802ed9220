"""`appsplus build` on real data from ../shared/data (skipped cleanly when it is absent)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from appsplus.curate.pipeline import BuildConfig, build, read_rejections
from appsplus.execution import values_match
from appsplus.quality.models import QualityConfig
from appsplus.record import Record
from appsplus.schema import RejectReason

STEPCODER = "apps-plus/stepcoder_apps_plus_sample.json"
# verification only: the quality steps on real data are tested in tests/quality
VERIFY_ONLY = QualityConfig(dedupe=False, mutation=False, nondeterminism=False)


def records(out) -> dict[str, Record]:
    import pyarrow.parquet as pq

    rows = [
        row for s in ("train", "test") for row in pq.read_table(out / f"{s}.parquet").to_pylist()
    ]
    return {r.problem_id: r for r in map(Record.from_row, rows)}


def test_raw_apps_train_folders_all_kept(shared_data, tmp_path):
    report = build(
        BuildConfig(source=str(shared_data / "apps" / "raw" / "train"), quality=VERIFY_ONLY),
        tmp_path,
        workers=2,
    )
    c = report.manifest.counts
    assert (c.read, c.kept, c.rejected) == (5, 5, 0)
    kept = records(tmp_path)
    assert sorted(kept) == [f"apps/train/{i:04d}" for i in (1, 111, 2287, 2404, 4184)]
    # every one of the 101 solutions passes (as in test_execution_real_apps), including
    # 2287's, some of which need the APPS function wrapper for their top-level `return`
    assert [len(r.solutions) for r in kept.values()] == [
        r.provenance.n_source_solutions for r in kept.values()
    ]
    assert sum(len(r.solutions) for r in kept.values()) == 101
    assert kept["apps/train/2404"].provenance.call_outputs == "bare"  # outputs: [9]
    assert len(kept["apps/train/2404"].solutions) == 58  # `List` without an import passes
    quirk = kept["apps/train/4184"]  # outputs [[False], [True], ...]: one-element lists
    assert quirk.provenance.call_outputs == "unwrapped"
    assert [t.expected for t in quirk.tests[:3]] == [False, True, True]


def test_apps_rows_accounting(shared_data, tmp_path):
    path = shared_data / "apps" / "apps_rows.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    without = {
        f"apps/{r['split']}/{r['problem_id']:04d}" for r in rows if not r["solutions"].strip("[] ")
    }
    report = build(BuildConfig(source=str(path), quality=VERIFY_ONLY), tmp_path, workers=2)
    c = report.manifest.counts
    assert c.read == len(rows) == 306 and c.kept + c.rejected == c.read
    rejections = read_rejections(tmp_path)
    no_solutions = {r.problem_id for r in rejections if r.reason is RejectReason.NO_SOLUTIONS}
    assert no_solutions == without and len(without) == 243
    # the three rows that accept any valid answer: the stored answer is one of several
    failing = {r.problem_id for r in rejections if r.reason is RejectReason.NO_PASSING_SOLUTION}
    assert failing == {"apps/test/0381", "apps/test/4411", "apps/train/2153"}
    assert len(rejections) == c.rejected == 246 and c.kept == 60
    assert Counter(r.stage for r in rejections) == {"filter": 243, "verify": 3}


@pytest.mark.slow
def test_stepcoder_sample_verifies(shared_data, tmp_path):
    """All 300 items verify (288 and 298 return bools where the tests store 0/1)."""
    path = shared_data / STEPCODER
    report = build(
        BuildConfig(source=f"stepcoder:{path}", quality=VERIFY_ONLY), tmp_path, workers=2
    )
    c = report.manifest.counts
    assert (c.read, c.kept, c.rejected) == (300, 300, 0)
    items = json.loads(path.read_text())
    # 288 returns False for an empty hive, 298 returns any(...), where the tests store 0/1:
    # accepted because booleans are integers, as in Python and the APPS harness.
    assert items[288]["outputs"][0] == [0] and items[298]["outputs"] == [[1], [0], [0]]
    assert values_match(False, 0) and values_match(True, 1)
    kept = records(tmp_path)
    # 267 verifies, but only because its expected output was computed from quoted strings
    # ('"../"' is not '../'): a real data problem that execution alone cannot see.
    assert kept["stepcoder/train/0267"].tests[0].args[0][2] == '"../"'
    assert kept["stepcoder/train/0267"].tests[0].expected == 5
