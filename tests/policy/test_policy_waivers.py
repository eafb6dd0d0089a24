"""Waivers: active ones turn a fail into waived, expired ones are reported, errors are never waived."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.errors import PolicyError
from finetune_governance.evidence import Finding
from finetune_governance.gate import verdict
from finetune_governance.policy.waivers import apply_waivers, load_waivers

TODAY = dt.date(2026, 3, 1)


def _finding(rule_id: str, status: str, severity: str = "block") -> Finding:
    return Finding(rule_id=rule_id, title="t", cites=["Art. 1"], severity=severity, stage="assess", status=status,
                   message="measured 0.6 < 0.8")


def _waivers(tmp_path, entries: str):
    path = tmp_path / "waivers.yaml"
    path.write_text("schema_version: 1\nwaivers:\n" + entries, encoding="utf-8")
    return load_waivers(path)


def _entry(rule_id: str, expires: str) -> str:
    return (f"  - rule_id: {rule_id}\n    justification: Rebalanced data ships next release (T-1)\n"
            f"    approver: Jane Doe (DPO)\n    expires: {expires}\n")


def test_active_waiver_turns_fail_into_waived_and_passes_the_gate(tmp_path):
    waivers = _waivers(tmp_path, _entry("gdpr.fairness.parity", "2026-03-01"))  # last valid day
    findings, warnings = apply_waivers([_finding("gdpr.fairness.parity", "fail")], waivers, today=TODAY)
    [waived] = findings
    assert waived.status == "waived"
    assert waived.waiver["state"] == "applied" and waived.waiver["approver"] == "Jane Doe (DPO)"
    assert waived.waiver["file_sha256"] == waivers.sha256
    assert "waived by Jane Doe (DPO) until 2026-03-01" in waived.message and "(was fail)" in waived.message
    assert warnings == []
    assert verdict(findings) == ("pass", 0)


def test_expired_waiver_has_no_effect_and_is_reported(tmp_path):
    waivers = _waivers(tmp_path, _entry("gdpr.fairness.parity", "2026-02-28"))
    findings, warnings = apply_waivers([_finding("gdpr.fairness.parity", "fail")], waivers, today=TODAY)
    [kept] = findings
    assert kept.status == "fail"
    assert kept.waiver["state"] == "expired"
    assert "expired on 2026-02-28; not applied" in kept.message
    assert len(warnings) == 1 and "expired waiver for 'gdpr.fairness.parity'" in warnings[0]
    assert verdict(findings) == ("fail", 1)


@pytest.mark.parametrize("status", ["error", "not_run"])
def test_waivers_never_apply_to_errors(tmp_path, status):
    waivers = _waivers(tmp_path, _entry("gdpr.privacy.dp", "2030-01-01"))
    findings, warnings = apply_waivers([_finding("gdpr.privacy.dp", status)], waivers, today=TODAY)
    assert findings[0].status == status
    assert findings[0].waiver["state"] == "refused"
    assert "cannot be waived" in findings[0].message and "cannot be waived" in warnings[0]
    assert verdict(findings) == ("fail", 1)


def test_waiver_for_a_passing_rule_changes_nothing(tmp_path):
    waivers = _waivers(tmp_path, _entry("gdpr.dpia", "2030-01-01"))
    findings, warnings = apply_waivers([_finding("gdpr.dpia", "pass")], waivers, today=TODAY)
    assert findings[0].status == "pass" and findings[0].waiver["state"] == "unused" and warnings == []


def test_waiver_for_an_unknown_rule_is_a_warning(tmp_path):
    waivers = _waivers(tmp_path, _entry("gdpr.no-such-rule", "2030-01-01"))
    findings, warnings = apply_waivers([_finding("gdpr.dpia", "fail")], waivers, today=TODAY)
    assert findings[0].status == "fail"
    assert warnings == ["waiver for 'gdpr.no-such-rule' (" + waivers.path + ") names no rule of this policy; "
                        "it has no effect"]


@pytest.mark.parametrize("entries, expected", [
    ("  - rule_id: a\n    justification: long enough text\n    approver: Jo\n", r"waivers\.0\.expires: required key"),
    ("  - rule_id: a\n    justification: long enough text\n    approver: Jo\n    expires: soon\n",
     r"waivers\.0\.expires: Input should be a valid date"),
    ("  - rule_id: a\n    justification: long enough text\n    approver: Jo\n    expires: 2030-01-01\n"
     "    aprover: x\n", r"waivers\.0\.aprover: unknown key 'aprover' \(did you mean 'approver'\?\)"),
    (_entry("a", "2030-01-01") + _entry("a", "2031-01-01"), r"waivers\.1\.rule_id: a second waiver for 'a'"),
])
def test_bad_waivers_file_is_one_positioned_line(tmp_path, entries, expected):
    with pytest.raises(PolicyError, match=r"waivers\.yaml:\d+:\d+: " + expected):
        _waivers(tmp_path, entries)


def test_run_rejects_a_bad_waivers_file_before_anything_runs(tmp_path):
    bad = tmp_path / "waivers.yaml"
    bad.write_text("schema_version: 1\nwaivers: [{rule_id: x}]\n", encoding="utf-8")
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, ["run", "--policy", "baseline", "--waivers", str(bad), "--output", str(out),
                                       "--quiet"])
    assert result.exit_code == 2, result.output
    assert f"{bad}:2:" in result.output and "required key is missing" in result.output
    assert not out.exists()
