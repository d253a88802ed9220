"""One error base, one handler per CLI (issue 27, items 3 and 4; issue 22, items 6 and 8).

Every CLI runs as a real subprocess with inputs that trigger each class of error it
documents: its exit status, exactly one line on stderr, no traceback. The library's
error classes all derive from `AppsplusError` (found by reading the source, so a new class
cannot be forgotten), the bench settings raise the one-line `SettingsError` when built
directly in Python, and `shorten` gives each former `_short` its exact old text.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import appsplus
from appsplus.errors import AppsplusError, one_line, shorten

PACKAGE = Path(appsplus.__file__).parent
TRACEBACK = "Traceback (most recent call last)"


def run(*argv: str, cwd: Path, env: dict | None = None, timeout: float = 300):
    """`python -m MODULE ARGS` in a fresh interpreter (offline: no hub access)."""
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
    )


def assert_one_line(done, status: int, *fragments: str, absent: tuple[str, ...] = ()) -> str:
    """Exit `status`, no traceback, exactly one line on stderr holding every fragment."""
    assert TRACEBACK not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert done.returncode == status, (done.returncode, done.stderr)
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    for fragment in absent:
        assert fragment not in lines[0], (fragment, lines[0])
    return lines[0]


# ---------------------------------------------------------------- the classes


def _exception_classes() -> list[tuple[str, str]]:
    """(module, class name) of every class defined in appsplus whose name says it is an
    error, read from the source (ast), so that the test sees classes nobody imported."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Unavailable"))
            if named and node.bases:
                found.append((module, node.name))
    return found


def test_the_source_defines_the_error_classes_this_test_checks():
    names = {name for _, name in _exception_classes()}
    # a sample of the classes each CLI documents: the scan finds classes in every area
    for name in ("SourceError", "SettingsError", "ConfigError", "SuiteError", "SandboxError"):
        assert name in names


@pytest.mark.parametrize(("module", "name"), _exception_classes())
def test_every_library_error_is_an_appsplus_error(module, name):
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, BaseException)
    if name == "SandboxError":  # a failure of the sandbox itself: keeps its traceback
        assert not issubclass(cls, AppsplusError)
        return
    assert issubclass(cls, AppsplusError), f"{module}.{name} does not derive from AppsplusError"


def test_each_error_keeps_the_builtin_base_its_callers_catch():
    from appsplus.bench.backends import BackendError
    from appsplus.bench.settings import SettingsError
    from appsplus.execution import ExecutorSpecError, IsolationUnavailable, SandboxError
    from appsplus.sources import SourceError
    from appsplus.trainers.config import ConfigError

    assert issubclass(SourceError, RuntimeError) and issubclass(BackendError, RuntimeError)
    assert issubclass(SettingsError, ValueError) and issubclass(ConfigError, ValueError)
    assert issubclass(ExecutorSpecError, ValueError)
    # the machine cannot isolate programs: one line naming the remedy, still a SandboxError
    assert issubclass(IsolationUnavailable, SandboxError)
    assert issubclass(IsolationUnavailable, AppsplusError)
    assert SettingsError.exit_status == ConfigError.exit_status == 2
    assert SourceError.exit_status == 1


def test_one_line_joins_lines():
    assert one_line("a\n  b\n\nc ") == "a; b; c"


# ---------------------------------------------------------------- settings: one line in Python


def test_a_misspelled_setting_is_a_one_line_settings_error():
    from appsplus.bench import api

    with pytest.raises(api.SettingsError) as info:
        api.SamplingSpec(n=2, temprature=0.2)
    message = str(info.value)
    assert message == ("SamplingSpec: unknown setting 'temprature' (did you mean 'temperature'?)")
    assert isinstance(info.value, AppsplusError) and isinstance(info.value, ValueError)


def test_nested_and_validated_settings_name_the_dotted_field():
    from appsplus.bench import api

    with pytest.raises(api.SettingsError) as info:
        api.RunSpec(out="o", suite={"name": "nope"}, sampling={"n": 0, "seed": "x"})
    message = str(info.value)
    assert "\n" not in message and message.startswith("RunSpec: ")
    for fragment in ("suite.name", "'nope'", "sampling.n", "greater than or equal to 1"):
        assert fragment in message
    assert "sampling.seed" in message and "(got 'x')" in message
    with pytest.raises(api.SettingsError, match=r"^SuiteSpec: unknown setting 'limt' \(did"):
        api.SuiteSpec.model_validate({"name": "sample", "limt": 3})
    with pytest.raises(api.SettingsError, match="^ModelSpec: the openai backend needs --base"):
        api.ModelSpec(model="m", backend="openai")
    assert api.RunSpec(out="o", suite={"name": "sample"}).suite.name == "sample"


# ---------------------------------------------------------------- shorten: the four old helpers


def _old_app(text: str, limit: int = 60) -> str:  # appsplus/cli/app.py, before
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _old_verify(value, limit: int = 60) -> str:  # appsplus/curate/verify.py, before
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _old_normalize(value, limit: int = 80) -> str:  # appsplus/curate/normalize.py, before
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _old_feedback(text: str, limit: int = 400) -> str:  # bench/critic_sampling.py, before
    text = text if len(text) <= limit else text[:limit] + " ...[truncated]"
    return text.rstrip("\n")


def _texts():
    import random

    rng = random.Random(7)
    for n in [0, 1, 57, 58, 59, 60, 61, 63, 64, 77, 80, 81, 399, 400, 401, 415, 416, 900]:
        yield "".join(rng.choice("ab \n'\"é") for _ in range(n))


def test_shorten_gives_normalize_and_verify_their_exact_messages():
    for text in _texts():
        for value in (text, [text], len(text), None, {"k": text}):
            assert shorten(repr(value)) == _old_normalize(value)
            as_text = value if isinstance(value, str) else json.dumps(value)
            assert shorten(as_text, 60, quote=True) == _old_verify(value)


def test_shorten_in_critic_feedback_and_the_exec_table():
    from appsplus.bench.critic_sampling import _feedback_text

    for text in _texts():
        if not 400 < len(text) <= 415:  # now kept whole: shorter than the old cut + marker
            assert _feedback_text(text) == _old_feedback(text)
        else:
            assert _feedback_text(text) == text.rstrip("\n")
        shown = shorten(text, 60, quote=True)
        assert len(eval(shown)) <= 60  # noqa: S307 - a repr of a str we made
        if len(text) <= 60:
            assert shown == _old_app(text)


def test_shorten_is_one_line_unless_asked():
    assert shorten("a\n  b", 80) == "a b"
    assert shorten("a\nb", 80, keep_lines=True) == "a\nb"
    assert shorten("x" * 10, 6) == "xxx..." and shorten("x" * 10, 6, marker="…") == "xxxxx…"
    assert shorten(["a"], 80) == "['a']"


def test_no_module_defines_its_own_short_helper():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "def _short(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


# ---------------------------------------------------------------- appsplus: every command


@pytest.fixture
def not_a_build(tmp_path) -> Path:
    folder = tmp_path / "not-a-build"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    return folder


def test_appsplus_build_errors(tmp_path, not_a_build):
    # SourceError: a path that does not exist names the build's own option
    done = run("appsplus", "build", "--source", "./nope", "--out", "o", cwd=tmp_path)
    assert_one_line(done, 1, "Error: nope does not exist", "--source PATH", "--source sample")
    # OutputError: a folder of the user's files is refused and left alone
    done = run("appsplus", "build", "--source", "sample", "--out", str(not_a_build), cwd=tmp_path)
    assert_one_line(done, 1, "not empty", "--overwrite")
    assert sorted(p.name for p in not_a_build.iterdir()) == ["notes.txt"]
    # ExecutorSpecError
    args = ("--source", "sample", "--out", "o2", "--executor", "nope://x")
    assert_one_line(run("appsplus", "build", *args, cwd=tmp_path), 1, "nope://x")
    # BenchmarkError: a decontamination file that is not JSON lines
    (tmp_path / "bench.jsonl").write_text("not json\n")
    args = ("--source", "sample", "--out", "o3", "--decontaminate", "bench.jsonl")
    assert_one_line(run("appsplus", "build", *args, cwd=tmp_path), 1, "bench.jsonl: not JSON")
    assert not (tmp_path / "o").exists()


def test_appsplus_dataset_commands_refuse_a_folder_that_is_not_a_build(tmp_path, not_a_build):
    folder = str(not_a_build)
    commands = [
        ("stats", folder),
        ("quality", folder),
        ("push", folder, "--repo-id", "me/x"),
        ("curriculum", "export", folder, "--out", str(tmp_path / "cur")),
        ("export", folder, "--format", "trl", "--out", str(tmp_path / "trl")),
    ]
    for command in commands:
        done = run("appsplus", *command, cwd=tmp_path)
        assert_one_line(done, 1, "Error: ", folder)
    assert not (tmp_path / "cur").exists()


def test_appsplus_validate_and_exec_errors(tmp_path):
    bad = tmp_path / "records.parquet"
    bad.write_bytes(b"not a parquet file")
    assert_one_line(run("appsplus", "validate", str(bad), cwd=tmp_path), 1, str(bad))
    program = tmp_path / "p.py"
    program.write_text("print(1)\n")
    tests = tmp_path / "tests.json"
    tests.write_text('{"inputs": ["1"]}')
    done = run("appsplus", "exec", str(program), "--tests", str(tests), cwd=tmp_path)
    assert_one_line(done, 1, "not a valid APPS input_output file")


# ---------------------------------------------------------------- the handler's decisions

HANDLER_CLI = """
import sys, click
from appsplus.cli.output import CliGroup
from appsplus.bench.settings import SettingsError
from appsplus.execution import IsolationUnavailable, SandboxError
from appsplus.sources import SourceError

@click.group(cls=CliGroup)
def main(): pass

@main.command()
@click.argument("what")
def fail(what):
    if what == "source":
        raise SourceError("no such source\\nsecond line")
    if what == "settings":
        raise SettingsError("SamplingSpec: unknown setting 'x'")
    if what == "isolation":
        raise IsolationUnavailable("user namespaces are refused here; set X=1")
    if what == "sandbox":
        raise SandboxError("the worker died")
    open("/nonexistent-dir/file", "w")

main()
"""


@pytest.mark.parametrize(
    ("what", "status", "line"),
    [
        ("source", 1, "Error: no such source; second line"),
        ("settings", 2, "Error: SamplingSpec: unknown setting 'x'"),
        ("isolation", 1, "Error: user namespaces are refused here; set X=1"),
        ("oserror", 1, "Error: /nonexistent-dir/file: No such file or directory"),
    ],
)
def test_the_click_handler_makes_one_line_with_the_class_exit_status(what, status, line, tmp_path):
    script = tmp_path / "cli.py"
    script.write_text(HANDLER_CLI)
    done = subprocess.run(
        [sys.executable, str(script), "fail", what], capture_output=True, text=True, timeout=120
    )
    assert assert_one_line(done, status) == line


def test_a_sandbox_failure_keeps_its_traceback(tmp_path):
    """SandboxError is a bug or a broken machine, not bad input: the traceback is the report."""
    script = tmp_path / "cli.py"
    script.write_text(HANDLER_CLI)
    done = subprocess.run(
        [sys.executable, str(script), "fail", "sandbox"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert TRACEBACK in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("SandboxError: the worker died")


# ---------------------------------------------------------------- bench: every command


@pytest.fixture
def fake_model(tmp_path) -> Path:
    """A folder that passes for a model folder until something loads it."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def test_bench_settings_errors_exit_2(tmp_path, fake_model):
    base = ("appsplus.bench.cli", "run", "--model", str(fake_model), "--suite", "sample")
    done = run(*base, "--n", "2", "--k", "1,5", "--out", "o", cwd=tmp_path)
    assert_one_line(done, 2, "Error: --k 1,5", "pass@5 needs at least 5 samples")
    (tmp_path / "afile").write_text("mine\n")
    done = run(*base, "--n", "1", "--k", "1", "--out", "afile/run", cwd=tmp_path)
    assert_one_line(done, 2, "is not a folder")
    assert (tmp_path / "afile").read_text() == "mine\n"
    # a settings model that refuses a value (ModelSpec): SettingsError, no usage text
    done = run(
        "appsplus.bench.cli", "run", "--backend", "openai", "--model", "m", "--suite", "sample",
        "--n", "1", "--k", "1", "--out", "o", cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(done, 2, "Error: ModelSpec: the openai backend needs --base-url")
    done = run(
        "appsplus.bench.cli", "run", "--backend", "openai", "--model", "m", "--base-url",
        "localhost:8000/v1", "--suite", "sample", "--n", "1", "--k", "1", "--out", "o",
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(done, 2, "--base-url 'localhost:8000/v1': not an http:// or https:// URL")
    # options that cannot work together
    bench = "appsplus.bench.cli"
    done = run(bench, "run", "--suite", "sample", "--out", "o", cwd=tmp_path)
    assert_one_line(done, 2, "Error: give --model (or --samples FILE)")
    done = run(bench, "run", *base[2:], "--critic", str(tmp_path), "--out", "o", cwd=tmp_path)
    assert_one_line(done, 2, "Error: --critic is only used with --strategy critic-sampling")
    done = run(bench, "evaluate", "--samples", str(tmp_path / "afile"), "--out", "o", cwd=tmp_path)
    assert_one_line(done, 2, "Error: --samples needs --suite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "model"]


def test_bench_library_errors_exit_1(tmp_path, fake_model):
    samples = tmp_path / "s.jsonl"
    samples.write_text("this is not json\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    bench = "appsplus.bench.cli"
    cases = [
        # SuiteError
        (("run", "--suite", "humaneval", "--samples", str(samples), "--out", "a"), "--dataset"),
        # BackendError: a local model folder that does not exist
        (
            ("run", "--model", "./no-model", "--suite", "sample", "--n", "1", "--k", "1",
             "--out", "b"),
            "no such folder",
        ),
        # ExecutorSpecError
        (
            ("run", "--model", str(fake_model), "--suite", "sample", "--n", "1", "--k", "1",
             "--executor", "nope://x", "--out", "c"),
            "nope://x",
        ),
        # CriticError: a critic folder without a critic
        (
            ("run", "--model", str(fake_model), "--suite", "sample", "--n", "4", "--k", "1",
             "--strategy", "critic-sampling", "--critic", str(empty), "--out", "d"),
            str(empty),
        ),
        # RunError: a folder that is not a run
        (("report", "--out", str(empty)), str(empty)),
        # CompareError / JsonlError: files that are not reports
        (("compare", str(samples), str(samples)), str(samples)),
        # SamplesFileError: a samples file that is not JSON lines
        (("run", "--suite", "sample", "--samples", str(samples), "--out", "e"), str(samples)),
    ]  # fmt: skip
    for args, fragment in cases:
        assert_one_line(run(bench, *args, cwd=tmp_path), 1, "Error: ", fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "model", "s.jsonl"]


def test_bench_names_its_own_flags_for_another_source(tmp_path, fake_model):
    """Offline, the apps suite without a cached copy (or with a missing --dataset) says what
    to pass as --dataset: bench has no --source (issue 22, item 6)."""
    args = ("--model", str(fake_model), "--n", "1", "--k", "1", "--out", "o")
    for dataset in ((), ("--dataset", "./nope")):
        done = run(
            "appsplus.bench.cli", "run", "--suite", "apps", *dataset, *args,
            cwd=tmp_path, env={"HF_HOME": str(tmp_path / "hf")},
        )  # fmt: skip
        assert_one_line(
            done, 1, "--dataset PATH", "--dataset sample", absent=("--source", "Traceback")
        )


# ---------------------------------------------------------------- the trainers


@pytest.mark.parametrize(
    "module",
    ["stepcoder", "coderl", "sft", "stage_eval"],
)
def test_trainer_config_mistakes_exit_2(module, tmp_path, fake_model):
    extra = ["sample"] if module == "coderl" else []
    done = run(
        f"appsplus.trainers.{module}", *extra, "--set", f"model={fake_model}", "--set", "nope=1",
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(done, 2, f"appsplus.trainers.{module}: error: unknown config key 'nope'")


def test_coderl_names_a_missing_stage_input(tmp_path, fake_model):
    done = run(
        "appsplus.trainers.coderl", "train-critic", "--set", f"model={fake_model}",
        "--set", f"output_dir={tmp_path / 'run'}", cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(done, 2, "samples_file: no such file", "run the sample stage first")


def test_model_merge_of_a_folder_that_is_not_an_adapter(tmp_path):
    (tmp_path / "plain").mkdir()
    done = run(
        "appsplus.trainers.model", "merge", "--adapter", "plain", "--out", "merged", cwd=tmp_path
    )
    assert_one_line(done, 2, "--adapter plain: not a LoRA adapter folder")
    assert not (tmp_path / "merged").exists()


def test_lora_without_peft_is_a_config_error(tmp_path):
    """It was a RuntimeError with a traceback, after the model had loaded."""
    run("appsplus.trainers.model", "tiny", "--out", "tiny", "--vocab", "300", cwd=tmp_path)
    code = (
        "import sys; sys.modules['peft'] = None\n"
        "from appsplus.trainers.sft import main\n"
        "main(['--set', 'model=tiny', '--set', 'lora_r=4', '--set', 'output_dir=out'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2 and TRACEBACK not in done.stderr, done.stderr
    # the model loads first (transformers may draw its loading bar); the error is one line
    assert done.stderr.strip().splitlines()[-1] == (
        "python -m appsplus.trainers.sft: error: LoRA (lora_r > 0, or a LoRA adapter folder as "
        "the model) needs the peft package: pip install peft"
    )


def test_model_tiny_into_a_file_is_refused(tmp_path):
    """It said 'saved to FILE' and exited 0 (transformers skips a path that is a file)."""
    (tmp_path / "mine.txt").write_text("mine\n")
    done = run("appsplus.trainers.model", "tiny", "--out", "mine.txt", cwd=tmp_path)
    assert_one_line(done, 2, "--out mine.txt: exists and is not a folder")
    assert (tmp_path / "mine.txt").read_text() == "mine\n"


def test_stepcoder_prompts_per_iteration_not_a_multiple_of_the_processes(tmp_path, fake_model):
    """Raised after the processes start (it needs their number): a ConfigError, so each
    process exits 2 and the main one prints one line; it was a plain ValueError with a
    traceback per process."""
    logs = tmp_path / "logs"
    done = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
            "2", "--log-dir", str(logs), "--redirects", "3", "-m", "appsplus.trainers.stepcoder",
            "--set", f"model={fake_model}", "--set", "prompts_per_iteration=3",
            "--set", f"output_dir={tmp_path / 'run'}",
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "ACCELERATE_USE_CPU": "1", "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert done.returncode != 0
    errs = {p.parent.name: p.read_text() for p in logs.rglob("stderr.log")}
    assert len(errs) == 2, (errs, done.stderr)
    for text in errs.values():
        assert TRACEBACK not in text, text
        assert "exitcode" not in text
    printed = [line for text in errs.values() for line in text.strip().splitlines()]
    assert printed == [
        "python -m appsplus.trainers.stepcoder: error: prompts_per_iteration (3) must be a "
        "multiple of the number of processes (2)"
    ], errs
    assert "exitcode  : 2" in done.stderr or "exitcode: 2" in done.stderr, done.stderr
