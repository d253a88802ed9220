"""`report_to:` the metrics.jsonl lines of a trainer, also to TensorBoard and/or W&B.

    tracker = Tracker(cfg.report_to, out, "step", name="sft", config=cfg)
    tracker.log(line)        # the line written to metrics.jsonl: its numbers, at line["step"]
    tracker.close()

Every number of a metrics line (the step key aside) is logged under its own name
(`losses/policy`, `charts/pass_rate`, ...) at the line's step, so the scalars equal
metrics.jsonl's. TensorBoard event files go to OUTPUT_DIR/tensorboard/ (through torch's
SummaryWriter); W&B runs to OUTPUT_DIR/wandb/ (`WANDB_MODE=offline` keeps them local;
project from `WANDB_PROJECT`, default 'appsplus'). Both are optional dependencies (extra
`tracking`): a logger that is not installed is a one-line ConfigError before training.
Only the main process logs.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

from appsplus.trainers.config import ConfigError

Logger = Literal["tensorboard", "wandb"]
MODULES = {"tensorboard": "tensorboard", "wandb": "wandb"}


def _as_list(value: Any) -> Any:
    """'tensorboard' -> ['tensorboard']; 'none' or null -> []."""
    if value is None or value == "none":
        return []
    return [value] if isinstance(value, str) else value


ReportTo = Annotated[list[Logger], BeforeValidator(_as_list)]
REPORT_TO_HELP = (
    "also log metrics.jsonl's scalars to 'tensorboard' (OUTPUT_DIR/tensorboard) and/or "
    "'wandb' (OUTPUT_DIR/wandb); needs the extra appsplus[tracking]"
)


def check_report_to(report_to: Sequence[str]) -> None:
    """A one-line ConfigError when a chosen logger is not installed."""
    for name in report_to:
        if importlib.util.find_spec(MODULES[name]) is None:
            raise ConfigError(
                f"report_to: {name} is not installed; pip install 'appsplus[tracking]' "
                f"(or pip install {MODULES[name]}), or leave {name} out of report_to"
            )


class Tracker:
    """Sends metrics lines to the chosen loggers (none: does nothing)."""

    def __init__(
        self,
        report_to: Sequence[str],
        out: Path,
        step_key: str,
        *,
        name: str,
        config: Any = None,
        resume_step: int | None = None,
        main_process: bool = True,
    ) -> None:
        self.step_key = step_key
        self.writer = self.run = None
        if not main_process or not report_to:
            return
        check_report_to(report_to)
        out = Path(out)
        if "tensorboard" in report_to:
            from torch.utils.tensorboard import SummaryWriter

            # a resumed run drops what was logged after its checkpoint, as metrics.jsonl does
            purge = None if resume_step is None else resume_step + 1
            self.writer = SummaryWriter(log_dir=str(out / "tensorboard"), purge_step=purge)
        if "wandb" in report_to:
            import wandb

            values = config.model_dump(mode="json") if hasattr(config, "model_dump") else config
            (out / "wandb").mkdir(parents=True, exist_ok=True)
            self.run = wandb.init(
                project=os.environ.get("WANDB_PROJECT", "appsplus"),
                name=f"{name}-{out.name}",
                dir=str(out),
                config=values,
                reinit="create_new",
            )

    def log(self, line: dict[str, Any]) -> None:
        """The numbers of one metrics line, at its step."""
        if self.writer is None and self.run is None:
            return
        step = int(line[self.step_key])
        scalars = {
            k: float(v)
            for k, v in line.items()
            if k != self.step_key and isinstance(v, int | float) and not isinstance(v, bool)
        }
        if self.writer is not None:
            for key, value in scalars.items():
                self.writer.add_scalar(key, value, step)
            self.writer.flush()
        if self.run is not None:
            self.run.log(scalars, step=step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.run is not None:
            self.run.finish()
            self.run = None
