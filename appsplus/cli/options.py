"""Click options shared by the `appsplus` and `bench` CLIs (kept import-light: no pydantic)."""

from __future__ import annotations

import os

import click

EXECUTOR_HELP = (
    "Where programs run: 'local' (this machine's sandbox workers); on Ray (pip install "
    "'appsplus[ray]'): 'ray' (RAY_ADDRESS or this machine's cluster, else a private one), "
    "'auto' (a running cluster), 'ray://HOST:PORT' (Ray Client); there --workers is CPUs "
    "per actor (default: one actor per node). The same verdicts whatever the choice."
)

executor_option = click.option(
    "--executor", default="local", show_default=True, metavar="SPEC", help=EXECUTOR_HELP
)

ALLOW_UNISOLATED_HELP = (
    "Run untrusted programs even where full isolation is impossible (no user namespaces, "
    "not Linux): only rlimits, Landlock and seccomp then apply. Same as "
    "APPSPLUS_ALLOW_UNISOLATED=1."
)


def _allow_unisolated(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:  # the executor's one policy reads it (appsplus.execution.policy)
        os.environ["APPSPLUS_ALLOW_UNISOLATED"] = "1"
    return value


allow_unisolated_option = click.option(
    "--allow-unisolated",
    is_flag=True,
    expose_value=False,
    callback=_allow_unisolated,
    help=ALLOW_UNISOLATED_HELP,
)
