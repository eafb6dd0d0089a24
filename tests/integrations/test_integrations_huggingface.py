"""Hugging Face GovernanceCallback: a blocking finding stops training (the README example runs in
test_readme_examples.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_blocking_finding_raises_before_training(tickets, tmp_path):
    import pandas as pd
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from finetune_governance.errors import BlockedError
    from finetune_governance.integrations import GovernanceCallback

    frame = pd.read_csv(tickets, dtype=str)
    callback = GovernanceCallback(policy=ROOT / "policies" / "gdpr.yaml", datasheet=tickets.parent / "datasheet.yaml",
                                  output_dir=tmp_path, train_dataset=frame, run_id="blocked")
    with pytest.raises(BlockedError, match="stopped before it began"):
        callback.on_train_begin(TrainingArguments(output_dir=str(tmp_path / "t"), report_to=[]), TrainerState(),
                                TrainerControl())
    audit = json.loads((tmp_path / "blocked" / "audit.json").read_text(encoding="utf-8"))
    assert audit["verdict"] == "fail" and audit["stopped_early"] and "train" not in audit["stages_run"]
    raw = frame["text"].str.extract(r"(user\d+@example\.com)")[0].dropna().tolist()
    written = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "blocked").iterdir() if p.is_file())
    assert raw and not any(v in written for v in raw)  # no raw PII in any report
