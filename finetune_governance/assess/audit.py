"""A model-agnostic audit: the declaration checks and the whole assessment, on predictions
made by any framework (Keras, scikit-learn, an API), with the same reports as a run.

Rules of the scan and train stages cannot be evaluated without the data and the training,
so the audit drops them from the policy and records each as disabled with the reason. With
a ``member`` column (1 = training record, 0 = held-out) and class probabilities, the held-out
rows are assessed and the membership-inference attack compares the two.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..api import RunOutcome, decide, new_run_id, policy_evidence, withhold_read_values
from ..checks.pii import read_columns_stop_reason
from ..data.datasheet import load_datasheet
from ..data.fingerprint import sha256_file
from ..environment import environment, git_commit, git_dirty
from ..errors import DataError, UsageError
from ..evidence import AssessmentEvidence, DatasetEvidence, RunEvidence
from ..policy import load_policy
from ..policy.schema import DisabledRule, ResolvedPolicy
from ..plugins.record import attach_plugins, record_plugin_failures, run_collectors
from ..report import write_reports
from .assessment import assess_predictions, fairness_plan, resolve_favourable_label
from .predictions import LABEL, MEMBER, Predictions, read_predictions, write_predictions
from .utility import load_reference, utility_against

AUDIT_STAGES = ("declare", "assess")
DECLARED_AS = "--favourable-label or favourable_label in the datasheet"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AuditRequest:
    """What an audit needs; ``favourable_label`` overrides the datasheet's (a fairness rule's own wins)."""

    policy: str | Path
    predictions: Path
    output: Path = Path("reports")
    datasheet: Path | None = None
    favourable_label: str | None = None
    labels: list[str] | None = None
    sensitive_features: list[str] | None = None
    baseline: Path | None = None
    waivers: Path | None = None
    run_id: str | None = None
    seed: int = 0
    command: str = field(default_factory=lambda: shlex.join(["governed-finetune", *sys.argv[1:]]))


def audit_policy(policy: ResolvedPolicy) -> ResolvedPolicy:
    """The policy's declare and assess rules; the others become disabled, with the reason."""
    kept = [r for r in policy.rules if r.stage in AUDIT_STAGES]
    dropped = [DisabledRule(id=r.id, reason=f"not applicable to a predictions-only audit (stage {r.stage})")
               for r in policy.rules if r.stage not in AUDIT_STAGES]
    return policy.model_copy(update={"rules": kept, "disabled": [*policy.disabled, *dropped]})


def _rows(preds: Predictions, keep: list[int]) -> Predictions:
    """``preds`` restricted to the rows ``keep``."""
    def pick(values):
        return None if values is None else [values[i] for i in keep]

    return Predictions(path=preds.path, records=pick(preds.records), y_true=pick(preds.y_true),
                       y_pred=pick(preds.y_pred), classes=preds.classes, probabilities=pick(preds.probabilities),
                       groups={k: pick(v) for k, v in preds.groups.items()}, scores=pick(preds.scores),
                       members=pick(preds.members))


def _split(preds: Predictions) -> tuple[Predictions, Predictions | None]:
    """(held-out rows, training-member rows or None without a ``member`` column)."""
    if preds.members is None:
        return preds, None
    held = [i for i, m in enumerate(preds.members) if m == 0]
    if not held:
        raise DataError(f"{preds.path}: every row has {MEMBER} 1 (a training record); the assessment needs held-out "
                        f"rows ({MEMBER} 0)")
    return _rows(preds, held), _rows(preds, [i for i, m in enumerate(preds.members) if m == 1])


def _scoring_needs(policy: ResolvedPolicy, preds: Predictions) -> None:
    needing = [r.id for r in policy.rules_of("fairness") if r.params.metric == "scoring_rate_impact_ratio"]
    if needing and preds.scores is None and preds.probabilities is None:
        raise DataError(f"{preds.path}: fairness rule '{needing[0]}' measures scoring_rate_impact_ratio; add a 'score' "
                        "column (the model's score for the favourable label) or score_<label> columns")


def _membership(assessment: AssessmentEvidence, held: Predictions, members: Predictions | None, out_dir: Path,
                seed: int) -> None:
    """The loss-threshold attacks on members against held-out rows, or why they did not run."""
    from .membership import membership_audit, per_example_loss, write_losses

    if members is None:
        assessment.membership_not_run = (f"predictions-only audit: no '{MEMBER}' column (1 = a training record, "
                                         "0 = held-out) with class probabilities; add the training records' "
                                         "predictions to run the membership-inference audit")
        return
    if held.probabilities is None:
        assessment.membership_not_run = (f"the '{MEMBER}' column needs class probabilities (score_<label> columns, or "
                                         "a binary 'score' in [0, 1]): the attack's loss is -log p(true label)")
        return
    if len(members.y_true) < 2 or len(held.y_true) < 4:
        assessment.membership_not_run = (f"skipped: {len(members.y_true)} members and {len(held.y_true)} non-members; "
                                         "the audit needs at least 2 and 4")
        return
    index = {c: i for i, c in enumerate(held.classes)}
    member_loss = per_example_loss(members.probabilities, [index[y] for y in members.y_true])
    held_loss = per_example_loss(held.probabilities, [index[y] for y in held.y_true])
    assessment.membership = membership_audit(
        member_losses=member_loss.tolist(), member_labels=members.y_true, non_member_losses=held_loss.tolist(),
        non_member_labels=held.y_true, seed=seed)
    write_losses(out_dir / "membership_losses.csv", members=(members.records, members.y_true, member_loss),
                 non_members=(held.records, held.y_true, held_loss))


def _scan_written_values(evidence: RunEvidence, preds: Predictions, policy: ResolvedPolicy) -> None:
    """Scan the label and group names the reports would show; on PII (or a failed plugin
    recognizer) withhold them and stop before the assessment."""
    from ..plugins import PluginRecognizerError
    from .value_scan import scan_written_values

    try:
        evidence.scan = scan_written_values(preds, policy.pii_params(), plugins=policy.plugins)
    except PluginRecognizerError as exc:
        record_plugin_failures(evidence, [exc.failure])
        evidence.stopped_early = f"the scan of the label and group names did not complete: {exc}"
        return
    evidence.stages_run.append("scan")
    read = evidence.scan.read_columns_with_pii
    if read:
        withhold_read_values(evidence, read)
        evidence.stopped_early = read_columns_stop_reason(read) + "; the assessment did not run"


def _assess(evidence: RunEvidence, request: AuditRequest, policy: ResolvedPolicy, held: Predictions,
            members: Predictions | None, favourable: str, reference, out_dir: Path) -> Path:
    """Save the held-out predictions, assess them (membership and utility too) into ``evidence``."""
    saved = out_dir / "predictions.csv"
    write_predictions(saved, records=held.records, y_true=held.y_true, y_pred=held.y_pred, classes=held.classes,
                      probabilities=held.probabilities, scores=held.scores, groups=held.groups)
    evidence.assessment = assess_predictions(
        y_true=held.y_true, y_pred=held.y_pred, classes=held.classes, favourable_label=favourable,
        groups=held.groups, settings=fairness_plan(policy, seed=request.seed, favourable_label=favourable),
        probabilities=held.probabilities, scores=held.scores,
        score_source="the predictions' 'score' column" if held.scores is not None else
        "the probability of the favourable label (score_<label> columns)",
        predictions_path=saved.name, predictions_sha256=sha256_file(saved),
    )
    _membership(evidence.assessment, held, members, out_dir, request.seed)
    if reference is not None:
        evidence.assessment.utility = utility_against(evidence.assessment, reference=reference, path=request.baseline)
    evidence.stages_run.append("assess")
    return saved


def audit(request: AuditRequest) -> RunOutcome:
    """Validate every input first (errors raise ``GovernanceError``, nothing is written),
    then assess, check against the declare/assess rules and write the reports."""
    full = load_policy(request.policy)
    policy = audit_policy(full)
    if request.waivers is not None:
        from ..policy.waivers import load_waivers

        load_waivers(request.waivers)  # a bad waivers file is an input error before any work
    reference = load_reference(request.baseline) if request.baseline else None
    datasheet = load_datasheet(request.datasheet) if request.datasheet else None
    declared = request.favourable_label or (datasheet.favourable_label if datasheet else None)
    favourable = resolve_favourable_label(policy, declared=declared, declared_as=DECLARED_AS)
    features = request.sensitive_features
    if features is None and datasheet is not None:
        features = list(datasheet.columns.sensitive_features)
    preds = read_predictions(request.predictions, favourable_label=favourable, labels=request.labels,
                             sensitive_features=features)
    resolve_favourable_label(policy, declared=declared, classes=preds.classes, declared_as=DECLARED_AS)
    _scoring_needs(policy, preds)
    held, members = _split(preds)

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
                "favourable_label": favourable, "baseline": str(request.baseline) if request.baseline else None,
                "waivers": str(request.waivers) if request.waivers else None, "seed": request.seed},
        environment=environment("cpu"), policy=policy_evidence(policy),
    )
    if reference is not None:
        from .baseline import baseline_evidence

        evidence.baseline = baseline_evidence(reference, path=request.baseline)
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
        label_counts={c: preds.y_true.count(c) for c in preds.classes}, test_records=len(held.y_true),
        train_records=len(members.y_true) if members is not None else None,
    )
    _scan_written_values(evidence, preds, full)
    host = attach_plugins(evidence, policy)
    if evidence.stopped_early is None:
        saved = _assess(evidence, request, policy, held, members, favourable, reference, out_dir)
        run_collectors(host, evidence, stage="assess", policy=policy, labels=held.y_true, data_path=str(saved))
    decide(policy, evidence, host, waivers=request.waivers)
    evidence.finished_at = _now()
    write_reports(evidence, out_dir)
    return RunOutcome(evidence=evidence, report_dir=out_dir, exit_code=evidence.exit_code)
