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


def git_commit(path: Path) -> str | None:
    """The commit of the checkout holding ``path``, or None outside git."""
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
