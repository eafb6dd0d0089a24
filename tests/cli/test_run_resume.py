"""`governed-finetune run --resume`: a run killed with SIGKILL, resumed from its last checkpoint,
reports exactly the epsilon of the uninterrupted run with the same steps."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from finetune_governance.errors import GovernanceError
from finetune_governance.runconfig import build_config, resume_config
from finetune_governance.train import HistoryEntry, epsilon_from_history

from ..conftest import ROOT

POLICY = """schema_version: 1
name: dp-only
title: DP only
version: "1"
rules:
  - id: dp.budget
    title: DP within budget
    cites: ["GDPR Art. 25(1)"]
    severity: block
    check: privacy
    params: {differential_privacy: required, max_epsilon: 3.0, max_delta: 1/N, max_grad_norm: 1.0}
"""


def _config(tmp: Path, data: Path, model: Path) -> Path:
    path = tmp / "run.yaml"
    path.write_text(f"""schema_version: 1
data: {{path: {data}, datasheet: {data.parent / 'datasheet.yaml'}}}
model: {{base: {model}, max_length: 32, head: auto, freeze: none}}
training: {{epochs: 10, batch_size: 16, learning_rate: 0.01, seed: 5, device: cpu, grad_sample_mode: hooks}}
output: {{root: {tmp / 'reports'}, save_model: false}}
""", encoding="utf-8")
    (tmp / "policy.yaml").write_text(POLICY, encoding="utf-8")
    return path


def _cli(tmp: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "finetune_governance.cli", "run", "--policy",
                             str(tmp / "policy.yaml"), "--quiet", *args], env=env, cwd=tmp,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _audit(tmp: Path, run_id: str) -> dict:
    return json.loads((tmp / "reports" / run_id / "audit.json").read_text(encoding="utf-8"))


@pytest.fixture
def setup(tmp_path, tickets, tiny_bert) -> tuple[Path, Path]:
    return tmp_path, _config(tmp_path, tickets, tiny_bert)


def test_sigkill_then_resume_reports_the_uninterrupted_epsilon(setup):
    tmp, config = setup
    plain = _cli(tmp, "--config", str(config), "--run-id", "plain")
    out, err = plain.communicate(timeout=300)
    assert plain.returncode == 0, err[-2000:]
    reference = _audit(tmp, "plain")["privacy"]
    assert reference["steps"] == reference["steps_accounted"] == 120 and reference["resumed_from_step"] is None

    shutil.rmtree(tmp / "reports" / "checkpoints")  # same plan, same folder: wait for the killed run's own
    killed = _cli(tmp, "--config", str(config), "--run-id", "killed")
    deadline = time.monotonic() + 300
    while not list((tmp / "reports" / "checkpoints").glob("*/latest")):  # the first epoch's checkpoint
        assert killed.poll() is None and time.monotonic() < deadline, killed.communicate()[1][-2000:]
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    run_dir = tmp / "reports" / "killed"
    assert not (run_dir / "audit.json").exists() and (run_dir / "run_config.json").is_file()

    resumed = _cli(tmp, "--resume", str(run_dir), "--run-id", "resumed")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err[-2000:]
    audit = _audit(tmp, "resumed")
    privacy, training = audit["privacy"], audit["training"]
    assert audit["config"]["training"]["resume"] is True
    assert privacy["resumed_from_step"] is not None and privacy["resumed_from_step"] % 12 == 0  # an epoch end
    # every step the killed run took is accounted, including those after its last checkpoint
    assert privacy["steps_accounted"] == sum(h["steps"] for h in privacy["history"]) == 120
    assert privacy["steps"] + privacy["lost_steps"] == 120
    assert privacy["epsilon"] == reference["epsilon"]  # same steps, same epsilon: never less
    assert privacy["epsilon"] == pytest.approx(epsilon_from_history(
        [HistoryEntry(**h) for h in privacy["history"]], delta=privacy["delta"]), abs=1e-6)
    assert privacy["noise_multiplier"] == reference["noise_multiplier"]
    assert training["resumed_from_step"] == privacy["resumed_from_step"]


def test_resume_finds_the_saved_config_in_run_and_checkpoint_folders(tmp_path):
    from finetune_governance.config import load_config, saved_config_json
    from ..conftest import EXAMPLE

    config = load_config(EXAMPLE / "run.yaml")
    ckpt = tmp_path / "ckpt"
    (ckpt / "ckpt-0001-000000").mkdir(parents=True)
    (ckpt / "ckpt-0001-000000" / "state.json").write_text("{}")
    (ckpt / "latest").write_text("ckpt-0001-000000")
    (ckpt / "run_config.json").write_text(saved_config_json(config))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run_config.json").write_text(saved_config_json(config))
    for path, expected in ((ckpt, ckpt), (ckpt / "ckpt-0001-000000", ckpt), (run_dir, None)):
        resumed = resume_config(path)
        assert resumed.training.resume is True and resumed.data.path == config.data.path
        assert resumed.training.checkpoint_dir == (expected.resolve() if expected else None)
    with pytest.raises(GovernanceError, match="no run_config.json there"):
        resume_config(tmp_path)
    with pytest.raises(GovernanceError, match="drop --epochs"):
        build_config(config_path=None, data=None, datasheet=None, epochs=2, resume=run_dir)
    (run_dir / "run_config.json").write_text("{not json")
    with pytest.raises(GovernanceError, match="not a saved run config"):
        resume_config(run_dir)
