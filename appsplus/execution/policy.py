"""The one isolation policy: untrusted code runs fully isolated, or only by explicit opt-in."""

from __future__ import annotations

import logging
import os

from appsplus.errors import AppsplusError
from appsplus.execution.models import Isolation, SandboxError

log = logging.getLogger(__name__)

ALLOW_UNISOLATED_ENV = "APPSPLUS_ALLOW_UNISOLATED"
REMEDY = (
    "enable unprivileged user namespaces (sysctl user.max_user_namespaces=15000; on Debian "
    "kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ "
    "kernel.apparmor_restrict_unprivileged_userns=0; in Docker/Podman a seccomp profile "
    "that allows unshare), or run as root in a container"
)


class IsolationUnavailable(SandboxError, AppsplusError):
    """Full isolation is impossible here and running without it was not opted into."""


def unisolated_allowed(allow: bool | None = None) -> bool:
    """The caller's choice, else the environment variable APPSPLUS_ALLOW_UNISOLATED=1."""
    if allow is not None:
        return allow
    return os.environ.get(ALLOW_UNISOLATED_ENV, "").strip().lower() in ("1", "true", "yes")


def check_isolation(isolation: Isolation, allow: bool | None = None) -> None:
    """Raise `IsolationUnavailable` unless `isolation` is full or running without it is allowed."""
    if isolation.full:
        return
    cause = isolation.cause or "some isolation mechanism is missing"
    in_force = ", ".join(isolation.in_force)
    if unisolated_allowed(allow):
        log.warning(
            "running untrusted code without full isolation (%s); in force: %s", cause, in_force
        )
        return
    raise IsolationUnavailable(
        f"refusing to run untrusted code without full isolation: {cause}. "
        f"Remedy: {REMEDY}; or accept running it with only {in_force} "
        f"(--allow-unisolated, or {ALLOW_UNISOLATED_ENV}=1)"
    )
