"""Fairness tables in words: interval labels, the group settings a table was computed with, each
group's status with its reasons, and the tables a rule computed with its own settings.

Everything is read from ``FeatureFairness`` and ``GroupMetrics``; nothing here computes a metric
(percentages and rounding are for display only).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..assess.fairness import INTERSECTION_SEP, UNKNOWN
from ..evidence import AssessmentEvidence, FeatureFairness, GroupMetrics, RunEvidence
from ._text import sig

#: per-group rates, in table order, with their display names
GROUP_RATES = {"accuracy": "Accuracy", "selection_rate": "Selection rate", "true_positive_rate": "TPR",
               "false_positive_rate": "FPR", "scoring_rate": "Scoring rate"}
#: aggregates of one table, in display order, with their display names
AGGREGATES = {
    "demographic_parity_ratio": "Demographic parity ratio",
    "impact_ratio": "Lowest impact ratio (selection rate)",
    "scoring_rate_impact_ratio": "Lowest scoring-rate impact ratio",
    "demographic_parity_difference": "Demographic parity difference",
    "accuracy_difference": "Accuracy difference",
    "equal_opportunity_difference": "Equal opportunity difference",
    "equalized_odds_difference": "Equalized odds difference",
}
#: short names of the metrics a group's void_metrics can name
_SHORT = {"true_positive_rate": "TPR", "false_positive_rate": "FPR",
          "equal_opportunity_difference": "equal opportunity", "equalized_odds_difference": "equalized odds"}


def percent(fraction: float) -> str:
    """0.02 -> '2%', 0.013333 -> '1.33%' (display only)."""
    return f"{sig(fraction * 100, 3)}%"


def count(n: int) -> str:
    """1000 -> '1,000'."""
    return f"{n:,}"


def favourable_outcome(a: AssessmentEvidence | None) -> str | None:
    """The assessment's favourable label, else the one its fairness tables used (a rule's own), else None."""
    if a is None:
        return None
    return a.favourable_label or next((t.favourable_label for t in a.fairness if t.favourable_label), None)


def interval_label(table: FeatureFairness | AssessmentEvidence) -> str | None:
    """'95% bootstrap interval, 1,000 resamples, seed 0', or None when no interval was computed."""
    if not table.n_boot:
        return None
    level = f"{percent(table.ci_level)} " if table.ci_level is not None else ""
    seed = f", seed {table.bootstrap_seed}" if table.bootstrap_seed is not None else ""
    return f"{level}bootstrap interval, {count(table.n_boot)} resamples{seed}"


def has_scoring(table: FeatureFairness) -> bool:
    """Whether scoring rates (NYC LL144, scoring tools) were computed for this table."""
    return table.scoring_rate_impact_ratio is not None or any(g.scoring_rate is not None for g in table.groups)


def rates_of(table: FeatureFairness) -> dict[str, str]:
    """The per-group rates this table holds (scoring rate only when computed)."""
    return {k: v for k, v in GROUP_RATES.items() if k != "scoring_rate" or has_scoring(table)}


def aggregates_of(table: FeatureFairness) -> dict[str, str]:
    """The aggregates this table holds (the scoring-rate ratio only when computed)."""
    return {k: v for k, v in AGGREGATES.items() if k != "scoring_rate_impact_ratio" or has_scoring(table)}


def interval_note(table: FeatureFairness, aggregate: str) -> str:
    """What a reader needs to know about an aggregate's interval: defined in fewer resamples than
    drawn, none given, or an estimate outside its percentile interval; '' otherwise."""
    defined = table.ci_resamples.get(aggregate)
    interval, value = table.ci.get(aggregate), getattr(table, aggregate, None)
    notes = []
    if table.n_boot and defined is not None and defined < table.n_boot:
        notes.append(f"defined in {count(defined)} of {count(table.n_boot)} resamples")
    if table.n_boot and interval is None and value is not None:
        notes.append("no interval: defined in too few resamples" if defined is not None else "no interval recorded")
    if interval and value is not None and not interval[0] <= value <= interval[1]:
        notes.append("the estimate lies outside its percentile interval (resampled maxima and minima are biased)")
    return "; ".join(notes)


def _is_unknown(group: str) -> bool:
    return UNKNOWN in group.split(INTERSECTION_SEP)


def _void_reasons(group: GroupMetrics) -> list[str]:
    by_reason: dict[str, list[str]] = {}
    for metric, why in group.void_metrics.items():
        by_reason.setdefault(why, []).append(_SHORT.get(metric, metric.replace("_", " ")))
    return [f"{', '.join(metrics)} void: {why}" for why, metrics in by_reason.items()]


def _exclusions(table: FeatureFairness, group: GroupMetrics) -> list[str]:
    """Why a group is out of the ratios, from the table's settings; the evidence's reason otherwise."""
    if group.in_ratios and group.status != "insufficient data":
        return []
    out = []
    if group.status == "insufficient data" and table.min_group_size is not None:
        out.append(f"{count(group.count)} members, fewer than the minimum {count(table.min_group_size)}: "
                   f"left out of every aggregate")
    elif group.status != "insufficient data":
        if table.exclude_unknown and _is_unknown(group.group):
            out.append("unknown category, counted but not in the ratios")
        cut = table.exclude_below_share
        if cut is not None and group.share is not None and group.share < cut:
            out.append(f"{percent(group.share)} of the records, under the {percent(table.exclude_below_share)} "
                       f"cut-off")
    return out or [group.reason or "not in the ratios"]


@dataclass(frozen=True)
class GroupStatus:
    """A group's status for a reader ('ok', 'insufficient data', 'not in ratios' or 'no error rates'),
    why it is out of the ratios, and which of its figures are void and why."""

    label: str
    exclusions: tuple[str, ...]
    void: tuple[str, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.exclusions + self.void

    @property
    def text(self) -> str:
        return f"{self.label}: {'; '.join(self.reasons)}" if self.reasons else self.label


def group_status(table: FeatureFairness, group: GroupMetrics) -> GroupStatus:
    """The group's status from its evidence: too small, under the share cut-off, the unknown
    category (the evidence's own reason when none of these explains an exclusion), void figures."""
    if group.status == "insufficient data":
        label = "insufficient data"
    elif not group.in_ratios:
        label = "not in ratios"
    elif group.void_metrics:
        label = "no error rates"
    else:
        label = group.status
    return GroupStatus(label=label, exclusions=tuple(_exclusions(table, group)), void=tuple(_void_reasons(group)))


def settings_clauses(table: FeatureFairness) -> list[str]:
    """The group settings of a table, as clauses ('groups under 2% of the records: not in the ratios')."""
    out = []
    if table.favourable_label is not None:
        out.append(f"favourable outcome '{table.favourable_label}'")
    if table.min_group_size is not None and table.min_group_size > 1:
        out.append(f"groups under {count(table.min_group_size)} members: insufficient data, left out of every "
                   f"aggregate")
    if table.exclude_below_share is not None:
        out.append(f"groups under {percent(table.exclude_below_share)} of the records: counted, not in the ratios")
    if table.exclude_unknown:
        out.append("the unknown category: counted, not in the ratios")
    label = interval_label(table)
    out.append(f"intervals: {label}" if label else "no intervals")
    return out


def _settings(table: FeatureFairness) -> dict[str, str]:
    """Each setting of a table as a phrase, keyed by what it is (for comparing two tables)."""
    return {
        "favourable outcome": f"'{table.favourable_label}'" if table.favourable_label is not None else "n/a",
        "minimum group size": count(table.min_group_size) if table.min_group_size is not None else "n/a",
        "share cut-off": percent(table.exclude_below_share) if table.exclude_below_share is not None else "none",
        "unknown category in the ratios": "no" if table.exclude_unknown else "yes",
        "intervals": interval_label(table) or "none",
    }


def settings_differences(rule_table: FeatureFairness, primary: FeatureFairness | None) -> list[str]:
    """'minimum group size 50 (primary tables: 1)' for each setting in which a rule's table differs."""
    mine = _settings(rule_table)
    if primary is None:
        return [f"{k} {v}" for k, v in mine.items()]
    theirs = _settings(primary)
    return [f"{k} {v} (primary tables: {theirs[k]})" for k, v in mine.items() if v != theirs[k]]


@dataclass(frozen=True)
class RuleTables:
    """The tables one fairness rule computed with its own settings."""

    rule_id: str
    metric: str | None
    tables: list[FeatureFairness]
    differences: list[str]


def rule_tables(ev: RunEvidence) -> list[RuleTables]:
    """``assessment.fairness_by_rule`` in policy order, each with the metric its rule checks and how its
    settings differ from the primary tables'."""
    a = ev.assessment
    if a is None or not a.fairness_by_rule:
        return []
    metrics = {str(r.get("id")): (r.get("params") or {}).get("metric") for r in ev.policy.rules}
    primary = {t.feature: t for t in a.fairness}
    out = []
    for rule_id, tables in a.fairness_by_rule.items():
        first = tables[0] if tables else None
        reference = primary.get(first.feature) if first else None
        if first is not None and reference is None and a.fairness:
            reference = a.fairness[0]
        out.append(RuleTables(rule_id=rule_id, metric=metrics.get(rule_id), tables=tables,
                              differences=settings_differences(first, reference) if first else []))
    return out


def primary_rules(ev: RunEvidence) -> list[str]:
    """The fairness rules that read the primary tables (those without tables of their own)."""
    own = ev.assessment.fairness_by_rule if ev.assessment else {}
    return [str(r.get("id")) for r in ev.policy.rules if r.get("check") == "fairness" and str(r.get("id")) not in own]


def checked_by(ev: RunEvidence, table: FeatureFairness, rule_ids: list[str],
               features: list[str]) -> dict[str, list[str]]:
    """Aggregate -> the rules among ``rule_ids`` that check it on ``table`` (a rule reads a single
    feature it names, or every one when it names none; with ``intersections`` the cross of its
    features, or of all ``features`` declared)."""
    out: dict[str, list[str]] = {}
    for rule in ev.policy.rules:
        rule_id, params = str(rule.get("id")), rule.get("params") or {}
        if rule_id not in rule_ids or not params.get("metric"):
            continue
        named = list(params.get("features") or [])
        if table.intersection_of:
            reads = bool(params.get("intersections")) and set(table.intersection_of) == set(named or features)
        else:
            reads = not named or table.feature in named
        if reads:
            out.setdefault(str(params["metric"]), []).append(rule_id)
    return out
