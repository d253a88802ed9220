"""`appsplus build` end to end on the embedded sample: outcomes, accounting, loading,
determinism, resume after SIGKILL, atomic writes, repairs, the CLI, garbage accounting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import appsplus
from appsplus.cli.app import main as cli
from appsplus.curate.cache import count_entries
from appsplus.curate.manifest import read_manifest, write_atomic
from appsplus.curate.pipeline import BuildConfig, build, output_hashes, read_rejections
from appsplus.curate.verify import VerifyConfig
from appsplus.dataset import RowError, read_runtimes, validate_file
from appsplus.execution import Limits, SandboxError, WorkerPool
from appsplus.record import Record
from appsplus.schema import RejectReason
from appsplus.sources import SourceError
from appsplus.sources.sample import sample_bytes

SAMPLE_CONFIG = BuildConfig(source="sample", verify=VerifyConfig(limits=Limits(time_s=2.0)))
EXPECTED = json.loads(
    resources.files("appsplus").joinpath("data", "sample", "expected.json").read_text()
)
SAMPLE_LINES = sample_bytes().splitlines()
DISPUTED_LINE = next(
    r["line"] for r in EXPECTED["rows"] if r["outcome"] == "disputed_expected_output"
)


def records(out: Path) -> dict[str, Record]:
    import pyarrow.parquet as pq

    found = {}
    for split in ("train", "test"):
        for row in pq.read_table(out / f"{split}.parquet").to_pylist():
            record = Record.from_row(row)
            found[record.problem_id] = record
    return found


@pytest.fixture(scope="module")
def sample_build(tmp_path_factory):
    """The sample built once with 2 workers, manifest copied to a data_manifests folder."""
    root = tmp_path_factory.mktemp("sample")
    report = build(SAMPLE_CONFIG, root / "out", workers=2, manifest_dir=root / "data_manifests")
    return report


# ---------------------------------------------------------------- outcomes and accounting


def test_every_sample_line_has_its_expected_outcome(sample_build):
    out = sample_build.out
    kept = records(out)
    rejected = {r.locator: r for r in read_rejections(out)}
    for row in EXPECTED["rows"]:
        locator = f"apps_sample.jsonl:{row['line']}"
        if row["outcome"] == "kept":
            record = kept[f"apps/{row['split']}/{row['problem_id']:04d}"]
            assert record.canonical_index == row["canonical_index"], locator
            assert record.solution_indices == row["passing_solutions"], locator
            assert record.kind == row["kind"] and len(record.tests) == row["n_tests"], locator
            assert record.provenance.locator == locator
            assert record.canonical_solution == record.solutions[0] or row["canonical_index"] > 0
            assert locator not in rejected
        else:
            assert rejected[locator].reason.value == row["outcome"], locator
    assert len(kept) + len(rejected) == len(EXPECTED["rows"])


def test_accounting_and_manifest(sample_build):
    manifest = sample_build.manifest
    c = manifest.counts
    assert (c.read, c.kept, c.rejected) == (43, 27, 16) and c.kept + c.rejected == c.read
    summary = {k: v for k, v in EXPECTED["summary"].items() if k != "kept"}
    assert manifest.rejected_by_reason == summary
    assert sum(manifest.kept_by_split_difficulty["train"].values()) == 14
    assert manifest.files["rejections.jsonl"].rows == 16
    assert manifest.files["train.parquet"].rows + manifest.files["test.parquet"].rows == 27
    assert manifest.executor_version and manifest.comparator_version
    assert manifest.limits["time_s"] == 2.0 and manifest.config["source"] == "sample"
    assert (
        manifest.totals["call_outputs_unwrapped"] == 9 and manifest.totals["call_outputs_bare"] == 1
    )
    out = sample_build.out
    assert read_manifest(out) == manifest
    assert sample_build.manifest_copy.read_bytes() == (out / "manifest.json").read_bytes()
    assert sample_build.manifest_copy.name == "apps-plus-sample.json"
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense: mit\n") and "path: train.parquet" in card
    assert "task_categories:" in card and "| train | 3 | 8 | 3 | 14 |" in card


def test_records_carry_spans_and_hashes_and_runtimes_apart(sample_build):
    kept = records(sample_build.out)
    for record in kept.values():
        assert record.reference_runtimes_s is None and record.time_limit_s is None
        assert len(record.content_hash) == 64
    runtimes = read_runtimes(sample_build.out)
    assert sorted(runtimes) == sorted(kept)
    for pid, measured in runtimes.items():
        assert measured.content_hash == kept[pid].content_hash
        assert len(measured.reference_runtimes_s) == len(kept[pid].tests)
        assert measured.time_limit_s >= 1.0
    assert "runtimes.parquet" in sample_build.manifest.measurements
    assert "runtimes.parquet" not in sample_build.manifest.files
    assert any(r.spans for r in kept.values())
    assert len({r.content_hash for r in kept.values()}) == len(kept)
    call = kept["apps/train/1974"]
    assert call.provenance.call_outputs == "unwrapped"
    assert all(not t.apps_list_quirk and not isinstance(t.expected, list) for t in call.tests)


def test_loadable_with_datasets_and_appsplus(sample_build, tmp_path):
    import datasets

    out = sample_build.out
    files = {s: str(out / f"{s}.parquet") for s in ("train", "test")}
    raw = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "hf"))
    assert (raw["train"].num_rows, raw["test"].num_rows) == (14, 13)
    ds = appsplus.load(out, cache_dir=str(tmp_path / "hf2"))
    assert isinstance(ds, datasets.DatasetDict) and ds["test"].num_rows == 13
    record = Record.from_row(ds["train"][0])
    assert record.split == "train" and record.tests
    assert len(record.reference_runtimes_s) == len(record.tests) and record.time_limit_s >= 1.0


def test_load_and_validate_report_bad_rows(sample_build, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "bad"
    out.mkdir()
    rows = pq.read_table(sample_build.out / "train.parquet").to_pylist()
    rows[1]["question"] = "changed"  # content_hash no longer matches
    rows[3]["tests"] = "[]"
    import pyarrow as pa

    from appsplus.curate.pipeline import record_schema

    pq.write_table(pa.Table.from_pylist(rows, schema=record_schema()), out / "train.parquet")
    with pytest.raises(RowError) as info:
        appsplus.load(out, cache_dir=str(tmp_path / "hf"))
    assert [n for n, _ in info.value.errors] == [2, 4]
    assert "content_hash" in str(info.value)
    n, errors = validate_file(out / "train.parquet")
    assert n == 14 and [e[0] for e in errors] == [2, 4]
    result = CliRunner().invoke(cli, ["validate", str(out / "train.parquet")])
    assert result.exit_code == 1 and "row 2" in result.output and "row 4" in result.output
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text(json.dumps(rows[0]) + "\n{oops\n" + json.dumps({"problem_id": 1}) + "\n")
    result = CliRunner().invoke(cli, ["validate", str(jsonl), "--json"])
    payload = json.loads(result.output)
    assert result.exit_code == 1 and payload["rows"] == 3 and payload["invalid"] == 2
    good = CliRunner().invoke(cli, ["validate", str(sample_build.out / "test.parquet")])
    assert good.exit_code == 0, good.output


def test_stats_command(sample_build):
    result = CliRunner().invoke(cli, ["stats", str(sample_build.out)])
    assert result.exit_code == 0 and "disputed_expected_output" in result.output
    payload = json.loads(CliRunner().invoke(cli, ["stats", str(sample_build.out), "--json"]).output)
    assert payload["counts"] == {"read": 43, "kept": 27, "rejected": 16, "balanced": True}


# ---------------------------------------------------------------- determinism and resume


def test_same_input_same_bytes_serial_and_parallel(sample_build, tmp_path):
    serial = build(SAMPLE_CONFIG, tmp_path / "serial", workers=1)
    small_batches = build(SAMPLE_CONFIG, tmp_path / "batches", workers=2, batch_problems=3)
    expected = output_hashes(sample_build.out)
    assert set(expected) == {
        "README.md",
        "manifest.json",
        "rejections.jsonl",
        "test.parquet",
        "train.parquet",
    }
    assert output_hashes(serial.out) == expected
    assert output_hashes(small_batches.out) == expected
    assert serial.executed_jobs > 0 and serial.cache_hits == 0
    assert {n: f.sha256 for n, f in sample_build.manifest.files.items()} == {
        n: h for n, h in expected.items() if n != "manifest.json"
    }


def test_resume_after_sigkill(sample_build, tmp_path):
    out = tmp_path / "killed"
    cache = out / ".cache" / "verify.sqlite"
    cmd = [
        sys.executable,
        "-m",
        "appsplus.cli.app",
        "build",
        "--source",
        "sample",
        "--out",
        str(out),
    ]
    cmd += ["--workers", "1", "--time-limit", "2", "--batch-size", "4"]
    stderr = tmp_path / "stderr.txt"  # a file, not a pipe: nobody reads it while it runs
    with stderr.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 60
    while count_entries(cache) < 10 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL, (
        f"the build ended (status {proc.returncode}) before it could be killed; its stderr:\n"
        + stderr.read_text(errors="replace")[-3000:]
    )
    done_before = count_entries(cache)
    total = sample_build.executed_jobs + sample_build.cache_hits  # verification + quality jobs
    assert 10 <= done_before < total, done_before
    assert not any((out / name).exists() for name in ("manifest.json", "train.parquet"))
    assert not [p for p in out.iterdir() if not p.name.startswith(".")]  # nothing half-written

    resumed = build(SAMPLE_CONFIG, out, workers=2)
    counts = (done_before, resumed.cache_hits, resumed.executed_jobs)
    assert resumed.cache_hits >= done_before, counts
    assert resumed.executed_jobs + resumed.cache_hits == total, counts  # nothing executed twice
    assert read_rejections(out) == read_rejections(sample_build.out)
    assert records(out) == records(sample_build.out)
    assert output_hashes(out) == output_hashes(sample_build.out)


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def half(f):
        f.write(b"new, but not")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomic(target, half)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
    write_atomic(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new" and len(list(tmp_path.iterdir())) == 1


def test_sandbox_failure_aborts_the_build(tmp_path):
    row = json.loads(SAMPLE_LINES[0])
    row["solutions"] = json.dumps(
        ["import time\ntime.sleep(3)\n" + json.loads(row["solutions"])[0]]
    )
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps(row) + "\n")
    config = BuildConfig(source=str(source), verify=VerifyConfig(limits=Limits(time_s=5.0)))
    outcome: dict[str, object] = {}
    with WorkerPool(1) as pool:

        def target() -> None:
            try:
                build(config, tmp_path / "out", pool=pool)
            except BaseException as e:
                outcome["error"] = e

        thread = threading.Thread(target=target)
        thread.start()
        deadline = time.monotonic() + 20
        while not pool._all and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        for worker in list(pool._all):
            os.killpg(worker.proc.pid, signal.SIGKILL)
        thread.join(30)
    assert isinstance(outcome.get("error"), SandboxError)
    assert not (tmp_path / "out" / "manifest.json").exists()
    assert not (tmp_path / "out" / "rejections.jsonl").exists()


# ---------------------------------------------------------------- repair and the CLI


@pytest.fixture
def disputed_source(tmp_path) -> Path:
    path = tmp_path / "disputed.jsonl"
    path.write_bytes(SAMPLE_LINES[DISPUTED_LINE - 1] + b"\n" + SAMPLE_LINES[0] + b"\n")
    return path


def test_repair_outputs_on_the_disputed_row(disputed_source, tmp_path):
    expected = EXPECTED["rows"][DISPUTED_LINE - 1]
    config = BuildConfig(
        source=str(disputed_source),
        verify=VerifyConfig(limits=Limits(time_s=2.0), repair_outputs=True),
    )
    report = build(config, tmp_path / "out", workers=2)
    assert report.manifest.counts.kept == 2 and report.manifest.totals["corrections"] == 1
    record = records(tmp_path / "out")["apps/test/2912"]
    t = expected["disputed_test_index"]
    assert record.tests[t].output == expected["consensus_output"]
    (correction,) = record.provenance.corrections
    assert correction.test_index == t and correction.stored == "210\n"
    assert correction.replaced_with == expected["consensus_output"]
    assert correction.agreeing_solutions == [0, 1, 2] == record.solution_indices


def test_cli_build_json_and_rejection(disputed_source, tmp_path):
    out = tmp_path / "cli-out"
    args = ["build", "--source", str(disputed_source), "--out", str(out), "--workers", "2"]
    args += ["--time-limit", "2", "--publish-manifest", str(tmp_path / "m"), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output[result.output.index("{") :])
    assert manifest["counts"] == {"read": 2, "kept": 1, "rejected": 1, "balanced": True}
    assert manifest["rejected_by_reason"] == {"disputed_expected_output": 1}
    assert (tmp_path / "m" / "apps-plus-disputed.json").is_file()
    (rejection,) = read_rejections(out)
    assert rejection.reason is RejectReason.DISPUTED_EXPECTED_OUTPUT and rejection.stage == "verify"
    missing = CliRunner().invoke(
        cli, ["build", "--source", str(tmp_path / "nope"), "--out", str(out)]
    )
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_import_appsplus_stays_light():
    code = "import appsplus, sys; assert callable(appsplus.load); print(sorted(m for m in ('datasets', 'torch', 'appsplus.dataset', 'pyarrow') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr


@pytest.mark.parametrize(
    "env, message",
    [
        ({"HF_HUB_OFFLINE": "1"}, "offline"),
        ({"HF_HUB_OFFLINE": "0"}, "not logged in"),
    ],
)
def test_push_fails_clearly_offline(sample_build, tmp_path, env, message):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    clean.update(env, HF_HOME=str(tmp_path / "hf-home"))
    cmd = [
        sys.executable,
        "-m",
        "appsplus.cli.app",
        "push",
        str(sample_build.out),
        "--repo-id",
        "me/x",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=clean, timeout=120)
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr


# ---------------------------------------------------------------- garbage in, accounting out


def good_row(pid: int, k: int, wrong: bool) -> bytes:
    inputs = [f"{n}\n" for n in range(3)]
    outputs = [f"{n + k + (wrong and n == 1)}\n" for n in range(3)]
    row = {
        "problem_id": pid,
        "split": "train" if pid % 2 else "test",
        "difficulty": "interview",
        "question": "Add k.",
        "solutions": json.dumps([f"print(int(input()) + {k})\n"]),
        "input_output": json.dumps({"inputs": inputs, "outputs": outputs}),
    }
    return json.dumps(row).encode()


garbage_line = st.one_of(
    st.binary(max_size=60).filter(lambda b: b"\n" not in b),
    st.lists(st.integers(), max_size=3).map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(["problem_id", "question", "solutions", "input_output", "split"]),
        st.one_of(st.none(), st.integers(-3, 3), st.text(max_size=8)),
        max_size=5,
    ).map(lambda d: json.dumps(d).encode()),
    st.builds(good_row, st.integers(0, 40), st.integers(0, 9), st.booleans()),
)


def _in_apps_row_format(line: bytes) -> bool:
    try:
        row = json.loads(line)
    except ValueError:
        return False
    return isinstance(row, dict) and bool({"question", "solutions", "input_output"} & set(row))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=st.lists(garbage_line, min_size=1, max_size=12))
def test_build_accounts_for_garbage_rows(pool, lines):
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "rows.jsonl"
        source.write_bytes(b"\n".join(lines) + b"\n")
        read = sum(1 for line in lines if line.strip())
        config = BuildConfig(source=str(source), verify=VerifyConfig(limits=Limits(time_s=2.0)))
        if not any(map(_in_apps_row_format, lines)):  # not a source: an error, nothing written
            with pytest.raises(SourceError, match="codeparrot/apps row format"):
                build(config, Path(tmp) / "out", pool=pool)
            assert not (Path(tmp) / "out").exists()
            return
        report = build(config, Path(tmp) / "out", pool=pool)
        c = report.manifest.counts
        assert c.read == read and c.kept + c.rejected == c.read
        rejections = read_rejections(report.out)
        assert len(rejections) == c.rejected
        assert Counter(r.reason.value for r in rejections) == report.manifest.rejected_by_reason
        assert len(records(report.out)) == c.kept


def test_load_keeps_an_empty_split(tmp_path):
    """A source with train rows only still loads, with an empty test split."""
    import json

    import appsplus
    from appsplus.sources.sample import sample_bytes

    rows = []
    for line in sample_bytes().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and row.get("split") == "train":
            rows.append(line.decode())
    src = tmp_path / "train.jsonl"
    src.write_text("\n".join(rows[:4]) + "\n")
    out = tmp_path / "out"
    build(BuildConfig(source=str(src)), out, workers=1, manifest_dir=None)
    ds = appsplus.load(out)
    assert ds["test"].num_rows == 0 and ds["train"].num_rows > 0
