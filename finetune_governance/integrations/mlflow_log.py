"""Log a finished governed run to MLflow: verdict, key metrics, policy and the report files.

``mlflow_payload`` is pure (evidence -> metrics, params, tags); ``log_run_to_mlflow`` writes it,
with the report files as artifacts under ``governance/``, to the active MLflow run (one is
started, and ended, when none is active) or to a given run id. The tracking server comes from
MLflow's own configuration (``MLFLOW_TRACKING_URI`` or ``mlflow.set_tracking_uri``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..evidence import RunEvidence

ARTIFACT_PATH = "governance"
MISSING_MLFLOW = ("MLflow logging needs the mlflow package (mlflow-skinny is enough): "
                  "pip install 'finetune-governance[integrations]'")
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")
FAIRNESS_AGGREGATES = ("demographic_parity_ratio", "demographic_parity_difference", "accuracy_difference",
                       "equalized_odds_difference", "equal_opportunity_difference", "impact_ratio")


@dataclass(frozen=True)
class MlflowPayload:
    """What one run logs: metric name -> value, param name -> value, tag name -> value."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def require_mlflow() -> None:
    """Raise ``UsageError`` when mlflow cannot be imported."""
    try:
        import mlflow  # noqa: F401
    except ImportError as exc:
        raise UsageError(MISSING_MLFLOW) from exc


def _key(name: str) -> str:
    return _UNSAFE.sub("_", name)


def mlflow_payload(evidence: RunEvidence) -> MlflowPayload:
    """The verdict, key metrics and identifying params of one run, all read from its evidence.

    Metrics: ``governance.exit_code``, ``governance.passed`` (1/0), ``accuracy``, ``f1_macro``,
    ``epsilon`` and ``delta`` (DP runs), ``fairness.<feature>.<aggregate>`` and
    ``membership_auc`` when assessed. Params: ``governance.run_id``, ``governance.policy``,
    ``governance.policy_sha256``, ``governance.tool_version``.
    """
    metrics: dict[str, float] = {}
    if evidence.exit_code is not None:
        metrics["governance.exit_code"] = float(evidence.exit_code)
    if evidence.verdict is not None:
        metrics["governance.passed"] = 1.0 if evidence.verdict == "pass" else 0.0
    privacy = evidence.privacy
    if privacy is not None and privacy.enabled:
        for name in ("epsilon", "delta"):
            value = getattr(privacy, name)
            if value is not None:
                metrics[name] = float(value)
    assessment = evidence.assessment
    if assessment is not None:
        metrics["accuracy"] = float(assessment.accuracy)
        metrics["f1_macro"] = float(assessment.f1_macro)
        for feature in assessment.fairness:
            for name in FAIRNESS_AGGREGATES:
                value = getattr(feature, name)
                if value is not None:
                    metrics[_key(f"fairness.{feature.feature}.{name}")] = float(value)
        if assessment.membership is not None:
            metrics["membership_auc"] = float(assessment.membership.auc)
    params = {
        "governance.run_id": evidence.run_id,
        "governance.policy": evidence.policy.name,
        "governance.policy_sha256": evidence.policy.sha256,
        "governance.tool_version": evidence.tool_version,
    }
    tags = {"governance.verdict": evidence.verdict or "none",
            "governance.stopped_early": evidence.stopped_early or ""}
    return MlflowPayload(metrics=metrics, params=params, tags=tags)


def report_files(report_dir: Path) -> list[Path]:
    """The run folder's top-level files (reports, predictions, log); the model folder is left out."""
    return sorted(p for p in Path(report_dir).iterdir() if p.is_file())


def log_run_to_mlflow(evidence: RunEvidence, report_dir: Path, *, run_id: str | None = None,
                      tracking_uri: str | None = None) -> str:
    """Log ``evidence`` and the files of ``report_dir`` to MLflow; returns the MLflow run id.

    To ``run_id`` when given, else to the active run; with neither, a run named after the
    governance run is started and ended here.
    """
    require_mlflow()
    import mlflow
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    payload = mlflow_payload(evidence)
    started = None
    if run_id is None:
        active = mlflow.active_run()
        if active is None:
            started = mlflow.start_run(run_name=f"governance-{evidence.run_id}")
            active = started
        run_id = active.info.run_id
    client = MlflowClient(tracking_uri=tracking_uri)
    status = "FAILED"
    try:
        import time

        now = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in sorted(payload.metrics.items())],
                         params=[Param(k, v) for k, v in sorted(payload.params.items())],
                         tags=[RunTag(k, v) for k, v in sorted(payload.tags.items())])
        for path in report_files(report_dir):
            client.log_artifact(run_id, str(path), ARTIFACT_PATH)
        status = "FINISHED"
    finally:
        if started is not None:
            mlflow.end_run(status=status)
    return run_id


__all__ = ["ARTIFACT_PATH", "MlflowPayload", "log_run_to_mlflow", "mlflow_payload", "report_files", "require_mlflow"]
