"""Assessment rules: held-out performance, group fairness, membership inference, utility."""

from __future__ import annotations

from typing import Any

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


#: fairness aggregates over the selection-rate groups; the others also need true outcomes
_NEEDS_POSITIVES = {"equal_opportunity_difference", "equalized_odds_difference"}
_NEEDS_NEGATIVES = {"equalized_odds_difference"}
#: settings a table records and a rule asks for (the table must have been computed with the rule's)
_SETTINGS = ("min_group_size", "exclude_below_share", "exclude_unknown", "n_boot")


def _tables(rule: FairnessRule, assessment: AssessmentEvidence) -> tuple[list[FeatureFairness], str]:
    if rule.id in assessment.fairness_by_rule:
        return assessment.fairness_by_rule[rule.id], f"assessment.fairness_by_rule.{rule.id}"
    return assessment.fairness, "assessment.fairness"


def _chosen(rule: FairnessRule, tables: list[FeatureFairness]) -> tuple[list[tuple[str, FeatureFairness | None]], str | None]:
    """(name, table or None when not assessed) for each feature the rule checks, then its
    intersection; and why the intersection could not be computed (or None)."""
    by_feature = {f.feature: f for f in tables if not f.intersection_of}
    names = list(rule.params.features or by_feature)
    chosen: list[tuple[str, FeatureFairness | None]] = [(n, by_feature.get(n)) for n in names]
    missing = None
    if rule.params.intersections:
        crossed = next((f for f in tables if f.intersection_of and set(f.intersection_of) == set(names)), None)
        if crossed is not None:
            chosen.append((crossed.feature, crossed))
        else:
            missing = (f"no intersection of {' x '.join(names) or 'the sensitive features'} could be computed "
                       "(intersections need two or more declared sensitive features, each assessed)")
    return chosen, missing


def _mismatch(rule: FairnessRule, table: FeatureFairness) -> str | None:
    """Why ``table`` was not computed with the rule's settings (None: it was, or it records none)."""
    p = rule.params
    for name in _SETTINGS:
        recorded = getattr(table, name)
        if recorded is not None and recorded != getattr(p, name):
            return f"{name} {recorded}, the rule asks {getattr(p, name)}"
    if p.n_boot and table.ci_level is not None and table.ci_level != p.ci_level:
        return f"ci_level {table.ci_level}, the rule asks {p.ci_level}"
    if p.favourable_label and table.favourable_label and table.favourable_label != p.favourable_label:
        return f"favourable label '{table.favourable_label}', the rule asks '{p.favourable_label}'"
    return None


def _left_out(feature: FeatureFairness, metric: str) -> list[str]:
    """Groups left out of ``metric``'s aggregate, each with why."""
    out = []
    for g in feature.groups:
        if not g.in_ratios:
            out.append(f"{g.group} ({g.reason or g.status})")
        elif metric in _NEEDS_POSITIVES | _NEEDS_NEGATIVES and metric in g.void_metrics:
            out.append(f"{g.group} ({g.void_metrics[metric]})")
    return out


def _applied(rule: FairnessRule, tables: list[FeatureFairness], where: str) -> dict[str, Any]:
    """The settings applied, as recorded by the tables (the rule's where none are recorded)."""
    p = rule.params
    first = tables[0] if tables else None

    def recorded(name: str, default: Any) -> Any:
        value = getattr(first, name, None) if first is not None else None
        return default if value is None else value

    return {"metric": p.metric, "min": p.min, "max": p.max, "decide_on": p.decide_on,
            "min_group_size": recorded("min_group_size", p.min_group_size),
            "exclude_below_share": recorded("exclude_below_share", p.exclude_below_share),
            "exclude_unknown": recorded("exclude_unknown", p.exclude_unknown),
            "favourable_label": recorded("favourable_label", p.favourable_label),
            "n_boot": recorded("n_boot", p.n_boot), "ci_level": p.ci_level if p.n_boot else None,
            "bootstrap_seed": recorded("bootstrap_seed", None), "features": p.features,
            "intersections": p.intersections, "table": where}


def _judge(rule: FairnessRule, name: str, feature: FeatureFairness, measured: dict, problems: list[str],
           notes: list[str]) -> None:
    """Compare one table's aggregate (or, with decide_on: interval, its whole interval) with the bounds."""
    p = rule.params
    value = getattr(feature, p.metric)
    left_out = _left_out(feature, p.metric)
    if left_out:
        notes.append(f"'{name}': left out of {p.metric}: {', '.join(left_out)}")
    if value is None and p.metric == "scoring_rate_impact_ratio" and feature.median_score is None:
        measured[name] = "no scores"
        problems.append(f"'{name}': no scores, so no scoring rates (the predictions need the model's score)")
        return
    if value is None:
        measured[name] = "insufficient data"
        problems.append(f"'{name}': insufficient data for {p.metric} (fewer than two groups qualify)")
        return
    measured[name] = value
    interval = feature.ci.get(p.metric)
    level = f"{(feature.ci_level or p.ci_level) * 100:g}%"
    if interval:
        measured[f"{name} interval"] = interval
    if p.decide_on == "interval":
        if not interval:
            defined = feature.ci_resamples.get(p.metric)
            problems.append(f"'{name}': no {level} bootstrap interval of {p.metric} (decide_on: interval; "
                            + (f"defined in {defined} of {feature.n_boot} resamples)" if defined is not None
                               else "no resamples)"))
            return
        low, high = interval
        text = f"{p.metric} {value:.3f}, {level} interval [{low:.3f}, {high:.3f}]"
        if p.min is not None and low < p.min:
            problems.append(f"'{name}': {text} reaches below {p.min}")
        elif p.max is not None and high > p.max:
            problems.append(f"'{name}': {text} reaches above {p.max}")
        return
    caveat = ""
    if interval and any(b is not None and interval[0] < b < interval[1] for b in (p.min, p.max)):
        caveat = f" ({level} bootstrap interval [{interval[0]:.3f}, {interval[1]:.3f}] crosses the limit)"
    if p.min is not None and value < p.min:
        problems.append(f"'{name}': {p.metric} {value:.3f} < {p.min}{caveat}")
    elif p.max is not None and value > p.max:
        problems.append(f"'{name}': {p.metric} {value:.3f} > {p.max}{caveat}")
    elif caveat:
        notes.append(f"'{name}': {p.metric} {value:.3f} within limits{caveat}")


def check_fairness(rule: FairnessRule, evidence: RunEvidence) -> Finding:
    """Each chosen feature's (and, with intersections, their cross's) aggregate within [min, max],
    read from the tables computed with this rule's settings; with decide_on: interval the
    whole bootstrap interval must be within. A feature without two qualifying groups, or an
    intersection that could not be computed, fails (insufficient data is never a pass)."""
    assessment = _assessment(evidence)
    p = rule.params
    tables, where = _tables(rule, assessment)
    threshold = _applied(rule, tables, where)
    chosen, missing = _chosen(rule, tables)
    if not chosen:
        return finding(rule, passed=False, measured=None, threshold=threshold,
                       message="no sensitive features assessed: fairness cannot be assessed")
    measured: dict[str, Any] = {}
    problems: list[str] = [missing] if missing else []
    notes: list[str] = []
    for name, feature in chosen:
        if feature is None:
            measured[name] = "not assessed"
            problems.append(f"'{name}' was not assessed (not a declared sensitive feature)")
            continue
        mismatch = _mismatch(rule, feature)
        if mismatch:
            measured[name] = "computed with other settings"
            problems.append(f"'{name}' was computed with {mismatch}: not this rule's result")
            continue
        _judge(rule, name, feature, measured, problems, notes)
    tail = ("; " + "; ".join(notes)) if notes else ""
    if problems:
        return finding(rule, passed=False, measured=measured, threshold=threshold, message="; ".join(problems) + tail)
    basis = "the whole bootstrap interval" if p.decide_on == "interval" else p.metric
    return finding(rule, passed=True, measured=measured, threshold=threshold,
                   message=f"{basis} within limits for " + ", ".join(n for n, _ in chosen) + tail)


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
