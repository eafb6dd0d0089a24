"""GovernanceCallback: the docs example runs end to end; a blocking finding stops training."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _example() -> str:
    text = (ROOT / "docs" / "callback.md").read_text(encoding="utf-8")
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def test_docs_example_runs_and_writes_reports(tiny_bert, tickets, tmp_path, monkeypatch, capsys):
    shutil.copy(tickets.parent / "datasheet.yaml", tmp_path / "datasheet.yaml")
    code = (_example()
            .replace('resolve_text_model("minilm")', f'__import__("pathlib").Path({str(tiny_bert)!r})')
            .replace("examples/support_tickets/tickets.csv", str(tickets))
            .replace("examples/support_tickets/datasheet.yaml", str(tickets.parent / "datasheet.yaml"))
            .replace("policies/baseline.yaml", str(ROOT / "policies" / "baseline.yaml")))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "docs/callback.md", "exec"), namespace)  # noqa: S102 - the documented example
    governance = namespace["governance"]
    audit = json.loads((governance.report_dir / "audit.json").read_text(encoding="utf-8"))
    assert audit["stages_run"] == ["declare", "scan", "train", "assess"]
    assert audit["scan"]["records_with_pii"] > 0 and audit["training"]["steps"] == 12
    assert audit["assessment"]["test_records"] == 48 and audit["verdict"] == governance.evidence.verdict
    for name in ("audit.html", "model_card.md", "junit.xml", "predictions.csv"):
        assert (governance.report_dir / name).is_file()
    assert "verdict:" in capsys.readouterr().out


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
