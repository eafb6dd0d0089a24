"""Recognizer behaviour on positive and negative examples, for every entity the GDPR pack uses."""

from __future__ import annotations

import pytest

POSITIVES = [
    ("My name is Maria Garcia and I manage the account.", "Maria Garcia", "PERSON"),
    ("Please reply to maria.garcia@example.org instead.", "maria.garcia@example.org", "EMAIL_ADDRESS"),
    ("You can reach me at 404-214-7967 after five.", "404-214-7967", "PHONE_NUMBER"),
    ("The card number is 4111 1111 1111 1111.", "4111 1111 1111 1111", "CREDIT_CARD"),
    ("For verification, my SSN is 855-90-6273.", "855-90-6273", "US_SSN"),
    ("Refunds can go to IBAN DE89370400440532013000.", "DE89370400440532013000", "IBAN_CODE"),
    ("The requests come from IP 192.168.14.27 every night.", "192.168.14.27", "IP_ADDRESS"),
    ("We moved our office to Chicago last year.", "Chicago", "LOCATION"),
    ("Please ship to 415 Maple Street as before.", "415 Maple Street", "STREET_ADDRESS"),
    ("The guide is at https://help.example.com/reset today.", "https://help.example.com/reset", "URL"),
    ("The admin password: Tr0ub4dor&3 was shared by mistake.", "Tr0ub4dor&3", "PASSWORD"),
    ("Our key AKIAIOSFODNN7EXAMPLE leaked in a ticket.", "AKIAIOSFODNN7EXAMPLE", "SECRET_API_KEY"),
]

NEGATIVES = [
    ("I was charged twice for my Premium plan, $49.99 each time.", {"CREDIT_CARD", "PHONE_NUMBER", "US_SSN"}),
    ("The card ending 4111 1111 1111 1112 does not pass the checksum.", {"CREDIT_CARD"}),
    ("Our SSN field shows 000-12-3456 which is not a valid number.", {"US_SSN"}),
    ("The invoice total is 1234.56 for 12 seats.", {"IP_ADDRESS", "PHONE_NUMBER"}),
    ("IBAN DE00370400440532013000 has wrong check digits.", {"IBAN_CODE"}),
    ("It keeps saying my password is wrong even after a reset.", {"PASSWORD"}),
    ("please email support about the outage", {"EMAIL_ADDRESS", "PERSON"}),
    ("The outage started today and lasted all day.", {"DATE_TIME"}),
    ("The new release ships with dark mode and a driver for the printer.", {"US_DRIVER_LICENSE"}),
    ("Call me on 0207 946 0018 or text me.", {"UK_NHS"}),
]


@pytest.mark.parametrize("text, value, entity", POSITIVES, ids=[p[2] for p in POSITIVES])
def test_recognizer_finds_planted_value(scan_one, text, value, entity):
    assert (value, entity) in scan_one(text)


@pytest.mark.parametrize("text, absent", NEGATIVES, ids=[f"no-{sorted(n[1])[0]}" for n in NEGATIVES])
def test_recognizer_ignores_lookalikes(scan_one, text, absent):
    found = {entity for _, entity in scan_one(text)}
    assert not found & absent


def test_uk_nhs_still_found_with_context(analyzer_info):
    from finetune_governance.scan import scan_texts

    analyzer, _ = analyzer_info
    text = "My NHS number is 943 476 5919 for the records."
    hits = scan_texts([text], analyzer=analyzer, entities=["UK_NHS"], score_threshold=0.4)[0]
    assert [text[h.start : h.end] for h in hits] == ["943 476 5919"]


def test_countries_filter_drops_foreign_recognizers():
    from finetune_governance.scan.engine import cached_analyzer

    _, info = cached_analyzer(countries=["gb"], pattern_only=True)
    assert "US_SSN" not in info.supported_entities
    assert "EMAIL_ADDRESS" in info.supported_entities
