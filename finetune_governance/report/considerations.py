"""Risks, mitigations, limitations and groups at risk, as sentences composed from one run's evidence.

The model card's "Bias, risks and limitations" and "Ethical considerations" and the CycloneDX
model card's considerations read these. Every figure is one the evidence records; nothing here
computes a metric.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..evidence import FeatureFairness, Finding, GroupMetrics, RunEvidence
from ._model import audited_predictions
from ._text import ci, fmt, readable, sig
from .declarations import ground_text
from .fairness_text import favourable_outcome, group_status, has_scoring, interval_label


@dataclass(frozen=True)
class Consideration:
    """One ethical risk of the model and what the run did (or a user must do) about it."""

    risk: str
    mitigation: str


@dataclass(frozen=True)
class GroupAtRisk:
    """One group of a sensitive feature, the harms its figures show, and how the run assessed them."""

    group: str
    harms: str
    mitigation: str


def _declarations(ev: RunEvidence) -> dict:
    return ev.declarations.declarations if ev.declarations else {}


def _findings_of(ev: RunEvidence, check: str) -> list[Finding]:
    ids = {str(r.get("id")) for r in ev.policy.rules if r.get("check") == check}
    return [f for f in ev.findings if f.rule_id in ids]


def _statuses(findings: list[Finding]) -> str:
    return "; ".join(f"rule {f.rule_id}: {f.status}" for f in findings)


def _with_interval(group: GroupMetrics, metric: str, digits: int = 4) -> str:
    """A group's figure and its bootstrap interval, when one was recorded."""
    return fmt(getattr(group, metric), digits) + ci(group.ci.get(metric), digits)


def impact_text(feature: FeatureFairness, group: GroupMetrics, digits: int = 4) -> str:
    """A group's impact ratio, or why it has none ('n/a (excluded: <reason>)')."""
    if not group.in_ratios:
        return f"n/a (excluded: {'; '.join(group_status(feature, group).exclusions)})"
    return _with_interval(group, "impact_ratio", digits)


def no_fairness_text(ev: RunEvidence) -> str:
    """Why the assessment holds no fairness table, or '' when it holds one."""
    a = ev.assessment
    if a is None or a.fairness:
        return ""
    if a.favourable_label is None:
        return ("Group fairness was not assessed: no favourable outcome was named (favourable_label in the "
                "datasheet, or params.favourable_label on a fairness rule) and no policy rule asks for it.")
    return "No sensitive feature was declared, so per-group results were not measured."


def _personal_data(ev: RunEvidence) -> Consideration:
    scan, d = ev.scan, _declarations(ev)
    subjects = f" about {readable(d.get('data_subjects'))}" if d.get("data_subjects") else ""
    if scan is None:
        declared = d.get("contains_personal_data")
        data = "the data the predictions are about" if audited_predictions(ev) else "the training data"
        return Consideration(
            risk=(f"The datasheet declares personal data{subjects} in {data}" if declared else
                  f"{data[0].upper()}{data[1:]} may hold personal data") + "; no PII scan ran in this run.",
            mitigation="None in this run: nothing was scanned or redacted (`governed-finetune scan` checks a "
                       "dataset).")
    if scan.records_with_pii == 0:
        risk = (f"Personal data{subjects} may remain in the training data: the PII scan of the '{scan.column}' "
                f"column found none, and it detects only the entity types it looks for.")
    else:
        found = ", ".join(f"{e.entity_type} ({e.records} records)" for e in scan.entities)
        risk = (f"The training data held personal data{subjects}: the PII scan found it in "
                f"{scan.records_with_pii} of {scan.records_scanned} records: {found}.")
    if scan.blocked_entities:
        mitigation = (f"Training did not run: the policy blocks {', '.join(scan.blocked_entities)}, which the "
                      f"scan found.")
    elif not scan.entities:
        mitigation = "Nothing to redact was found; no redaction was applied."
    else:
        actions: dict[str, list[str]] = {}
        for e in scan.entities:
            actions.setdefault(e.action, []).append(e.entity_type)
        done = "; ".join(f"{action}: {', '.join(types)}" for action, types in actions.items())
        mitigation = f"Detected values were handled before training ({done})."
        if scan.residual is not None:
            mitigation += (f" A re-scan after {scan.redaction_passes} redaction pass(es) found "
                           f"{scan.residual.records} record(s) still holding a detection.")
    return Consideration(risk=risk, mitigation=mitigation)


def _special_categories(ev: RunEvidence) -> Consideration | None:
    d = _declarations(ev)
    if not d.get("special_categories"):
        return None
    consent = d.get("consent") or {}
    explicit = consent.get("explicit") if isinstance(consent, dict) else None
    ground = d.get("special_category_ground")
    return Consideration(
        risk=f"The datasheet declares special-category data: {readable(d.get('special_categories'))}.",
        mitigation=(f"Ground relied on: {ground_text(ground)}. " if ground else
                    "No GDPR Art. 9(2) ground is declared. ")
                   + f"Explicit consent declared: {readable(explicit, none='not declared')}"
                   + (f" (records: {consent.get('reference')})" if isinstance(consent, dict)
                      and consent.get("reference") else "") + ".")


def _memorisation(ev: RunEvidence) -> Consideration | None:
    p, a = ev.privacy, ev.assessment
    if p is None:
        return None
    membership = a.membership if a else None
    attack = (f" A membership-inference attack ({membership.members} members against {membership.non_members} "
              f"non-members) reached AUC {fmt(membership.auc)} (0.5 = chance) and TPR {fmt(membership.tpr_at_1pct_fpr)} "
              f"at 1% FPR." if membership else
              f" No membership-inference audit ran{': ' + a.membership_not_run if a and a.membership_not_run else ''}.")
    if p.enabled:
        mitigation = (f"Trained with differentially private SGD: epsilon {sig(p.epsilon) if p.epsilon is not None else 'n/a'} "
                      f"at delta {sig(p.delta) if p.delta is not None else 'n/a'} per training record "
                      f"({p.accountant} accountant, noise multiplier {sig(p.noise_multiplier) if p.noise_multiplier is not None else 'n/a'}, "
                      f"clipping norm {sig(p.max_grad_norm) if p.max_grad_norm is not None else 'n/a'}).")
    else:
        mitigation = "None during training: no differential privacy."
    return Consideration(risk="The model may memorise training records and reveal them, or reveal that a "
                              "person's record was used for training.", mitigation=mitigation + attack)


def _unequal_outcomes(ev: RunEvidence) -> Consideration | None:
    a = ev.assessment
    if a is None:
        return None
    if not a.fairness:
        if a.favourable_label is None:
            return Consideration(
                risk="Outcomes may differ across groups of people; no favourable outcome was named, so this run "
                     "did not measure it.",
                mitigation="None in this run: name the favourable outcome (datasheet favourable_label) and declare "
                           "the sensitive features to assess per-group results.")
        return Consideration(
            risk="Outcomes may differ across groups of people; no sensitive feature was declared, so this run "
                 "did not measure it.",
            mitigation="None in this run: declare the sensitive features (datasheet columns.sensitive_features) "
                       "to assess per-group results.")
    features = ", ".join(f.feature for f in a.fairness)
    parity = "; ".join(f"{f.feature}: demographic parity ratio {fmt(f.demographic_parity_ratio)}"
                       f"{ci(f.ci.get('demographic_parity_ratio'))}"
                       + (f", scoring-rate impact ratio {fmt(f.scoring_rate_impact_ratio)}"
                          f"{ci(f.ci.get('scoring_rate_impact_ratio'))}" if has_scoring(f) else "")
                       + f", accuracy difference {fmt(f.accuracy_difference)}{ci(f.ci.get('accuracy_difference'))}"
                       for f in a.fairness)
    label = interval_label(a.fairness[0])
    if label:
        parity += f"; intervals: {label}"
    rules = _findings_of(ev, "fairness")
    where = "the audited predictions" if audited_predictions(ev) else "the held-out split"
    return Consideration(
        risk=f"Groups of {features} may be predicted '{favourable_outcome(a)}' at different rates (an allocation "
             f"harm) or classified less accurately (a quality-of-service harm).",
        mitigation=f"Measured per group on {where} ({parity})"
                   + (f"; checked by the policy ({_statuses(rules)})." if rules else "; no policy rule limits it."))


def _use_case(ev: RunEvidence) -> Consideration:
    d = _declarations(ev)
    purpose = d.get("purpose")
    subjects = readable(d.get("data_subjects")) if d.get("data_subjects") else "people"
    risk = (f"Use beyond the declared purpose ('{readable(purpose)}'), or fully automated decisions about "
            f"{subjects} without human review." if purpose else
            f"No purpose was declared, so nothing bounds the uses of this model, including automated decisions "
            f"about {subjects}.")
    facts = [f"declared lawful basis: {readable(d.get('lawful_basis'), none='not declared')}"]
    if d.get("dpia_reference"):
        facts.append(f"DPIA: {readable(d.get('dpia_reference'))}")
    if d.get("high_risk_processing") is not None:
        facts.append(f"high-risk processing (GDPR Art. 35(1)): {readable(d.get('high_risk_processing'))}")
    if d.get("retention_days") is not None:
        facts.append(f"retention: {readable(d.get('retention_days'))} days")
    return Consideration(risk=risk, mitigation=f"Use only for the declared purpose, with a person reviewing "
                                               f"decisions that affect individuals ({'; '.join(facts)}).")


def ethical_considerations(ev: RunEvidence) -> list[Consideration]:
    """Sensitive data, memorisation, unequal outcomes and use-case risks, each with its mitigation."""
    items = [_personal_data(ev), _special_categories(ev), _memorisation(ev), _unequal_outcomes(ev), _use_case(ev)]
    return [c for c in items if c is not None]


def insufficient_groups(feature: FeatureFairness) -> list[GroupMetrics]:
    """Groups reported but left out of the ratios (too few members, or excluded)."""
    return [g for g in feature.groups if g.status == "insufficient data" or not g.in_ratios]


def limitations(ev: RunEvidence) -> list[str]:
    """Known limits of the figures, of the PII scan and of the privacy guarantee."""
    out: list[str] = []
    a, scan, p = ev.assessment, ev.scan, ev.privacy
    d = ev.declarations.declarations if ev.declarations else {}
    if ev.stopped_early:
        out.append(f"The run stopped early: {ev.stopped_early}.")
    if audited_predictions(ev):
        out.append("This audit saw only the predictions: the model, its training data and its training are not "
                   "recorded, so nothing here shows how the model was built or what it memorised.")
    if d.get("data_gaps"):
        out.append(f"Data gaps declared in the datasheet: {readable(d.get('data_gaps'))}")
    if a is not None:
        label = interval_label(a.fairness[0]) if a.fairness else interval_label(a)
        where = (f"{a.test_records} audited predictions" if audited_predictions(ev) else
                 f"one held-out split of {a.test_records} records")
        out.append(f"Figures come from {where}"
                   + (f"; intervals: {label}." if label else
                      "; no intervals were recorded, so small differences may be noise."))
        for f in a.fairness:
            thin = insufficient_groups(f)
            if thin:
                out.append(f"{f.feature}: groups left out of the ratios: "
                           + "; ".join(f"{g.group} ({'; '.join(group_status(f, g).exclusions)})" for g in thin) + ".")
            void = [g for g in f.groups if g.void_metrics and g.status != "insufficient data"]
            if void:
                out.append(f"{f.feature}: figures void for some groups: "
                           + "; ".join(f"{g.group} ({'; '.join(group_status(f, g).void)})" for g in void) + ".")
    if scan is not None:
        out.append(f"The PII scan (Presidio {scan.presidio_version}, score threshold {sig(scan.score_threshold)}) "
                   f"looks only for: {', '.join(scan.entities_scanned)}; other personal data is not detected, and "
                   f"detection is statistical, so values can be missed.")
        out += [f"Not verified by the PII scan: {limitation}" for limitation in scan.limitations]
    if p is not None and p.enabled:
        out.append("The differential-privacy guarantee is per training record: a person with several records "
                   "is protected less, and the base model and its pre-training data are outside it.")
        out.append("It assumes Poisson sampling of records, which "
                   + ("was used." if p.poisson_sampling else "was NOT used: the guarantee does not hold as stated."))
        if p.lost_steps:
            out.append(f"{p.lost_steps} step(s) after the last checkpoint of a killed run are accounted in epsilon "
                       f"but not in the model.")
    elif p is not None:
        out.append("Trained without differential privacy: nothing bounds what the model reveals about a "
                   "training record.")
    return out


def groups_at_risk(ev: RunEvidence) -> list[GroupAtRisk]:
    """Per feature and group: the recorded figures as harms, and the assessment that applied."""
    a = ev.assessment
    if a is None:
        return []
    rules = _statuses(_findings_of(ev, "fairness"))
    out = []
    for f in a.fairness:
        label = interval_label(f)
        for g in f.groups:
            figures = [(name, attr) for name, attr in (
                (f"selection rate ('{f.favourable_label or a.favourable_label}')", "selection_rate"),
                ("accuracy", "accuracy"), ("true positive rate", "true_positive_rate"),
                ("false positive rate", "false_positive_rate"), ("scoring rate", "scoring_rate"))]
            shown = [f"{name} {fmt(getattr(g, attr))}{ci(g.ci.get(attr))}" for name, attr in figures
                     if getattr(g, attr) is not None and attr not in g.void_metrics]
            status = group_status(f, g)
            harms = (f"{g.count} members; " + ", ".join(shown or ["no rates recorded"])
                     + f"; impact ratio {impact_text(f, g)}"
                     + (f"; scoring-rate impact ratio "
                        f"{_with_interval(g, 'scoring_rate_impact_ratio') if g.in_ratios else 'n/a'}"
                        if has_scoring(f) else "")
                     + (f"; {'; '.join(status.void)}" if status.void else "")
                     + (f" (intervals: {label})" if label and g.ci else ""))
            mitigation = (f"Reported, left out of the ratios: {'; '.join(status.exclusions)}."
                          if not g.in_ratios or g.status == "insufficient data" else
                          f"Assessed against the other groups of {f.feature}"
                          + (f" ({rules})." if rules else "; no policy rule limits it."))
            out.append(GroupAtRisk(group=f"{f.feature}={g.group}", harms=harms, mitigation=mitigation))
    return out
