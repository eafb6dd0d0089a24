"""A model-agnostic audit: the declaration checks and the whole assessment, on predictions
made by any framework (Keras, scikit-learn, an API), with the same reports as a run.

Rules of the scan and train stages cannot be evaluated without the data and the training,
so the audit drops them from the policy and records each as disabled with the reason.
"""

from __future__ import annotations

import csv
import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..api import RunOutcome, new_run_id, policy_evidence
from ..checks import evaluate
from ..data.datasheet import load_datasheet
from ..data.fingerprint import sha256_file
from ..environment import environment, git_commit, git_dirty
from ..errors import DataError, UsageError
from ..evidence import DatasetEvidence, RunEvidence
from ..gate import verdict
from ..policy import load_policy
from ..policy.schema import DisabledRule, ResolvedPolicy
from ..report import write_reports
from .assessment import assess_predictions, fairness_settings
from .fairness import group_label
from .predictions import LABEL, Predictions, read_predictions
from .utility import load_reference, utility_against

AUDIT_STAGES = ("declare", "assess")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AuditRequest:
    """What an audit needs; ``favourable_label`` overrides the datasheet's."""

    policy: str | Path
    predictions: Path
    output: Path = Path("reports")
    datasheet: Path | None = None
    favourable_label: str | None = None
    labels: list[str] | None = None
    sensitive_features: list[str] | None = None
    baseline: Path | None = None
    run_id: str | None = None
    seed: int = 0
    command: str = field(default_factory=lambda: shlex.join(["governed-finetune", *sys.argv[1:]]))


def audit_policy(policy: ResolvedPolicy) -> ResolvedPolicy:
    """The policy's declare and assess rules; the others become disabled, with the reason."""
    kept = [r for r in policy.rules if r.stage in AUDIT_STAGES]
    dropped = [DisabledRule(id=r.id, reason=f"not applicable to a predictions-only audit (stage {r.stage})")
               for r in policy.rules if r.stage not in AUDIT_STAGES]
    return policy.model_copy(update={"rules": kept, "disabled": [*policy.disabled, *dropped]})


def _write_predictions(preds: Predictions, path: Path) -> None:
    """Only the columns the audit used (no free text), missing groups as "unknown"."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record", "label", "prediction", *(f"score_{c}" for c in preds.classes if preds.probabilities),
                         *preds.groups])
        for row in range(len(preds.y_true)):
            scores = [f"{p:.6f}" for p in preds.probabilities[row]] if preds.probabilities else []
            writer.writerow([preds.records[row], preds.y_true[row], preds.y_pred[row], *scores,
                             *(group_label(v[row]) for v in preds.groups.values())])


def audit(request: AuditRequest) -> RunOutcome:
    """Validate every input first (errors raise ``GovernanceError``, nothing is written),
    then assess, check against the declare/assess rules and write the reports."""
    full = load_policy(request.policy)
    policy = audit_policy(full)
    datasheet = load_datasheet(request.datasheet) if request.datasheet else None
    favourable = request.favourable_label or (datasheet.favourable_label if datasheet else None)
    if not favourable:
        raise DataError("no favourable label: set favourable_label in the datasheet or pass --favourable-label "
                        "(label 1 is never assumed to be the favourable outcome)")
    features = request.sensitive_features
    if features is None and datasheet is not None:
        features = list(datasheet.columns.sensitive_features)
    preds = read_predictions(request.predictions, favourable_label=favourable, labels=request.labels,
                             sensitive_features=features)
    reference = load_reference(request.baseline) if request.baseline else None

    run_id = request.run_id or new_run_id()
    out_dir = Path(request.output) / run_id
    if out_dir.exists():
        raise UsageError(f"{out_dir}: already exists; choose another --run-id")
    out_dir.mkdir(parents=True)
    evidence = RunEvidence(
        run_id=run_id, tool_version=__version__, git_commit=git_commit(), git_dirty=git_dirty(),
        started_at=_now(), command=request.command,
        config={"mode": "audit", "predictions": str(request.predictions),
                "datasheet": str(request.datasheet) if request.datasheet else None,
                "favourable_label": favourable, "baseline": str(request.baseline) if request.baseline else None},
        environment=environment("cpu"), policy=policy_evidence(policy),
    )
    if datasheet is not None:
        from ..stages import declare

        evidence.declarations = declare(datasheet, request.datasheet)
        evidence.stages_run.append("declare")
    dropped = [d.id for d in policy.disabled if d.reason.startswith("not applicable to a predictions-only audit")]
    if dropped:
        evidence.warnings.append("rules of the scan and train stages were not evaluated (predictions-only audit): "
                                 + ", ".join(dropped))
    evidence.dataset = DatasetEvidence(
        path=str(request.predictions), sha256=sha256_file(request.predictions), format="csv",
        records=len(preds.y_true), text_column="(none: predictions only)", label_column=LABEL,
        sensitive_features=list(preds.groups), classes=preds.classes,
        label_counts={c: preds.y_true.count(c) for c in preds.classes}, test_records=len(preds.y_true),
    )
    saved = out_dir / "predictions.csv"
    _write_predictions(preds, saved)
    evidence.assessment = assess_predictions(
        y_true=preds.y_true, y_pred=preds.y_pred, classes=preds.classes, favourable_label=favourable,
        groups=preds.groups, settings=fairness_settings(policy, seed=request.seed),
        probabilities=preds.probabilities, predictions_path=saved.name, predictions_sha256=sha256_file(saved),
    )
    if reference is not None:
        evidence.assessment.utility = utility_against(evidence.assessment, reference=reference, path=request.baseline)
    evidence.stages_run.append("assess")
    from ..checks import plugin_failure_finding
    from ..plugins.record import attach_plugins, render_sections, run_collectors

    host = attach_plugins(evidence, policy)
    run_collectors(host, evidence, stage="assess", policy=policy, labels=preds.y_true, data_path=str(saved))
    evidence.findings = evaluate(policy, evidence, host)
    evidence.findings += [plugin_failure_finding(f) for f in render_sections(host, evidence)]
    evidence.verdict, evidence.exit_code = verdict(evidence.findings)
    evidence.finished_at = _now()
    write_reports(evidence, out_dir)
    return RunOutcome(evidence=evidence, report_dir=out_dir, exit_code=evidence.exit_code)
