"""MLflow logging: the payload is read from the evidence; a CLI run with --mlflow logs to a local file store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.evidence import RunEvidence
from finetune_governance.integrations.mlflow_log import ARTIFACT_PATH, log_run_to_mlflow, mlflow_payload


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    """A local MLflow file store (MLflow 3 asks for an explicit opt-in to the file backend)."""
    import mlflow

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield uri
    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture(scope="module")
def governed_run(tmp_path_factory, tiny_bert) -> tuple[int, Path, str]:
    """One real CLI run (tiny BERT, DP under GDPR) with --mlflow, logging to a fresh file store."""
    import os
    import shutil

    import mlflow

    from tests.conftest import EXAMPLE, write_tickets

    root = tmp_path_factory.mktemp("mlflow_run")
    data = write_tickets(root / "data" / "tickets.csv", n=160)
    shutil.copy(EXAMPLE / "datasheet.yaml", data.parent / "datasheet.yaml")
    policy = root / "policy.yaml"  # GDPR plus a membership-inference rule, so the audit runs and is logged;
    # the policy asks for MLflow logging itself (integrations.mlflow), so no --mlflow flag is passed
    policy.write_text('schema_version: 1\nname: t\ntitle: t\nversion: "1"\nextends: [gdpr]\n'
                      'integrations: {mlflow: true}\nrules:\n'
                      '  - {id: t.mia, title: Leakage, cites: ["c"], severity: warn, check: membership_inference,'
                      ' params: {max_auc: 0.99}}\n', encoding="utf-8")
    uri = (root / "mlruns").as_uri()
    saved = {k: os.environ.get(k) for k in ("MLFLOW_ALLOW_FILE_STORE", "MLFLOW_TRACKING_URI")}
    os.environ.update(MLFLOW_ALLOW_FILE_STORE="true", MLFLOW_TRACKING_URI=uri)
    mlflow.set_tracking_uri(uri)
    try:
        result = CliRunner().invoke(main, ["run", "--policy", str(policy), "--data", str(data), "--model", str(tiny_bert),
                                           "--epochs", "1", "--output", str(root / "reports"), "--run-id", "ml",
                                           "--quiet"])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert "Traceback" not in result.output and "MLflow: logged to run" in result.output, result.output
    return result.exit_code, root / "reports" / "ml", uri


def test_cli_run_logs_verdict_metrics_params_and_reports(governed_run):
    from mlflow.tracking import MlflowClient

    exit_code, report_dir, uri = governed_run
    audit = json.loads((report_dir / "audit.json").read_text(encoding="utf-8"))
    client = MlflowClient(tracking_uri=uri)
    (experiment,) = client.search_experiments()
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"  # started by the CLI, and ended
    metrics, params = run.data.metrics, run.data.params
    assert metrics["governance.exit_code"] == exit_code == audit["exit_code"]
    assert metrics["governance.passed"] == (1.0 if audit["verdict"] == "pass" else 0.0)
    assert run.data.tags["governance.verdict"] == audit["verdict"]
    assert metrics["accuracy"] == pytest.approx(audit["assessment"]["accuracy"])
    assert metrics["f1_macro"] == pytest.approx(audit["assessment"]["f1_macro"])
    assert audit["privacy"]["enabled"] and metrics["epsilon"] == pytest.approx(audit["privacy"]["epsilon"])
    assert metrics["delta"] == pytest.approx(audit["privacy"]["delta"])
    assert metrics["membership_auc"] == pytest.approx(audit["assessment"]["membership"]["auc"])
    gender = next(f for f in audit["assessment"]["fairness"] if f["feature"] == "gender")
    if gender["demographic_parity_ratio"] is not None:
        assert metrics["fairness.gender.demographic_parity_ratio"] == pytest.approx(gender["demographic_parity_ratio"])
    assert params == {"governance.run_id": "ml", "governance.policy": audit["policy"]["name"],
                      "governance.policy_sha256": audit["policy"]["sha256"],
                      "governance.tool_version": audit["tool_version"]}
    logged = {Path(f.path).name for f in client.list_artifacts(run.info.run_id, ARTIFACT_PATH)}
    assert {"audit.json", "audit.html", "junit.xml", "sarif.json", "model_card.md", "manifest.json"} <= logged
    assert "model" not in logged  # the weights folder is not copied into MLflow
    local = client.download_artifacts(run.info.run_id, f"{ARTIFACT_PATH}/audit.json", str(report_dir.parent / "dl"))
    assert Path(local).read_bytes() == (report_dir / "audit.json").read_bytes()


def test_logs_into_the_active_run_and_leaves_it_open(governed_run, store):
    import mlflow
    from mlflow.tracking import MlflowClient

    _, report_dir, _ = governed_run
    evidence = RunEvidence.model_validate_json((report_dir / "audit.json").read_text(encoding="utf-8"))
    with mlflow.start_run(run_name="my-training") as active:
        mlflow.log_param("lr", "0.001")
        logged = log_run_to_mlflow(evidence, report_dir)
        assert logged == active.info.run_id and mlflow.active_run() is not None
    run = MlflowClient().get_run(logged)
    assert run.data.params["lr"] == "0.001" and run.data.params["governance.run_id"] == "ml"
    assert set(mlflow_payload(evidence).metrics) == set(run.data.metrics)


def test_payload_of_a_blocked_run_has_the_verdict_and_no_metrics(governed_run):
    _, report_dir, _ = governed_run
    evidence = RunEvidence.model_validate_json((report_dir / "audit.json").read_text(encoding="utf-8"))
    blocked = evidence.model_copy(update={"assessment": None, "privacy": None, "verdict": "fail", "exit_code": 1,
                                          "stopped_early": "the policy blocks entity types found by the scan"})
    payload = mlflow_payload(blocked)
    assert payload.metrics == {"governance.exit_code": 1.0, "governance.passed": 0.0}
    assert payload.tags["governance.stopped_early"].startswith("the policy blocks")


def test_mlflow_flag_without_mlflow_is_an_input_error(monkeypatch, tickets):
    import sys

    monkeypatch.setitem(sys.modules, "mlflow", None)
    result = CliRunner().invoke(main, ["run", "--policy", "baseline", "--data", str(tickets), "--quiet", "--mlflow"])
    assert result.exit_code == 2 and "error: MLflow logging needs the mlflow package" in result.output


def test_policy_asking_for_mlflow_without_mlflow_is_an_input_error(monkeypatch, tickets, tmp_path):
    import sys

    policy = tmp_path / "policy.yaml"
    policy.write_text('schema_version: 1\nname: t\ntitle: t\nversion: "1"\nextends: [baseline]\n'
                      'integrations: {mlflow: true}\n', encoding="utf-8")
    monkeypatch.setitem(sys.modules, "mlflow", None)
    result = CliRunner().invoke(main, ["run", "--policy", str(policy), "--data", str(tickets), "--quiet"])
    assert result.exit_code == 2 and "error: MLflow logging needs the mlflow package" in result.output


def test_child_policy_can_switch_off_its_parents_mlflow(tmp_path):
    from finetune_governance.policy import load_policy

    parent = tmp_path / "parent.yaml"
    parent.write_text('schema_version: 1\nname: p\ntitle: p\nversion: "1"\nextends: [baseline]\n'
                      'integrations: {mlflow: true}\n', encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text('schema_version: 1\nname: c\ntitle: c\nversion: "1"\nextends: [parent.yaml]\n'
                     'integrations: {mlflow: false}\n', encoding="utf-8")
    assert load_policy(parent).integrations.mlflow is True
    assert load_policy(child).integrations.mlflow is False
