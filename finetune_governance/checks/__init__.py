"""Checks: pure functions from (rule, evidence) to a Finding, one module per family.

``CHECKS`` is the registry: each rule family's check, what it verifies and the evidence
it reads. ``evaluate`` runs every rule of a policy; a check that raises becomes an
``error`` finding, and a rule whose stage did not run becomes ``not_run``: both fail the
gate for blocking rules (fail closed).
"""

from __future__ import annotations

from ..evidence import Finding, RunEvidence
from ..policy.schema import ResolvedPolicy
from ._base import CheckSpec, EvidenceMissing
from .assessment import check_fairness, check_membership_inference, check_performance, check_utility
from .declarations import check_declaration, check_pii_claim
from .documentation import check_documentation
from .identifiers import check_identifiers
from .pii import check_pii
from .privacy import check_privacy

CHECKS: dict[str, CheckSpec] = {
    "declaration": CheckSpec(
        check_declaration, "a datasheet declaration is present, one of the allowed values, equal to the required "
        "value, or within numeric limits (only_if: applies when another declaration is non-empty)",
        ("declarations.declarations",)),
    "pii_claim": CheckSpec(
        check_pii_claim, "a datasheet declaring contains_personal_data: false is contradicted when the scan finds "
        "PII in min_records or more records", ("declarations.declarations.contains_personal_data",
                                                "scan.records_with_pii", "scan.entities")),
    "pii": CheckSpec(
        check_pii, "no entity type with action block was found, and the share of records still holding PII "
        "after redaction is at most max_residual_rate", ("scan.blocked_entities", "scan.residual")),
    "identifiers": CheckSpec(
        check_identifiers, "each listed identifier's entity types were scanned, not kept, and absent from the "
        "re-scan of the redacted text; identifiers the scan cannot detect are reported as not verified",
        ("scan.entities_scanned", "scan.entities", "scan.residual.by_entity")),
    "privacy": CheckSpec(
        check_privacy, "training used DP-SGD when required, with Poisson sampling, epsilon at most max_epsilon "
        "and delta within max_delta", ("privacy", "dataset.train_records")),
    "performance": CheckSpec(
        check_performance, "a held-out performance metric is at least min", ("assessment.accuracy",
                                                                            "assessment.f1_macro")),
    "fairness": CheckSpec(
        check_fairness, "a group-fairness metric over each sensitive feature (and intersections) is within "
        "[min, max]; insufficient data never passes", ("assessment.fairness",)),
    "membership_inference": CheckSpec(
        check_membership_inference, "the strongest membership-inference attack's AUC and TPR at 1% FPR are at "
        "most the limits", ("assessment.membership",)),
    "utility": CheckSpec(
        check_utility, "accuracy lost against a reference run, overall and spread across groups, is at most "
        "the limits", ("assessment.utility",)),
    "documentation": CheckSpec(
        check_documentation, "every documentation item's evidence paths are present and non-empty; items "
        "outside a training run are listed as not verified", ("the evidence paths each item names",)),
}


def _status_only(rule, status: str, message: str) -> Finding:
    return Finding(
        rule_id=rule.id, title=rule.title, cites=list(rule.cites), severity=rule.severity,
        stage=rule.stage or "assess", status=status, message=message,
    )


def plugin_failure_finding(failure) -> Finding:
    """An ``error`` finding for a plugin that failed to import or whose hook raised."""
    def slug(text: str) -> str:
        return "".join(c if c.isalnum() or c in "._-" else "-" for c in text.lower())

    rule_id = f"plugin.{slug(failure.plugin)}" + ("" if failure.phase == "import" else f".{slug(failure.phase)}")
    return Finding(
        rule_id=rule_id, title=f"Plugin '{failure.plugin}' loads and runs",
        cites=["finetune-governance plugin contract: a failing plugin fails the gate"], severity="block",
        stage="plugins", status="error", message=failure.message,
    )


def evaluate(policy: ResolvedPolicy, evidence: RunEvidence, host=None) -> list[Finding]:
    """One finding per active rule, in policy order, then one ``error`` finding per plugin
    failure (load-time failures of ``host`` and run-time ones recorded in the evidence).

    ``host`` defaults to the plugin host of the policy's ``plugins:``."""
    from ..plugins import PluginFailure, plugin_host

    host = host or plugin_host(policy.plugins)
    families = host.families()
    findings: list[Finding] = []
    for rule in policy.rules:
        family = families.get(rule.check)
        try:
            if family is None:
                failed = ", ".join(sorted({f.plugin for f in host.failures}))
                raise LookupError(f"no check registered for rule family '{rule.check}'"
                                  + (f" (failed plugins: {failed})" if failed else ""))
            findings.append(family.check(rule, evidence))
        except EvidenceMissing as exc:
            findings.append(_status_only(rule, "not_run", f"not evaluated: {exc}"))
        except Exception as exc:  # noqa: BLE001 - a failing check must fail closed, not crash
            findings.append(_status_only(rule, "error", f"check raised {type(exc).__name__}: {str(exc)[:200]}"))
    failures = list(host.failures)
    if evidence.plugins is not None:
        failures += [PluginFailure(f.plugin, f.phase, f.error) for f in evidence.plugins.failures]
    seen: set = set()
    for failure in failures:
        if failure not in seen:
            seen.add(failure)
            findings.append(plugin_failure_finding(failure))
    return findings


__all__ = ["CHECKS", "CheckSpec", "evaluate", "plugin_failure_finding"]
