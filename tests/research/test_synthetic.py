"""The synthetic problem family: deterministic, split by unseen combinations, and every
generated problem passes the build's verification (a real build through the real sandbox)."""

from __future__ import annotations

import pytest

from appsplus.curate.pipeline import BuildConfig, build
from appsplus.curriculum.subtasks import stage_offsets
from appsplus.sources import SourceError, open_source
from appsplus.sources.synthetic import TIERS, SyntheticSpec, generate, tiers_by_problem_id


def test_same_spec_same_problems_and_revision():
    spec = SyntheticSpec(seed=3, train_per_tier=5, test_per_tier=2)
    assert generate(spec) == generate(spec)
    a, b = open_source("synthetic:3:5:2"), open_source("synthetic:3:5:2")
    assert a.revision == b.revision
    assert [r.raw for r in a.iter_rows()] == [r.raw for r in b.iter_rows()]
    other = open_source("synthetic:4:5:2")
    assert other.revision != a.revision
    assert [p.question for p in generate(SyntheticSpec(4, 5, 2))] != [
        p.question for p in generate(spec)
    ]


def test_splits_tiers_and_unseen_combinations():
    problems = generate(SyntheticSpec(seed=0, train_per_tier=12, test_per_tier=6))
    train = [p for p in problems if p.split == "train"]
    test = [p for p in problems if p.split == "test"]
    assert len(train) == 12 * len(TIERS) and len(test) == 6 * len(TIERS)
    for split in (train, test):
        assert {p.tier for p in split} == set(TIERS)
        assert {p.kind for p in split} == {"stdio", "call"}
    # held-out problems compose operations no training problem composes
    assert not {p.ops for p in train} & {p.ops for p in test}
    assert {op for p in test for op in p.ops} <= {op for p in train for op in p.ops}
    # longer tiers: longer programs and more curriculum stages (prefixes to start from)
    lines = {t: max(p.lines for p in train if p.tier == t) for t in TIERS}
    assert lines[1] < lines[2] < lines[3] < lines[4]
    stages = {t: min(len(stage_offsets(p.solution)) for p in train if p.tier == t) for t in TIERS}
    assert stages[1] < stages[4]
    # varied wording: the same kind and tier is phrased in more than one way
    assert len({p.question.split("\n")[1].split(",")[0].split(" x")[0] for p in train}) > 1
    assert len(tiers_by_problem_id(SyntheticSpec(0, 12, 6))) == len(problems)


@pytest.mark.parametrize("spec", ["0:x", "1:2:3:4", "-1", "0:0:0"])
def test_bad_spec_is_a_source_error(spec):
    with pytest.raises(SourceError, match="synthetic"):
        open_source(f"synthetic:{spec}")


def test_every_generated_problem_passes_the_build(tmp_path):
    spec = SyntheticSpec(seed=7, train_per_tier=4, test_per_tier=2)
    report = build(
        BuildConfig(source="synthetic:7:4:2", name="synthetic-test"),
        tmp_path / "out",
        workers=2,
        manifest_dir=tmp_path / "manifests",
    )
    counts = report.manifest.counts
    assert counts.read == counts.kept == len(generate(spec))
    assert counts.rejected == 0
    import appsplus

    dataset = appsplus.load(tmp_path / "out")
    tiers = tiers_by_problem_id(spec)
    built = {row["problem_id"] for split in dataset.values() for row in split}
    assert built == set(tiers)
    by_id = {row["problem_id"]: row for split in dataset.values() for row in split}
    for p in generate(spec):
        row = by_id[f"apps/{p.split}/{p.problem_id:04d}"]
        assert row["canonical_solution"] == p.solution
        assert row["kind"] == p.kind
