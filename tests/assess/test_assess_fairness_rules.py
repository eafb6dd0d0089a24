"""Fairness rules through `governed-finetune audit`: degenerate groups stay in the selection-rate
ratios, each rule gets the intersection it asks for, one rule's group settings never change
another's result, and decide_on: interval judges the whole bootstrap interval."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from finetune_governance.cli import main

DATASHEET = {"schema_version": 1, "name": "hiring", "purpose": "shortlist", "origin": "historic ATS data",
             "favourable_label": "selected",
             "columns": {"text": "cv", "label": "label", "sensitive_features": ["sex", "race_ethnicity"]}}


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rows(spec: list[tuple[dict[str, str], str, str, int]]) -> list[dict[str, str]]:
    """(features, label, prediction, count) -> that many rows."""
    return [{"label": label, "prediction": pred, **features} for features, label, pred, n in spec for _ in range(n)]


def _audit(tmp_path: Path, rows, policy, *, datasheet=DATASHEET, run_id="r", extra=()) -> tuple[int, dict, str]:
    preds = _write(tmp_path / f"{run_id}.csv", rows)
    sheet = tmp_path / "datasheet.yaml"
    sheet.write_text(yaml.safe_dump(datasheet), encoding="utf-8")
    if isinstance(policy, dict):
        (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
        policy = str(tmp_path / "policy.yaml")
    result = CliRunner().invoke(main, ["audit", "--policy", policy, "--predictions", str(preds), "--datasheet",
                                       str(sheet), "--output", str(tmp_path / "out"), "--run-id", run_id, *extra])
    assert "Traceback" not in result.output and result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads((tmp_path / "out" / run_id / "audit.json").read_text("utf-8")), result.output


def _policy(*rules: dict, extends: list[str] | None = None) -> dict:
    return {"schema_version": 1, "name": "t", "title": "t", "version": "1", "extends": extends or [],
            "rules": [{"title": r["id"], "cites": ["test"], "severity": "block", "check": "fairness", **r}
                      for r in rules]}


def test_a_group_with_no_true_selections_stays_in_the_impact_ratios(tmp_path):
    # audit36/ll144.csv: race C (40 of 240, 17%) has no true "selected" and 4 of 40 predicted selected
    rows = _rows([({"sex": s, "race_ethnicity": r}, y, y, 25) for r in "AB" for s in ("male", "female")
                  for y in ("selected", "rejected")]
                 + [({"sex": s, "race_ethnicity": "C"}, "rejected", p, n) for s in ("male", "female")
                    for p, n in (("selected", 2), ("rejected", 18))])
    code, ev, _ = _audit(tmp_path, rows, "nyc-ll144")
    race = next(f for f in ev["assessment"]["fairness"] if f["feature"] == "race_ethnicity")
    c = next(g for g in race["groups"] if g["group"] == "C")
    assert c["in_ratios"] and c["status"] == "insufficient data for error rates"
    assert set(c["void_metrics"]) == {"true_positive_rate", "equal_opportunity_difference",
                                      "equalized_odds_difference"}
    assert "no true 'selected' among 40 members" in c["reason"]
    # by hand: A and B select 50/100, C 4/40 -> impact ratio 0.1 / 0.5 = 0.2
    assert c["impact_ratio"] == pytest.approx(0.2) and race["impact_ratio"] == pytest.approx(0.2)
    assert race["equal_opportunity_difference"] == 0.0  # A, B only: both TPR 1
    findings = {f["rule_id"]: f for f in ev["findings"]}
    assert findings["nyc-ll144.four-fifths"]["status"] == "warn"  # the pack's four-fifths rule warns
    assert "'race_ethnicity': impact_ratio 0.200 < 0.8" in findings["nyc-ll144.four-fifths"]["message"]
    blocking = _policy({"id": "t.ir", "params": {"metric": "impact_ratio", "min": 0.8, "min_group_size": 1}})
    code, ev, _ = _audit(tmp_path, rows, blocking, run_id="blocking")
    assert code == 1 and {f["rule_id"]: f["status"] for f in ev["findings"]}["t.ir"] == "fail"


def test_each_rule_gets_the_intersection_it_asks_for(tmp_path):
    # audit36/inter.csv: three declared features; the LL144 rules cross sex x race/ethnicity only
    rows = _rows([({"sex": s, "race_ethnicity": r, "age_band": a}, "selected",
                   "selected" if s == "male" or r == "A" or a == "<40" else "rejected", 20)
                  for s in ("male", "female") for r in "AB" for a in ("<40", "40+")]
                 + [({"sex": s, "race_ethnicity": r, "age_band": a}, "rejected", "rejected", 20)
                    for s in ("male", "female") for r in "AB" for a in ("<40", "40+")])
    sheet = {**DATASHEET, "columns": {**DATASHEET["columns"], "sensitive_features": ["sex", "race_ethnicity",
                                                                                      "age_band"]}}
    policy = _policy({"id": "t.all", "params": {"metric": "impact_ratio", "min": 0.0, "min_group_size": 1,
                                                "intersections": True}}, extends=["nyc-ll144"])
    _, ev, _ = _audit(tmp_path, rows, policy, datasheet=sheet)
    tables = {f["feature"]: f for f in ev["assessment"]["fairness"]}
    assert {"sex & race_ethnicity", "sex & race_ethnicity & age_band"} <= set(tables)
    findings = {f["rule_id"]: f for f in ev["findings"]}
    four_fifths = findings["nyc-ll144.four-fifths"]
    assert {k for k in four_fifths["measured"] if not k.endswith(" interval")} == {
        "sex", "race_ethnicity", "sex & race_ethnicity"}  # the pack's n_boot adds "<feature> interval" entries
    # female & B: 20 of 80 selected; male & A / male & B / female & A: 40 of 80 -> 0.25 / 0.5
    assert four_fifths["measured"]["sex & race_ethnicity"] == pytest.approx(0.5)
    assert four_fifths["status"] == "warn"
    assert "sex & race_ethnicity & age_band" in findings["t.all"]["measured"]


def test_an_intersection_that_cannot_be_computed_fails(tmp_path):
    rows = _rows([({"sex": s}, y, y, 20) for s in ("male", "female") for y in ("selected", "rejected")])
    sheet = {**DATASHEET, "columns": {**DATASHEET["columns"], "sensitive_features": ["sex"]}}
    policy = _policy({"id": "t.x", "params": {"metric": "impact_ratio", "min": 0.0, "min_group_size": 1,
                                              "intersections": True}})
    code, ev, _ = _audit(tmp_path, rows, policy, datasheet=sheet)
    finding = ev["findings"][0]
    assert code == 1 and finding["status"] == "fail" and "no intersection of sex could be computed" in finding["message"]


def test_one_rules_group_settings_do_not_change_anothers(tmp_path):
    # audit36/combo.yaml + combo.csv: a GDPR-style rule (30 members) next to the LL144 rules (no minimum)
    rows = _rows([({"sex": s, "race_ethnicity": r}, y, y, 50) for s in ("male", "female") for r in "AB"
                  for y in ("selected", "rejected")]
                 + [({"sex": s, "race_ethnicity": "D"}, "selected", p, n) for s in ("male", "female")
                    for p, n in (("selected", 1), ("rejected", 9))])
    policy = _policy({"id": "x.parity", "severity": "warn",
                      "params": {"metric": "demographic_parity_ratio", "min": 0.8, "min_group_size": 30}},
                     extends=["nyc-ll144"])
    _, ev, _ = _audit(tmp_path, rows, policy)
    assessment = ev["assessment"]
    assert list(assessment["fairness_by_rule"]) == ["x.parity"]  # the LL144 rules share the primary table
    race = next(f for f in assessment["fairness"] if f["feature"] == "race_ethnicity")
    d = next(g for g in race["groups"] if g["group"] == "D")
    assert d["count"] == 20 and d["in_ratios"] and race["min_group_size"] == 1
    # by hand: A, B select 100/200 = 0.5, D 2/20 = 0.1 -> 0.2
    assert race["impact_ratio"] == pytest.approx(0.2)
    own = next(f for f in assessment["fairness_by_rule"]["x.parity"] if f["feature"] == "race_ethnicity")
    assert own["min_group_size"] == 30 and not next(g for g in own["groups"] if g["group"] == "D")["in_ratios"]
    assert own["demographic_parity_ratio"] == pytest.approx(1.0)
    findings = {f["rule_id"]: f for f in ev["findings"]}
    ll144 = findings["nyc-ll144.four-fifths"]
    assert ll144["measured"]["race_ethnicity"] == pytest.approx(0.2)
    assert ll144["threshold"]["min_group_size"] == 1 and ll144["threshold"]["table"] == "assessment.fairness"
    parity = findings["x.parity"]
    assert parity["status"] == "pass" and parity["threshold"]["min_group_size"] == 30
    assert parity["threshold"]["table"] == "assessment.fairness_by_rule.x.parity"
    assert parity["threshold"]["favourable_label"] == "selected"
    assert "D (20 members, fewer than the minimum 30" in parity["message"]


def test_a_table_computed_with_other_settings_is_not_read():
    from finetune_governance.assess import FairnessSettings, assess_predictions
    from finetune_governance.checks import CHECKS
    from finetune_governance.policy.schema import Policy

    assessment = assess_predictions(
        y_true=["y", "n"] * 20, y_pred=["y", "n"] * 20, classes=["n", "y"], favourable_label="y",
        groups={"g": ["a"] * 20 + ["b"] * 20}, settings=FairnessSettings(min_group_size=30),
        predictions_path="p.csv", predictions_sha256="0" * 64)
    rule = Policy.model_validate({"schema_version": 1, "name": "t", "title": "t", "version": "1", "rules": [
        {"id": "r", "title": "r", "cites": ["x"], "severity": "block", "check": "fairness",
         "params": {"metric": "impact_ratio", "min": 0.8, "min_group_size": 5}}]}).rules[0]

    class Evidence:
        pass

    evidence = Evidence()
    evidence.assessment = assessment
    finding = CHECKS["fairness"].function(rule, evidence)
    assert finding.status == "fail" and "computed with min_group_size 30, the rule asks 5" in finding.message


def _noisy_rows(n_per_group: int, rate_b: float) -> list[dict[str, str]]:
    import random

    rng = random.Random(5)
    rows = []
    for group, rate in (("a", 0.5), ("b", rate_b)):
        for _ in range(n_per_group):
            rows.append({"label": rng.choice(["selected", "rejected"]),
                         "prediction": "selected" if rng.random() < rate else "rejected", "sex": group})
    return rows


@pytest.mark.parametrize("decide_on", ["estimate", "interval"])
def test_decide_on_interval_needs_the_whole_interval_within(tmp_path, decide_on):
    rows = _noisy_rows(60, 0.44)  # impact ratio near 0.88: above 0.8, but the interval reaches below
    sheet = {**DATASHEET, "columns": {**DATASHEET["columns"], "sensitive_features": ["sex"]}}
    policy = _policy({"id": "t.ir", "params": {"metric": "impact_ratio", "min": 0.8, "min_group_size": 1,
                                               "n_boot": 500, "ci_level": 0.9, "decide_on": decide_on}})
    code, ev, _ = _audit(tmp_path, rows, policy, datasheet=sheet, run_id=decide_on, extra=("--seed", "3"))
    sex = ev["assessment"]["fairness"][0]
    low, high = sex["ci"]["impact_ratio"]
    assert sex["impact_ratio"] >= 0.8 and low < 0.8 <= high
    assert sex["n_boot"] == 500 and sex["bootstrap_seed"] == 3 and sex["ci_level"] == 0.9
    finding = ev["findings"][0]
    assert finding["measured"]["sex interval"] == [low, high]
    assert finding["threshold"]["decide_on"] == decide_on and finding["threshold"]["bootstrap_seed"] == 3
    if decide_on == "estimate":
        assert code == 0 and finding["status"] == "pass" and "crosses the limit" in finding["message"]
    else:
        assert code == 1 and finding["status"] == "fail" and "90% interval" in finding["message"]
        assert "reaches below 0.8" in finding["message"]


def test_decide_on_interval_passes_when_the_interval_is_within(tmp_path):
    rows = _noisy_rows(300, 0.5)
    sheet = {**DATASHEET, "columns": {**DATASHEET["columns"], "sensitive_features": ["sex"]}}
    policy = _policy({"id": "t.eo", "params": {"metric": "equalized_odds_difference", "max": 0.4,
                                               "min_group_size": 1, "n_boot": 200, "decide_on": "interval"}})
    code, ev, _ = _audit(tmp_path, rows, policy, datasheet=sheet)
    assert ev["assessment"]["fairness"][0]["ci"]["equalized_odds_difference"][1] <= 0.4
    assert code == 0 and ev["findings"][0]["status"] == "pass", ev["findings"][0]["message"]


def test_the_same_intersection_asked_twice_is_one_table():
    from finetune_governance.assess import assess_predictions, fairness_plan
    from finetune_governance.policy.schema import ResolvedPolicy

    rules = [{"id": f"r{i}", "title": "t", "cites": ["c"], "severity": "warn", "check": "fairness",
              "params": {"metric": "impact_ratio", "min": 0.0, "min_group_size": 1, "features": features,
                         "intersections": True}}
             for i, features in enumerate((["race", "sex"], ["sex", "race"]))]
    policy = ResolvedPolicy(name="t", title="t", version="1", path="t", sha256="0" * 64, sources=[], rules=rules,
                            disabled=[])
    ev = assess_predictions(y_true=["y", "n"] * 4, y_pred=["y", "y", "n", "n"] * 2, classes=["n", "y"],
                            favourable_label="y", groups={"sex": ["f", "m"] * 4, "race": ["a"] * 4 + ["b"] * 4},
                            settings=fairness_plan(policy, favourable_label="y"), predictions_path="p.csv",
                            predictions_sha256="0" * 64)
    assert [f.feature for f in ev.fairness] == ["sex", "race", "race & sex"] and not ev.fairness_by_rule
