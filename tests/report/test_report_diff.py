"""`diff` prints what changed between two runs and fails on regressions the policy names;
`run --baseline` feeds the same utility rules."""

from __future__ import annotations

import json

from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.report.diff import diff_evidence, format_changes
from tests.report.report_data import hand_built_evidence


def test_diff_reports_verdict_metrics_epsilon_and_groups():
    a = hand_built_evidence()
    b = hand_built_evidence(verdict="fail", run_id="hand-2").model_copy(deep=True)
    b.privacy.epsilon = 5.0
    b.assessment.accuracy = 0.70
    b.assessment.fairness[0].groups[0].accuracy = 0.6
    b.findings[1].status = "fail"
    changes = {c.path: c for c in diff_evidence(a, b)}
    assert changes["verdict"].direction == "worse"
    assert (changes["privacy.epsilon"].before, changes["privacy.epsilon"].after) == (3.2, 5.0)
    assert changes["privacy.epsilon"].direction == "worse"
    assert changes["assessment.accuracy"].direction == "worse"
    assert changes["fairness[gender][female].accuracy"].direction == "worse"
    assert changes["findings.gdpr.fairness.parity.status"].direction == "worse"
    text = format_changes(list(changes.values()), a_id="hand-1", b_id="hand-2")
    assert "privacy.epsilon" in text and "3.2000 -> 5.0000" in text
    assert diff_evidence(a, a) == []


def test_diff_cli_fails_on_a_regression_the_policy_names(real_run, tmp_path):
    b = real_run / "audit.json"
    data = json.loads(b.read_text(encoding="utf-8"))
    data["assessment"]["accuracy"] = min(1.0, data["assessment"]["accuracy"] + 0.2)  # A was better
    data["run_id"] = "approved"
    a = tmp_path / "a.json"
    a.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(a), str(b)])
    assert result.exit_code == 1, result.output
    assert "assessment.accuracy" in result.output and "FAIL" in result.output and "test.no-regression" in result.output
    same = CliRunner().invoke(main, ["diff", str(b), str(b)])
    assert same.exit_code == 0 and "No differences" in same.output
    assert "test.no-regression" in same.output and "PASS" in same.output


def test_diff_cli_without_utility_rules_only_prints(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(hand_built_evidence().model_dump_json(), encoding="utf-8")
    b.write_text(hand_built_evidence(run_id="hand-2", verdict="fail").model_dump_json(), encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(a), str(b)])
    assert result.exit_code == 0 and "verdict" in result.output and "names none" in result.output


def test_diff_cli_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"run_id": 1}', encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(bad), str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "not an audit.json" in result.output and "Traceback" not in result.output


def test_run_baseline_fails_the_run_on_a_named_regression(real_run):
    evidence = json.loads((real_run / "audit.json").read_text(encoding="utf-8"))
    finding = next(f for f in evidence["findings"] if f["rule_id"] == "test.no-regression")
    assert finding["status"] == "fail" and evidence["exit_code"] == 1
    assert evidence["assessment"]["utility"]["reference_run_id"] == "approved"


def test_run_baseline_option_is_wired(tmp_path, tickets):
    result = CliRunner().invoke(main, ["run", "--policy", "gdpr", "--data", str(tickets), "--baseline",
                                       str(tmp_path / "missing.json"), "--output", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2 and "--baseline" in result.output and "not found" in result.output
