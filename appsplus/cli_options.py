"""Click options shared by the `appsplus` and `bench` CLIs (kept import-light: no pydantic)."""

from __future__ import annotations

import click

EXECUTOR_HELP = (
    "Where programs run: 'local' (this machine's sandbox workers). "
    "The same verdicts whatever the choice."
)

executor_option = click.option(
    "--executor", default="local", show_default=True, metavar="SPEC", help=EXECUTOR_HELP
)
