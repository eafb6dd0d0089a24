"""audit.html: a self-contained report for a compliance reviewer (jinja2, autoescaped).

Inline CSS, inline SVG charts (matplotlib), no script and no network; prints to A4.
"""

from __future__ import annotations

from ..evidence import FeatureFairness, RunEvidence
from . import charts, fairness_text
from ._env import environment
from .declarations import declaration_rows
from ._model import audited_predictions


def _table_view(table: FeatureFairness, salt: str, checks: dict[str, list[str]]) -> dict:
    """One fairness table with its charts (salted by position, so a re-render is byte-identical) and
    the rules that check its aggregates."""
    interval = fairness_text.interval_label(table)
    rates = ("accuracy", "selection_rate") + (("scoring_rate",) if fairness_text.has_scoring(table) else ())
    return {"table": table, "interval": interval, "checks": checks,
            "groups_chart": charts.group_chart(table, metrics=rates, interval=interval, salt=f"groups-{salt}"),
            "aggregates_chart": charts.aggregate_chart(table, fairness_text.aggregates_of(table), interval=interval,
                                                       salt=f"aggregates-{salt}")}


def _fairness(evidence: RunEvidence) -> dict:
    a = evidence.assessment
    if a is None:
        return {"primary": [], "by_rule": [], "primary_rules": []}
    singles = [t.feature for t in a.fairness if not t.intersection_of]
    primary_rules = fairness_text.primary_rules(evidence)
    by_rule = []
    for k, r in enumerate(fairness_text.rule_tables(evidence)):
        names = [t.feature for t in r.tables if not t.intersection_of]
        by_rule.append((r, [_table_view(t, f"rule{k}-{i}", fairness_text.checked_by(evidence, t, [r.rule_id], names))
                            for i, t in enumerate(r.tables)]))
    primary = [_table_view(t, str(i), fairness_text.checked_by(evidence, t, primary_rules, singles))
               for i, t in enumerate(a.fairness)]
    return {"primary": primary, "by_rule": by_rule, "primary_rules": primary_rules}


def render_html(evidence: RunEvidence) -> str:
    """The reviewer's report: verdict (blocking failures, then warnings) first, then requirements,
    evidence sections, hashes, waivers."""
    template = environment(html=True).get_template("audit.html.j2")
    blocking = [f for f in evidence.findings if f.blocking_failure or f.status == "error"]
    warnings = [f for f in evidence.findings if f not in blocking and f.status in ("warn", "fail", "not_run")]
    counts = {s: sum(1 for f in evidence.findings if f.status == s) for s in ("pass", "warn", "waived")}
    privacy = evidence.privacy
    eps = (charts.epsilon_curve(privacy.epsilon_curve, target=privacy.target_epsilon)
           if privacy and privacy.enabled else "")
    favourable = fairness_text.favourable_outcome(evidence.assessment)
    return template.render(ev=evidence, favourable=favourable or "n/a", blocking=blocking, warnings=warnings,
                           counts=counts, epsilon_chart=eps,
                           fairness=_fairness(evidence), ft=fairness_text, declarations=declaration_rows(evidence),
                           audit_mode=audited_predictions(evidence))
