"""audit.html: section order, inline SVG charts, print CSS, and every data value escaped."""

from __future__ import annotations

import json
import re

from markupsafe import escape

from finetune_governance.report import render_html
from tests.report.report_data import HOSTILE_STRINGS, HOSTILE_WAIVER, hand_built_evidence

SECTIONS = ["verdict", "matrix", "declarations", "scan", "privacy", "performance", "fairness", "leakage",
            "plugins", "environment", "waivers"]


def _section_order(page: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)">', page)


def test_sections_in_review_order_and_blocking_first(real_run):
    page = (real_run / "audit.html").read_text(encoding="utf-8")
    assert _section_order(page) == SECTIONS
    verdict = page[page.index('<section id="verdict">'):page.index('<section id="matrix">')]
    assert 'data-verdict="fail"' in verdict
    assert "test.no-regression" in verdict  # the blocking failure, before the matrix


def test_self_contained_no_script_no_network(real_run):
    page = (real_run / "audit.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r'(?:src|href)\s*=\s*["\']?(?:https?:|//)', page, re.I)
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # only in-document references
    assert "@page { size: A4" in page and "break-before: page" in page


def test_charts_are_inline_svg_with_intervals(real_run):
    page = (real_run / "audit.html").read_text(encoding="utf-8")
    assert '<figure id="epsilon-curve"><svg' in page
    assert page.count('<figure class="group-chart"') == 1
    chart = page[page.index('<figure class="group-chart"'):]
    chart = chart[:chart.index("</figure>")]
    assert "<svg" in chart and 'id="LineCollection_' in chart  # error bars: the recorded intervals


def _text(html: str) -> str:
    """The text of an HTML fragment, whitespace collapsed (what a reader sees, without markup)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_hand_built_report_shows_intervals_and_numbers_it_holds():
    ev = hand_built_evidence()
    page = render_html(ev)
    fairness = page[page.index('<section id="fairness">'):page.index('<section id="leakage">')]
    assert "0.8000 [0.7000, 0.9000]" in _text(fairness)  # female accuracy with its interval
    assert "Demographic parity ratio 0.8000 [0.6000, 0.9500]" in _text(fairness)  # the aggregate with its interval
    assert 'data-field="epsilon">3.2000<' in page
    assert "Unsigned" not in page and "not recorded" in page


def test_no_intervals_when_the_evidence_has_none():
    ev = hand_built_evidence()
    for f in ev.assessment.fairness:
        f.ci = {}
        for g in f.groups:
            g.ci = {}
    page = render_html(ev)
    assert "0.8000 [" not in page and "[0.7000" not in page
    chart = page[page.index('<figure class="group-chart"'):]
    assert 'id="LineCollection_' not in chart[:chart.index("</figure>")]  # no error bars without intervals


def test_hostile_strings_from_a_real_run_appear_only_escaped(real_run):
    page = (real_run / "audit.html").read_text(encoding="utf-8")
    for hostile in (*HOSTILE_STRINGS, HOSTILE_WAIVER):
        assert hostile not in page, hostile
        assert str(escape(hostile)) in page, hostile  # shown, as text
    assert "onerror=alert(3)>" not in page
    assert not re.search(r"<(?:script|img|b)\b", page.split("</style>", 1)[1])
    # group names and the column name stay inside attribute values as text
    assert 'data-feature="&lt;img src=x onerror=alert(3)&gt;"' in page
    assert 'data-group="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def _cells(page: str, column: int) -> list[str]:
    """The text of one column of the requirements matrix, per rule."""
    matrix = page[page.index('<section id="matrix">'):page.index('<section id="declarations">')]
    rows = re.findall(r"<tr data-rule=.*?</tr>", matrix, flags=re.S)
    return [re.findall(r"<td>(.*?)</td>", row, flags=re.S)[column] for row in rows]


def test_matrix_shows_readable_values_not_json_or_long_floats():
    ev = hand_built_evidence()
    ev.findings[0].measured = {"enabled": True, "epsilon": 7.990962, "delta": 4.1666666666666665e-05,
                               "by_entity": {"PERSON": 441}}
    ev.findings[0].threshold = {"max_epsilon": 8.0, "max_delta": "1/N", "max_tpr": None}
    evidence = _cells(render_html(ev), 2)[0]
    assert "{" not in evidence and "True" not in evidence and "4.1666666666666665e-05" not in evidence
    for shown in ("enabled:</span> yes", "epsilon:</span> 7.991", "delta:</span> 4.167e-05",
                  "by_entity:</span> PERSON: 441", "max_epsilon:</span> 8", "max_delta:</span> 1/N"):
        assert shown in evidence, shown
    assert "max_tpr" not in evidence  # a limit the rule does not set
    stored = json.loads(ev.model_dump_json())["findings"][0]["measured"]["delta"]
    assert stored == 4.1666666666666665e-05  # full precision stays in audit.json


def test_declarations_are_human_readable():
    from finetune_governance.evidence import DeclarationEvidence

    ev = hand_built_evidence(declarations=DeclarationEvidence(
        datasheet_path="d.yaml", datasheet_sha256="cd" * 32,
        declarations={"contains_personal_data": True, "transfers": [], "retention_days": None,
                      "consent": {"obtained": False, "reference": None}, "data_subjects": ["customers", "staff"]}))
    page = render_html(ev)
    section = page[page.index('<section id="declarations">'):page.index('<section id="scan">')]
    assert "True" not in section and "[]" not in section and "{" not in section and "None" not in section
    values = dict(re.findall(r'<dd data-declaration="([^"]+)">(.*?)</dd>', section))
    assert values["contains_personal_data"] == "yes" and values["transfers"] == "none"
    assert values["retention_days"] == "not declared" and values["data_subjects"] == "customers, staff"
    assert "obtained:</span> no" in values["consent"]


def test_verdict_lists_warnings_and_contents_link_plugins():
    page = render_html(hand_built_evidence())
    verdict = page[page.index('<section id="verdict">'):page.index('<section id="matrix">')]
    assert "1 warning(s)" in verdict
    warnings = verdict[verdict.index('<ul id="warnings"'):]
    assert "gdpr.fairness.parity" in warnings and "parity 0.8 &lt; 0.9" in warnings
    assert '<a href="#plugins">Plugins</a>' in page


def test_impact_ratio_of_an_excluded_group_is_not_shown():
    ev = hand_built_evidence().model_copy(deep=True)
    male = ev.assessment.fairness[0].groups[1]
    male.in_ratios, male.status, male.reason = False, "insufficient data", "12 members, fewer than the minimum 30"
    page = render_html(ev)
    impact = page[page.index('<table class="impact"'):]
    impact = impact[:impact.index("</table>")]
    male_row = _text(impact[impact.index('<tr data-group="male"'):])
    assert "n/a (excluded)" in male_row and "1.0000" not in impact
    assert "no: 12 members, fewer than the minimum 30" in male_row  # why, beside the ratio it lacks
    groups = page[page.index('<table class="fairness"'):]
    start = groups.index('<tr data-group="male"')
    male = _text(groups[start:groups.index("</tr>", start)])
    assert "insufficient data 12 members, fewer than the minimum 30" in male  # the status column, with the reason


def test_table_headers_do_not_break_inside_words():
    page = render_html(hand_built_evidence())
    style = page[page.index("<style>"):page.index("</style>")]
    assert re.search(r"\bth \{[^}]*overflow-wrap: normal", style)
    assert not re.search(r"th, td \{[^}]*overflow-wrap: anywhere", style)
