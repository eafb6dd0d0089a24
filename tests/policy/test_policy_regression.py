"""Regression rules against a baseline run, through the real check (``evaluate``), and ``diff --policy``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from finetune_governance.checks import evaluate
from finetune_governance.cli import main
from finetune_governance.errors import PolicyError
from finetune_governance.evidence import Finding
from finetune_governance.policy import load_policy
from finetune_governance.policy.schema import Policy, ResolvedPolicy


def _policy(*rules: dict) -> ResolvedPolicy:
    parsed = Policy.model_validate({"schema_version": 1, "name": "t", "title": "T", "version": "1", "rules": list(rules)})
    return ResolvedPolicy(name="t", title="T", version="1", path="t.yaml", sha256="0", sources=[],
                          rules=parsed.rules, disabled=[])


def _regression(params: dict, severity: str = "block", rule_id: str = "t.regression") -> dict:
    return {"id": rule_id, "title": "No regression", "cites": ["Change control"], "severity": severity,
            "check": "regression", "params": params}


def _one(evidence, params: dict, severity: str = "block") -> Finding:
    [finding] = evaluate(_policy(_regression(params, severity)), evidence)
    return finding


ALL_LIMITS = {"max_epsilon_increase": 0.5, "max_accuracy_drop": 0.05, "max_f1_drop": 0.05,
              "max_fairness_drop": {"metric": "demographic_parity_ratio", "by": 0.05},
              "max_membership_auc_increase": 0.05}


def test_every_limit_passes_within_bounds_and_records_the_baseline(evidence):
    finding = _one(evidence, ALL_LIMITS)
    assert finding.status == "pass", finding.message
    m = finding.measured
    assert (m["accuracy_drop"], m["f1_macro_drop"], m["epsilon_increase"]) == (0.02, 0.02, 0.0)
    assert m["demographic_parity_ratio_worsening"] == {"gender": 0.01}
    assert m["membership_auc_increase"] == 0.01
    assert (m["baseline_run_id"], m["baseline_sha256"]) == ("ref", "5" * 64)


@pytest.mark.parametrize("change, words", [
    (lambda e: setattr(e.privacy, "epsilon", 3.6), "epsilon rose by 0.600"),
    (lambda e: setattr(e.privacy, "enabled", False), "trained without DP"),
    (lambda e: setattr(e.assessment, "accuracy", 0.8), "accuracy dropped by 0.1200"),
    (lambda e: setattr(e.assessment, "f1_macro", 0.7), "f1_macro dropped by 0.2000"),
    (lambda e: setattr(e.assessment.fairness[0], "demographic_parity_ratio", 0.85), "worsened by 0.110"),
    (lambda e: setattr(e.assessment.fairness[0], "demographic_parity_ratio", None), "now insufficient data"),
    (lambda e: setattr(e.assessment.membership, "auc", 0.7), "AUC rose by 0.190"),
])
def test_each_regression_fails_a_block_rule_and_warns_a_warn_rule(evidence, change, words):
    change(evidence)
    finding = _one(evidence, ALL_LIMITS)
    assert finding.status == "fail" and words in finding.message, finding.message
    assert _one(evidence, ALL_LIMITS, severity="warn").status == "warn"


def test_difference_metrics_worsen_by_rising(evidence):
    evidence.baseline.fairness["gender"]["accuracy_difference"] = 0.01
    params = {"max_fairness_drop": {"metric": "accuracy_difference", "by": 0.005}}
    assert _one(evidence, params).status == "fail"  # 0.01 -> 0.02: a rise of 0.01
    evidence.assessment.fairness[0].accuracy_difference = 0.0
    assert _one(evidence, params).status == "pass"


def test_missing_baseline_is_not_run_never_a_pass(evidence):
    evidence.baseline = None
    finding = _one(evidence, {"max_accuracy_drop": 0.05})
    assert finding.status == "not_run" and "--baseline" in finding.message and finding.blocking_failure


def test_figure_the_baseline_lacks_fails(evidence):
    evidence.baseline.f1_macro = None
    finding = _one(evidence, {"max_f1_drop": 0.05})
    assert finding.status == "fail" and "baseline records no f1_macro" in finding.message


def test_verdict_must_not_worsen_reads_the_other_rules(evidence):
    perf = {"id": "t.perf", "title": "perf", "cites": ["x"], "severity": "block", "check": "performance",
            "params": {"metric": "accuracy", "min": 0.85}}
    policy = _policy(_regression({"verdict_must_not_worsen": True}), perf)
    regression, performance = evaluate(policy, evidence)
    assert performance.status == "pass" and regression.status == "pass", regression.message
    evidence.assessment.accuracy = 0.8
    regression, performance = evaluate(policy, evidence)
    assert performance.status == "fail"
    assert regression.status == "fail" and "now the gate fails on t.perf" in regression.message
    waive = lambda found: [f.model_copy(update={"status": "waived"}) if f.rule_id == "t.perf" else f  # noqa: E731
                           for f in found]
    regression, _ = evaluate(policy, evidence, view=waive)
    assert regression.status == "pass", regression.message


def test_a_regression_rule_needs_a_limit(write_policy):
    path = write_policy("schema_version: 1\nname: t\ntitle: T\nversion: '1'\nrules:\n"
                        "  - {id: t.r, title: R, cites: [x], severity: block, check: regression, params: {}}\n")
    with pytest.raises(PolicyError, match="give at least one of max_epsilon_increase"):
        load_policy(path)


def test_diff_applies_the_policy_regression_rules(evidence, tmp_path, write_policy):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    before = evidence.model_copy(deep=True)
    before.baseline = None
    before.verdict = "pass"
    after = before.model_copy(deep=True)
    after.run_id = "next"
    after.privacy.epsilon = 6.0
    a.write_text(before.model_dump_json(), encoding="utf-8")
    b.write_text(after.model_dump_json(), encoding="utf-8")
    policy = write_policy("schema_version: 1\nname: t\ntitle: T\nversion: '1'\nrules:\n"
                          "  - {id: t.eps, title: Eps, cites: [x], severity: block, check: regression,\n"
                          "     params: {max_epsilon_increase: 1.0, max_accuracy_drop: 0.0}}\n")
    result = CliRunner().invoke(main, ["diff", str(a), str(b), "--policy", str(policy)])
    assert result.exit_code == 1, result.output
    assert "FAIL     t.eps: epsilon rose by 3.000" in result.output
    same = CliRunner().invoke(main, ["diff", str(a), str(a), "--policy", str(policy)])
    assert same.exit_code == 0 and "PASS     t.eps" in same.output, same.output
    assert json.loads(a.read_text(encoding="utf-8"))["baseline"] is None
