"""What test modules import directly (a conftest is not importable by name: there are
several): the real-data folder and a skip that names the real import error."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# The real data (APPS, APPS+, HumanEval, MBPP, EvalPlus): $APPSPLUS_DATA_DIR, else
# ../shared/data beside the checkout. Tests that need it skip when it is absent.
DATA_ENV = "APPSPLUS_DATA_DIR"
SHARED_DATA = Path(os.environ.get(DATA_ENV) or REPO_ROOT.parent / "shared" / "data")


def require(module: str, hint: str):
    """Import `module` or skip, naming the real import error and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pytest.skip(f"{module} is not importable ({type(e).__name__}: {e}); {hint}")
