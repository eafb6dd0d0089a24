"""Checkpoint and resume: a killed DP run, resumed, accounts exactly the steps it took."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finetune_governance.train import HistoryEntry, epsilon_from_history

WORKER = Path(__file__).with_name("resume_worker.py")


def _run(ckpt: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(WORKER), str(ckpt), str(out), *extra], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("plain")
    done = _run(base / "ckpt", base / "out.json")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((base / "out.json").read_text())


def test_uninterrupted_run_spends_the_calibrated_budget(uninterrupted):
    assert uninterrupted["steps"] == 18 and uninterrupted["lost"] == 0
    assert uninterrupted["mode"] == "bookkeeping"  # the default for this all-trainable BERT
    sigma, q, steps = uninterrupted["history"][0]
    assert steps == 18 and q == pytest.approx(1 / 6)
    assert uninterrupted["epsilon"] <= 3.0
    assert uninterrupted["epsilon"] == epsilon_from_history([HistoryEntry(sigma, q, 18)], delta=1e-3)
    assert [s for s, _ in uninterrupted["curve"]] == list(range(1, 19))


def test_sigkill_then_resume_accounts_every_step_taken(tmp_path, uninterrupted):
    killed = _run(tmp_path / "ckpt", tmp_path / "out.json", "--kill-at", "7", "--signal", "KILL")
    assert killed.returncode == -9
    ledger = (tmp_path / "ckpt" / "ledger.jsonl").read_text().splitlines()
    assert len(ledger) == 7  # written ahead of each step
    resumed = _run(tmp_path / "ckpt", tmp_path / "out.json", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["resumed_from"] == 6 and out["lost"] == 1
    # the lost step counts: the budget stops the resumed run one step early, at exactly the same epsilon
    assert out["steps"] == 17
    assert sum(h[2] for h in out["history"]) == 18
    assert out["epsilon"] == uninterrupted["epsilon"]
    assert out["stop"].startswith("stopped before step 18")


def test_sigterm_checkpoint_resumes_bit_for_bit(tmp_path, uninterrupted):
    stopped = _run(tmp_path / "ckpt", tmp_path / "out.json", "--kill-at", "9", "--signal", "TERM")
    assert stopped.returncode == 130, stopped.stderr[-2000:]
    assert "checkpoint saved at step 9" in json.loads((tmp_path / "out.json").read_text())["interrupted"]
    resumed = _run(tmp_path / "ckpt", tmp_path / "out.json", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["resumed_from"] == 9 and out["lost"] == 0
    assert out["epsilon"] == uninterrupted["epsilon"]
    assert out["curve"] == uninterrupted["curve"]
    assert out["losses"] == uninterrupted["losses"]
    assert out["weights"] == uninterrupted["weights"]
