"""Checks every trainer shares, written once: a run stops on the first non-finite number,
resumes only what it can continue, and writes only where it may.

    check_output_dir(out, is_resume=False, overwrite=False, what="an sft run")  # before loading
    changed = check_resume_config(ckpt, cfg, RESUMABLE)   # refuses other changed settings
    check_processes(ckpt, world)                           # the same number of processes
    check_finite(step, {"losses/policy": loss, "grad_norm": norm})   # after backward
    check_parameters_finite(step, model)                    # before a checkpoint is written

Each failure is one line: a `ConfigError` (exit 2) for a run that cannot start, a
`DivergenceError` (exit 1) for one that has to stop. Both are `AppsplusError`s.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from appsplus.errors import AppsplusError
from appsplus.trainers.config import ConfigError

log = logging.getLogger(__name__)

# Settings a resumed run may change, for every trainer. Anything else that differs from the
# checkpoint's config.yaml is refused: it would change what the restored state means.
# learning_rate is applied to the restored optimizer (and logged); the others are read
# afresh every step or only describe where and how the run reports.
RESUMABLE_ALWAYS = frozenset(
    {
        "output_dir",
        "learning_rate",
        "max_grad_norm",
        "checkpoint_every",
        "log_every",
        "progress",
        "torch_threads",
        "execution_workers",
        "executor",
    }
)


class DivergenceError(AppsplusError):
    """A loss, gradient or parameter stopped being finite: the run stops, nothing is saved."""


class ResumeError(ConfigError):
    """A checkpoint cannot continue with this command line (settings or process count)."""


# --------------------------------------------------------------------------- output folders
def check_output_dir(
    out: str | Path, *, is_resume: bool, overwrite: bool, what: str, ours: Iterable[str] = ()
) -> None:
    """The rule `appsplus build` uses (`appsplus.outdir.prepare_out`): `out` must be new,
    empty, an earlier output of this work that the run continues (`is_resume`), or
    `overwrite` is set. Creates `out`. With `overwrite` and not `is_resume`, the entries
    named in `ours` (files and folders this trainer writes, e.g. checkpoints/) are removed
    first, so nothing stale is resumed later; other files are left alone. Raises
    ConfigError (one line) otherwise."""
    import shutil

    from appsplus.outdir import OutputError, prepare_out

    out = Path(out)
    try:
        prepare_out(out, is_resume=lambda: is_resume, overwrite=overwrite, what=what)
    except OutputError as e:
        raise ConfigError(str(e)) from None
    if overwrite and not is_resume:
        for name in ours:
            path = out / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()


# --------------------------------------------------------------------------- resume
def checkpoints_in(output_dir: Path) -> list[Path]:
    """Completed checkpoints in `output_dir`/checkpoints, oldest first (names sort by step;
    a .tmp folder is one being written)."""
    folder = output_dir / "checkpoints"
    return (
        sorted(p for p in folder.iterdir() if p.is_dir() and p.suffix != ".tmp")
        if folder.is_dir()
        else []
    )


def checkpoint_to_resume(output_dir: Path, resume: str | None) -> Path | None:
    """The checkpoint `resume` names ('latest' or a folder), or None for a fresh run; a fresh
    run refuses an `output_dir` that already holds checkpoints."""
    if resume is None:
        if checkpoints_in(output_dir):
            raise FileExistsError(
                f"{output_dir} holds checkpoints: resume it (--resume latest), use another "
                "output_dir, or pass --overwrite to start afresh (its checkpoints are removed)"
            )
        return None
    if resume != "latest" and not Path(resume).is_dir():
        raise FileNotFoundError(f"--resume {resume}: no such checkpoint folder")
    found = checkpoints_in(output_dir) if resume == "latest" else [Path(resume)]
    if not found:
        raise FileNotFoundError(f"no checkpoint to resume in {output_dir / 'checkpoints'}")
    return found[-1]


def saved_config(ckpt: Path) -> dict:
    """The config a checkpoint was written with ({} when it has none)."""
    path = Path(ckpt) / "config.yaml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def _flatten(data: Mapping, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _comparable(value: Any) -> Any:
    """A saved value as compared: a Python object's repr without its memory address (a
    callable in generate_kwargs is saved as its repr, which differs in every process)."""
    import re

    return re.sub(r" at 0x[0-9a-fA-F]+", "", value) if isinstance(value, str) else value


def config_changes(saved: Mapping, current: Mapping) -> dict[str, tuple[Any, Any]]:
    """{dotted key: (checkpoint value, current value)} of every setting that differs."""
    old, new = _flatten(saved), _flatten(current)
    return {
        k: (old.get(k), new.get(k))
        for k in sorted(old.keys() | new.keys())
        if _comparable(old.get(k)) != _comparable(new.get(k))
    }


def check_resume_config(
    ckpt: Path, cfg, resumable: Iterable[str], report: bool = True
) -> dict[str, tuple]:
    """Compare `cfg` with the config saved in checkpoint `ckpt`. Settings outside
    `resumable` (and `RESUMABLE_ALWAYS`) that differ raise a ResumeError naming them; the
    changed resumable ones are returned (and, with `report`, logged) so the run applies them."""
    saved = saved_config(ckpt)
    if not saved:
        return {}
    current = cfg.model_dump(mode="json", fallback=repr)
    changes = config_changes(saved, current)
    allowed = RESUMABLE_ALWAYS | set(resumable)
    refused = {k: v for k, v in changes.items() if k.split(".")[0] not in allowed}
    if refused:
        shown = ", ".join(f"{k} ({old!r} -> {new!r})" for k, (old, new) in refused.items())
        raise ResumeError(
            f"--resume {ckpt}: settings differ from the checkpoint's config.yaml: {shown}; "
            f"a resumed run may change only {', '.join(sorted(allowed))} "
            "(start a new run in another output_dir to change the others)"
        )
    applied = {k: v for k, v in changes.items() if k != "output_dir"}
    for key, (old, new) in applied.items() if report else ():
        log.warning("resume: %s changed from %r to %r (applied)", key, old, new)
    return applied


def launched_processes() -> int:
    """The number of processes torchrun / accelerate launch started (WORLD_SIZE; 1 without
    a launcher), known before any process group exists."""
    import os

    return int(os.environ.get("WORLD_SIZE", "1"))


def check_resumable(ckpt: Path, cfg, resumable: Iterable[str]) -> None:
    """A trainer's CLI check of a checkpoint to resume, before anything is loaded: the
    process count of the launch, then the settings (`check_resume_config`, not logged)."""
    check_processes(ckpt, launched_processes())
    check_resume_config(ckpt, cfg, resumable, report=False)


def set_learning_rate(optimizer, learning_rate: float) -> None:
    """Give every parameter group of a restored optimizer the configured learning rate
    (the base rate of a schedule, `initial_lr`, too)."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate
        if "initial_lr" in group:
            group["initial_lr"] = learning_rate


def checkpoint_processes(ckpt: Path) -> int | None:
    """The number of processes that wrote checkpoint `ckpt` (its rng_rankR files)."""
    state = Path(ckpt) / "trainer_state.json"
    if state.is_file():
        saved = json.loads(state.read_text()).get("processes")
        if saved:
            return int(saved)
    ranks = list(Path(ckpt).glob("rng_rank*.safetensors"))
    return len(ranks) or None


def check_processes(ckpt: Path, world: int) -> None:
    """Raise ResumeError unless checkpoint `ckpt` was written by `world` processes (the
    RNG streams and batch shards of each process are part of the state)."""
    saved = checkpoint_processes(ckpt)
    if saved is not None and saved != world:
        raise ResumeError(
            f"--resume {ckpt}: written by {saved} process{'es' * (saved != 1)}, this run has "
            f"{world}; resume with {saved} (e.g. torchrun --nproc_per_node {saved}) or start "
            "a new run"
        )


# --------------------------------------------------------------------------- divergence
def _value(x) -> float:
    return float(x.detach().float().item()) if hasattr(x, "detach") else float(x)


def check_finite(where: str, quantities: Mapping[str, Any], hint: str = "") -> None:
    """Raise DivergenceError naming the first quantity (a float or a scalar tensor) that is
    NaN or infinite. `where`: e.g. 'step 3'. Call it on numbers every process agrees on (a
    gradient norm after DDP's all-reduce, a reduced loss) so all stop together."""
    for name, value in quantities.items():
        if value is None:
            continue
        number = _value(value)
        if not math.isfinite(number):
            raise DivergenceError(
                f"{where}: {name} is {number} (the run diverged); stopped without saving a "
                f"checkpoint{'; ' + hint if hint else ''}"
            )


def check_parameters_finite(where: str, model, hint: str = "") -> None:
    """Raise DivergenceError when a parameter of `model` holds a NaN or an infinity."""
    import torch

    for name, parameter in model.named_parameters():
        if not torch.isfinite(parameter.detach()).all():
            raise DivergenceError(
                f"{where}: parameter {name} is not finite (the run diverged); stopped without "
                f"saving a checkpoint{'; ' + hint if hint else ''}"
            )


def lr_hint(cfg, key: str = "learning_rate") -> str:
    """The usual remedy, with the value that ran."""
    return f"lower {key} (it is {getattr(cfg, key)}) or max_grad_norm"


# --------------------------------------------------------------------------- the CLI edge
def is_main_process() -> bool:
    """Rank 0 of a torchrun / accelerate launch (or a plain process); read from the
    environment, so it works before any process group exists."""
    import os

    return os.environ.get("RANK", "0") == "0"


def setup_logging() -> None:
    """INFO lines from the main process only (under torchrun every process runs the same
    code: the others log warnings and errors)."""
    logging.basicConfig(
        level=logging.INFO if is_main_process() else logging.WARNING,
        format="%(asctime)s %(name)s: %(message)s",
    )


def progress_bar(enabled: bool):
    """A rich progress bar on stderr (rich's default console is stdout), shown only when
    enabled and on the main process."""
    from rich.console import Console
    from rich.progress import Progress

    return Progress(console=Console(stderr=True), disable=not (enabled and is_main_process()))


def report_now(step: int, total: int) -> bool:
    """Whether step `step` of `total` gets a log line (about ten per run, and the last), so
    a run without a progress bar (`progress: false`, a log file) still shows its pace."""
    return step == total or step % max(1, total // 10) == 0


def resume_command(
    argv: list[str] | None = None, resume: bool = True, stages: list[str] | None = None
) -> str:
    """The command line that continues this run: the same arguments without --overwrite
    and --resume, then `--resume latest` (unless not `resume`); `stages` replaces the
    positional stage names (CodeRL)."""
    import shlex
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("--resume", "--set", "--config"):
            skip = arg == "--resume"
            if not skip:
                kept.append(arg)
                skip = None  # keep the value that follows
            continue
        if skip is None:
            kept.append(arg)
            skip = False
            continue
        if arg.startswith("--resume=") or arg == "--overwrite":
            continue
        if stages is not None and not arg.startswith("-"):
            continue  # a stage name: replaced by `stages`
        kept.append(arg)
    module = getattr(sys.modules["__main__"], "__spec__", None)
    head = f"python -m {module.name}" if module is not None else "python"
    words = [*(stages or []), *kept, *(["--resume", "latest"] if resume else [])]
    return f"{head} {shlex.join(words)}"


def run_cli(prog: str, fn, hint=None):
    """Run `fn()` as a command: Ctrl-C is one line (on the main process) saying how to
    continue (`hint()`, e.g. the command that resumes the run), exit 130. Library errors are
    left to the caller's `appsplus.errors.exit_on_error`, which prints them as one line."""
    import sys

    try:
        return fn()
    except KeyboardInterrupt:
        if is_main_process():
            how = f"; {hint()}" if hint is not None else ""
            print(f"{prog}: interrupted{how}", file=sys.stderr, flush=True)
        raise SystemExit(130) from None


def continue_hint(output_dir: str | Path, argv: list[str] | None = None) -> str:
    """How to continue an interrupted run of a trainer with checkpoints in `output_dir`."""
    if checkpoints_in(Path(output_dir)):
        return f"continue from the last checkpoint: {resume_command(argv)}"
    return "no checkpoint was written yet: rerun with --overwrite to start afresh"
