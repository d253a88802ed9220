"""An unprivileged uid with its own interpreter and a copy of the package (for root test runs).

CI runs as root; the rootless sandbox must be tested as a real ordinary uid. Root's own
interpreter is often unreadable by others (a pyenv under /root, mode 700), so this builds
a venv from an interpreter that uid can run, copies the package, the tests and the few
pure or compiled dependencies they need into it, and makes a home with a private key.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NONROOT_UID = 54321  # no passwd entry needed
DEPENDENCIES = ("pydantic", "click", "pytest", "numpy")  # and what they require (if installed)


def _distributions(names) -> list:
    """The installed distributions of `names` and of everything they require here."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen, todo, found = set(), list(names), []
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found.append(dist)
        for spec in dist.requires or ():
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- not a real key"


def _readable_by_others(path: Path) -> bool:
    for p in [path, *path.parents]:
        try:
            mode = p.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


def interpreter() -> str | None:
    """An interpreter of this Python's version that any uid can run, or None."""
    base = Path(sys.base_prefix)
    if _readable_by_others(base / "lib"):
        return str(Path(sys._base_executable))
    system = "/usr/bin/python3"
    if os.path.exists(system):
        out = subprocess.run(
            [system, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if out == str(sys.version_info[:2]):
            return system
    return None


def unavailable_reason() -> str | None:
    """Why the non-root run cannot happen here (None when it can)."""
    if sys.platform != "linux":
        return "Linux only"
    if os.geteuid() != 0:
        return "needs root to switch to an unprivileged uid (this run is already unprivileged)"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) not installed"
    if interpreter() is None:
        return f"no interpreter of Python {sys.version_info[:2]} readable by other uids"
    return None


def build(base: Path) -> dict[str, Path]:
    """Venv, package copy and home under `base` (which must not be under /tmp or /var/tmp:
    the sandbox covers those with private mounts, so the interpreter cannot live there)."""
    base.mkdir(mode=0o755)
    venv = base / "venv"
    subprocess.run([interpreter(), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    for dist in _distributions(DEPENDENCIES):
        for f in dist.files or ():
            path = Path(dist.locate_file(f))
            if path.is_file() and "__pycache__" not in f.parts and not str(f).startswith(".."):
                (site / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, site / f)
    src = base / "src"
    src.mkdir()
    shutil.copytree(REPO_ROOT / "appsplus", src / "appsplus", ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (src / "tests" / "execution").mkdir(parents=True)
    for name in ("conftest.py", "testkit.py"):  # the conftest imports testkit
        shutil.copy2(REPO_ROOT / "tests" / name, src / "tests" / name)
    for f in (REPO_ROOT / "tests" / "execution").glob("*.py"):
        shutil.copy2(f, src / "tests" / "execution" / f.name)
    shutil.copy2(REPO_ROOT / "pyproject.toml", src / "pyproject.toml")
    (site / "appsplus-src.pth").write_text(str(src) + "\n")
    home = base / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    key.write_text(SECRET)
    (home / "notes.txt").write_text("the user's file\n")
    for root, dirs, files in os.walk(base):  # the user owns its venv, checkout and home
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), NONROOT_UID, NONROOT_UID)
    key.chmod(0o600)
    for d in (home, home / ".ssh"):
        d.chmod(0o700)
    return {"python": venv / "bin" / "python", "src": src, "home": home, "venv": venv}


def command(env: dict[str, Path], *args: str, extra_env: dict[str, str] | None = None) -> list[str]:
    """`args` run by the venv's python as NONROOT_UID, with that uid's home and no caps
    (and an environment of only these variables and `extra_env`)."""
    extra = [f"{k}={v}" for k, v in (extra_env or {}).items()]
    return [
        "setpriv", f"--reuid={NONROOT_UID}", f"--regid={NONROOT_UID}", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--",
        "env", "-i", f"HOME={env['home']}", "PATH=/usr/bin:/bin", "USER=appsplus-test",
        "LANG=C.UTF-8", *extra, str(env["python"]), *args,
    ]  # fmt: skip
