"""``run --waivers``: waived findings reach audit.json and every report (one real, small run)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from finetune_governance.cli import main

POLICY = """schema_version: 1
name: waiver-test
title: Waiver test
version: "1"
rules:
  - id: t.retention
    title: Retention at most 10 days
    cites: ["GDPR Art. 5(1)(e)"]
    severity: block
    check: declaration
    params: {field: retention_days, max: 10}
  - id: t.licence
    title: MIT-licensed data only
    cites: ["Test licence policy 1"]
    severity: warn
    check: declaration
    params: {field: licence, one_of: [MIT]}
  - id: t.claim
    title: Personal-data claim agrees with the scan
    cites: ["GDPR Art. 5(2)"]
    severity: block
    check: pii_claim
  - id: t.pii
    title: PII replaced
    cites: ["GDPR Art. 5(1)(c)"]
    severity: warn
    check: pii
    params: {default_action: replace, max_residual_rate: 1.0, entities: [EMAIL_ADDRESS]}
"""

WAIVERS = """schema_version: 1
waivers:
  - rule_id: t.retention
    justification: Legal hold approved for this dataset (LH-9)
    approver: Jane Doe (DPO)
    expires: 2999-12-31
  - rule_id: t.licence
    justification: Licence review was pending at the time
    approver: Max Roe (Legal)
    expires: 2000-01-01
"""


def test_run_applies_waivers_and_reports_them(tmp_path, tickets, tiny_bert):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVERS, encoding="utf-8")
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, [
        "run", "--policy", str(policy), "--waivers", str(waivers), "--data", str(tickets), "--model", str(tiny_bert),
        "--limit", "60", "--output", str(out), "--run-id", "w", "--quiet"])
    assert result.exit_code == 0, result.output
    run = out / "w"
    evidence = json.loads((run / "audit.json").read_text(encoding="utf-8"))
    findings = {f["rule_id"]: f for f in evidence["findings"]}
    assert findings["t.retention"]["status"] == "waived"
    assert findings["t.retention"]["waiver"]["approver"] == "Jane Doe (DPO)"
    assert findings["t.retention"]["waiver"]["state"] == "applied"
    assert findings["t.licence"]["status"] == "warn"
    assert findings["t.licence"]["waiver"]["state"] == "expired"
    assert findings["t.claim"]["status"] == "pass"
    assert any("expired waiver for 't.licence'" in w for w in evidence["warnings"])
    assert evidence["verdict"] == "pass"
    assert 'name="t.retention"' in (junit := (run / "junit.xml").read_text(encoding="utf-8"))
    assert "<skipped" in junit and "waived by Jane Doe (DPO)" in junit
    for report in ("audit.html", "model_card.md"):
        text = (run / report).read_text(encoding="utf-8")
        assert "waived" in text and "Jane Doe (DPO)" in text, report
    assert "WAIVED" in result.output
