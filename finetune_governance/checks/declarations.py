"""Declaration rules: a datasheet value is present, allowed, within limits; and the
scan's cross-check of the "no personal data" claim."""

from __future__ import annotations

from typing import Any

from ..evidence import Finding, RunEvidence
from ..policy.schema import DeclarationRule, PiiClaimRule
from ._base import EvidenceMissing, finding


def _lookup(declarations: dict[str, Any], dotted: str) -> Any:
    value: Any = declarations
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _declarations(evidence: RunEvidence) -> dict[str, Any]:
    if evidence.declarations is None:
        raise EvidenceMissing("no datasheet was read")
    return evidence.declarations.declarations


def check_declaration(rule: DeclarationRule, evidence: RunEvidence) -> Finding:
    """Present (unless optional), in ``one_of``, equal to ``equals``, within ``[min, max]``."""
    declarations = _declarations(evidence)
    p = rule.params
    value = _lookup(declarations, p.field)
    threshold = {k: v for k, v in p.model_dump().items() if k != "field" and v is not None}
    if p.only_if is not None:
        condition = _lookup(declarations, p.only_if)
        if _empty(condition):
            return finding(rule, passed=True, measured=None, threshold=threshold,
                           message=f"not applicable: '{p.only_if}' is not declared")
        held = condition if isinstance(condition, list) else [condition]
        if p.only_if_equals is not None and not any(v == p.only_if_equals and type(v) is type(p.only_if_equals)
                                                    for v in held):
            return finding(rule, passed=True, measured=None, threshold=threshold,
                           message=f"not applicable: '{p.only_if}' is {condition!r}, not {p.only_if_equals!r}")
    if _empty(value):
        ok = not p.required
        return finding(rule, passed=ok, measured=None, threshold=threshold,
                       message=f"'{p.field}' is not declared" + ("" if ok else " but the policy requires it"))
    values = value if isinstance(value, list) else [value]
    if p.one_of is not None:
        bad = [v for v in values if v not in p.one_of]
        if bad:
            return finding(rule, passed=False, measured=value, threshold=threshold,
                           message=f"'{p.field}' is {bad[0]!r}; allowed: {', '.join(map(str, p.one_of))}")
    if p.equals is not None and value != p.equals:
        return finding(rule, passed=False, measured=value, threshold=threshold,
                       message=f"'{p.field}' is {value!r}; the policy requires {p.equals!r}")
    if p.min is not None or p.max is not None:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return finding(rule, passed=False, measured=value, threshold=threshold,
                           message=f"'{p.field}' must be a number")
        if p.min is not None and value < p.min:
            return finding(rule, passed=False, measured=value, threshold=threshold,
                           message=f"'{p.field}' is {value}, below the minimum {p.min}")
        if p.max is not None and value > p.max:
            return finding(rule, passed=False, measured=value, threshold=threshold,
                           message=f"'{p.field}' is {value}, above the maximum {p.max}")
    return finding(rule, passed=True, measured=value, threshold=threshold, message=f"'{p.field}' is declared and allowed")


def check_pii_claim(rule: PiiClaimRule, evidence: RunEvidence) -> Finding:
    """A datasheet that declares ``contains_personal_data: false`` must agree with the scan."""
    declarations = _declarations(evidence)
    if evidence.scan is None:
        raise EvidenceMissing("the PII scan did not run")
    p = rule.params
    claim = declarations.get("contains_personal_data")
    found = evidence.scan.records_with_pii
    counts = {e.entity_type: e.records for e in evidence.scan.entities if e.records}
    # columns besides the text column (label, sensitive features, any other column holding text)
    others = {c.column: c.records_with_pii for c in evidence.scan.columns
              if c.role != "text" and c.records_with_pii}
    measured = {"declared_contains_personal_data": claim, "records_with_pii": found, "records_by_entity": counts,
                "other_columns_records_with_pii": others}
    threshold = {"min_records": p.min_records, "require_claim": p.require_claim}
    if claim is None:
        return finding(rule, passed=not p.require_claim, measured=measured, threshold=threshold,
                       message="the datasheet does not declare contains_personal_data"
                               + (" but the policy requires the claim" if p.require_claim else "; nothing to cross-check"))
    contradicting = {c: n for c, n in others.items() if n >= p.min_records}
    if claim is False and (found >= p.min_records or contradicting):
        parts = []
        if found >= p.min_records:
            kinds = ", ".join(f"{k} in {v}" for k, v in sorted(counts.items()))
            parts.append(f"in {found} record(s) of the text column ({kinds})")
        parts += [f"in {n} record(s) of column '{c}'" for c, n in contradicting.items()]
        return finding(rule, passed=False, measured=measured, threshold=threshold,
                       message=f"the datasheet declares no personal data, but the scan found PII {'; '.join(parts)}; "
                               f"correct the datasheet or the data")
    if claim is False:
        return finding(rule, passed=True, measured=measured, threshold=threshold,
                       message=f"declares no personal data; the scan agrees ({found} record(s) with a detection)")
    return finding(rule, passed=True, measured=measured, threshold=threshold,
                   message=f"declares personal data; the scan found PII in {found} record(s)")
