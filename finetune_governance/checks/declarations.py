"""Declaration rules: a datasheet value is present, allowed, within limits."""

from __future__ import annotations

from typing import Any

from ..evidence import Finding, RunEvidence
from ..policy.schema import DeclarationRule
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


def check_declaration(rule: DeclarationRule, evidence: RunEvidence) -> Finding:
    if evidence.declarations is None:
        raise EvidenceMissing("no datasheet was read")
    p = rule.params
    value = _lookup(evidence.declarations.declarations, p.field)
    threshold = {k: v for k, v in p.model_dump().items() if k != "field" and v is not None}
    if p.only_if is not None and _empty(_lookup(evidence.declarations.declarations, p.only_if)):
        return finding(rule, passed=True, measured=None, threshold=threshold,
                       message=f"not applicable: '{p.only_if}' is not declared")
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
