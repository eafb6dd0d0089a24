"""An installed wheel works without the source checkout: bundled policy packs and report
templates are package data, the tool reports no git commit of its own, and a run with
--data needs no bundled example."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed_copy(tmp_path_factory) -> Path:
    """The project's wheel, built here and unpacked as a site folder."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "reports", "test-artifacts", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(source),
                    "-w", str(out)], check=True, cwd=out)
    [wheel] = out.glob("finetune_governance-*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def _python(site: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=site.parent,
                          check=True)
    return done.stdout.strip()


def test_wheel_carries_the_packs_and_templates(installed_copy):
    packs = sorted(p.name for p in (installed_copy / "finetune_governance" / "packs").iterdir())
    assert {"gdpr.yaml", "hipaa.yaml", "eu-ai-act-high-risk.yaml", "nyc-ll144.yaml", "nyc-ll144-scoring.yaml",
            "baseline.yaml", "policy.schema.json", "README.md"} <= set(packs)
    templates = installed_copy / "finetune_governance" / "report" / "templates"
    assert (templates / "audit.html.j2").is_file() and (templates / "model_card.md.j2").is_file()


def test_installed_copy_loads_bundled_packs_by_name(installed_copy):
    found = json.loads(_python(installed_copy, (
        "import json, finetune_governance as f\n"
        "from finetune_governance.policy import load_policy\n"
        "from finetune_governance.policy.loader import bundled_policies\n"
        "from finetune_governance.environment import git_commit\n"
        "print(json.dumps({'file': f.__file__, 'packs': sorted(bundled_policies()),\n"
        "                  'gdpr_rules': len(load_policy('gdpr').rules), 'commit': git_commit()}))")))
    assert found["file"].startswith(str(installed_copy))  # the unpacked wheel, not the checkout
    assert "gdpr" in found["packs"] and found["gdpr_rules"] > 5
    assert found["commit"] is None  # an installed copy has no commit of its own


def test_run_config_without_the_bundled_example(monkeypatch, tickets):
    from finetune_governance import runconfig
    from finetune_governance.errors import UsageError

    monkeypatch.setattr(runconfig, "EXAMPLE_CONFIG", Path("/nonexistent/run.yaml"))
    config = runconfig.build_config(config_path=None, data=tickets, datasheet=None)
    assert config.data.path == tickets and config.data.datasheet == tickets.parent / "datasheet.yaml"
    with pytest.raises(UsageError, match="give --config RUN.yaml or --data FILE"):
        runconfig.build_config(config_path=None, data=None, datasheet=None)
