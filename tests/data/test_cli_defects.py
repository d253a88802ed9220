"""Regression tests of issue #11's `appsplus` defects: every bad input ends in a one-line
error with a non-zero exit, and the user's files are byte-identical afterwards."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from appsplus.cli.app import main as cli
from appsplus.curate.cache import count_entries
from appsplus.curate.pipeline import BuildConfig, build
from appsplus.dataset import validate_file
from appsplus.sources.sample import sample_bytes

REPO = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (hidden ones included), by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_cli(*args: str, cwd: Path | None = None):
    """`appsplus ARGS` in-process (click's runner); `cwd` is the working folder."""
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(old)


def error_line(result) -> str:
    """The one `Error: ...` line of a failed command (asserts there is exactly one)."""
    lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return lines[0]


@pytest.fixture(scope="module")
def small_build(tmp_path_factory, pool) -> Path:
    """The first 8 rows of the sample, built (2 train and 4 test problems kept, or so)."""
    out = tmp_path_factory.mktemp("small") / "apps-plus-small"
    build(BuildConfig(source="sample", limit=8), out, pool=pool)
    return out


@pytest.fixture
def dataset(small_build, tmp_path) -> Path:
    """A private copy of the small build, free to damage."""
    return Path(shutil.copytree(small_build, tmp_path / "ds"))


# ---------------------------------------------------------------- 1. --out never clobbers


def test_build_refuses_a_folder_of_user_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "README.md").write_text("my notes\n")
    (out / "manifest.json").write_text('{"my": "manifest"}\n')
    before = snapshot(out)
    result = run_cli("build", "--source", "sample", "--out", str(out), "--limit", "2")
    assert result.exit_code == 1
    line = error_line(result)
    assert "not empty (README.md, manifest.json)" in line and "--overwrite" in line
    assert snapshot(out) == before


def test_build_refuses_another_build_but_resumes_its_own(small_build, tmp_path):
    out = Path(shutil.copytree(small_build, tmp_path / "other"))
    before = snapshot(out)
    result = run_cli("build", "--source", "sample", "--out", str(out), "--limit", "3")
    assert result.exit_code == 1
    assert "holds a build with other options (different limit)" in error_line(result)
    assert snapshot(out) == before
    # the same source and options: a resume, everything from the cache, same bytes
    result = run_cli("build", "--source", "sample", "--out", str(out), "--limit", "8")
    assert result.exit_code == 0, result.output
    assert "0 jobs executed" in result.output
    assert snapshot(out) == before


def test_overwrite_replaces_build_files_and_leaves_other_files_alone(tmp_path):
    out = tmp_path / "mixed"
    out.mkdir()
    (out / "notes.txt").write_text("keep me\n")
    (out / "README.md").write_text("replace me\n")
    result = run_cli(
        "build", "--source", "sample", "--out", str(out), "--limit", "2", "--overwrite"
    )
    assert result.exit_code == 0, result.output
    assert (out / "notes.txt").read_text() == "keep me\n"
    assert (out / "README.md").read_text().startswith("---\nlicense: mit")
    assert (out / "manifest.json").is_file()


def test_curriculum_export_refuses_a_folder_of_user_files(dataset, tmp_path):
    out = tmp_path / "cur"
    out.mkdir()
    (out / "subtasks.parquet").write_bytes(b"my own file")
    before = snapshot(out)
    result = run_cli("curriculum", "export", str(dataset), "--out", str(out))
    assert result.exit_code == 1
    assert "not empty (subtasks.parquet)" in error_line(result)
    assert snapshot(out) == before
    fresh = tmp_path / "fresh"
    assert run_cli("curriculum", "export", str(dataset), "--out", str(fresh)).exit_code == 0
    exported = snapshot(fresh)
    again = run_cli("curriculum", "export", str(dataset), "--out", str(fresh))
    assert again.exit_code == 0, again.output  # an earlier export of the same: rewritten
    assert snapshot(fresh) == exported
    other = run_cli("curriculum", "export", str(dataset), "--out", str(fresh), "--split", "test")
    assert other.exit_code == 1 and "--overwrite" in error_line(other)
    assert snapshot(fresh) == exported


# ---------------------------------------------------------------- 2. no implicit manifest copy


def test_build_leaves_the_cwd_data_manifests_alone(tmp_path):
    manifests = tmp_path / "data_manifests"
    manifests.mkdir()
    shutil.copy(REPO / "data_manifests" / "apps-plus-sample.json", manifests)
    before = snapshot(manifests)
    result = run_cli("build", "--source", "sample", "--out", "x", "--limit", "2", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert snapshot(manifests) == before
    published = tmp_path / "published"
    result = run_cli(
        "build",
        "--source",
        "sample",
        "--out",
        "x",
        "--limit",
        "2",
        "--publish-manifest",
        str(published),
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert (published / "apps-plus-sample.json").read_bytes() == (
        tmp_path / "x" / "manifest.json"
    ).read_bytes()
    assert snapshot(manifests) == before


def test_the_committed_sample_manifest_is_what_a_build_publishes():
    """data_manifests/ changes only by an explicit `--publish-manifest data_manifests` (README)."""
    from appsplus.curate.sample_dataset import built_sample

    committed = REPO / "data_manifests" / "apps-plus-sample.json"
    assert committed.read_bytes() == (built_sample() / "manifest.json").read_bytes(), (
        "the build's output changed: re-publish with `appsplus build --source sample "
        "--out apps-plus-sample --publish-manifest data_manifests`"
    )


# ---------------------------------------------------------------- 3. sources that are not sources


def _sample_rows(tmp_path: Path) -> Path:
    """The embedded sample's rows (codeparrot/apps format), as a user's jsonl file."""
    path = tmp_path / "rows.jsonl"
    path.write_bytes(sample_bytes())
    return path


@pytest.mark.parametrize(
    ("make", "spec", "expected"),
    [
        (_sample_rows, "stepcoder:{}", "none of the 43 rows read is in the expected format"),
        (lambda t: _write(t / "empty.jsonl", b""), "stepcoder:{}", "no rows at all"),
        (lambda t: _write(t / "text.jsonl", b"hello\nworld\n"), "stepcoder:{}", "not valid JSON"),
        (lambda t: _write(t / "empty.jsonl", b""), "{}", "codeparrot/apps row format"),
        (lambda t: _write(t / "list.json", b"[1, 2]"), "stepcoder:{}", "expected the StepCoder"),
        (lambda t: None, "stepcoder:", "needs a path: stepcoder:PATH"),
    ],
    ids=["codeparrot-as-stepcoder", "empty", "not-json", "empty-local", "not-items", "no-path"],
)
def test_a_source_that_is_not_what_it_claims_is_an_error(tmp_path, make, spec, expected):
    path = make(tmp_path)
    files = snapshot(tmp_path)
    out = tmp_path / "out"
    result = run_cli("build", "--source", spec.format(path), "--out", str(out))
    assert result.exit_code == 1
    line = error_line(result)
    assert expected in line
    if spec.startswith("stepcoder:"):
        assert "StepCoder APPS+" in line and "prompt, canonical_solution" in line
    assert not out.exists(), "no empty dataset is written"
    assert snapshot(tmp_path) == files
    out.mkdir()  # the user's own empty folder stays, and stays empty
    assert run_cli("build", "--source", spec.format(path), "--out", str(out)).exit_code == 1
    assert out.is_dir() and not any(out.iterdir())


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- 6. damaged inputs, bad options


def test_curriculum_export_of_a_truncated_parquet(dataset, tmp_path):
    train = dataset / "train.parquet"
    train.write_bytes(train.read_bytes()[:100])
    before = snapshot(dataset)
    result = run_cli("curriculum", "export", str(dataset), "--out", str(tmp_path / "cur"))
    assert result.exit_code == 1
    assert "damaged: train.parquet" in error_line(result)
    assert snapshot(dataset) == before and not (tmp_path / "cur").exists()


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--out", "/proc/appsplus-x"], 1, "/proc/appsplus-x: cannot create the output folder"),
        (["--out", "o", "--limit", "0"], 2, "Invalid value for '--limit': 0 is not in the range"),
        (["--out", "o", "--workers", "0"], 2, "Invalid value for '--workers': 0 is not in"),
        (["--out", "o", "--time-limit", "0"], 2, "Invalid value for '--time-limit'"),
        (["--out", "o", "--memory-mb", "10"], 2, "Invalid value for '--memory-mb'"),
        (["--out", "o", "--batch-size", "0"], 2, "Invalid value for '--batch-size'"),
    ],
    ids=["proc", "limit-0", "workers-0", "time-limit-0", "memory-10", "batch-0"],
)
def test_bad_build_options_are_one_line_errors(tmp_path, args, code, expected):
    result = run_cli("build", "--source", "sample", *args, cwd=tmp_path)
    assert result.exit_code == code
    assert expected in error_line(result)
    assert "pydantic" not in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_build_into_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("mine\n")
    result = run_cli("build", "--source", "sample", "--out", str(target))
    assert result.exit_code != 0 and target.read_text() == "mine\n"


# ---------------------------------------------------------------- 7. stats checks the hashes


@pytest.mark.parametrize("damage", ["delete", "truncate", "edit-manifest-counts"])
def test_stats_refuses_a_damaged_dataset(dataset, damage):
    train = dataset / "train.parquet"
    if damage == "delete":
        train.unlink()
    elif damage == "truncate":
        train.write_bytes(train.read_bytes()[:-10])
    else:
        (dataset / "manifest.json").write_text("{not json")
    before = snapshot(dataset)
    for args in (["stats", str(dataset)], ["stats", str(dataset), "--json"]):
        result = run_cli(*args)
        assert result.exit_code == 1
        line = error_line(result)
        assert ("damaged: train.parquet" in line) or ("invalid manifest" in line)
        assert "train" not in result.output.replace(line, "")  # no counts printed
    assert snapshot(dataset) == before


def test_stats_of_an_intact_dataset(dataset):
    result = run_cli("stats", str(dataset), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["read"] == 8


def test_stats_and_push_name_their_argument_dataset():
    for command in ("stats", "push"):
        result = run_cli(command, "--help")
        assert "DATASET" in result.output and " OUT" not in result.output


# ---------------------------------------------------------------- 8. python -m appsplus.cli.app


@pytest.mark.parametrize("module", ["appsplus.cli.app", "appsplus"])
def test_module_help_lists_every_command(module):
    proc = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    for command in ("build", "curriculum", "exec", "push", "stats", "validate"):
        assert f"  {command} " in proc.stdout, proc.stdout


# ---------------------------------------------------------------- 9. exec shows what was expected


def test_exec_shows_the_expected_output_of_a_failing_test(tmp_path):
    program = tmp_path / "sol.py"
    program.write_text("print(int(input()) * 2)\n")
    tests = tmp_path / "io.json"
    tests.write_text(json.dumps({"inputs": ["2\n", "5\n"], "outputs": ["4\n", "11\n"]}))
    before = snapshot(tmp_path)
    table = run_cli("exec", str(program), "--tests", str(tests))
    assert table.exit_code == 1
    assert "expected" in table.output and "'11\\n'" in table.output and "'10\\n'" in table.output
    as_json = run_cli("exec", str(program), "--tests", str(tests), "--json")
    assert as_json.exit_code == 1
    payload = json.loads(as_json.output)
    assert [(t["expected"], t["output"]) for t in payload["tests"]] == [
        ("4\n", "4\n"),
        ("11\n", "10\n"),
    ]
    call = tmp_path / "call.json"
    call.write_text(json.dumps({"fn_name": "f", "inputs": [[1]], "outputs": [[3]]}))
    (tmp_path / "f.py").write_text("def f(x):\n    return x + 1\n")
    result = run_cli("exec", str(tmp_path / "f.py"), "--tests", str(call), "--json")
    assert json.loads(result.output)["tests"][0]["expected"] == "[3]"
    after = snapshot(tmp_path)
    assert {name: after[name] for name in before} == before  # the program and tests unchanged


# ---------------------------------------------------------------- 10. output outside a terminal


def test_validate_errors_are_one_line_each_outside_a_terminal(tmp_path):
    bad = tmp_path / "records.jsonl"
    long_id = "x" * 150
    bad.write_text(json.dumps({"problem_id": long_id}) + "\n" + "not json " * 20 + "\n")
    result = run_cli("validate", str(bad))
    assert result.exit_code == 1
    rows = [line for line in result.output.splitlines() if line.startswith("row ")]
    _, errors = validate_file(bad)
    assert rows == [f"row {n}: {message}" for n, message in errors]
    assert len(rows[0]) > 80  # one line, not wrapped at 80 columns


def test_build_logs_progress_and_one_line_summary_and_ctrl_c_exits_130(tmp_path):
    env = {**os.environ, "APPSPLUS_PROGRESS_INTERVAL_S": "0.2"}
    cmd = [sys.executable, "-m", "appsplus.cli.app", "build", "--source", "sample", "--out", "o"]
    proc = subprocess.run(
        [*cmd, "--workers", "2", "--limit", "12"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    progress = [line for line in lines if line.startswith("build: ")]
    assert len(progress) >= 2, proc.stderr  # periodic plain lines, then the final one
    assert "rows decided: 12/12" in progress[-1] and "\x1b[" not in proc.stderr  # no ANSI
    (summary,) = [line for line in lines if line.startswith("read 12, kept")]
    assert summary.endswith("manifest in o/manifest.json")  # one line, not wrapped
    assert "%|" not in proc.stderr  # no tqdm bars of datasets/transformers

    out = tmp_path / "killed"
    interrupted = subprocess.Popen(
        [*cmd[:-1], str(out), "--workers", "1", "--batch-size", "4"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    cache = out / ".cache" / "verify.sqlite"
    while count_entries(cache) < 5 and interrupted.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    interrupted.send_signal(signal.SIGINT)
    _, stderr = interrupted.communicate(timeout=60)
    assert interrupted.returncode == 130, stderr
    assert stderr.rstrip().endswith("interrupted") and "Traceback" not in stderr
    assert not (out / "manifest.json").exists()


def test_progress_is_plain_periodic_lines_off_a_terminal(capsys):
    from appsplus.cli.output import Progress

    with Progress("verify", total=3, interval_s=0, terminal=False) as bar:
        bar.advance(1)
        bar.update(description="verify (1 failed)")
        bar.advance(2)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("verify: 1/3") and err[-1].startswith("verify (1 failed): 3/3")


def test_setup_shows_a_warning_once_and_turns_library_bars_off(capsys):
    import logging
    import warnings

    from appsplus.cli import output as cli_output

    root = logging.getLogger()
    console_handler = logging.StreamHandler(sys.stderr)  # e.g. another CLI's basicConfig
    root.addHandler(console_handler)
    with warnings.catch_warnings():
        cli_output.setup()
        try:
            for _ in range(3):
                warnings.warn("the same thing", UserWarning, stacklevel=1)
            cli_output.setup()  # twice: still one handler
            logging.getLogger("appsplus.test").warning("logged once")
        finally:
            logging.captureWarnings(False)
            for h in list(root.handlers):
                if h.get_name() == "appsplus.cli.output":
                    root.removeHandler(h)
    assert console_handler not in root.handlers  # replaced: nothing is printed twice
    err = capsys.readouterr().err
    assert err.count("UserWarning: the same thing") == 1 and err.count("logged once") == 1
    assert os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] == "1"
    import datasets

    assert not datasets.is_progress_bar_enabled()


def test_the_cached_sample_build_is_keyed_on_every_module_that_decides_its_rows():
    """A change to a quality step (mutation timeouts) must rebuild the cached sample, as a
    change to the pipeline does: the key covers whole packages, not a hand-kept list."""
    from appsplus.curate.sample_dataset import _code_files

    names = {f"{p.parent.name}/{p.name}" for p in _code_files()}
    for module in (
        "quality/assess.py",
        "quality/timeouts.py",
        "curate/steps.py",
        "curate/verify.py",
        "execution/_sandbox.py",
        "sources/sample.py",
    ):
        assert module in names
