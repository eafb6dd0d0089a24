"""Recognizer behaviour on positive and negative examples, for every entity the bundled policies use."""

from __future__ import annotations

from pathlib import Path

import pytest

POLICIES = Path(__file__).resolve().parents[2] / "policies"

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
    ("Please send the refund to my bitcoin wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT today.",
     "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "CRYPTO"),
    ("My appointment was on 03/14/1985 at the clinic.", "03/14/1985", "DATE_TIME"),
    ("The device with MAC address 00:1B:44:11:3A:B7 keeps dropping off.", "00:1B:44:11:3A:B7", "MAC_ADDRESS"),
    ("The DEA certificate number is AB1234563 on file.", "AB1234563", "MEDICAL_LICENSE"),
    ("The patient is Buddhist and speaks Vietnamese at home.", "Vietnamese", "NRP"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n"
     "-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0"
     "tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----", "PRIVATE_KEY"),
    ("Here is the token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
     "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U for the API.", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
     "eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "SECRET_TOKEN"),
    ("My NHS number is 943 476 5919 for the records.", "943 476 5919", "UK_NHS"),
    ("My bank account number is 945245121 at Chase.", "945245121", "US_BANK_NUMBER"),
    ("My driver license number is D6101408 issued in Ohio.", "D6101408", "US_DRIVER_LICENSE"),
    ("My ITIN is 912-71-1234 for tax purposes.", "912-71-1234", "US_ITIN"),
    ("My passport number is 912803456 and it expires next year.", "912803456", "US_PASSPORT"),
    ("The order id is 550e8400-e29b-41d4-a716-446655440000 in our system.",
     "550e8400-e29b-41d4-a716-446655440000", "UUID"),
]

#: entity types only the HIPAA pack's own recognizers find, scanned with that pack's settings
HIPAA_POSITIVES = [
    ("Patient chart lists MRN: 00482913 for the follow-up visit.", "MRN: 00482913", "MEDICAL_RECORD_NUMBER"),
    ("Please mail the form to Springfield, IL 62704 by Friday.", "62704", "US_ZIP_CODE"),
]
HIPAA_NEGATIVES = [
    ("The medical record system was down for an hour this morning.", {"MEDICAL_RECORD_NUMBER"}),
    ("The clinic has 1234 patients enrolled this year.", {"US_ZIP_CODE"}),
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
    ("The wallet feature is broken and the bitcoin price chart does not load.", {"CRYPTO"}),
    ("We went hiking in the mountains last weekend with the team.", {"LOCATION", "NRP"}),
    ("The MAC address field in the settings page is empty.", {"MAC_ADDRESS"}),
    ("The medical certificate upload fails for DEA numbers like AB1234567.", {"MEDICAL_LICENSE"}),
    ("How do I add a private key to the SSH settings page?", {"PRIVATE_KEY"}),
    ("Our API key rotation policy says keys expire after 90 days.", {"SECRET_API_KEY", "SECRET_TOKEN"}),
    ("The session token expired after 30 minutes of inactivity.", {"SECRET_TOKEN"}),
    ("The house at the end of the street has a blue door.", {"STREET_ADDRESS"}),
    ("Please read the help centre article about exports.", {"URL"}),
    ("My bank account was charged 945 dollars twice.", {"US_BANK_NUMBER"}),
    ("The tax form asks for an ITIN if you have no SSN.", {"US_ITIN", "US_SSN"}),
    ("The passport photo upload fails on the mobile app.", {"US_PASSPORT"}),
    ("The order id field is blank in the export file.", {"UUID"}),
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


@pytest.fixture(scope="module")
def scan_hipaa():
    from finetune_governance.policy import load_policy
    from finetune_governance.scan import scan_texts
    from finetune_governance.scan.engine import cached_analyzer
    from finetune_governance.scan.plan import plan_entities

    params = load_policy("hipaa").rules_of("pii")[0].params
    analyzer, info = cached_analyzer(recognizers=params.recognizers, countries=params.countries)
    entities = plan_entities(params, info).entities

    def scan(text: str) -> list[tuple[str, str]]:
        hits = scan_texts([text], analyzer=analyzer, entities=entities, score_threshold=params.score_threshold)[0]
        return [(text[h.start : h.end], h.entity_type) for h in hits]

    return scan


@pytest.mark.parametrize("text, value, entity", HIPAA_POSITIVES, ids=[p[2] for p in HIPAA_POSITIVES])
def test_hipaa_recognizer_finds_planted_value(scan_hipaa, text, value, entity):
    assert (value, entity) in scan_hipaa(text)


@pytest.mark.parametrize("text, absent", HIPAA_NEGATIVES, ids=[sorted(n[1])[0] for n in HIPAA_NEGATIVES])
def test_hipaa_recognizer_ignores_lookalikes(scan_hipaa, text, absent):
    assert not {entity for _, entity in scan_hipaa(text)} & absent


def test_every_entity_of_the_bundled_policies_has_examples(analyzer_info):
    """A policy that starts scanning a new entity type needs a positive and a negative example here."""
    from finetune_governance.policy import load_policy
    from finetune_governance.scan.plan import plan_entities

    _, info = analyzer_info
    used: set[str] = set()
    for path in sorted(POLICIES.glob("*.yaml")):
        for rule in load_policy(str(path)).rules_of("pii"):
            custom = {r.entity for r in rule.params.recognizers}
            used |= set(plan_entities(rule.params, info).entities) | custom
    positives = {p[2] for p in POSITIVES + HIPAA_POSITIVES}
    negatives = {e for _, absent in NEGATIVES + HIPAA_NEGATIVES for e in absent}
    assert len(used) >= 20
    assert sorted(used - positives) == [] and sorted(used - negatives) == []


def test_policy_recognizer_regex_needs_its_context_and_deny_list_matches():
    from finetune_governance.policy.schema import PatternSpec, RecognizerSpec
    from finetune_governance.scan import scan_texts
    from finetune_governance.scan.engine import build_analyzer

    spec = RecognizerSpec(entity="EMPLOYEE_ID", patterns=[PatternSpec(name="emp", regex=r"\bE-\d{5}\b", score=0.3)],
                          deny_list=["Project Nightjar"], context=["employee", "staff"])
    analyzer, info = build_analyzer(recognizers=[spec], pattern_only=True)
    assert "EMPLOYEE_ID" in info.supported_entities
    texts = ["The employee id is E-48213.", "Ticket E-48213 was closed.", "Notes on Project Nightjar attached."]
    hits = scan_texts(texts, analyzer=analyzer, entities=["EMPLOYEE_ID"], score_threshold=0.4)
    assert [[t[h.start : h.end] for h in rh] for t, rh in zip(texts, hits)] == [["E-48213"], [], ["Project Nightjar"]]


#: Presidio ships these UK recognizers disabled; a policy naming the country loads them ("gb" is ISO for "uk")
UK_POSITIVES = [
    ("My national insurance number is AB 12 34 56 C for payroll.", "AB 12 34 56 C", "UK_NINO"),
    ("My postcode is SW1A 1AA for deliveries.", "SW1A 1AA", "UK_POSTCODE"),
    ("My driving licence is MORGA657054SM9IJ and valid.", "MORGA657054SM9IJ", "UK_DRIVING_LICENCE"),
]


@pytest.mark.parametrize("country", ["gb", "uk"])
def test_a_policys_countries_load_every_recognizer_of_those_countries(country):
    from finetune_governance.scan import scan_texts
    from finetune_governance.scan.engine import cached_analyzer

    analyzer, info = cached_analyzer(countries=[country], pattern_only=True)
    assert {"UK_NINO", "UK_PASSPORT", "UK_POSTCODE", "UK_DRIVING_LICENCE", "UK_NHS"} <= set(info.supported_entities)
    assert not {"US_SSN", "US_NPI"} & set(info.supported_entities)
    texts = [t for t, _, _ in UK_POSITIVES]
    hits = scan_texts(texts, analyzer=analyzer, entities=list(info.supported_entities), score_threshold=0.4)
    for (text, value, entity), found in zip(UK_POSITIVES, hits):
        assert (value, entity) in [(text[h.start : h.end], h.entity_type) for h in found]
    clean = scan_texts(["The postcode field and the passport photo upload both fail."], analyzer=analyzer,
                       entities=list(info.supported_entities), score_threshold=0.4)
    assert clean == [[]]


def test_without_countries_presidios_default_set_loads():
    from finetune_governance.scan.engine import cached_analyzer

    _, info = cached_analyzer(pattern_only=True)
    assert {"US_SSN", "UK_NHS", "DATE_TIME", "PASSWORD"} <= set(info.supported_entities)
    assert not {"UK_NINO", "US_NPI", "ES_NIF"} & set(info.supported_entities)
    _, us = cached_analyzer(countries=["us"], pattern_only=True)
    assert {"US_NPI", "US_MBI", "US_HEALTH_INSURANCE_MEMBER_ID", "MEDICAL_LICENSE"} <= set(us.supported_entities)
    _, es = cached_analyzer(countries=["es"], pattern_only=True)  # defined by Presidio for Spanish text only
    assert {"ES_NIF", "ES_NIE"} <= set(es.supported_entities)


def test_every_recognizer_comes_through_the_plugin_hook(monkeypatch):
    """Without the core registered on the host, the analyzer has no recognizer at all: the
    predefined ones, written dates, secrets and the policy's own all come through the hook."""
    import finetune_governance.plugins as plugins
    from finetune_governance.plugins import PluginHost
    from finetune_governance.policy import load_policy
    from finetune_governance.scan.engine import build_analyzer

    params = load_policy("gdpr").pii_params()
    analyzer, info = build_analyzer(recognizers=params.recognizers, pattern_only=True)
    names = {r.name for r in analyzer.registry.recognizers}
    assert {"SecretsRecognizer", "WrittenDateRecognizer", "policy:STREET_ADDRESS", "EmailRecognizer"} <= names
    assert {"PASSWORD", "SECRET_API_KEY", "STREET_ADDRESS"} <= set(info.supported_entities)
    monkeypatch.setattr(plugins, "plugin_host", lambda modules=(): PluginHost())  # a host without the core
    bare, bare_info = build_analyzer(recognizers=params.recognizers, pattern_only=True)
    assert bare.registry.recognizers == [] and bare_info.supported_entities == ()
