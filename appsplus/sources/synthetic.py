"""The synthetic problem family (`appsplus.synthetic`) as a build source: 'synthetic[:SPEC]'."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from appsplus.schema import RawRow
from appsplus.sources import Source, SourceError
from appsplus.synthetic import GENERATOR_VERSION, SyntheticSpec, generate


class SyntheticSource(Source):
    """Generated rows in the codeparrot/apps row format; each row carries its own split."""

    name = "synthetic"

    def __init__(self, spec: str = "") -> None:
        try:
            self.spec = SyntheticSpec.parse(spec)
        except ValueError as e:
            raise SourceError(str(e)) from None
        self._rows = [p.apps_row() for p in generate(self.spec)]

    @property
    def revision(self) -> str:
        data = json.dumps(self._rows, sort_keys=True).encode()
        return f"synthetic-v{GENERATOR_VERSION}:sha256:{hashlib.sha256(data).hexdigest()}"

    def iter_rows(self) -> Iterator[RawRow]:
        for ordinal, row in enumerate(self._rows):
            yield RawRow(
                source=self.name,
                format="apps_row",
                locator=f"synthetic:{row['split']}:{row['problem_id']}",
                ordinal=ordinal,
                raw=row,
            )
