"""In-run non-private reference for utility rules, and the membership audit only when asked (tiny BERT runs)."""

from __future__ import annotations

import csv
import json

import pytest

from finetune_governance.assess import membership_skip_reason
from finetune_governance.policy.schema import Policy, ResolvedPolicy

POLICY = """
schema_version: 1
name: reference-test
title: DP with an in-run non-private reference
version: "1"
rules:
  - id: t.dp
    title: DP-SGD
    cites: ["GDPR Art. 25"]
    severity: block
    check: privacy
    params: {differential_privacy: required, max_epsilon: 8.0}
  - id: t.utility
    title: Privacy costs little accuracy
    cites: ["internal"]
    severity: warn
    check: utility
    params: {reference: non_private, max_accuracy_drop: 0.5}
  - id: t.parity
    title: Parity
    cites: ["internal"]
    severity: warn
    check: fairness
    params: {metric: demographic_parity_ratio, min: 0.0, min_group_size: 5}
  - id: t.no-dp-regression
    title: No worse than the baseline
    cites: ["internal"]
    severity: block
    check: regression
    params: {max_accuracy_drop: 0.0}
"""


def _resolved(*rules: dict) -> ResolvedPolicy:
    parsed = Policy.model_validate({"schema_version": 1, "name": "t", "title": "T", "version": "1", "rules": list(rules)})
    return ResolvedPolicy(name="t", title="T", version="1", path="t.yaml", sha256="0", sources=[],
                          rules=parsed.rules, disabled=[])


MIA_RULE = {"id": "t.mia", "title": "MIA", "cites": ["x"], "severity": "warn", "check": "membership_inference",
            "params": {"max_auc": 0.6}}
REGRESSION_MIA = {"id": "t.reg", "title": "R", "cites": ["x"], "severity": "warn", "check": "regression",
                  "params": {"max_membership_auc_increase": 0.05}}


def test_membership_runs_only_when_a_rule_or_the_config_asks():
    assert membership_skip_reason(_resolved(), "auto").startswith("skipped: no policy rule reads it")
    assert membership_skip_reason(_resolved(MIA_RULE), "auto") is None
    assert membership_skip_reason(_resolved(REGRESSION_MIA), "auto") is None
    assert membership_skip_reason(_resolved(), "always") is None
    assert "t.mia" in membership_skip_reason(_resolved(MIA_RULE), "never")


@pytest.fixture(scope="module")
def reference_run(tiny_bert, tmp_path_factory):
    from finetune_governance.api import RunRequest, run
    from finetune_governance.runconfig import build_config
    from tests.conftest import EXAMPLE, write_tickets

    root = tmp_path_factory.mktemp("reference_run")
    data = write_tickets(root / "data" / "tickets.csv", n=160)
    (root / "data" / "datasheet.yaml").write_text((EXAMPLE / "datasheet.yaml").read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    policy = root / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    baseline = root / "baseline.json"
    baseline.write_text(json.dumps({"run_id": "approved", "verdict": "pass",
                                    "assessment": {"accuracy": 1.0, "f1_macro": 1.0, "fairness": []}}),
                        encoding="utf-8")
    config = build_config(config_path=None, data=data, datasheet=None, model=str(tiny_bert), epochs=1, limit=None,
                          output=root / "reports")
    outcome = run(RunRequest(policy=policy, config=config, run_id="ref", command="pytest", baseline=baseline))
    return outcome


def test_non_private_reference_is_trained_in_run_and_recorded(reference_run):
    evidence = reference_run.evidence
    assert evidence.privacy.enabled
    utility = evidence.assessment.utility_non_private
    assert utility is not None and utility.in_run and not evidence.assessment.utility.in_run
    path = reference_run.report_dir / "reference_predictions.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["record"]) for r in rows] == [int(r["record"]) for r in csv.DictReader(
        (reference_run.report_dir / "predictions.csv").open(encoding="utf-8", newline=""))]
    accuracy = sum(r["label"] == r["prediction"] for r in rows) / len(rows)  # recomputed from the file
    assert utility.reference_accuracy == pytest.approx(accuracy)
    assert utility.accuracy_drop == pytest.approx(accuracy - evidence.assessment.accuracy, abs=1e-6)
    assert set(utility.group_drops) == {"gender", "age_band"}
    ref_group = {}  # per-group reference accuracy, recomputed from the reference predictions
    for r in rows:
        hits = ref_group.setdefault(r["gender"], [0, 0])
        hits[0] += r["label"] == r["prediction"]
        hits[1] += 1
    now = {g.group: g.accuracy for g in evidence.assessment.fairness[0].groups}
    assert evidence.assessment.fairness[0].feature == "gender"
    for group, drop in utility.group_drops["gender"].items():
        assert drop == pytest.approx(ref_group[group][0] / ref_group[group][1] - now[group], abs=1e-6)
    assert evidence.artifacts["reference_predictions.csv"] == utility.reference_sha256
    finding = next(f for f in evidence.findings if f.rule_id == "t.utility")
    assert finding.status in ("pass", "warn") and "in-run non-private reference" in finding.message


def test_regression_rule_reads_the_recorded_baseline(reference_run):
    evidence = reference_run.evidence
    assert evidence.baseline.run_id == "approved" and len(evidence.baseline.sha256) == 64
    finding = next(f for f in evidence.findings if f.rule_id == "t.no-dp-regression")
    if evidence.assessment.accuracy < 1.0:
        assert finding.status == "fail" and "accuracy dropped" in finding.message
    else:
        assert finding.status == "pass"


def test_membership_skipped_without_a_rule_and_reports_say_not_run(reference_run):
    evidence = reference_run.evidence
    assert evidence.assessment.membership is None
    assert evidence.assessment.membership_not_run.startswith("skipped: no policy rule reads it")
    assert not (reference_run.report_dir / "membership_losses.csv").exists()
    html = (reference_run.report_dir / "audit.html").read_text(encoding="utf-8")
    assert "<strong>Not run.</strong> skipped: no policy rule reads it" in html
    card = (reference_run.report_dir / "model_card.md").read_text(encoding="utf-8")
    assert "Membership inference: **not run**" in card


def test_reports_show_both_references(reference_run):
    evidence = reference_run.evidence
    html = (reference_run.report_dir / "audit.html").read_text(encoding="utf-8")
    assert 'id="utility-non-private"' in html and 'id="utility"' in html
    card = (reference_run.report_dir / "model_card.md").read_text(encoding="utf-8")
    assert f"drop {evidence.assessment.utility_non_private.accuracy_drop:.4f}" in card
