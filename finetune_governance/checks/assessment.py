"""Assessment rules: held-out performance and group fairness."""

from __future__ import annotations

from ..evidence import Finding, RunEvidence
from ..policy.schema import FairnessRule, PerformanceRule
from ._base import EvidenceMissing, finding


def check_performance(rule: PerformanceRule, evidence: RunEvidence) -> Finding:
    if evidence.assessment is None:
        raise EvidenceMissing("the assessment did not run")
    value = getattr(evidence.assessment, rule.params.metric)
    ok = value >= rule.params.min
    return finding(rule, passed=ok, measured=value, threshold={"min": rule.params.min},
                   message=f"{rule.params.metric} {value:.4f} {'meets' if ok else 'is below'} the minimum {rule.params.min}")


def check_fairness(rule: FairnessRule, evidence: RunEvidence) -> Finding:
    assessment = evidence.assessment
    if assessment is None:
        raise EvidenceMissing("the assessment did not run")
    p = rule.params
    by_feature = {f.feature: f for f in assessment.fairness}
    features = p.features or list(by_feature)
    threshold = {"metric": p.metric, "min": p.min, "max": p.max, "min_group_size": p.min_group_size}
    if not features:
        return finding(rule, passed=False, measured=None, threshold=threshold,
                       message="no sensitive features declared: fairness cannot be assessed")
    measured: dict[str, float | str] = {}
    problems: list[str] = []
    for name in features:
        if name not in by_feature:
            measured[name] = "not assessed"
            problems.append(f"'{name}' was not assessed (not a declared sensitive feature)")
            continue
        value = getattr(by_feature[name], p.metric)
        if value is None:
            measured[name] = "insufficient data"
            problems.append(f"'{name}': insufficient data (fewer than two groups of {p.min_group_size}+ members)")
            continue
        measured[name] = value
        if p.min is not None and value < p.min:
            problems.append(f"'{name}': {p.metric} {value:.3f} < {p.min}")
        if p.max is not None and value > p.max:
            problems.append(f"'{name}': {p.metric} {value:.3f} > {p.max}")
    if problems:
        return finding(rule, passed=False, measured=measured, threshold=threshold, message="; ".join(problems))
    return finding(rule, passed=True, measured=measured, threshold=threshold,
                   message=f"{p.metric} within limits for " + ", ".join(features))
