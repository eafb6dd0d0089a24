"""Performance and fairness figures cross-checked against scikit-learn, Fairlearn and hand arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from finetune_governance.assess import expected_calibration_error, feature_fairness, performance

CLASSES = ["deny", "grant"]
Y_TRUE = ["grant", "grant", "deny", "deny", "grant", "deny", "grant", "deny", "deny", "grant"]
Y_PRED = ["grant", "deny", "deny", "grant", "grant", "deny", "grant", "deny", "grant", "grant"]
P_GRANT = [0.9, 0.4, 0.2, 0.7, 0.8, 0.1, 0.6, 0.3, 0.55, 0.95]


def _probs():
    return [[1 - p, p] for p in P_GRANT]


def test_performance_matches_sklearn():
    perf = performance(Y_TRUE, Y_PRED, classes=CLASSES, probabilities=_probs(), favourable_label="grant")
    assert perf.accuracy == pytest.approx(skm.accuracy_score(Y_TRUE, Y_PRED), abs=1e-6)
    assert perf.balanced_accuracy == pytest.approx(skm.balanced_accuracy_score(Y_TRUE, Y_PRED), abs=1e-6)
    assert perf.f1_macro == pytest.approx(skm.f1_score(Y_TRUE, Y_PRED, average="macro"), abs=1e-6)
    assert perf.precision_macro == pytest.approx(skm.precision_score(Y_TRUE, Y_PRED, average="macro"), abs=1e-6)
    assert perf.recall_macro == pytest.approx(skm.recall_score(Y_TRUE, Y_PRED, average="macro"), abs=1e-6)
    assert perf.per_class_recall["grant"] == pytest.approx(4 / 5)
    assert perf.per_class_precision["grant"] == pytest.approx(4 / 6, abs=1e-6)
    assert perf.confusion_matrix == [[3, 2], [1, 4]]
    positive = [y == "grant" for y in Y_TRUE]
    assert perf.roc_auc == pytest.approx(skm.roc_auc_score(positive, P_GRANT), abs=1e-6)


def test_roc_auc_uses_the_favourable_label_not_the_second_class():
    perf = performance(Y_TRUE, Y_PRED, classes=CLASSES, probabilities=_probs(), favourable_label="deny")
    positive = [y == "deny" for y in Y_TRUE]
    assert perf.roc_auc == pytest.approx(skm.roc_auc_score(positive, [1 - p for p in P_GRANT]), abs=1e-6)


def test_expected_calibration_error_by_hand():
    # two bins used with bins=2: (0, .5] holds 0.3 (wrong); (.5, 1] holds 0.8, 0.9 (right), 0.6 (wrong)
    ece = expected_calibration_error([0.3, 0.8, 0.9, 0.6], [False, True, True, False], bins=2)
    assert ece == pytest.approx(1 / 4 * abs(0 - 0.3) + 3 / 4 * abs(2 / 3 - (0.8 + 0.9 + 0.6) / 3))
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0


def test_performance_without_scores_has_no_auc_or_ece():
    perf = performance(Y_TRUE, Y_PRED, classes=CLASSES)
    assert perf.roc_auc is None and perf.expected_calibration_error is None


GROUPS = ["a"] * 6 + ["b"] * 4


def test_fairness_aggregates_match_fairlearn():
    from fairlearn.metrics import (
        demographic_parity_difference, demographic_parity_ratio, equal_opportunity_difference,
        equalized_odds_difference,
    )

    t = np.array([y == "grant" for y in Y_TRUE], dtype=int)
    p = np.array([y == "grant" for y in Y_PRED], dtype=int)
    ff = feature_fairness(feature="sex", groups=GROUPS, y_true=Y_TRUE, y_pred=Y_PRED, favourable_label="grant",
                          min_group_size=1)
    kw = dict(sensitive_features=GROUPS)
    assert ff.demographic_parity_difference == pytest.approx(demographic_parity_difference(t, p, **kw), abs=1e-6)
    assert ff.demographic_parity_ratio == pytest.approx(demographic_parity_ratio(t, p, **kw), abs=1e-6)
    assert ff.equalized_odds_difference == pytest.approx(equalized_odds_difference(t, p, **kw), abs=1e-6)
    assert ff.equal_opportunity_difference == pytest.approx(equal_opportunity_difference(t, p, **kw), abs=1e-6)
    a, b = ff.groups
    # group a: true g,g,d,d,g,d  pred g,d,d,g,g,d -> selection 3/6, TPR 2/3, FPR 1/3, accuracy 4/6
    assert (a.selection_rate, a.true_positive_rate, a.false_positive_rate) == pytest.approx((0.5, 2 / 3, 1 / 3), abs=1e-6)
    assert a.accuracy == pytest.approx(4 / 6, abs=1e-6)
    # group b: true g,d,d,g  pred g,d,g,g -> selection 3/4, TPR 1, FPR 1/2
    assert (b.selection_rate, b.true_positive_rate, b.false_positive_rate) == pytest.approx((0.75, 1.0, 0.5))
    assert a.impact_ratio == pytest.approx(0.5 / 0.75, abs=1e-6) and b.impact_ratio == 1.0
    assert ff.impact_ratio == ff.demographic_parity_ratio


def test_small_groups_are_left_out_and_degenerate_ones_only_of_error_rate_metrics():
    groups = ["a"] * 6 + ["b"] * 3 + ["c"]
    y_true = Y_TRUE[:6] + ["deny", "deny", "deny"] + ["grant"]
    ff = feature_fairness(feature="f", groups=groups, y_true=y_true, y_pred=Y_PRED, favourable_label="grant",
                          min_group_size=2)
    status = {g.group: (g.status, g.in_ratios) for g in ff.groups}
    assert status == {"a": ("ok", True), "b": ("insufficient data for error rates", True),
                      "c": ("insufficient data", False)}
    b = next(g for g in ff.groups if g.group == "b")
    assert set(b.void_metrics) == {"true_positive_rate", "equal_opportunity_difference", "equalized_odds_difference"}
    assert "no true 'grant' among 3 members" in b.reason and "true_positive_rate" in b.reason
    assert "fewer than the minimum 2" in next(g.reason for g in ff.groups if g.group == "c")
    # b stays in the selection-rate aggregates: a selects 3/6, b (Y_PRED[6:9]: g, d, g) 2/3
    a_rate, b_rate = 3 / 6, Y_PRED[6:9].count("grant") / 3
    assert ff.demographic_parity_ratio == pytest.approx(min(a_rate, b_rate) / max(a_rate, b_rate), abs=1e-6)
    assert ff.impact_ratio == ff.demographic_parity_ratio and ff.accuracy_difference is not None
    # the error-rate aggregates have one group left (a): insufficient data, never a pass
    assert ff.equal_opportunity_difference is None and ff.equalized_odds_difference is None
    assert ff.excluded_groups == ["c"]
    # a group left out of the ratios has no impact ratio of its own (the reports print n/a)
    c = next(g for g in ff.groups if g.group == "c")
    assert c.selection_rate is not None and c.impact_ratio is None and c.scoring_rate_impact_ratio is None


def test_a_group_with_only_favourable_outcomes_keeps_its_tpr():
    groups = ["a"] * 6 + ["b"] * 4
    y_true = Y_TRUE[:6] + ["grant"] * 4
    ff = feature_fairness(feature="f", groups=groups, y_true=y_true, y_pred=Y_PRED, favourable_label="grant",
                          min_group_size=1)
    b = next(g for g in ff.groups if g.group == "b")
    assert set(b.void_metrics) == {"false_positive_rate", "equalized_odds_difference"}
    # equal opportunity needs TPR only: a 2/3, b (pred g,d,g,g) 3/4
    assert ff.equal_opportunity_difference == pytest.approx(3 / 4 - 2 / 3, abs=1e-6)
    assert ff.equalized_odds_difference is None


def test_missing_values_form_an_unknown_group():
    groups = ["a", None, float("nan"), "", "a", "b", "b", "a", " ", "b"]
    ff = feature_fairness(feature="f", groups=groups, y_true=Y_TRUE, y_pred=Y_PRED, favourable_label="grant",
                          min_group_size=1)
    counts = {g.group: g.count for g in ff.groups}
    assert counts == {"a": 3, "b": 3, "unknown": 4}


def test_ll144_share_cutoff_excludes_from_ratios_but_reports():
    rng = np.random.default_rng(3)
    n = 200
    groups = ["x"] * 120 + ["y"] * 77 + ["z"] * 3  # z is 1.5% of records
    y_true = list(rng.choice(CLASSES, n))
    y_pred = list(rng.choice(CLASSES, n))
    ff = feature_fairness(feature="race", groups=groups, y_true=y_true, y_pred=y_pred, favourable_label="grant",
                          min_group_size=1, exclude_below_share=0.02)
    z = next(g for g in ff.groups if g.group == "z")
    assert not z.in_ratios and z.share == pytest.approx(0.015) and "under 0.02" in z.reason
    rates = {g.group: g.selection_rate for g in ff.groups}
    assert ff.impact_ratio == pytest.approx(min(rates["x"], rates["y"]) / max(rates["x"], rates["y"]), abs=1e-5)


def test_multiclass_is_one_vs_rest_on_the_favourable_label():
    y_true = ["hire", "reject", "interview", "hire", "interview", "reject"]
    y_pred = ["hire", "interview", "interview", "reject", "hire", "reject"]
    groups = ["a", "a", "a", "b", "b", "b"]
    ff = feature_fairness(feature="f", groups=groups, y_true=y_true, y_pred=y_pred, favourable_label="interview",
                          min_group_size=1)
    a, b = ff.groups
    assert a.selection_rate == pytest.approx(2 / 3) and b.selection_rate == pytest.approx(0.0)
    assert a.accuracy == pytest.approx(2 / 3) and b.accuracy == pytest.approx(1 / 3)  # exact-match accuracy
    assert a.true_positive_rate == 1.0 and b.true_positive_rate == 0.0
    as_hire = feature_fairness(feature="f", groups=groups, y_true=y_true, y_pred=y_pred, favourable_label="hire",
                               min_group_size=1)
    assert as_hire.groups[1].selection_rate == pytest.approx(1 / 3)


def test_bootstrap_intervals_bracket_the_estimates():
    rng = np.random.default_rng(0)
    n = 300
    groups = list(rng.choice(["a", "b"], n))
    y_true = list(rng.choice(CLASSES, n))
    y_pred = list(rng.choice(CLASSES, n))
    ff = feature_fairness(feature="f", groups=groups, y_true=y_true, y_pred=y_pred, favourable_label="grant",
                          min_group_size=1, n_boot=40, seed=1)
    for g in ff.groups:
        low, high = g.ci["selection_rate"]
        assert low <= g.selection_rate <= high and high - low > 0.02
    low, high = ff.ci["demographic_parity_difference"]
    assert low < high


def test_intersections_via_assess_predictions():
    from finetune_governance.assess import FairnessSettings, assess_predictions

    ev = assess_predictions(
        y_true=Y_TRUE, y_pred=Y_PRED, classes=CLASSES, favourable_label="grant",
        groups={"sex": GROUPS, "age": ["young", "old"] * 5},
        settings=FairnessSettings(min_group_size=1, intersections=True),
        predictions_path="p.csv", predictions_sha256="0" * 64, probabilities=_probs(),
    )
    inter = ev.fairness[-1]
    assert inter.feature == "sex & age" and inter.intersection_of == ["sex", "age"]
    assert {g.group: g.count for g in inter.groups} == {"a & old": 3, "a & young": 3, "b & old": 2, "b & young": 2}
    assert ev.roc_auc is not None and ev.expected_calibration_error is not None


def test_per_class_f1_and_accuracy_difference_match_sklearn():
    classes = ["a", "b", "c"]
    y_true = ["a", "b", "c", "a", "b", "c", "a", "a", "b", "c", "c", "b"]
    y_pred = ["a", "c", "c", "b", "b", "c", "a", "c", "b", "a", "c", "b"]
    perf = performance(y_true, y_pred, classes=classes)
    f1 = skm.f1_score(y_true, y_pred, labels=classes, average=None)
    assert perf.per_class_f1 == pytest.approx(dict(zip(classes, f1)), abs=1e-6)
    groups = ["g"] * 5 + ["h"] * 7
    ff = feature_fairness(feature="f", groups=groups, y_true=y_true, y_pred=y_pred, favourable_label="a",
                          min_group_size=1)
    by_group = [skm.accuracy_score(y_true[:5], y_pred[:5]), skm.accuracy_score(y_true[5:], y_pred[5:])]
    assert ff.accuracy_difference == pytest.approx(max(by_group) - min(by_group), abs=1e-6)
    assert [g.accuracy for g in ff.groups] == pytest.approx(by_group, abs=1e-6)
