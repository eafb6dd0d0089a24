"""audit.html: a self-contained report for a compliance reviewer (jinja2, autoescaped).

Inline CSS, inline SVG charts (matplotlib), no script and no network; prints to A4.
"""

from __future__ import annotations

from ..evidence import RunEvidence
from . import charts
from ._env import environment
from .considerations import impact_text


def _charts(evidence: RunEvidence) -> dict:
    privacy, assessment = evidence.privacy, evidence.assessment
    eps = (charts.epsilon_curve(privacy.epsilon_curve, target=privacy.target_epsilon)
           if privacy and privacy.enabled else "")
    groups = [charts.group_chart(f, salt=f"groups-{i}") for i, f in enumerate(assessment.fairness)] if assessment else []
    return {"epsilon": eps, "groups": groups}


def render_html(evidence: RunEvidence) -> str:
    """The reviewer's report: verdict (blocking failures, then warnings) first, then requirements,
    evidence sections, hashes, waivers."""
    template = environment(html=True).get_template("audit.html.j2")
    blocking = [f for f in evidence.findings if f.blocking_failure or f.status == "error"]
    warnings = [f for f in evidence.findings if f not in blocking and f.status in ("warn", "fail", "not_run")]
    counts = {s: sum(1 for f in evidence.findings if f.status == s) for s in ("pass", "warn", "waived")}
    return template.render(ev=evidence, blocking=blocking, warnings=warnings, counts=counts,
                           charts=_charts(evidence), impact=impact_text)
