"""The example plugin (examples/plugin) really installed, with its entry point, into a
temporary site folder put on ``sys.path``; hosts are rebuilt around each test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PLUGIN = ROOT / "examples" / "plugin"


@pytest.fixture(scope="session")
def acme_site(tmp_path_factory) -> Path:
    """A folder holding the installed ``acme_governance`` package and its dist-info."""
    work = tmp_path_factory.mktemp("acme")
    source = work / "src"
    shutil.copytree(EXAMPLE_PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(source)], check=True)
    assert (site / "acme_governance").is_dir()
    return site


@pytest.fixture
def fresh_hosts():
    """Forget cached plugin hosts and analyzers before and after the test."""
    from finetune_governance.plugins import reset_hosts
    from finetune_governance.scan import engine

    reset_hosts()
    engine._BUILT.clear()
    yield
    reset_hosts()
    engine._BUILT.clear()


@pytest.fixture
def acme(acme_site, monkeypatch, fresh_hosts) -> Path:
    """The example plugin discoverable through its entry point for this test."""
    monkeypatch.syspath_prepend(str(acme_site))
    monkeypatch.delenv("FTG_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    yield acme_site
    for name in [m for m in sys.modules if m == "acme_governance" or m.startswith("acme_governance.")]:
        del sys.modules[name]


@pytest.fixture
def plugin_module(tmp_path, monkeypatch, fresh_hosts):
    """Write a plugin module ``name`` with ``source`` on sys.path (for policy ``plugins:``)."""
    folder = tmp_path / "plugin_modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    written: list[str] = []

    def write(name: str, source: str) -> str:
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)
