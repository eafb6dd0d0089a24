"""Facts about the machine and the code that ran: versions, device, git commit."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .evidence import EnvironmentEvidence

PACKAGES = (
    "finetune-governance", "torch", "torchvision", "transformers", "opacus", "presidio-analyzer",
    "presidio-anonymizer", "spacy", "fairlearn", "scikit-learn", "numpy", "pandas", "jinja2", "pydantic",
)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def environment(device: str) -> EnvironmentEvidence:
    return EnvironmentEvidence(
        python=sys.version.split()[0],
        platform=platform.platform(),
        packages=package_versions(),
        device=device,
    )


def _git(path: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def tool_checkout(package_dir: Path) -> Path | None:
    """The git checkout of finetune-governance itself holding ``package_dir``, or None.

    A checkout counts only when its top level is the package's parent folder and its
    pyproject names this project: a tool installed in a virtual environment inside someone
    else's repository must not report that repository's commit as its own."""
    top = _git(package_dir, "rev-parse", "--show-toplevel")
    if not top or Path(top).resolve() != package_dir.resolve().parent:
        return None
    pyproject = Path(top) / "pyproject.toml"
    try:
        named = 'name = "finetune-governance"' in pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    return Path(top) if named else None


PACKAGE_DIR = Path(__file__).resolve().parent


def git_commit(package_dir: Path = PACKAGE_DIR) -> str | None:
    """The commit of the tool's own checkout (see ``tool_checkout``), or None for an installed copy."""
    top = tool_checkout(package_dir)
    return (_git(top, "rev-parse", "HEAD") or None) if top is not None else None


def git_dirty(package_dir: Path = PACKAGE_DIR) -> bool | None:
    """True when the tool's own checkout has uncommitted changes to tracked files; None outside one."""
    top = tool_checkout(package_dir)
    if top is None:
        return None
    status = _git(top, "status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)
