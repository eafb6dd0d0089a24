"""Checks: pure functions from (rule, evidence) to a Finding, one module per family.

``CHECKS`` is the registry: each rule family's check, what it verifies and the evidence
it reads. ``evaluate`` runs every rule of a policy; a check that raises becomes an
``error`` finding, and a rule whose stage did not run becomes ``not_run``: both fail the
gate for blocking rules (fail closed). Families in ``READS_FINDINGS`` (a regression rule's
``verdict_must_not_worsen``) run last, seeing the other rules' findings.
"""

from __future__ import annotations

from typing import Callable

from ..evidence import Finding, RunEvidence
from ..policy.schema import ResolvedPolicy
from ._base import CheckSpec, EvidenceMissing
from .assessment import check_fairness, check_membership_inference, check_performance, check_utility
from .declarations import check_declaration, check_pii_claim
from .documentation import check_documentation
from .identifiers import check_identifiers
from .pii import check_pii, read_columns_finding
from .privacy import check_privacy
from .regression import check_regression

CHECKS: dict[str, CheckSpec] = {
    "declaration": CheckSpec(
        check_declaration, "a datasheet declaration is present, one of the allowed values, equal to the required "
        "value, or within numeric limits (only_if: applies when another declaration is non-empty)",
        ("declarations.declarations",)),
    "pii_claim": CheckSpec(
        check_pii_claim, "a datasheet declaring contains_personal_data: false is contradicted when the scan finds "
        "PII in min_records or more records of the text column or of any other scanned column",
        ("declarations.declarations.contains_personal_data", "scan.records_with_pii", "scan.entities",
         "scan.columns")),
    "pii": CheckSpec(
        check_pii, "no entity type with action block was found, no label or sensitive-feature column (whose "
        "values the reports show) holds PII, and the share of records still holding PII after redaction is at "
        "most max_residual_rate; PII in columns the run does not read is a warning",
        ("scan.blocked_entities", "scan.columns", "scan.residual")),
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
        check_fairness, "a group-fairness metric over each sensitive feature (and the intersection the rule asks "
        "for) is within [min, max] (decide_on: interval: its whole bootstrap interval), on tables computed with the "
        "rule's own group settings; insufficient data never passes", ("assessment.fairness",
                                                                       "assessment.fairness_by_rule")),
    "membership_inference": CheckSpec(
        check_membership_inference, "the strongest membership-inference attack's AUC and TPR at 1% FPR are at "
        "most the limits", ("assessment.membership",)),
    "utility": CheckSpec(
        check_utility, "accuracy lost against a reference (the --baseline run, or with reference: non_private "
        "the same settings trained without DP in this run), overall and spread across groups, is at most the "
        "limits", ("assessment.utility", "assessment.utility_non_private")),
    "regression": CheckSpec(
        check_regression, "against the baseline run (--baseline, or diff A B): epsilon and membership attack AUC "
        "rose, accuracy, macro F1 and a fairness aggregate worsened, each by at most its limit; optionally the "
        "verdict did not go from pass to fail", ("baseline", "privacy.epsilon", "assessment.accuracy",
                                                   "assessment.f1_macro", "assessment.fairness",
                                                   "assessment.membership.auc", "findings")),
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


#: rule families whose checks read the other rules' findings; evaluated after them
READS_FINDINGS = frozenset({"regression"})


def _evaluate_one(rule, evidence: RunEvidence, families: dict, host) -> Finding:
    family = families.get(rule.check)
    try:
        if family is None:
            failed = ", ".join(sorted({f.plugin for f in host.failures}))
            raise LookupError(f"no check registered for rule family '{rule.check}'"
                              + (f" (failed plugins: {failed})" if failed else ""))
        return family.check(rule, evidence)
    except EvidenceMissing as exc:
        return _status_only(rule, "not_run", f"not evaluated: {exc}")
    except Exception as exc:  # noqa: BLE001 - a failing check must fail closed, not crash
        owner = host.family_owner(rule.check) if family is not None else None
        where = f" (rule family '{rule.check}' of plugin '{owner}')" if owner not in (None, "core") else ""
        return _status_only(rule, "error", f"check raised {type(exc).__name__}{where}: {str(exc)[:200]}")


def _plugin_findings(host, evidence: RunEvidence) -> list[Finding]:
    from ..plugins import PluginFailure

    failures = list(host.failures)
    if evidence.plugins is not None:
        failures += [PluginFailure(f.plugin, f.phase, f.error) for f in evidence.plugins.failures]
    return [plugin_failure_finding(f) for f in dict.fromkeys(failures)]


def evaluate(policy: ResolvedPolicy, evidence: RunEvidence, host=None, *,
             view: Callable[[list[Finding]], list[Finding]] | None = None) -> list[Finding]:
    """One finding per active rule, in policy order, then (a policy without a pii rule only)
    the core's finding on PII in a label or sensitive-feature column, then one ``error``
    finding per plugin failure (load-time failures of ``host`` and run-time ones recorded in
    the evidence).

    ``host`` defaults to the plugin host of the policy's ``plugins:``. ``view`` shapes how the
    findings-reading families see the others' findings (e.g. with waivers applied); the
    result is unshaped."""
    from ..plugins import plugin_host

    host = host or plugin_host(policy.plugins)
    families = host.families()
    first = {rule.id: _evaluate_one(rule, evidence, families, host)
             for rule in policy.rules if rule.check not in READS_FINDINGS}
    late = [rule for rule in policy.rules if rule.check in READS_FINDINGS]
    plugins = _plugin_findings(host, evidence)
    # the reports would show a label or group name holding PII whatever the policy says: without
    # a pii rule to fail on it, the core's own finding fails the gate
    core_finding = None if policy.rules_of("pii") else read_columns_finding(evidence)
    core = [core_finding] if core_finding is not None else []
    if late:
        seen = [f for f in evidence.findings if f.rule_id not in first] + list(first.values()) + core + plugins
        judged = evidence.model_copy(update={"findings": view(seen) if view else seen})
        first.update({rule.id: _evaluate_one(rule, judged, families, host) for rule in late})
    return [first[rule.id] for rule in policy.rules] + core + plugins


__all__ = ["CHECKS", "CheckSpec", "READS_FINDINGS", "evaluate", "plugin_failure_finding"]
