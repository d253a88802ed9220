"""`codeparrot/apps` on the Hugging Face hub: its raw train.jsonl/test.jsonl at a pinned revision.

The dataset's loading script (apps.py) does not run under current `datasets`, so the two
jsonl files are fetched with `huggingface_hub.hf_hub_download` into the normal HF cache
and read like any local jsonl file. The fetch function is injectable: tests pass one that
returns local files of the same format.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from appsplus.schema import RawRow, Split
from appsplus.sources import SOURCE_FLAG, Source, SourceUnavailable, alternatives
from appsplus.sources.local import iter_jsonl

logger = logging.getLogger(__name__)

REPO_ID = "codeparrot/apps"
# The revision to read. Pin it to a 40-hex commit of codeparrot/apps that still has
# train.jsonl/test.jsonl at the repo root (a later parquet conversion may remove them);
# with a commit hash, a cached copy is used without any network access. Whatever this
# is, `HubSource.revision` reports the commit actually downloaded.
APPS_REVISION = "main"
SPLIT_FILES: tuple[tuple[Split, str], ...] = (("train", "train.jsonl"), ("test", "test.jsonl"))

Fetch = Callable[[str, str, str], Path]
"""(repo_id, filename, revision) -> local path of the file; raises SourceUnavailable (the
source adds the alternatives, named with the command's option)."""


def _hub_reachable(endpoint: str, timeout_s: float = 3.0) -> bool:
    """A quick TCP probe, so an offline machine fails at once instead of after HTTP retries."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # a proxy may be the only way out: let the HTTP client decide
    url = urlsplit(endpoint)
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
        with socket.create_connection((url.hostname or "", port), timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


def hf_fetch(repo_id: str, filename: str, revision: str) -> Path:
    """Return one file of a dataset repo from the HF cache, downloading it if needed."""
    try:
        from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache
    except ImportError as e:
        raise SourceUnavailable("huggingface_hub is not installed") from e
    cached = try_to_load_from_cache(repo_id, filename, revision=revision, repo_type="dataset")
    if isinstance(cached, str):
        return Path(cached)
    if constants.HF_HUB_OFFLINE or not _hub_reachable(constants.ENDPOINT):
        raise SourceUnavailable(
            f"cannot fetch {filename} of {repo_id} at revision {revision!r}: offline "
            f"({constants.ENDPOINT} is unreachable) and no cached copy"
        )
    try:
        path = hf_hub_download(
            repo_id=repo_id, filename=filename, repo_type="dataset", revision=revision
        )
    except Exception as e:  # network, missing file, auth: all mean "not available"
        first_line = str(e).splitlines()[0] if str(e) else "no detail"
        raise SourceUnavailable(
            f"cannot fetch {filename} of {repo_id} at revision {revision!r} "
            f"({type(e).__name__}: {first_line})"
        ) from e
    return Path(path)


def _commit_of(path: Path, fallback: str) -> str:
    # HF cache layout: .../datasets--codeparrot--apps/snapshots/<commit>/train.jsonl
    parent = path.parent.name
    if path.parent.parent.name == "snapshots" and len(parent) == 40:
        return parent
    return fallback


class HubSource(Source):
    """codeparrot/apps train.jsonl then test.jsonl, fetched lazily on `prepare()`/`iter_rows()`."""

    def __init__(
        self,
        revision: str = APPS_REVISION,
        fetch: Fetch = hf_fetch,
        repo_id: str = REPO_ID,
        flag: str = SOURCE_FLAG,
    ) -> None:
        self.repo_id = repo_id
        self.flag = flag  # the option that named this source, for the alternatives
        self.requested_revision = revision
        self.fetch = fetch
        self.name = f"hf:{repo_id}"
        self._paths: list[tuple[Split, str, Path]] | None = None

    def prepare(self) -> None:
        if self._paths is None:
            paths = []
            for split, filename in SPLIT_FILES:
                try:
                    path = self.fetch(self.repo_id, filename, self.requested_revision)
                except SourceUnavailable as e:
                    raise SourceUnavailable(f"{e}. Alternatives: {alternatives(self.flag)}") from e
                logger.info(
                    "%s %s at %s -> %s", self.repo_id, filename, self.requested_revision, path
                )
                paths.append((split, filename, path))
            self._paths = paths

    @property
    def revision(self) -> str:
        """The commit downloaded once prepared (from the HF cache path), else the requested one."""
        if self._paths:
            return _commit_of(self._paths[0][2], self.requested_revision)
        return self.requested_revision

    def iter_rows(self) -> Iterator[RawRow]:
        self.prepare()
        assert self._paths is not None
        for split, filename, path in self._paths:
            with path.open("rb") as f:
                yield from iter_jsonl(f, source=self.name, label=filename, split=split)
