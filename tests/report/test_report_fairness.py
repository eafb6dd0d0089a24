"""Fairness evidence in every report, from a real audit of outside scores (NYC LL144 scoring pack):
scoring rates, group statuses with their reasons, labelled intervals, per-rule tables, the new
datasheet declarations, a truthful audit-mode card, and no favourable label at all."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from huggingface_hub import ModelCard
from markupsafe import escape

from finetune_governance.evidence import RunEvidence
from finetune_governance.report import RENDERERS
from finetune_governance.report._text import ci, fmt, sig
from finetune_governance.report.fairness_text import percent
from tests.report.report_data import write_scored_predictions

LABEL = "95% bootstrap interval, 1,000 resamples, seed 0"
RULE = "test.parity-large-groups"


def _evidence(run: Path) -> dict:
    return json.loads((run / "audit.json").read_text(encoding="utf-8"))


def _read(run: Path, name: str) -> str:
    return (run / name).read_text(encoding="utf-8")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _between(page: str, start: str, end: str) -> str:
    i = page.index(start)
    return page[i:page.index(end, i)]


def _tables(evidence: dict) -> dict[str, dict]:
    return {f["feature"]: f for f in evidence["assessment"]["fairness"]}


def _group(table: dict, name: str) -> dict:
    return next(g for g in table["groups"] if g["group"] == name)


def _card_row(card: str, section: str, group: str) -> list[str]:
    """The cells of ``group``'s row in the card's per-group table of ``section``."""
    part = card[card.index(f"### {section}\n"):]
    line = next(l for l in part.splitlines() if l.startswith(f"| {group} |"))
    return [c.strip() for c in line.strip("|").split(" | ")]


def test_scoring_rates_in_html_card_and_bom(scoring_audit):
    sex = _tables(_evidence(scoring_audit))["sex"]
    female = _group(sex, "female")
    assert female["scoring_rate"] is not None and sex["scoring_rate_impact_ratio"] is not None

    page = _read(scoring_audit, "audit.html")
    block = _between(page, '<table class="fairness" data-feature="sex"', "</table>")
    assert "<th>Scoring rate</th>" in block
    row = _text(_between(block, '<tr data-group="female"', "</tr>"))
    assert f"{fmt(female['scoring_rate'])}{ci(female['ci']['scoring_rate'])}" in row
    impact = _between(page, '<table class="impact" data-feature="sex"', "</table>")
    ratio_shown = f"{fmt(female['scoring_rate_impact_ratio'])}{ci(female['ci']['scoring_rate_impact_ratio'])}"
    assert "Scoring-rate impact ratio" in impact and ratio_shown in _text(impact)
    aggregate = _text(_between(page, '<tr data-aggregate="scoring_rate_impact_ratio"', "</tr>"))
    assert f"{fmt(sex['scoring_rate_impact_ratio'])}{ci(sex['ci']['scoring_rate_impact_ratio'])}" in aggregate
    assert "nyc-ll144.four-fifths" in aggregate  # the rule that checks it
    assert f"score ({fmt(sex['median_score'])})" in page  # the cut-off the scoring rates use

    card = _read(scoring_audit, "model_card.md")
    cells = _card_row(card, "sex", "female")
    assert f"{fmt(female['scoring_rate'])}{ci(female['ci']['scoring_rate'])}" in cells
    assert ratio_shown in cells  # each group's impact ratio with its bootstrap interval
    assert (f"| Lowest scoring-rate impact ratio | {fmt(sex['scoring_rate_impact_ratio'])} | "
            f"{ci(sex['ci']['scoring_rate_impact_ratio']).strip()} |") in card

    text = _read(scoring_audit, "cyclonedx.json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    metrics = json.loads(text)["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    rate = next(m for m in metrics if m["type"] == "scoring_rate" and m["slice"] == "sex=female")
    assert float(rate["value"]) == female["scoring_rate"]
    assert [float(rate["confidenceInterval"][k]) for k in ("lowerBound", "upperBound")] == female["ci"]["scoring_rate"]
    ratio = next(m for m in metrics if m["type"] == "scoring_rate_impact_ratio" and m["slice"] == "sex")
    assert float(ratio["confidenceInterval"]["lowerBound"]) == sex["ci"]["scoring_rate_impact_ratio"][0]


def test_every_group_status_says_why_with_the_share_cut_off(scoring_audit):
    race = _tables(_evidence(scoring_audit))["race_ethnicity"]
    islander = _group(race, "Pacific Islander")
    assert not islander["in_ratios"] and "true_positive_rate" in islander["void_metrics"]
    void_reason = islander["void_metrics"]["true_positive_rate"]
    under = f"{percent(islander['share'])} of the records, under the 2% cut-off"

    page = _read(scoring_audit, "audit.html")
    row = _between(_between(page, '<table class="fairness" data-feature="race_ethnicity"', "</table>"),
                   '<tr data-group="Pacific Islander"', "</tr>")
    assert f'<td class="num void" title="{escape(void_reason)}">void</td>' in row
    status = _text(row)
    assert "not in ratios" in status and under in status
    assert str(escape(f"TPR, equal opportunity, equalized odds void: {void_reason}")) in status
    impact = _text(_between(_between(page, '<table class="impact" data-feature="race_ethnicity"', "</table>"),
                            '<tr data-group="Pacific Islander"', "</tr>"))
    assert "n/a (excluded)" in impact and f"no: {under}" in impact
    assert "void" not in impact  # a void TPR is not why the group is out of the ratios
    unknown = _text(_between(_between(page, '<table class="fairness" data-feature="sex"', "</table>"),
                             '<tr data-group="unknown"', "</tr>"))
    assert "not in ratios" in unknown and "unknown category" in unknown

    card = _read(scoring_audit, "model_card.md")
    evidence = _evidence(scoring_audit)
    for table in evidence["assessment"]["fairness"]:
        for g in table["groups"]:
            status = _card_row(card, table["feature"].replace("&", "&amp;"),
                               g["group"].replace("&", "&amp;"))[-1]
            assert (status == "ok") == (g["in_ratios"] and g["status"] == "ok" and not g["void_metrics"]), (g, status)
    assert f"not in ratios: {under}; TPR" in " | ".join(
        _card_row(card, "race_ethnicity", "Pacific Islander"))


def test_intervals_are_labelled_with_level_resamples_and_seed(scoring_audit):
    page = _read(scoring_audit, "audit.html")
    fairness = _between(page, '<section id="fairness">', '<section id="leakage">')
    primary = fairness[:fairness.index('<div class="by-rule"')]
    assert primary.count(f"<th>{LABEL}</th>") == 3  # each table's aggregates, for sex, race and their intersection
    assert primary.count(f"whiskers: {LABEL}.</figcaption>") == 6  # group and aggregate charts
    assert f"intervals: {LABEL}" in primary
    card = _read(scoring_audit, "model_card.md")
    assert f"| Aggregate | Value | {LABEL} |" in card and f"Intervals: {LABEL}." in card
    props = json.loads(_read(scoring_audit, "cyclonedx.json"))["metadata"]["component"]["modelCard"]["properties"]
    labels = [p["value"] for p in props if p["name"] == "finetune-governance:confidence_interval"]
    assert labels == [f"{LABEL} (slices of sex, race_ethnicity, sex & race_ethnicity)"]


def test_tables_of_a_rule_with_its_own_settings(scoring_audit):
    evidence = _evidence(scoring_audit)
    tables = {t["feature"]: t for t in evidence["assessment"]["fairness_by_rule"][RULE]}
    unknown = _group(tables["sex"], "unknown")
    assert unknown["status"] == "insufficient data"
    page = _read(scoring_audit, "audit.html")
    block = _between(page, f'<div class="by-rule" data-rule="{RULE}">', '<section id="leakage">')
    text = _text(block)
    assert f"Computed for rule {RULE} with its own settings" in text
    assert "minimum group size 50 (primary tables: 1)" in text
    assert "intervals 90% bootstrap interval, 200 resamples, seed 0 (primary tables: " + LABEL + ")" in text
    row = _text(_between(block, '<tr data-group="unknown"', "</tr>"))
    assert f"insufficient data {unknown['count']} members, fewer than the minimum 50" in row
    assert block.count('<table class="fairness"') == len(tables)

    card = _read(scoring_audit, "model_card.md")
    ratio = tables["sex"]["demographic_parity_ratio"]
    assert f"- Rule `{RULE}` (demographic parity ratio) reads tables computed with minimum group size 50" in card
    assert (f"  - sex: demographic parity ratio {fmt(ratio)}{ci(tables['sex']['ci']['demographic_parity_ratio'])}; "
            f"left out of the ratios: unknown ({unknown['count']} members, fewer than the minimum 50") in card


def test_new_declarations_read_well(scoring_audit):
    evidence = _evidence(scoring_audit)
    accuracy = evidence["assessment"]["accuracy"]
    page = _read(scoring_audit, "audit.html")
    section = _between(page, '<section id="declarations">', '<section id="scan">')
    values = dict(re.findall(r'<dd data-declaration="([^"]+)">(.*?)</dd>', section))
    assert values["special_category_ground"] == "GDPR Art. 9(2)(g): substantial public interest"
    assert values["high_risk_processing"].startswith("yes: the controller assessed the processing as likely")
    assert values["data_gaps"].startswith("Pacific Islander candidates are 1% of the sample")
    f1 = evidence["assessment"]["f1_macro"]
    assert values["declared_performance"] == (f"accuracy 0.45 (measured {sig(accuracy)}); "
                                             f"macro F1 0.4 (measured {sig(f1)})")
    assert "Data gaps and how they are addressed (EU AI Act Art. 10(2)(h))" in section
    card = _read(scoring_audit, "model_card.md")
    assert "| Metric | Value | Declared in the datasheet |" in card
    assert f"| Accuracy | {fmt(accuracy)} | 0.45 |" in card
    assert "- Ground for special categories (GDPR Art. 9(2)): GDPR Art. 9(2)(g): substantial public interest" in card
    assert "Data gaps declared in the datasheet: Pacific Islander candidates" in card


def test_audit_card_describes_an_audit_of_outside_predictions(scoring_audit):
    text = _read(scoring_audit, "model_card.md")
    card = ModelCard(text)
    assert card.data.license == "unknown" and card.data.base_model is None
    assert card.data.library_name is None and card.data.pipeline_tag is None
    assert card.data.eval_results and card.data.eval_results[0].metric_type == "accuracy"
    assert "predictions-audit" in card.data.tags
    for false in ("fine-tuned", "stopped before training", "split seed", "None", "stratified", "held-out split",
                  "records held PII"):
        assert false not in text.replace("None in this run", ""), false
    assert "It did not train, load or see the model" in text
    assert "Not seen by this audit" in text and "1200 rows of the predictions file `scores.csv`" in text
    html = _read(scoring_audit, "audit.html")
    assert "None" not in _text(html) and "1200 rows of predictions (1200 held-out rows assessed)" in _text(html)
    bom = json.loads(_read(scoring_audit, "cyclonedx.json"))
    assert "audited from its predictions" in bom["metadata"]["component"]["description"]


def test_rerendering_the_audit_reproduces_every_report(scoring_audit):
    evidence = RunEvidence.model_validate_json(_read(scoring_audit, "audit.json"))
    for name, render in RENDERERS.items():
        assert render(evidence).encode("utf-8") == (scoring_audit / name).read_bytes(), name


NO_FAIRNESS_POLICY = """schema_version: 1
name: accuracy-only
title: Accuracy only
version: "0.1"
rules:
  - id: test.accuracy
    title: Accuracy is at least 0.3
    cites: ["internal"]
    severity: block
    check: performance
    params: {metric: accuracy, min: 0.3}
"""


def test_no_favourable_label_prints_no_none(tmp_path):
    from finetune_governance.assess.audit import AuditRequest, audit

    (tmp_path / "policy.yaml").write_text(NO_FAIRNESS_POLICY, encoding="utf-8")
    outcome = audit(AuditRequest(policy=tmp_path / "policy.yaml", output=tmp_path / "reports", run_id="nofav",
                                 predictions=write_scored_predictions(tmp_path / "scores.csv", n=200),
                                 command="pytest no favourable label"))
    assert outcome.evidence.assessment.favourable_label is None and not outcome.evidence.assessment.fairness
    for name in RENDERERS:
        text = (outcome.report_dir / name).read_text(encoding="utf-8").replace("None in this run", "")
        assert "None" not in text, name
    page = _read(outcome.report_dir, "audit.html")
    assert 'id="no-fairness"' in page
    card = _read(outcome.report_dir, "model_card.md")
    assert "Group fairness was not assessed: no favourable outcome was named" in card
    assert "Sensitive features declared" in card  # not "assessed"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(_read(outcome.report_dir, "cyclonedx.json")) is None
