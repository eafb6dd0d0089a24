"""ACME's governance plugin, an example of every extension point.

- ``EMPLOYEE_ID`` recognizer: ACME staff numbers (``EMP-`` and six digits), which no
  bundled recognizer knows; policies act on it like any entity (``actions: {EMPLOYEE_ID: redact}``).
- ``acme.worst_group_accuracy`` rule family: the house fairness metric, the accuracy of
  the worst-served group of every sensitive feature must reach a minimum.
- ``acme.data_source`` collector: records which file the run trained on and whether it is
  on ACME's list of banned sources.
- ``acme.worst_group`` report section: the worst group per feature, in audit.html and the model card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from finetune_governance.plugins import (
    Collector, CollectorContext, EvidenceMissing, ReportSection, RuleFamily, finding, hookimpl,
)

__version__ = "0.1.0"

#: data sources ACME's data office has banned (file names)
BANNED_SOURCES = frozenset({"scraped_forum_dump.csv", "leaked_crm_export.csv"})


@hookimpl
def governance_recognizers(nlp_engine: Any, countries: Any) -> list[Any]:
    from presidio_analyzer import Pattern, PatternRecognizer

    return [PatternRecognizer(
        supported_entity="EMPLOYEE_ID", name="acme:employee-id", supported_language="en",
        patterns=[Pattern("acme staff number", r"\bEMP-\d{6}\b", 0.85)],
        context=["employee", "staff", "badge"],
    )]


class WorstGroupParams(BaseModel):
    """Parameters of ``acme.worst_group_accuracy``."""

    model_config = ConfigDict(extra="forbid")

    min: float = Field(ge=0.0, le=1.0, description="Lowest allowed accuracy of any group.")
    min_group_size: int = Field(default=20, ge=1, description="Groups smaller than this are not judged.")


def worst_groups(evidence: Any, min_group_size: int) -> dict[str, tuple[str, float]]:
    """Feature -> (group, accuracy) of its worst-served group with enough members."""
    worst: dict[str, tuple[str, float]] = {}
    for feature in evidence.assessment.fairness:
        judged = [g for g in feature.groups if g.accuracy is not None and g.count >= min_group_size]
        if judged:
            group = min(judged, key=lambda g: g.accuracy)
            worst[feature.feature] = (group.group, group.accuracy)
    return worst


def check_worst_group_accuracy(rule: Any, evidence: Any):
    if evidence.assessment is None:
        raise EvidenceMissing("the assessment stage did not run")
    params = WorstGroupParams.model_validate(rule.params)
    worst = worst_groups(evidence, params.min_group_size)
    if not worst:
        return finding(rule, passed=False, measured=None, threshold=params.min,
                       message=f"no group has {params.min_group_size} or more members: insufficient data")
    feature, (group, accuracy) = min(worst.items(), key=lambda item: item[1][1])
    return finding(rule, passed=accuracy >= params.min, measured=round(accuracy, 4), threshold=params.min,
                   message=f"worst-served group: {feature}={group} with accuracy {accuracy:.4f} "
                           f"(minimum {params.min})")


@hookimpl
def governance_rule_families() -> list[RuleFamily]:
    return [RuleFamily(
        name="acme.worst_group_accuracy", check=check_worst_group_accuracy, stage="assess",
        summary="the accuracy of the worst-served group of each sensitive feature is at least min",
        reads=("assessment.fairness",), params_model=WorstGroupParams,
    )]


def collect_data_source(context: CollectorContext) -> dict[str, Any]:
    name = Path(context.data_path).name if context.data_path else None
    return {"file": name, "banned": name in BANNED_SOURCES}


@hookimpl
def governance_collectors() -> list[Collector]:
    return [Collector(name="acme.data_source", stage="declare", collect=collect_data_source)]


WORST_GROUP_HTML = """
<p>Data source: <code>{{ extra["acme.data_source"].file if "acme.data_source" in extra else "not recorded" }}</code>
{% if extra.get("acme.data_source", {}).get("banned") %}<strong>(on ACME's banned list)</strong>{% endif %}</p>
{% if evidence.assessment %}
<table><thead><tr><th>Feature</th><th>Worst-served group</th><th>Accuracy</th><th>Members</th></tr></thead><tbody>
{% for f in evidence.assessment.fairness %}{% set g = f.groups | rejectattr("accuracy", "none") | sort(attribute="accuracy") | first %}
<tr><td>{{ f.feature }}</td><td>{{ g.group }}</td><td class="num">{{ "%.4f" | format(g.accuracy) }}</td><td class="num">{{ g.count }}</td></tr>
{% endfor %}</tbody></table>
{% else %}<p>Not assessed.</p>{% endif %}
"""

WORST_GROUP_MD = """Data source: `{{ extra.get("acme.data_source", {}).get("file") }}`.
{% if evidence.assessment %}
| Feature | Worst-served group | Accuracy | Members |
|---|---|---|---|
{% for f in evidence.assessment.fairness %}{% set g = f.groups | rejectattr("accuracy", "none") | sort(attribute="accuracy") | first %}| {{ f.feature }} | {{ g.group }} | {{ "%.4f" | format(g.accuracy) }} | {{ g.count }} |
{% endfor %}{% endif %}"""


@hookimpl
def governance_report_sections() -> list[ReportSection]:
    return [ReportSection(name="worst_group", title="ACME house metric: worst-served groups",
                          html=WORST_GROUP_HTML, markdown=WORST_GROUP_MD)]
