"""Identifier rules: every listed identifier removed from the training text (HIPAA Safe Harbor).

An identifier is verified through the scan entities it maps to: each must have been
scanned, not left in place by an ``allow`` action, and absent from the re-scan of the
redacted text. Identifiers the scan cannot detect (or detects only in part) make the
finding a ``warn`` that names them as not verified, never a silent pass.
"""

from __future__ import annotations

from ..evidence import Finding, RunEvidence, ScanEvidence
from ..policy.identifiers import IdentifierSpec
from ..policy.schema import IdentifiersRule
from ._base import EvidenceMissing, finding, outcome


def _issues(ident: IdentifierSpec, scan: ScanEvidence, max_residual: int) -> tuple[list[str], int]:
    """Problems with one identifier, and the records in which the scan found it."""
    summaries = {e.entity_type: e for e in scan.entities}
    residual = scan.residual.by_entity if scan.residual is not None else None
    issues: list[str] = []
    records = 0
    for entity in ident.entities:
        summary = summaries.get(entity)
        records += summary.records if summary else 0
        if entity not in scan.entities_scanned:
            issues.append(f"{entity} was not scanned")
        elif summary is None or not summary.count:
            continue
        elif summary.action == "allow":
            issues.append(f"{entity} found in {summary.records} record(s) and kept (action allow)")
        elif residual is None:
            issues.append(f"{entity} found in {summary.records} record(s) and not removed (no redaction ran)")
        elif residual.get(entity, 0) > max_residual:
            issues.append(f"{entity} still in {residual[entity]} record(s) after redaction")
    return issues, records


def check_identifiers(rule: IdentifiersRule, evidence: RunEvidence) -> Finding:
    """Each identifier removed; those the scan cannot detect are listed as not verified."""
    scan = evidence.scan
    if scan is None:
        raise EvidenceMissing("the PII scan did not run")
    p = rule.params
    measured: dict[str, str] = {}
    problems: list[str] = []
    unverified: list[IdentifierSpec] = []
    for ident in p.identifiers:
        if not ident.entities:
            measured[ident.id] = "not verified: the scan cannot detect it"
            unverified.append(ident)
            continue
        issues, records = _issues(ident, scan, p.max_residual_records)
        if issues:
            measured[ident.id] = "; ".join(issues)
            problems.append(f"{ident.id}: " + "; ".join(issues))
            continue
        state = f"removed from {records} record(s)" if records else "none found"
        if not ident.complete:
            state += " (partly verified: " + (ident.note or "") + ")"
            unverified.append(ident)
        measured[ident.id] = state
    threshold = {"max_residual_records": p.max_residual_records, "identifiers": len(p.identifiers)}
    if problems:
        return finding(rule, passed=False, measured=measured, threshold=threshold, message="; ".join(problems))
    verified = len(p.identifiers) - len(unverified)
    if unverified:
        names = ", ".join(i.id for i in unverified)
        return outcome(rule, status="warn", measured=measured, threshold=threshold,
                       message=f"{verified} of {len(p.identifiers)} identifiers verified removed; NOT VERIFIED by the "
                               f"scan (manual review required): {names}")
    return finding(rule, passed=True, measured=measured, threshold=threshold,
                   message=f"all {len(p.identifiers)} identifiers verified removed")
