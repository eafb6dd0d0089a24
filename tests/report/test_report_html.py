"""audit.html: section order, inline SVG charts, print CSS, and every data value escaped."""

from __future__ import annotations

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


def test_hand_built_report_shows_intervals_and_numbers_it_holds():
    ev = hand_built_evidence()
    page = render_html(ev)
    assert "0.8000 [0.7000, 0.9000]" in page  # female accuracy with its interval
    assert "0.8000 [0.6000, 0.9500]" in page  # demographic parity ratio with its interval
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
