"""Checks: pure functions from (rule, evidence) to a Finding, one module per family.

``evaluate`` runs every rule of a policy; a check that raises becomes an ``error``
finding, and a rule whose stage did not run becomes ``not_run``: both fail the gate
for blocking rules (fail closed).
"""

from __future__ import annotations

from typing import Callable

from ..evidence import Finding, RunEvidence
from ..policy.schema import ResolvedPolicy
from ._base import EvidenceMissing
from .assessment import check_fairness, check_performance
from .declarations import check_declaration
from .pii import check_pii
from .privacy import check_privacy

CHECKS: dict[str, Callable] = {
    "declaration": check_declaration,
    "pii": check_pii,
    "privacy": check_privacy,
    "fairness": check_fairness,
    "performance": check_performance,
}


def _status_only(rule, status: str, message: str) -> Finding:
    return Finding(
        rule_id=rule.id, title=rule.title, cites=list(rule.cites), severity=rule.severity,
        stage=rule.stage, status=status, message=message,
    )


def evaluate(policy: ResolvedPolicy, evidence: RunEvidence) -> list[Finding]:
    """One finding per active rule, in policy order."""
    findings: list[Finding] = []
    for rule in policy.rules:
        check = CHECKS.get(rule.check)
        try:
            if check is None:
                raise LookupError(f"no check registered for rule family '{rule.check}'")
            findings.append(check(rule, evidence))
        except EvidenceMissing as exc:
            findings.append(_status_only(rule, "not_run", f"not evaluated: {exc}"))
        except Exception as exc:  # noqa: BLE001 - a failing check must fail closed, not crash
            findings.append(_status_only(rule, "error", f"check raised {type(exc).__name__}: {str(exc)[:200]}"))
    return findings


__all__ = ["CHECKS", "evaluate"]
