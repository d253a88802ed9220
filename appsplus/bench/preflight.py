"""Checks of `bench` settings that run before any model call or execution (`appsplus.bench.api`)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from appsplus.bench.settings import (
    APPS_STYLE,
    DEFAULT_KS,
    ExecutionSpec,
    ModelSpec,
    RunSpec,
    SettingsError,
)


def default_ks(ks: list[int] | None, n: int) -> list[int]:
    """Explicit ks as given (sorted); by default 1, 5, 10 up to n."""
    if ks is not None:
        return sorted(set(ks))
    return [k for k in DEFAULT_KS if k <= n] or [1]


def check_ks(ks: list[int] | None, n: int, what: str = "--n") -> None:
    """Raise SettingsError unless every k is in 1..n."""
    if ks is None:
        return
    if not ks or min(ks) < 1:
        raise SettingsError("--k: k values must be positive integers")
    if max(ks) > n:
        raise SettingsError(
            f"--k {','.join(map(str, sorted(set(ks))))}: pass@{max(ks)} needs at least "
            f"{max(ks)} samples per problem, and {what} is {n}"
        )


def check_out(out: Path) -> None:
    """Raise SettingsError if `out` is a file or cannot be created (nothing is left behind)."""
    if out.exists():
        if not out.is_dir():
            raise SettingsError(f"--out {out}: exists and is not a folder")
        return
    created = []
    parent = out
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    if not parent.is_dir():
        raise SettingsError(f"--out {out}: {parent} is not a folder")
    try:
        out.mkdir(parents=True)
    except OSError as e:
        raise SettingsError(f"--out {out}: cannot create the folder ({e.strerror or e})") from e
    for folder in created:  # made again when the run starts; a failed check leaves nothing
        with contextlib.suppress(OSError):
            folder.rmdir()


def check_model(spec: ModelSpec, hub: bool = True) -> bool:
    """Check the backend is installed and the model can be found; True = load from the cache.

    `hub=False`: only the checks that need no network (a local path that is no folder)."""
    from appsplus.bench.backends import check_installed, locate_model

    check_installed(spec.backend)
    if spec.backend == "openai":
        return False
    return locate_model(spec.model, spec.revision, hub=hub)


def check_critic_sampling(spec: RunSpec) -> None:
    """Raise SettingsError (or CriticError) when critic sampling cannot run as asked."""
    cs = spec.critic_sampling
    if cs is None:
        return
    from appsplus.bench.critic import check_critic_folder

    if spec.model is None:
        raise SettingsError("--strategy critic-sampling generates: give --model, not --samples")
    if spec.suite.name not in APPS_STYLE:
        raise SettingsError(
            "--strategy critic-sampling needs an APPS-style suite (apps+, apps, sample)"
        )
    n = spec.sampling.n
    initial = cs.initial or max(1, -(-n // 4))
    if initial > n:
        raise SettingsError(f"--cs-initial {initial} is more than the budget --n {n}")
    check_critic_folder(cs.critic)


def check_executor(spec: ExecutionSpec) -> None:
    """Raise ExecutorSpecError now for an executor spec that names no backend."""
    from appsplus.execution import open_executor

    with open_executor(spec.executor, spec.workers):
        pass  # opening is cheap: workers start with the first job


def check_run(spec: RunSpec) -> None:
    """The checks of `run` that need no data, network, model or program (the suite, then the
    hub for a hub id, are checked next, before the model is loaded)."""
    if (spec.model is None) == (spec.samples is None):
        raise SettingsError("give --model (or --samples FILE), not both or neither")
    if spec.model is not None:
        check_ks(spec.ks, spec.sampling.n)
        check_executor(spec.execution)
    check_critic_sampling(spec)
    check_out(spec.out)
    if spec.model is not None:
        check_model(spec.model, hub=False)
