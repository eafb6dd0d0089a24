"""NYC LL144 scoring rates (6 RCNY 5-301): share of a category scoring above the median score of
the full sample, impact ratio against the highest category, unknown and under-2% categories
counted but left out; checked by hand arithmetic, in run-style assessments and in `audit`."""

from __future__ import annotations

import csv
import json

import pytest
import yaml
from click.testing import CliRunner

from finetune_governance.assess import FairnessSettings, assess_predictions, feature_fairness
from finetune_governance.cli import main

# 60 records scoring 0..59 (median 29.5, so 30..59 are above it)
SCORES = [float(i) for i in range(60)]
GROUP_OF = {**{i: "x" for i in [*range(0, 10), *range(30, 50)]},   # 30 members, 20 above
            **{i: "y" for i in [*range(10, 30), *range(50, 58)]},  # 28 members, 8 above
            58: "z",                                             # 1 member (1.7% < 2%), above
            59: None}                                            # unknown, above
GROUPS = [GROUP_OF[i] for i in range(60)]
Y = ["pass" if i % 2 else "fail" for i in range(60)]


def test_scoring_rates_and_ratio_by_hand():
    ff = feature_fairness(feature="race", groups=GROUPS, y_true=Y, y_pred=Y, favourable_label="pass",
                          min_group_size=1, exclude_below_share=0.02, exclude_unknown=True, scores=SCORES)
    assert ff.median_score == 29.5
    by = {g.group: g for g in ff.groups}
    assert by["x"].scoring_rate == pytest.approx(20 / 30, abs=1e-6)
    assert by["y"].scoring_rate == pytest.approx(8 / 28, abs=1e-6)
    assert by["z"].scoring_rate == 1.0 and not by["z"].in_ratios and "under 0.02" in by["z"].reason
    assert by["unknown"].count == 1 and not by["unknown"].in_ratios
    assert by["y"].scoring_rate_impact_ratio == pytest.approx((8 / 28) / (20 / 30), abs=1e-6)
    assert by["x"].scoring_rate_impact_ratio == 1.0
    assert ff.scoring_rate_impact_ratio == pytest.approx((8 / 28) / (20 / 30), abs=1e-6)


def test_without_scores_there_is_no_scoring_rate():
    ff = feature_fairness(feature="race", groups=GROUPS, y_true=Y, y_pred=Y, favourable_label="pass",
                          min_group_size=1)
    assert ff.scoring_rate_impact_ratio is None and ff.median_score is None
    assert all(g.scoring_rate is None for g in ff.groups)


def test_run_scores_are_the_probability_of_each_tables_favourable_label():
    classes = ["hire", "interview", "reject"]
    # p(interview) = score / 100, the rest split evenly
    probs = [[(1 - s / 100) / 2, s / 100, (1 - s / 100) / 2] for s in SCORES]
    labels = ["interview" if i % 3 else "reject" for i in range(60)]
    ev = assess_predictions(
        y_true=labels, y_pred=labels, classes=classes, favourable_label="interview", groups={"race": GROUPS},
        settings=FairnessSettings(min_group_size=1, exclude_below_share=0.02, exclude_unknown=True),
        probabilities=probs, predictions_path="p.csv", predictions_sha256="0" * 64)
    race = ev.fairness[0]
    assert race.median_score == pytest.approx(0.295)
    assert race.scoring_rate_impact_ratio == pytest.approx((8 / 28) / (20 / 30), abs=1e-6)
    # the same records scored for "hire" reverse the order: y now scores above the median more often
    hire = assess_predictions(
        y_true=labels, y_pred=labels, classes=classes, favourable_label="hire", groups={"race": GROUPS},
        settings=FairnessSettings(min_group_size=1, exclude_below_share=0.02, exclude_unknown=True),
        probabilities=probs, predictions_path="p.csv", predictions_sha256="0" * 64).fairness[0]
    rates = {g.group: g.scoring_rate for g in hire.groups}
    assert rates["x"] == pytest.approx(10 / 30) and rates["y"] == pytest.approx(20 / 28)


POLICY = {"schema_version": 1, "name": "s", "title": "s", "version": "1", "rules": [
    {"id": "s.scoring", "title": "Scoring-rate impact ratio", "cites": ["6 RCNY 5-301"], "severity": "block",
     "check": "fairness", "params": {"metric": "scoring_rate_impact_ratio", "min": 0.5, "min_group_size": 1,
                                     "exclude_below_share": 0.02, "exclude_unknown": True}}]}


def _files(tmp_path, *, with_score: bool):
    path = tmp_path / "scored.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "prediction", *(["score"] if with_score else []), "race"])
        for i in range(60):  # a 0-100 rating: a raw score, not a probability
            writer.writerow([Y[i], Y[i], *([SCORES[i] * 100 / 59] if with_score else []), GROUPS[i] or ""])
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(POLICY), encoding="utf-8")
    return path


def test_audit_reads_the_score_column(tmp_path):
    path = _files(tmp_path, with_score=True)
    result = CliRunner().invoke(main, ["audit", "--policy", str(tmp_path / "policy.yaml"), "--predictions", str(path),
                                       "--favourable-label", "pass", "--output", str(tmp_path / "out"),
                                       "--run-id", "s"])
    assert result.exit_code == 1, result.output  # (8/28) / (20/30) = 0.43 < 0.5
    ev = json.loads((tmp_path / "out" / "s" / "audit.json").read_text(encoding="utf-8"))
    finding = ev["findings"][0]
    assert finding["measured"]["race"] == pytest.approx((8 / 28) / (20 / 30), abs=1e-6)
    assert ev["assessment"]["score_source"] == "the predictions' 'score' column"
    assert ev["assessment"]["roc_auc"] is None  # a 0-100 rating is not a probability


def test_audit_without_a_score_is_an_input_error(tmp_path):
    path = _files(tmp_path, with_score=False)
    result = CliRunner().invoke(main, ["audit", "--policy", str(tmp_path / "policy.yaml"), "--predictions", str(path),
                                       "--favourable-label", "pass", "--output", str(tmp_path / "out")])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "'s.scoring' measures scoring_rate_impact_ratio; add a 'score' column" in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_score_column_wins_over_class_probabilities():
    probs = [[0.5, 0.5]] * 60  # uninformative probabilities: every record ties at the median
    ev = assess_predictions(
        y_true=Y, y_pred=Y, classes=["fail", "pass"], favourable_label="pass", groups={"race": GROUPS},
        settings=FairnessSettings(min_group_size=1, exclude_below_share=0.02, exclude_unknown=True),
        probabilities=probs, scores=SCORES, predictions_path="p.csv", predictions_sha256="0" * 64)
    assert ev.fairness[0].scoring_rate_impact_ratio == pytest.approx((8 / 28) / (20 / 30), abs=1e-6)
