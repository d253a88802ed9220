"""Several sources read as one, in the order given: `appsplus build --source A --source B`.

    source = MixedSource([open_source("sample"), open_source("taco:PATH")], ["sample", "taco:PATH"])
    for row in source.iter_rows(): ...     # every row of A, then every row of B

Rows keep their own source's name (`RawRow.source`), so problem ids, rejections and
records say where each came from (ids are already qualified: 'apps/...', 'taco/...',
'codecontests/...', 'livecodebench/...'). The revision is a sha256 over every source's
spec and revision, in order, so a build's config and revision cover every source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from itertools import islice

from appsplus.schema import RawRow
from appsplus.sources import SOURCE_FLAG, Source, SourceError


def licence_of(source: Source, spec: str) -> str:
    """A source's licence: its own attribute (published datasets), else by its kind."""
    found = getattr(source, "licence", None)
    if found:
        return str(found)
    kind = spec.split(":", 1)[0].split("@", 1)[0].split(",", 1)[0]
    return {"stepcoder": "apache-2.0", "synthetic": "mit"}.get(kind, "mit")


class MixedSource(Source):
    """The rows of several sources, one source after the other."""

    def __init__(self, sources: list[Source], specs: list[str], flag: str = SOURCE_FLAG) -> None:
        if len(sources) != len(specs) or len(sources) < 2:
            raise ValueError("a mixed source needs two or more sources, one spec each")
        names = [s.name for s in sources]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise SourceError(f"{flag} {twice[0]}: given more than once")
        self.sources, self.specs = sources, specs
        self.name = " + ".join(names)
        self.expects = "; ".join(f"{s.name}: {s.expects}" for s in sources)

    @property
    def revision(self) -> str:
        digest = hashlib.sha256()
        for spec, source in zip(self.specs, self.sources, strict=True):
            digest.update(f"{spec}\0{source.revision}\n".encode())
        return "sha256:" + digest.hexdigest()

    def prepare(self) -> None:
        for source in self.sources:
            source.prepare()

    def iter_rows(self, limit_each: int | None = None) -> Iterator[RawRow]:
        """Every row of each source in turn; `limit_each`: at most that many of each."""
        for source in self.sources:
            yield from islice(source.iter_rows(), limit_each)
