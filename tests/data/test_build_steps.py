"""The build as a list of steps (`appsplus.curate.steps`), its live progress, the build and
stats output, and `--test-fraction` (a test split for sources without one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from fnmatch import fnmatch
from pathlib import Path

import pytest
from click.testing import CliRunner

from appsplus.cli.app import main as cli
from appsplus.curate import steps
from appsplus.curate.pipeline import BuildConfig, build, build_steps, output_hashes
from appsplus.curate.verify import VerifyConfig
from appsplus.execution import Limits
from appsplus.quality.models import QualityConfig
from appsplus.schema import Problem, Rejection, RejectReason
from appsplus.sources import SourceError, open_source

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DATA = Path(os.environ.get("APPSPLUS_DATA_DIR", DATA))
STEPCODER = DATA / "apps-plus" / "stepcoder_apps_plus_sample.json"
needs_stepcoder = pytest.mark.skipif(
    not STEPCODER.is_file(), reason=f"real data absent: {STEPCODER} (see shared/data/README.md)"
)
FAST = QualityConfig(mutation=False, nondeterminism=False, dedupe=False)


class Recorder:
    """A progress callback that keeps every event, and samples the longest-running job."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.longest = None
        self.labels: list[str] = []
        self._lock = threading.Lock()

    def track(self, longest) -> None:
        self.longest = longest

    def __call__(self, event: str, n: int) -> None:
        with self._lock:
            self.events.append((event, n))
            if event == "jobs_done" and self.longest is not None:
                found = self.longest()
                if found is not None:
                    self.labels.append(found[0])

    def total(self, event: str) -> int:
        return sum(n for e, n in self.events if e == event)


# ---------------------------------------------------------------- the steps


def _step_classes() -> list[type[steps.Step]]:
    found, todo = [], [steps.Step]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_every_reject_reason_is_declared_by_a_step():
    declared = {r for cls in _step_classes() for r in cls.reject_reasons}
    assert declared == set(RejectReason)
    for cls in _step_classes():
        assert not cls.reject_reasons or cls.stage, f"{cls.__name__} rejects without a stage"


def test_the_pipeline_reads_top_to_bottom(tmp_path):
    benchmark = tmp_path / "bench.txt"  # a benchmark file: one statement a line
    benchmark.write_text("Given a list of integers, return the sum of the even ones.\n")
    config = BuildConfig(
        source="sample",
        quality=QualityConfig(min_tests=2, decontaminate=[str(benchmark)]),
    )
    sink = steps.Write({}, None, None, lambda r: {})  # type: ignore[arg-type]
    pipeline = build_steps(config, open_source("sample"), runner=None, sink=sink)  # type: ignore[arg-type]
    names = [s.name for s in pipeline]
    assert names == [
        "read",
        "normalize",
        "note_test_split",  # test-split problems keep their duplicates out of train
        "has_tests",
        "has_solutions",
        "unique_ids",
        "min_tests",
        "decontaminate",
        "batched",
        "record",
        "dedupe",
        "write",
    ]
    assert [s.name for s in pipeline[8].steps] == ["verify", "assess"]


def test_a_step_cannot_emit_a_reason_it_does_not_declare():
    class NoLongStatements(steps.ProblemFilter):
        name = "short_statements"
        reject_reasons = (RejectReason.INVALID_FIELD,)

        def check(self, problem: Problem):
            if len(problem.question) > 300:
                return RejectReason.NO_TESTS, "a reason it did not declare"
            return None

    pipeline = [steps.Read(open_source("sample")), steps.Normalize(), NoLongStatements()]
    with pytest.raises(AssertionError, match="short_statements emitted no_tests"):
        list(steps.run_steps(pipeline))


def test_a_new_filter_is_one_class_and_its_stats_count_what_it_did():
    class LongStatements(steps.ProblemFilter):
        name = "long_statements"
        reject_reasons = (RejectReason.INVALID_FIELD,)

        def check(self, problem: Problem):
            if len(problem.question) > 600:
                return RejectReason.INVALID_FIELD, f"{len(problem.question)} characters"
            return None

    events: list[tuple[str, int]] = []
    new = LongStatements()
    pipeline = [steps.Read(open_source("sample")), steps.Normalize(), steps.HasTests(), new]
    out = list(steps.run_steps(pipeline, lambda e, n: events.append((e, n))))
    rejected = [x for x in out if isinstance(x, Rejection)]
    problems = [x for x in out if isinstance(x, Problem)]
    assert len(out) == 43 == pipeline[0].stats.counters["rows"]  # one item per row, in order
    long = [r for r in rejected if r.reason is RejectReason.INVALID_FIELD and r.stage == "filter"]
    assert long and all(r.detail.endswith("characters") for r in long)
    assert new.stats.rejected == {"invalid_field": len(long)}
    assert new.stats.seen == new.stats.passed + len(long) == pipeline[2].stats.passed
    assert all(len(p.question) <= 600 for p in problems)
    reasons, stages = steps.rejected_by(pipeline)
    assert sum(reasons.values()) == len(rejected) == sum(n for e, n in events if e == "rejected")
    assert stages["filter"] == sum(r.stage == "filter" for r in rejected)


# ---------------------------------------------------------------- a build: counts and progress


@pytest.fixture(scope="module")
def recorded_build(tmp_path_factory):
    recorder = Recorder()
    config = BuildConfig(source="sample", verify=VerifyConfig(limits=Limits(time_s=2.0)))
    out = tmp_path_factory.mktemp("steps") / "out"
    report = build(config, out, workers=2, batch_problems=8, progress=recorder)
    return report, recorder


def test_the_manifest_counts_are_the_steps_stats(recorded_build):
    report, _ = recorded_build
    manifest, stats = report.manifest, report.steps
    assert stats["read"]["counters"]["rows"] == manifest.counts.read == 43
    assert stats["write"]["passed"] == manifest.counts.kept == 27
    by_reason: dict[str, int] = {}
    for step in stats.values():
        for reason, n in step["rejected"].items():
            by_reason[reason] = by_reason.get(reason, 0) + n
    assert by_reason == manifest.rejected_by_reason
    assert sum(by_reason.values()) == manifest.counts.rejected == 16
    assert stats["verify"]["seen"] == stats["verify"]["passed"] + sum(
        stats["verify"]["rejected"].values()
    )
    assert stats["assess"]["seen"] == stats["verify"]["passed"] == stats["record"]["passed"]
    assert stats["write"]["counters"] == manifest.totals
    declared = {cls.name: cls.counters for cls in _step_classes()}
    for name, stat in stats.items():  # every counter a step keeps is one it declares
        for counter in stat["counters"]:
            assert any(fnmatch(counter, pattern) for pattern in declared[name]), (name, counter)


def test_progress_is_live_with_a_final_total_and_the_longest_running_problem(recorded_build):
    report, recorder = recorded_build
    events = [e for e, _ in recorder.events]
    # rows rejected before verification count at once, before the first verified problem
    first_kept = events.index("kept")
    assert "rejected" in events[:first_kept]
    assert events.index("rejected") < events.index("jobs_done")  # not when its batch ends
    assert dict(e for e in recorder.events if e[0] == "read_done") == {"read_done": 43}
    assert recorder.total("read") == 43
    assert recorder.total("kept") == report.manifest.counts.kept
    assert recorder.total("rejected") == report.manifest.counts.rejected
    assert recorder.total("problems_queued") == report.steps["verify"]["seen"]
    assert recorder.total("jobs_done") == recorder.total("jobs_queued") > 0
    assert recorder.labels, "longest() never named a running job"
    known = [label for label in recorder.labels if label != "?"]
    assert len(known) >= 0.9 * len(recorder.labels), recorder.labels
    assert all(label.startswith(("apps/train/", "apps/test/")) for label in known), known


def test_build_progress_lines_name_the_stage_totals(tmp_path):
    # 0: a line at every update (a fast build can end before a 0.2 s ticker fires twice)
    env = {**os.environ, "APPSPLUS_PROGRESS_INTERVAL_S": "0"}
    cmd = [sys.executable, "-m", "appsplus.cli.app", "build", "--source", "sample", "--out", "o"]
    proc = subprocess.run(
        [*cmd, "--workers", "2", "--limit", "12", "--no-mutation"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("build: ")]
    assert len(lines) >= 2, proc.stderr
    decided = [line for line in lines if "rows decided" in line and "12 read (all)" in line]
    assert decided and decided[-1].split("rows decided: ")[1].startswith("12/12"), lines
    assert lines[-1].split("rows decided: ")[1].startswith("12/12"), lines  # the end's line
    assert any(" rejected; jobs " in line for line in lines)
    # stdout: one summary line, then the rejections (the sample's first 12 rows have some)
    out = proc.stdout.splitlines()
    assert out[0].startswith("apps-plus-sample: ") and "of 12 rows read (train " in out[0]
    assert "rejected rows by reason" in proc.stdout and "introductory" not in proc.stdout


# ---------------------------------------------------------------- build and stats output


@needs_stepcoder
def test_a_build_without_rejections_prints_no_empty_table_and_stats_prints_the_tables(tmp_path):
    out = tmp_path / "sc"
    args = ["build", "--source", f"stepcoder:{STEPCODER}", "--out", str(out), "--limit", "2"]
    result = CliRunner().invoke(cli, [*args, "--no-mutation", "--no-rerun", "--no-dedupe"])
    assert result.exit_code == 0, result.output
    stdout = result.stdout
    assert (
        stdout.splitlines()[0]
        == "apps-plus-stepcoder: 2 kept of 2 rows read (train 2, test 0), 0 rejected"
    )
    assert "total" not in stdout and "rejected rows by reason" not in stdout
    stats = CliRunner().invoke(cli, ["stats", str(out)])
    assert stats.exit_code == 0, stats.output
    assert "introductory" in stats.stdout and "no rows rejected" in stats.stdout
    assert "rejected rows by reason" not in stats.stdout


# ---------------------------------------------------------------- --test-fraction


def _problem(question: str, n: int) -> Problem:
    return Problem(
        problem_id=f"stepcoder/train/{n:04d}",
        source_id=None,
        split="train",
        difficulty="introductory",
        question=question,
        starter_code="",
        url="",
        kind="stdio",
        fn_name=None,
        tests=[],
        solutions=["print(1)"],
        provenance={},
    )


def test_the_split_is_seeded_by_problem_and_never_straddles():
    questions = [f"Problem number {i}: read n and print n + {i}." for i in range(400)]

    def splits(seed: int, order: list[int]) -> dict[str, str]:
        step = steps.AssignSplit(0.25, seed)
        return {questions[i]: step.process(_problem(questions[i], i)).split for i in order}

    forward = splits(0, list(range(400)))
    assert splits(0, list(reversed(range(400)))) == forward  # independent of the row order
    assert splits(1, list(range(400))) != forward  # the seed decides
    test = sum(s == "test" for s in forward.values())
    assert 60 <= test <= 140, test  # about a quarter of 400
    step = steps.AssignSplit(0.25, 0)
    # the same statement (whitespace aside) in two rows: one split for both
    for i, q in enumerate(questions[:50]):
        a = step.process(_problem(q, i))
        b = step.process(_problem("  " + q.replace(" ", "\n  "), 1000 + i))
        assert a.split == b.split
        assert a.problem_id == f"stepcoder/{a.split}/{i:04d}"
    assert step.stats.counters["train"] + step.stats.counters["test"] == 100


def test_test_fraction_is_refused_for_a_source_with_its_own_split(tmp_path):
    out = tmp_path / "o"
    with pytest.raises(SourceError, match="has its own train/test split"):
        build(BuildConfig(source="sample", test_fraction=0.2), out)
    assert not out.exists()
    result = CliRunner().invoke(
        cli, ["build", "--source", "sample", "--out", str(out), "--test-fraction", "0.2"]
    )
    assert result.exit_code != 0 and not out.exists()
    (line,) = result.output.strip().splitlines()
    assert "--test-fraction is for a source without one" in line
    bad = CliRunner().invoke(cli, ["build", "--out", str(out), "--test-fraction", "1"])
    assert bad.exit_code == 2 and "--test-fraction" in bad.output


@needs_stepcoder
def test_test_fraction_on_stepcoder_is_recorded_and_reproducible(tmp_path):
    config = BuildConfig(
        source=f"stepcoder:{STEPCODER}", limit=12, quality=FAST, test_fraction=0.4, split_seed=3
    )
    first = build(config, tmp_path / "a", workers=2)
    m = first.manifest
    assert m.config["test_fraction"] == 0.4 and m.config["split_seed"] == 3
    made = m.test_split
    assert made["test_fraction"] == 0.4 and made["seed"] == 3
    assert made["problems"]["train"] + made["problems"]["test"] == 12
    assert 0 < made["problems"]["test"] < 12
    kept = {s: sum(by.values()) for s, by in m.kept_by_split_difficulty.items()}
    assert kept["test"] == made["problems"]["test"] and kept["train"] == made["problems"]["train"]
    import pyarrow.parquet as pq

    test_ids = pq.read_table(tmp_path / "a" / "test.parquet").column("problem_id").to_pylist()
    assert test_ids and all(pid.startswith("stepcoder/test/") for pid in test_ids)
    again = build(config, tmp_path / "b", workers=1)
    assert output_hashes(again.out) == output_hashes(first.out)
    stats = CliRunner().invoke(cli, ["stats", str(tmp_path / "a")])
    assert f"--test-fraction 0.4 (seed 3): {made['problems']['test']} of 12" in stats.stdout
    plain = BuildConfig(source=f"stepcoder:{STEPCODER}", limit=12, quality=FAST)
    assert "test_fraction" not in plain.as_json()  # builds without a split: manifests unchanged
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["test_split"] == made


def test_plain_progress_estimates_the_time_left_once_the_total_is_final(capsys):
    from appsplus.cli.output import Progress

    with Progress("build", total=4, interval_s=0, terminal=False) as bar:
        bar.advance(1)  # the total may still grow: no estimate
        bar.update(total=8, final=True)
        bar.advance(1)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("build: 1/4 (") and "left" not in err[0]
    assert err[-2].startswith("build: 2/8 (") and err[-2].endswith(" s left)"), err
