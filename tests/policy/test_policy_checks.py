"""Every rule family, a passing and a failing case, through the real checks (``evaluate``)."""

from __future__ import annotations

import pytest

from finetune_governance.checks import CHECKS, evaluate
from finetune_governance.evidence import EntitySummary, ResidualSummary
from finetune_governance.gate import verdict
from finetune_governance.policy import load_policy
from finetune_governance.policy.schema import Policy, ResolvedPolicy


def _policy(*rules: dict) -> ResolvedPolicy:
    parsed = Policy.model_validate({"schema_version": 1, "name": "t", "title": "T", "version": "1", "rules": list(rules)})
    return ResolvedPolicy(name="t", title="T", version="1", path="t.yaml", sha256="0", sources=[],
                          rules=parsed.rules, disabled=[])


def _rule(check: str, params: dict | None, severity: str = "block") -> dict:
    rule = {"id": f"t.{check}", "title": check, "cites": ["Test Art. 1"], "severity": severity, "check": check}
    if params is not None:
        rule["params"] = params
    return rule


def _one(evidence, check: str, params: dict | None, severity: str = "block"):
    [finding] = evaluate(_policy(_rule(check, params, severity)), evidence)
    return finding


FAMILIES = {
    "declaration": {"field": "retention_days", "min": 1, "max": 1825},
    "pii_claim": None,
    "pii": {"max_residual_rate": 0.01},
    "identifiers": {"identifiers": [{"id": "emails", "title": "Emails", "entities": ["EMAIL_ADDRESS"]}]},
    "privacy": {"differential_privacy": "required", "max_epsilon": 8.0},
    "performance": {"metric": "accuracy", "min": 0.8},
    "fairness": {"metric": "demographic_parity_ratio", "min": 0.8},
    "membership_inference": {"max_auc": 0.6},
    "utility": {"max_accuracy_drop": 0.05},
    "regression": {"max_accuracy_drop": 0.05, "max_epsilon_increase": 0.5},
    "documentation": {"items": [{"id": "purpose", "title": "Purpose", "evidence": ["declarations.declarations.purpose"]}]},
}


def _break(evidence, family: str) -> None:
    """Change the evidence so that the family's rule above fails."""
    if family == "declaration":
        evidence.declarations.declarations["retention_days"] = 4000
    elif family == "pii_claim":
        evidence.declarations.declarations["contains_personal_data"] = False
    elif family == "pii":
        evidence.scan.residual = ResidualSummary(records=5, rate=0.05, by_entity={"PERSON": 5})
    elif family == "identifiers":
        evidence.scan.residual = ResidualSummary(records=2, rate=0.02, by_entity={"EMAIL_ADDRESS": 2})
    elif family == "privacy":
        evidence.privacy.epsilon = 9.5
    elif family == "performance":
        evidence.assessment.accuracy = 0.5
    elif family == "fairness":
        evidence.assessment.fairness[0].demographic_parity_ratio = 0.6
    elif family == "membership_inference":
        evidence.assessment.membership.auc = 0.75
    elif family == "utility":
        evidence.assessment.utility.accuracy_drop = 0.2
    elif family == "regression":
        evidence.privacy.epsilon = 4.0
    elif family == "documentation":
        evidence.declarations.declarations["purpose"] = None


def test_every_registered_family_is_covered():
    assert set(FAMILIES) == set(CHECKS)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_passes_on_good_evidence(evidence, family):
    finding = _one(evidence, family, FAMILIES[family])
    assert finding.status == "pass", finding.message
    assert finding.cites == ["Test Art. 1"]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_fails_on_bad_evidence(evidence, family):
    _break(evidence, family)
    finding = _one(evidence, family, FAMILIES[family])
    assert finding.status == "fail", finding.message
    assert verdict([finding]) == ("fail", 1)
    warned = _one(evidence, family, FAMILIES[family], severity="warn")
    assert warned.status == "warn"
    assert verdict([warned]) == ("pass", 0)


def test_pii_claim_names_the_contradiction(evidence):
    evidence.declarations.declarations["contains_personal_data"] = False
    finding = _one(evidence, "pii_claim", None)
    assert "declares no personal data, but the scan found PII in 7 record(s)" in finding.message
    assert "PERSON in 5" in finding.message
    assert finding.measured["records_with_pii"] == 7


def test_pii_claim_agrees_when_nothing_found(evidence):
    evidence.declarations.declarations["contains_personal_data"] = False
    evidence.scan.records_with_pii = 0
    evidence.scan.entities = []
    assert _one(evidence, "pii_claim", None).status == "pass"


def test_pii_claim_is_contradicted_by_pii_in_another_column(evidence):
    from finetune_governance.evidence import ColumnScan

    evidence.declarations.declarations["contains_personal_data"] = False
    evidence.scan.records_with_pii = 0
    evidence.scan.entities = []
    notes = ColumnScan(column="notes", role="other", method="distinct values", records_scanned=100, distinct_values=40,
                       records_with_pii=3, handling="reported, not redacted", entities=[])
    evidence.scan.columns = [notes]
    finding = _one(evidence, "pii_claim", None)
    assert finding.status == "fail" and "found PII in 3 record(s) of column 'notes'" in finding.message
    assert finding.measured["other_columns_records_with_pii"] == {"notes": 3}
    assert _one(evidence, "pii_claim", {"min_records": 4}).status == "pass"


def test_pii_claim_can_require_the_claim(evidence):
    evidence.declarations.declarations["contains_personal_data"] = None
    assert _one(evidence, "pii_claim", None).status == "pass"
    assert _one(evidence, "pii_claim", {"require_claim": True}).status == "fail"


def test_declaration_allow_list_and_only_if(evidence):
    allow = {"field": "licence", "one_of": ["CC0-1.0", "MIT"]}
    assert _one(evidence, "declaration", allow).status == "pass"
    evidence.declarations.declarations["licence"] = "CC-BY-NC-4.0"
    finding = _one(evidence, "declaration", allow)
    assert finding.status == "fail" and "'licence' is 'CC-BY-NC-4.0'" in finding.message
    explicit = {"field": "consent.explicit", "equals": True, "only_if": "special_categories"}
    assert _one(evidence, "declaration", explicit).status == "pass"  # no special categories declared
    evidence.declarations.declarations["special_categories"] = ["health"]
    assert _one(evidence, "declaration", explicit).status == "fail"


def test_identifiers_unverifiable_ones_are_named_not_passed(evidence):
    params = {"identifiers": [
        {"id": "emails", "title": "Emails", "entities": ["EMAIL_ADDRESS"]},
        {"id": "vehicles", "title": "Vehicle identifiers", "note": "no recognizer"},
        {"id": "devices", "title": "Device ids", "entities": ["PHONE_NUMBER"], "complete": False, "note": "MAC only"},
    ]}
    finding = _one(evidence, "identifiers", params)
    assert finding.status == "warn"
    assert "1 of 3 identifiers verified removed" in finding.message
    assert "NOT VERIFIED" in finding.message and "vehicles, devices" in finding.message
    assert finding.measured["vehicles"].startswith("not verified")
    assert finding.measured["emails"] == "removed from 3 record(s)"


def test_identifiers_fail_when_an_entity_is_kept_or_not_scanned(evidence):
    evidence.scan.entities = [EntitySummary(entity_type="EMAIL_ADDRESS", action="allow", count=3, records=3,
                                            record_rate=0.03, previews=[])]
    params = {"identifiers": [{"id": "emails", "title": "Emails", "entities": ["EMAIL_ADDRESS"]},
                              {"id": "ssn", "title": "SSN", "entities": ["US_SSN"]}]}
    finding = _one(evidence, "identifiers", params)
    assert finding.status == "fail"
    assert "EMAIL_ADDRESS found in 3 record(s) and kept (action allow)" in finding.message
    assert "US_SSN was not scanned" in finding.message


def test_identifiers_fail_when_scan_stopped_before_redaction(evidence):
    evidence.scan.residual = None
    evidence.scan.blocked_entities = ["PERSON"]
    params = {"identifiers": [{"id": "names", "title": "Names", "entities": ["PERSON"]}]}
    finding = _one(evidence, "identifiers", params)
    assert finding.status == "fail" and "not removed" in finding.message


def test_documentation_not_covered_items_warn(evidence):
    params = {"items": FAMILIES["documentation"]["items"],
              "not_covered": [{"item": "Declaration of conformity", "reason": "an organisational document"}]}
    finding = _one(evidence, "documentation", params)
    assert finding.status == "warn"
    assert "NOT VERIFIED" in finding.message and "Declaration of conformity" in finding.message
    assert finding.measured["not_verified"] == ["Declaration of conformity"]


def test_documentation_missing_stage_fails_not_errors(evidence):
    evidence.assessment = None
    params = {"items": [{"id": "testing", "title": "Testing", "evidence": ["assessment.accuracy"]}]}
    finding = _one(evidence, "documentation", params)
    assert finding.status == "fail"
    assert "testing (Testing: assessment.accuracy)" in finding.message


def test_stage_not_run_is_not_run_and_blocks(evidence):
    evidence.assessment = None
    finding = _one(evidence, "performance", FAMILIES["performance"])
    assert finding.status == "not_run"
    assert verdict([finding]) == ("fail", 1)


def test_bundled_gdpr_passes_on_good_evidence(evidence):
    table = evidence.assessment.fairness[0]  # computed as the pack's fairness rule asks: 1,000 resamples, 95%
    evidence.assessment.fairness = [table.model_copy(update={"n_boot": 1000, "ci_level": 0.95})]
    findings = evaluate(load_policy("gdpr"), evidence)
    assert {f.status for f in findings} == {"pass"}
    assert verdict(findings) == ("pass", 0)


def test_bundled_hipaa_lists_unverifiable_identifiers(evidence):
    scanned = ["PERSON", "LOCATION", "STREET_ADDRESS", "US_ZIP_CODE", "DATE_TIME", "PHONE_NUMBER", "EMAIL_ADDRESS",
               "US_SSN", "MEDICAL_RECORD_NUMBER", "US_BANK_NUMBER", "IBAN_CODE", "CREDIT_CARD", "US_DRIVER_LICENSE",
               "MEDICAL_LICENSE", "MAC_ADDRESS", "URL", "IP_ADDRESS", "US_PASSPORT", "US_ITIN", "UK_NHS"]
    evidence.scan.entities_scanned = scanned
    finding = next(f for f in evaluate(load_policy("hipaa"), evidence) if f.rule_id == "hipaa.safe-harbor.identifiers")
    assert finding.status == "warn"
    assert len(finding.measured) == 18
    for unverifiable in ("health-plan-beneficiary-numbers", "vehicle-identifiers", "biometric-identifiers",
                         "full-face-photographs"):
        assert finding.measured[unverifiable] == "not verified: the scan cannot detect it"
    assert finding.measured["names"] == "removed from 5 record(s)"
    assert "7 of 18 identifiers verified removed" in finding.message


def test_documentation_path_through_a_list_needs_every_item():
    from finetune_governance.checks.documentation import PerItem, _present, resolve

    data = {"assessment": {"fairness": [{"exclude_below_share": 0.02}, {"exclude_below_share": 0.05}]}}
    value = resolve(data, "assessment.fairness.exclude_below_share")
    assert isinstance(value, PerItem) and value == [0.02, 0.05] and _present(value)
    data["assessment"]["fairness"][1]["exclude_below_share"] = None
    assert not _present(resolve(data, "assessment.fairness.exclude_below_share"))
    assert not _present(resolve({"assessment": {"fairness": []}}, "assessment.fairness.exclude_below_share"))
    assert resolve(data, "assessment.fairness") == data["assessment"]["fairness"]  # a list at the end: as is
    assert resolve(data, "assessment.missing.x") is None
