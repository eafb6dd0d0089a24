"""Assessment checks: insufficient data never passes; membership and utility limits; schema names."""

from __future__ import annotations

import pytest

from finetune_governance.assess import FairnessSettings, assess_predictions
from finetune_governance.checks import CHECKS
from finetune_governance.evidence import AttackResult, MembershipEvidence, UtilityEvidence
from finetune_governance.policy.schema import Policy


def _rule(check: str, params: dict, severity: str = "block"):
    policy = Policy.model_validate({"schema_version": 1, "name": "t", "title": "t", "version": "1", "rules": [
        {"id": "r", "title": "r", "cites": ["x"], "severity": severity, "check": check, "params": params}]})
    return policy.rules[0]


class _Evidence:
    def __init__(self, assessment):
        self.assessment = assessment


def _assessment(groups, min_group_size=3):
    y_true = ["yes", "no"] * 5
    y_pred = ["yes", "no", "yes", "yes", "no", "no", "yes", "no", "yes", "yes"]
    return assess_predictions(y_true=y_true, y_pred=y_pred, classes=["no", "yes"], favourable_label="yes",
                              groups={"g": groups}, settings=FairnessSettings(min_group_size=min_group_size),
                              predictions_path="p.csv", predictions_sha256="0" * 64)


def test_insufficient_data_fails_never_passes():
    ev = _Evidence(_assessment(["a"] * 8 + ["b"] * 2))
    finding = CHECKS["fairness"].function(_rule("fairness", {"metric": "impact_ratio", "min": 0.0, "min_group_size": 3}), ev)
    assert finding.status == "fail" and "insufficient data" in finding.message
    assert finding.measured == {"g": "insufficient data"}


def test_fairness_passes_with_enough_data_and_names_small_groups():
    ev = _Evidence(_assessment(["a"] * 4 + ["b"] * 4 + ["c"] * 2))
    finding = CHECKS["fairness"].function(_rule("fairness", {"metric": "equalized_odds_difference", "max": 1.0,
                                                    "min_group_size": 3}), ev)
    assert finding.status == "pass" and "left out of equalized_odds_difference: c (2 members, fewer than the " \
        "minimum 3" in finding.message


def test_membership_and_utility_limits():
    assessment = _assessment(["a"] * 5 + ["b"] * 5)
    ev = _Evidence(assessment)
    mia = _rule("membership_inference", {"max_auc": 0.6, "max_tpr_at_1pct_fpr": 0.05})
    with pytest.raises(Exception, match="membership-inference"):
        CHECKS["membership_inference"].function(mia, ev)
    assessment.membership = MembershipEvidence(
        members=100, non_members=100, auc=0.7, tpr_at_1pct_fpr=0.02, note="n",
        attacks=[AttackResult(name="loss", description="d", auc=0.7, tpr_at_1pct_fpr=0.02)])
    finding = CHECKS["membership_inference"].function(mia, ev)
    assert finding.status == "fail" and "AUC 0.700 > 0.6" in finding.message
    util = _rule("utility", {"max_accuracy_drop": 0.05, "max_group_drop_spread": 0.1}, severity="warn")
    assessment.utility = UtilityEvidence(reference="r.json", reference_sha256="0" * 64, reference_run_id="r",
                                         reference_accuracy=0.9, accuracy=0.87, accuracy_drop=0.03,
                                         group_drops={"g": {"a": 0.0, "b": 0.2}}, group_drop_spread=0.2)
    finding = CHECKS["utility"].function(util, ev)
    assert finding.status == "warn" and "spread of group accuracy drops 0.2000 > 0.1" in finding.message


def test_schema_accepts_the_new_names():
    rule = _rule("fairness", {"metric": "impact_ratio", "min": 0.8, "intersections": True,
                              "exclude_below_share": 0.02, "n_boot": 200})
    assert rule.stage == "assess" and rule.params.n_boot == 200
    for metric in ("equalized_odds_difference", "equal_opportunity_difference"):
        assert _rule("fairness", {"metric": metric, "max": 0.1}).params.metric == metric
    with pytest.raises(Exception):
        _rule("utility", {})
