"""APPS+ quality steps: duplicates, decontamination, test strength, augmentation, flags.

The build runs them (see `appsplus.curate.pipeline`); each is a filter with a rejection reason or a
measurement stored in the record's `quality` column, with counts in the manifest.

    from appsplus.quality import QualityConfig, Quality     # (appsplus.quality.models)

Modules: `models` (config, record fields), `checks` (min tests, any-answer statements,
quoted arguments, loose outputs), `dedup`, `decontam`, `mutate` (AST mutants), `inputs`
(type-aware input generation), `assess` (the executions), `timeouts` (timeouts confirmed
under a generous limit, so that no decision depends on the machine's load; verification
uses it too), `report` (manifest, card, `appsplus quality`: tables or Markdown, load
filters), `options` (the build's CLI options).
"""

from __future__ import annotations

from typing import Any

_EXPORTS = ("FLAGS", "GeneratedTest", "Quality", "QualityConfig")


def __getattr__(name: str) -> Any:  # lazy: `appsplus --help` must not import pydantic
    if name in _EXPORTS:
        from appsplus.quality import models

        return getattr(models, name)
    raise AttributeError(name)
