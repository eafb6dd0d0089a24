"""The tool's git commit is its own checkout's, never that of a repository it is installed in."""

from __future__ import annotations

import subprocess
from pathlib import Path

from finetune_governance.environment import git_commit, git_dirty, tool_checkout


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def _repo(root: Path, pyproject: str) -> Path:
    root.mkdir(parents=True)
    _git(root, "init", "-q")
    _git(root, "config", "user.email", "t@example.invalid")
    _git(root, "config", "user.name", "t")
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    package = root / "finetune_governance"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "init")
    return package


def test_own_checkout_reports_its_commit_and_dirty_flag(tmp_path):
    package = _repo(tmp_path / "tool", '[project]\nname = "finetune-governance"\n')
    assert tool_checkout(package) == (tmp_path / "tool").resolve()
    assert git_commit(package) == _git(package.parent, "rev-parse", "HEAD")
    assert git_dirty(package) is False
    (package / "__init__.py").write_text("x = 1\n", encoding="utf-8")
    assert git_dirty(package) is True


def test_copy_installed_inside_another_repository_reports_no_commit(tmp_path):
    _repo(tmp_path / "user-project", '[project]\nname = "someone-elses-app"\n')
    installed = tmp_path / "user-project" / ".venv" / "lib" / "site-packages" / "finetune_governance"
    installed.mkdir(parents=True)
    assert tool_checkout(installed) is None
    assert git_commit(installed) is None and git_dirty(installed) is None


def test_same_layout_but_another_project_is_not_the_tool(tmp_path):
    package = _repo(tmp_path / "fork", '[project]\nname = "other"\n')
    assert git_commit(package) is None


def test_outside_git(tmp_path):
    package = tmp_path / "finetune_governance"
    package.mkdir()
    assert git_commit(package) is None and git_dirty(package) is None
