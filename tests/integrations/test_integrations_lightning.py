"""Lightning GovernanceCallback: a passing fit writes the reports; a blocking finding stops before step 1."""

from __future__ import annotations

import json
from pathlib import Path

import lightning.pytorch as pl
import pandas as pd
import pytest
from transformers import AutoTokenizer

from finetune_governance.errors import BlockedError, UsageError
from finetune_governance.integrations import LightningGovernanceCallback

from .lightning_module import BagOfTokens, loader, trainer

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["routine", "urgent"]


@pytest.fixture
def frames(tickets):
    frame = pd.read_csv(tickets, dtype=str)
    return frame.iloc[:192].reset_index(drop=True), frame.iloc[192:].reset_index(drop=True)


@pytest.fixture
def module(tiny_bert) -> BagOfTokens:
    pl.seed_everything(0, verbose=False)
    return BagOfTokens(AutoTokenizer.from_pretrained(tiny_bert), LABELS)


def test_fit_under_baseline_writes_reports(module, frames, tickets, tmp_path):
    train, test = frames
    callback = LightningGovernanceCallback(
        policy=ROOT / "policies" / "baseline.yaml", datasheet=tickets.parent / "datasheet.yaml",
        output_dir=tmp_path, train_dataset=train, eval_dataset=test, labels=LABELS, seed=0, max_length=32,
        predict=lambda m, texts: m.predict_labels(texts), run_id="lightning")
    trainer(callbacks=[callback]).fit(module, loader(module, train))
    audit = json.loads((tmp_path / "lightning" / "audit.json").read_text(encoding="utf-8"))
    assert audit["stages_run"] == ["declare", "scan", "train", "assess"]
    assert audit["verdict"] == "pass" and callback.exit_code == 0
    assert audit["training"]["steps"] == 24 and audit["training"]["epochs"] == 2  # 192 records / 16, 2 epochs
    assert len(audit["training"]["loss_per_epoch"]) == 2 and audit["training"]["seed"] == 0
    assert audit["training"]["weight_decay"] == 0.01 and audit["training"]["batch_size"] == 16
    assert audit["assessment"]["test_records"] == 48 and {f["feature"] for f in audit["assessment"]["fairness"]} \
        == {"gender", "age_band"}
    predictions = pd.read_csv(tmp_path / "lightning" / "predictions.csv", dtype=str)
    expected = [LABELS[i] for i in module.predict_labels(list(test["text"]))]
    assert list(predictions["prediction"]) == expected  # the assessment scored the trained module's predictions
    assert audit["assessment"]["accuracy"] == pytest.approx((predictions["label"] == predictions["prediction"]).mean())
    assert audit["privacy"]["enabled"] is False
    for name in ("audit.html", "model_card.md", "junit.xml", "sarif.json"):
        assert (tmp_path / "lightning" / name).is_file()


def test_blocking_finding_stops_before_the_first_step(module, frames, tickets, tmp_path):
    train, _ = frames
    steps: list[int] = []

    class CountSteps(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            steps.append(batch_idx)

    callback = LightningGovernanceCallback(
        policy=ROOT / "policies" / "gdpr.yaml", datasheet=tickets.parent / "datasheet.yaml", output_dir=tmp_path,
        train_dataset=train, seed=0, run_id="blocked")
    before = [p.detach().clone() for p in module.parameters()]
    with pytest.raises(BlockedError, match="stopped before it began"):
        trainer(callbacks=[callback, CountSteps()]).fit(module, loader(module, train))
    assert steps == [] and all((a == b).all() for a, b in zip(before, module.parameters()))
    audit = json.loads((tmp_path / "blocked" / "audit.json").read_text(encoding="utf-8"))
    assert audit["verdict"] == "fail" and audit["exit_code"] == 1 and audit["stopped_early"]
    assert "train" not in audit["stages_run"]
    raw = train["text"].str.extract(r"(user\d+@example\.com)")[0].dropna().tolist()
    written = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "blocked").iterdir() if p.is_file())
    assert raw and not any(v in written for v in raw)  # no raw PII in any report


def test_eval_data_without_predict_is_a_usage_error(tickets, tmp_path):
    with pytest.raises(UsageError, match="predict="):
        LightningGovernanceCallback(policy="baseline", datasheet=tickets.parent / "datasheet.yaml",
                                    output_dir=tmp_path, train_dataset={"text": []}, eval_dataset={"text": []})


def test_package_imports_without_lightning(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['lightning'] = None; sys.modules['mlflow'] = None\n"
            "import finetune_governance.integrations as i\n"
            "from finetune_governance.integrations import GovernanceSession\n"
            "try:\n    i.LightningGovernanceCallback\nexcept ImportError:\n    print('lazy')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=True)
    assert out.stdout.strip() == "lazy"


def test_mlflow_flag_logs_to_the_trainers_mlflow_logger_run(module, frames, tickets, tmp_path, monkeypatch):
    from lightning.pytorch.loggers import MLFlowLogger
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    train, test = frames
    logger = MLFlowLogger(experiment_name="tickets", tracking_uri=(tmp_path / "mlruns").as_uri())
    callback = LightningGovernanceCallback(
        policy="baseline", datasheet=tickets.parent / "datasheet.yaml", output_dir=tmp_path / "reports",
        train_dataset=train, eval_dataset=test, labels=LABELS, seed=0, run_id="ml",
        predict=lambda m, texts: m.predict_labels(texts), mlflow=True)
    pl.Trainer(accelerator="cpu", max_epochs=1, logger=logger, enable_checkpointing=False, enable_progress_bar=False,
               enable_model_summary=False, callbacks=[callback]).fit(module, loader(module, train))
    assert callback.session.mlflow_run_id == logger.run_id
    run = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri()).get_run(logger.run_id)
    assert "train_loss" in run.data.metrics  # the module's own metrics and the governance ones share the run
    assert run.data.metrics["accuracy"] == pytest.approx(callback.evidence.assessment.accuracy)
    assert run.data.params["governance.policy"] == "baseline" and run.data.tags["governance.verdict"] == "pass"
