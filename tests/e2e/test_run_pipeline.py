"""The whole real pipeline (real Presidio, Opacus, Fairlearn, MiniLM) on a small slice."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.train import HistoryEntry, epsilon_from_history

from ..conftest import EXAMPLE

SLICE = 300

pytestmark = pytest.mark.e2e


def _planted_values(limit: int) -> list[str]:
    """The raw PII values planted in the first ``limit`` example records (ground truth)."""
    import csv

    with (EXAMPLE / "tickets.csv").open(encoding="utf-8", newline="") as handle:
        texts = [row["text"] for _, row in zip(range(limit), csv.DictReader(handle))]
    values = []
    for line in (EXAMPLE / "pii_spans.jsonl").read_text(encoding="utf-8").splitlines():
        span = json.loads(line)
        if span["record"] < limit:
            values.append(texts[span["record"]][span["start"]:span["end"]])
    return values


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(main, ["run", "--policy", "policies/gdpr.yaml", "--limit", str(SLICE),
                                       "--output", str(out), "--run-id", "e2e", "--quiet"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, out / "e2e"


def test_run_writes_every_artifact(run_dir):
    code, path = run_dir
    for name in ("audit.json", "audit.html", "model_card.md", "junit.xml", "predictions.csv", "run.log",
                 "model/model.safetensors", "model/config.json", "model/tokenizer.json"):
        assert (path / name).is_file(), name
    evidence = json.loads((path / "audit.json").read_text(encoding="utf-8"))
    assert evidence["stages_run"] == ["declare", "scan", "train", "assess"]
    assert code == evidence["exit_code"]
    assert evidence["verdict"] in ("pass", "fail")
    assert {f["rule_id"] for f in evidence["findings"]} >= {"gdpr.lawful-basis", "gdpr.minimisation.pii", "gdpr.privacy.dp"}


def test_scan_found_and_redacted_planted_pii(run_dir):
    _, path = run_dir
    scan = json.loads((path / "audit.json").read_text(encoding="utf-8"))["scan"]
    found = {e["entity_type"]: e["count"] for e in scan["entities"]}
    assert scan["records_scanned"] == SLICE
    assert found.get("EMAIL_ADDRESS", 0) > 0 and found.get("PERSON", 0) > 0
    assert scan["records_with_pii"] >= 50
    assert scan["residual"] is not None and scan["residual"]["rate"] <= 0.05


def test_epsilon_is_recomputable_from_the_accountant_history(run_dir):
    _, path = run_dir
    evidence = json.loads((path / "audit.json").read_text(encoding="utf-8"))
    privacy = evidence["privacy"]
    assert privacy["enabled"] and privacy["poisson_sampling"]
    history = [HistoryEntry(h["noise_multiplier"], h["sample_rate"], int(h["steps"])) for h in privacy["history"]]
    assert epsilon_from_history(history, delta=privacy["delta"]) == pytest.approx(privacy["epsilon"], abs=1e-5)
    assert privacy["epsilon"] <= 8.0
    assert privacy["delta"] < 1 / evidence["dataset"]["train_records"]
    assert privacy["epsilon_curve"][-1][1] == pytest.approx(privacy["epsilon"], abs=1e-5)


def test_fairness_is_recomputable_from_saved_predictions(run_dir):
    import pandas as pd

    _, path = run_dir
    evidence = json.loads((path / "audit.json").read_text(encoding="utf-8"))
    predictions = pd.read_csv(path / "predictions.csv", dtype=str)
    assert len(predictions) == evidence["assessment"]["test_records"]
    accuracy = (predictions["label"] == predictions["prediction"]).mean()
    assert accuracy == pytest.approx(evidence["assessment"]["accuracy"], abs=1e-6)
    favourable = evidence["assessment"]["favourable_label"]
    for feature in evidence["assessment"]["fairness"]:
        for group in feature["groups"]:
            rows = predictions[predictions[feature["feature"]] == group["group"]]
            assert len(rows) == group["count"]
            assert (rows["prediction"] == favourable).mean() == pytest.approx(group["selection_rate"], abs=1e-6)


def test_reports_parse_and_agree(run_dir):
    _, path = run_dir
    evidence = json.loads((path / "audit.json").read_text(encoding="utf-8"))
    suite = ET.parse(path / "junit.xml").getroot()
    assert int(suite.get("tests")) == len(evidence["findings"])
    card = (path / "model_card.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---")[1])
    metrics = front["model-index"][0]["results"][0]["metrics"]
    assert metrics[0]["value"] == evidence["assessment"]["accuracy"]
    html = (path / "audit.html").read_text(encoding="utf-8")
    assert f'data-verdict="{evidence["verdict"]}"' in html
    assert "<script" not in html.lower()


def test_no_raw_pii_in_any_written_text_file(run_dir):
    _, path = run_dir
    values = [v for v in _planted_values(SLICE) if len(v) >= 6]
    assert values
    for file in path.rglob("*"):
        if file.is_file() and file.suffix in (".json", ".html", ".md", ".xml", ".csv", ".log", ".txt"):
            if file.parent.name == "model":
                continue  # tokenizer vocabulary and config only
            text = file.read_text(encoding="utf-8")
            leaked = [v for v in values if v in text]
            assert not leaked, f"{file.name} holds {len(leaked)} raw PII value(s)"
