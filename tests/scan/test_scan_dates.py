"""Dates: written calendar dates are DATE_TIME (HIPAA Safe Harbor's dates identifier), vague
or relative expressions are not."""

from __future__ import annotations

import pytest

from finetune_governance.scan.dates import is_written_date, looks_like_calendar_date

WRITTEN = [
    ("Admitted on March 3rd, 2021 with chest pain.", "March 3rd, 2021"),
    ("Born 12 Jan 1948 in a small town.", "12 Jan 1948"),
    ("Discharged on the 5th of May after the second surgery.", "5th of May"),
    ("Her date of birth is May 5, 1990.", "May 5, 1990"),
    ("Seen again on Sept. 14, 2020 for the follow-up.", "Sept. 14, 2020"),
    ("The referral is dated MAR 3 2021 in the fax.", "MAR 3 2021"),
    ("He was born on march 3rd, 2021 according to the chart.", "march 3rd, 2021"),
    ("The surgery took place in March 2021 at the clinic.", "March 2021"),
    ("Follow-up booked for December the 1st at noon.", "December the 1st"),
    ("Date of death: 3rd of March, 2021.", "3rd of March, 2021"),
    ("My appointment was on 03/14/1985 at the clinic.", "03/14/1985"),
]

VAGUE = [
    "The outage started today and lasted all day.",
    "See you on Monday at the front desk.",
    "We spoke last week about the bill.",
    "I cancelled my plan in May and was billed anyway.",
    "You may 2x the dose only if the doctor agrees.",
    "The meeting moved to 6 am tomorrow.",
    "Can I move my renewal date to the first of the month?",
    "We have 25 employees and 3 offices.",
    "Windows 10 keeps crashing after the update.",
    "The Mayor 5 times refused to comment.",
    "the report said march 3 was fine",
]


@pytest.mark.parametrize("text, value", WRITTEN, ids=[w[1] for w in WRITTEN])
def test_written_and_numeric_dates_are_found(scan_one, text, value):
    assert (value, "DATE_TIME") in scan_one(text)


@pytest.mark.parametrize("text", VAGUE)
def test_vague_expressions_are_not_dates(scan_one, text):
    assert "DATE_TIME" not in {entity for _, entity in scan_one(text)}


def test_calendar_date_rule_on_spans():
    assert looks_like_calendar_date("March 3rd") and looks_like_calendar_date("1948")
    assert looks_like_calendar_date("03/04") and is_written_date("5th of May")
    for vague in ("today", "Monday", "last week", "6 am", "in May", "May", "this month"):
        assert not looks_like_calendar_date(vague), vague


def test_hipaa_pack_detects_written_dates_of_admission_and_birth():
    from finetune_governance.policy import load_policy
    from finetune_governance.scan import scan_texts
    from finetune_governance.scan.engine import cached_analyzer
    from finetune_governance.scan.plan import plan_entities

    params = load_policy("hipaa").pii_params()
    analyzer, info = cached_analyzer(recognizers=params.recognizers, countries=params.countries)
    texts = ["Admitted on March 3rd, 2021. Born 12 Jan 1948.", "Seen today, again next week in May."]
    hits = scan_texts(texts, analyzer=analyzer, entities=plan_entities(params, info).entities,
                      score_threshold=params.score_threshold)
    dates = [[t[h.start : h.end] for h in rh if h.entity_type == "DATE_TIME"] for t, rh in zip(texts, hits)]
    assert dates == [["March 3rd, 2021", "12 Jan 1948"], []]
