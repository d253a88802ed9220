"""The embedded sample as a built APPS+ dataset: built once, cached, shared by every user.

    from appsplus.curate.sample_dataset import built_sample
    folder = built_sample()        # an `appsplus build --source sample` folder, hash-checked

The one way the sample becomes a dataset: `bench`'s `sample` suite and the trainers'
`load_records("sample")` read this folder exactly as they read any other build.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

BUILD_CODE = (  # the source of these modules and packages is part of the cache key
    "appsplus.curate",
    "appsplus.quality",
    "appsplus.execution",
    "appsplus.sources",
    "appsplus.record",
    "appsplus.schema",
)


def _code_files() -> list[Path]:
    """Every source file of BUILD_CODE (a package: all its modules), in a stable order."""
    files: list[Path] = []
    for name in BUILD_CODE:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        origin = Path(spec.origin)
        files += sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
    return files


def cache_root() -> Path:
    """$APPSPLUS_CACHE, else $XDG_CACHE_HOME/appsplus, else ~/.cache/appsplus."""
    if os.environ.get("APPSPLUS_CACHE"):
        return Path(os.environ["APPSPLUS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appsplus"


def built_sample() -> Path:
    """The embedded sample built as APPS+ with the default config, cached under `cache_root()`
    by the sample's and the build code's hashes; rebuilt when the cached copy is damaged."""
    from appsplus import __version__
    from appsplus.curate.manifest import MANIFEST_FILE
    from appsplus.curate.pipeline import BuildConfig, build
    from appsplus.dataset import verify_hashes
    from appsplus.sources.sample import sample_bytes

    digest = hashlib.sha256(sample_bytes())
    for path in _code_files():
        digest.update(path.read_bytes())
    final = cache_root() / "bench" / f"sample-{__version__}-{digest.hexdigest()[:16]}"
    if (final / MANIFEST_FILE).is_file() and not verify_hashes(final):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".building-"))
    try:
        logger.info("building the embedded sample as APPS+ into %s (once)", final)
        build(BuildConfig(source="sample"), tmp)
        shutil.rmtree(final, ignore_errors=True)
        try:
            tmp.rename(final)
        except OSError:  # another process finished first: use its build
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
