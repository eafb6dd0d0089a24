"""Regression rules: this run against the baseline run's audit.json (``--baseline``, or ``diff A B``).

Every limit is how much *worse* this run may be: epsilon and attack AUC may rise, accuracy,
macro F1 and a fairness aggregate may worsen, by at most the limit. A figure the baseline
lacks cannot be compared and fails the rule (never a silent pass).
"""

from __future__ import annotations

import math

from ..evidence import BaselineEvidence, Finding, RunEvidence
from ..gate import verdict
from ..policy.schema import RegressionRule
from ._base import EvidenceMissing, finding

#: fairness aggregates where higher is better; the others are differences, lower is better
_HIGHER_IS_BETTER = {"demographic_parity_ratio", "impact_ratio", "scoring_rate_impact_ratio"}
NO_BASELINE = "no baseline to compare with (pass --baseline <previous approved run's audit.json>)"


def _baseline(evidence: RunEvidence) -> BaselineEvidence:
    if evidence.baseline is None:
        raise EvidenceMissing(NO_BASELINE)
    return evidence.baseline


def _assessment(evidence: RunEvidence, what: str):
    if evidence.assessment is None:
        raise EvidenceMissing(f"the assessment did not run: no {what} to compare")
    return evidence.assessment


def _epsilon(evidence: RunEvidence, base: BaselineEvidence, limit: float, measured: dict, problems: list) -> None:
    if evidence.privacy is None:
        raise EvidenceMissing("training did not run: no epsilon to compare")
    now = evidence.privacy.epsilon if evidence.privacy.enabled else math.inf
    if base.dp_enabled is None:
        problems.append("the baseline records no privacy: epsilon cannot be compared")
        return
    before = base.epsilon if base.dp_enabled and base.epsilon is not None else math.inf
    measured.update(epsilon=None if math.isinf(now) else now, baseline_epsilon=None if math.isinf(before) else before)
    if math.isinf(now) and math.isinf(before):
        measured["epsilon_increase"] = 0.0  # neither run is differentially private: unchanged
        return
    if math.isinf(now):
        problems.append(f"this run trained without DP; the baseline had epsilon {before:.3f}")
        return
    increase = now - before if not math.isinf(before) else -math.inf
    measured["epsilon_increase"] = None if math.isinf(increase) else round(increase, 6)
    if increase > limit:
        problems.append(f"epsilon rose by {increase:.3f} ({before:.3f} -> {now:.3f}) > {limit}")


def _drop(name: str, before: float | None, now: float, limit: float, measured: dict, problems: list) -> None:
    if before is None:
        problems.append(f"the baseline records no {name}: it cannot be compared")
        return
    drop = round(before - now, 6)
    measured[f"{name}_drop"] = drop
    if drop > limit:
        problems.append(f"{name} dropped by {drop:.4f} ({before:.4f} -> {now:.4f}) > {limit}")


def _fairness(evidence: RunEvidence, base: BaselineEvidence, metric: str, by: float, measured: dict,
              problems: list) -> None:
    now = {f.feature: getattr(f, metric) for f in _assessment(evidence, "fairness").fairness}
    worsened: dict[str, float | str] = {}
    for feature, figures in base.fairness.items():
        before = figures.get(metric)
        if before is None or feature not in now:
            continue
        if now[feature] is None:
            worsened[feature] = "insufficient data"
            problems.append(f"'{feature}': {metric} was {before:.3f} in the baseline, now insufficient data")
            continue
        change = (before - now[feature]) if metric in _HIGHER_IS_BETTER else (now[feature] - before)
        worsened[feature] = round(change, 6)
        if change > by:
            problems.append(f"'{feature}': {metric} worsened by {change:.3f} ({before:.3f} -> {now[feature]:.3f}) > {by}")
    measured[f"{metric}_worsening"] = worsened
    if not worsened:
        problems.append(f"no sensitive feature has {metric} in both runs: fairness cannot be compared")


def _membership(evidence: RunEvidence, base: BaselineEvidence, limit: float, measured: dict, problems: list) -> None:
    assessment = _assessment(evidence, "membership-inference result")
    if assessment.membership is None:
        raise EvidenceMissing(f"no membership-inference audit in this run ({assessment.membership_not_run or 'not run'})")
    if base.membership_auc is None:
        problems.append("the baseline records no membership-inference AUC: it cannot be compared")
        return
    increase = round(assessment.membership.auc - base.membership_auc, 6)
    measured["membership_auc_increase"] = increase
    if increase > limit:
        problems.append(f"membership attack AUC rose by {increase:.3f} ({base.membership_auc:.3f} -> "
                        f"{assessment.membership.auc:.3f}) > {limit}")


def _verdict(evidence: RunEvidence, base: BaselineEvidence, rule_id: str, measured: dict, problems: list) -> None:
    others = [f for f in evidence.findings if f.rule_id != rule_id]
    if not others:
        problems.append("no other rule to judge the verdict by")
        return
    now, _ = verdict(others)
    measured.update(verdict=now, baseline_verdict=base.verdict)
    if base.verdict is None:
        problems.append("the baseline records no verdict: it cannot be compared")
    elif base.verdict == "pass" and now == "fail":
        failing = [f.rule_id for f in others if f.blocking_failure or f.status == "error"]
        problems.append("the baseline passed; now the gate fails on " + ", ".join(failing))


def check_regression(rule: RegressionRule, evidence: RunEvidence) -> Finding:
    """This run against the baseline: each named figure worsened by at most its limit."""
    base = _baseline(evidence)
    p = rule.params
    measured: dict = {}
    problems: list[str] = []
    if p.max_epsilon_increase is not None:
        _epsilon(evidence, base, p.max_epsilon_increase, measured, problems)
    if p.max_accuracy_drop is not None:
        _drop("accuracy", base.accuracy, _assessment(evidence, "accuracy").accuracy, p.max_accuracy_drop,
              measured, problems)
    if p.max_f1_drop is not None:
        _drop("f1_macro", base.f1_macro, _assessment(evidence, "macro F1").f1_macro, p.max_f1_drop, measured, problems)
    if p.max_fairness_drop is not None:
        _fairness(evidence, base, p.max_fairness_drop.metric, p.max_fairness_drop.by, measured, problems)
    if p.max_membership_auc_increase is not None:
        _membership(evidence, base, p.max_membership_auc_increase, measured, problems)
    if p.verdict_must_not_worsen:
        _verdict(evidence, base, rule.id, measured, problems)
    measured.update(baseline_run_id=base.run_id, baseline_sha256=base.sha256)
    against = f"baseline run {base.run_id or base.path}"
    message = "; ".join(problems) + f" (against {against})" if problems else f"no regression beyond the limits against {against}"
    return finding(rule, passed=not problems, measured=measured, threshold=p.model_dump(mode="json"), message=message)
