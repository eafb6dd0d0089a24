"""PII rules: no entity the policy blocks, and little enough left after redaction."""

from __future__ import annotations

from ..evidence import Finding, RunEvidence
from ..policy.schema import PiiRule
from ._base import EvidenceMissing, finding


def check_pii(rule: PiiRule, evidence: RunEvidence) -> Finding:
    scan = evidence.scan
    if scan is None:
        raise EvidenceMissing("the PII scan did not run")
    p = rule.params
    threshold = {"blocked_entities": 0, "max_residual_rate": p.max_residual_rate}
    if scan.blocked_entities:
        counts = {e.entity_type: e.count for e in scan.entities if e.entity_type in scan.blocked_entities}
        return finding(rule, passed=False, measured={"blocked_entities": counts}, threshold=threshold,
                       message="the policy blocks " + ", ".join(f"{k} ({v} found)" for k, v in counts.items()))
    if scan.residual is None:
        raise EvidenceMissing("the redacted data was not re-scanned")
    rate = scan.residual.rate
    measured = {"records_with_pii": scan.records_with_pii, "residual_rate": rate, "residual_records": scan.residual.records}
    if rate > p.max_residual_rate:
        return finding(rule, passed=False, measured=measured, threshold=threshold,
                       message=f"{scan.residual.records} record(s) still hold PII after redaction "
                               f"(rate {rate:.4f} > {p.max_residual_rate})")
    return finding(rule, passed=True, measured=measured, threshold=threshold,
                   message=f"{scan.records_with_pii} record(s) with PII redacted; residual rate {rate:.4f}")
