"""Redaction round trips, keyed hashing, residual re-scan, streaming tally, pattern-only fallback."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from finetune_governance.errors import UsageError
from finetune_governance.scan import redact_texts, residual, scan_texts, summarise
from finetune_governance.scan.pii import Tally

TEXTS = [
    "My name is Maria Garcia, email maria.garcia@example.org or call 404-214-7967.",
    "Nothing personal here, just a question about invoices.",
    "",
    "Refunds can go to IBAN DE89370400440532013000. Thanks, Peter Novak",
]


@pytest.fixture(scope="module")
def scanned(analyzer_info, gdpr_pii):
    from finetune_governance.scan.plan import plan_entities

    analyzer, info = analyzer_info
    entities = plan_entities(gdpr_pii, info).entities
    hits = scan_texts(TEXTS, analyzer=analyzer, entities=entities, score_threshold=gdpr_pii.score_threshold)
    return analyzer, entities, hits


@pytest.mark.parametrize("action", ["replace", "mask", "redact"])
def test_redaction_removes_values_and_rescan_is_clean(scanned, action):
    analyzer, entities, hits = scanned
    redacted = redact_texts(TEXTS, hits, action_for=lambda e: action)
    for value in ("Maria Garcia", "maria.garcia@example.org", "404-214-7967", "DE89370400440532013000", "Peter Novak"):
        assert not any(value in r for r in redacted)
    assert redacted[1] == TEXTS[1] and redacted[2] == ""
    if action == "replace":
        assert "<EMAIL_ADDRESS>" in redacted[0] and "<PHONE_NUMBER>" in redacted[0]
    again = scan_texts(redacted, analyzer=analyzer, entities=entities, score_threshold=0.4)
    assert residual(again, ignore=set(), total=len(TEXTS)).records == 0


def test_keyed_hash_is_hmac_and_linkable(scanned):
    _, _, hits = scanned
    key = b"test-key"
    out = redact_texts(TEXTS + TEXTS[:1], hits + [[h.__class__(4, h.start, h.end, h.entity_type, h.score) for h in hits[0]]],
                       action_for=lambda e: "hash", hash_key=key)
    expected = hmac.new(key, b"maria.garcia@example.org", hashlib.sha256).hexdigest()[:16]
    assert expected in out[0] and out[0] == out[4]
    assert "maria.garcia" not in out[0]


def test_keyed_hash_without_key_is_a_usage_error(scanned):
    _, _, hits = scanned
    with pytest.raises(UsageError, match="FTG_HASH_KEY"):
        redact_texts(TEXTS, hits, action_for=lambda e: "hash", hash_key=None)


def test_allow_keeps_text_and_residual_ignores_allowed(scanned):
    _, _, hits = scanned
    assert redact_texts(TEXTS, hits, action_for=lambda e: "allow") == TEXTS
    assert residual(hits, ignore={h.entity_type for rh in hits for h in rh}, total=4).rate == 0.0
    assert residual(hits, ignore=set(), total=4).records == 2


def test_summary_previews_are_masked(scanned):
    _, _, hits = scanned
    summaries = summarise(TEXTS, hits, action_for=lambda e: "replace")
    email = next(s for s in summaries if s.entity_type == "EMAIL_ADDRESS")
    assert email.count == 1 and email.records == 1 and email.record_rate == 0.25
    assert email.previews[0].preview == "m****.******@*******.***" and email.previews[0].record == 0


def test_tally_over_chunks_equals_one_pass(scanned):
    _, _, hits = scanned
    tally = Tally()
    tally.add(TEXTS[:2], hits[:2], first_record=0)
    tally.add(TEXTS[2:], hits[2:], first_record=2)
    assert tally.summaries(action_for=str) == summarise(TEXTS, hits, action_for=str)


def test_pattern_only_fallback_records_the_limitation(gdpr_pii):
    from finetune_governance.scan.engine import cached_analyzer

    analyzer, info = cached_analyzer(recognizers=gdpr_pii.recognizers, pattern_only=True)
    assert info.spacy_model is None
    assert not {"PERSON", "LOCATION", "NRP"} & set(info.supported_entities)
    assert any("PERSON, LOCATION, NRP" in note and "not scanned" in note for note in info.limitations)
    hits = scan_texts([TEXTS[0]], analyzer=analyzer, entities=info.supported_entities, score_threshold=0.4)[0]
    assert {h.entity_type for h in hits} == {"EMAIL_ADDRESS", "PHONE_NUMBER"}


def test_parallel_workers_give_the_same_hits(analyzer_info):
    from finetune_governance.scan.scanner import PARALLEL_MIN_SEGMENTS

    analyzer, _ = analyzer_info
    texts = [f"Ticket {i}: please email user{i}@example.com or call 404-214-{7000 + i % 999:04d}."
             for i in range(PARALLEL_MIN_SEGMENTS + 50)]
    entities = ["EMAIL_ADDRESS", "PHONE_NUMBER"]
    one = scan_texts(texts, analyzer=analyzer, entities=entities, score_threshold=0.4, workers=1)
    two = scan_texts(texts, analyzer=analyzer, entities=entities, score_threshold=0.4, workers=2)
    assert one == two and all(len(h) == 2 for h in one)
