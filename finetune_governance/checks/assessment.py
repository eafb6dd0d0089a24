"""Assessment rules: held-out performance, group fairness, membership inference, utility."""

from __future__ import annotations

from ..evidence import AssessmentEvidence, FeatureFairness, Finding, RunEvidence
from ..policy.schema import FairnessRule, MembershipInferenceRule, PerformanceRule, UtilityRule
from ._base import EvidenceMissing, finding


def _assessment(evidence: RunEvidence) -> AssessmentEvidence:
    if evidence.assessment is None:
        raise EvidenceMissing("the assessment did not run")
    return evidence.assessment


def check_performance(rule: PerformanceRule, evidence: RunEvidence) -> Finding:
    """The held-out metric is at least ``min`` and, with ``against_declared``, at least the
    level the datasheet declares (a missing declaration fails: nothing was declared)."""
    p = rule.params
    value = getattr(_assessment(evidence), p.metric)
    threshold: dict[str, float | str] = {} if p.min is None else {"min": p.min}
    problems: list[str] = []
    met: list[str] = []
    if p.min is not None:
        (met if value >= p.min else problems).append(f"the minimum {p.min}")
    if p.against_declared:
        if evidence.declarations is None:
            raise EvidenceMissing("no datasheet was read, so no declared performance level")
        declared = (evidence.declarations.declarations.get("declared_performance") or {}).get(p.metric)
        if declared is None:
            threshold["declared"] = "not declared"
            problems.append(f"the datasheet declares no {p.metric} level (declared_performance.{p.metric})")
        else:
            threshold["declared"] = declared
            (met if value >= declared else problems).append(f"the declared level {declared}")
    if problems:
        message = f"{p.metric} {value:.4f} falls short: " + "; ".join(
            x if x.startswith("the datasheet") else f"below {x}" for x in problems)
    else:
        message = f"{p.metric} {value:.4f} meets " + " and ".join(met)
    return finding(rule, passed=not problems, measured=value, threshold=threshold, message=message)


def _features(rule: FairnessRule, assessment: AssessmentEvidence) -> list[str]:
    plain = [f.feature for f in assessment.fairness if not f.intersection_of]
    chosen = list(rule.params.features or plain)
    if rule.params.intersections:
        chosen += [f.feature for f in assessment.fairness if f.intersection_of
                   and (rule.params.features is None or set(f.intersection_of) <= set(rule.params.features))]
    return chosen


def _uncertain(feature: FeatureFairness, metric: str, low: float | None, high: float | None) -> str:
    interval = feature.ci.get(metric)
    if not interval:
        return ""
    crosses = any(b is not None and interval[0] < b < interval[1] for b in (low, high))
    return f" (95% bootstrap interval [{interval[0]:.3f}, {interval[1]:.3f}] crosses the limit)" if crosses else ""


def check_fairness(rule: FairnessRule, evidence: RunEvidence) -> Finding:
    """Each chosen feature's aggregate within [min, max]; a feature without two groups with
    enough data fails (insufficient data is never a pass). Small groups are named."""
    assessment = _assessment(evidence)
    p = rule.params
    by_feature = {f.feature: f for f in assessment.fairness}
    features = _features(rule, assessment)
    threshold = {"metric": p.metric, "min": p.min, "max": p.max, "min_group_size": p.min_group_size,
                 "exclude_below_share": p.exclude_below_share}
    if not features:
        return finding(rule, passed=False, measured=None, threshold=threshold,
                       message="no sensitive features declared: fairness cannot be assessed")
    measured: dict[str, float | str] = {}
    problems: list[str] = []
    notes: list[str] = []
    for name in features:
        feature = by_feature.get(name)
        if feature is None:
            measured[name] = "not assessed"
            problems.append(f"'{name}' was not assessed (not a declared sensitive feature)")
            continue
        small = [g.group for g in feature.groups if g.status == "insufficient data"]
        if small:
            notes.append(f"'{name}': insufficient data for {', '.join(small)} (not assessed)")
        value = getattr(feature, p.metric)
        if value is None:
            measured[name] = "insufficient data"
            problems.append(f"'{name}': insufficient data (fewer than two groups with {p.min_group_size}+ members "
                            "and both outcomes)")
            continue
        measured[name] = value
        caveat = _uncertain(feature, p.metric, p.min, p.max)
        if p.min is not None and value < p.min:
            problems.append(f"'{name}': {p.metric} {value:.3f} < {p.min}{caveat}")
        elif p.max is not None and value > p.max:
            problems.append(f"'{name}': {p.metric} {value:.3f} > {p.max}{caveat}")
        elif caveat:
            notes.append(f"'{name}': {p.metric} {value:.3f} within limits{caveat}")
    tail = ("; " + "; ".join(notes)) if notes else ""
    if problems:
        return finding(rule, passed=False, measured=measured, threshold=threshold, message="; ".join(problems) + tail)
    return finding(rule, passed=True, measured=measured, threshold=threshold,
                   message=f"{p.metric} within limits for " + ", ".join(features) + tail)


def check_membership_inference(rule: MembershipInferenceRule, evidence: RunEvidence) -> Finding:
    """The strongest attack's AUC and TPR at 1% FPR at or under the policy's limits."""
    membership = _assessment(evidence).membership
    if membership is None:
        reason = _assessment(evidence).membership_not_run or "it needs the trained model and its training split"
        raise EvidenceMissing(f"no membership-inference audit ({reason})")
    p = rule.params
    measured = {"auc": membership.auc, "tpr_at_1pct_fpr": membership.tpr_at_1pct_fpr,
                "members": membership.members, "non_members": membership.non_members}
    problems = []
    if p.max_auc is not None and membership.auc > p.max_auc:
        problems.append(f"attack AUC {membership.auc:.3f} > {p.max_auc}")
    if p.max_tpr_at_1pct_fpr is not None and membership.tpr_at_1pct_fpr > p.max_tpr_at_1pct_fpr:
        problems.append(f"TPR at 1% FPR {membership.tpr_at_1pct_fpr:.3f} > {p.max_tpr_at_1pct_fpr}")
    message = "; ".join(problems) or (f"attack AUC {membership.auc:.3f}, TPR at 1% FPR "
                                      f"{membership.tpr_at_1pct_fpr:.3f}: within limits")
    return finding(rule, passed=not problems, measured=measured, threshold=p.model_dump(), message=message)


def check_utility(rule: UtilityRule, evidence: RunEvidence) -> Finding:
    """Accuracy drop and spread of per-group drops against the reference run."""
    p = rule.params
    if p.reference == "non_private":
        utility = _assessment(evidence).utility_non_private
        if utility is None:
            raise EvidenceMissing("no in-run non-private reference was trained")
    else:
        utility = _assessment(evidence).utility
        if utility is None:
            raise EvidenceMissing("no reference run to compare with (pass --baseline <previous audit.json>)")
    measured = {"accuracy_drop": utility.accuracy_drop, "group_drop_spread": utility.group_drop_spread,
                "reference_accuracy": utility.reference_accuracy, "accuracy": utility.accuracy}
    problems = []
    if p.max_accuracy_drop is not None and utility.accuracy_drop > p.max_accuracy_drop:
        problems.append(f"accuracy drop {utility.accuracy_drop:.4f} > {p.max_accuracy_drop}")
    if p.max_group_drop_spread is not None:
        if utility.group_drop_spread is None:
            problems.append("per-group drops need two groups with enough data in both runs: insufficient data")
        elif utility.group_drop_spread > p.max_group_drop_spread:
            problems.append(f"spread of group accuracy drops {utility.group_drop_spread:.4f} > {p.max_group_drop_spread}")
    against = ("the in-run non-private reference" if utility.in_run
               else f"run {utility.reference_run_id or utility.reference}")
    message = "; ".join(problems) or f"accuracy drop {utility.accuracy_drop:.4f} against {against}: within limits"
    return finding(rule, passed=not problems, measured=measured, threshold=p.model_dump(), message=message)
