"""Click options shared by the `appsplus` and `bench` CLIs (kept import-light: no pydantic)."""

from __future__ import annotations

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
