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


# --- redact and verify: the one loop `run` and `scan --redact-to` share --------------------------------

def _hit(record: int, text: str, value: str, kind: str):
    from finetune_governance.scan.pii import Hit

    start = text.index(value)
    return Hit(record, start, start + len(value), kind, 0.9)


ACTIONS = {"PERSON": "replace", "EMAIL_ADDRESS": "replace", "DATE_TIME": "allow"}


def test_redact_and_verify_redacts_what_a_rescan_newly_finds():
    from finetune_governance.scan.redact import redact_and_verify

    texts = ["Ask Ann Lee at ann@example.org", "on Monday", "plain"]
    hits = [[_hit(10, texts[0], "ann@example.org", "EMAIL_ADDRESS")], [_hit(11, texts[1], "Monday", "DATE_TIME")], []]
    calls = []

    def rescan(batch, passno):  # NER sees the name only once the e-mail around it is gone
        calls.append((passno, list(batch)))
        return [[_hit(0, t, "Ann Lee", "PERSON")] if "Ann Lee" in t else [] for t in batch]

    out = redact_and_verify(texts, hits, rescan=rescan, action_for=ACTIONS.get, allowed={"DATE_TIME"},
                            first_record=10)
    assert out.texts == ["Ask <PERSON> at <EMAIL_ADDRESS>", "on Monday", "plain"]
    assert out.passes == 2
    assert calls == [(1, ["Ask Ann Lee at <EMAIL_ADDRESS>"]), (2, ["Ask <PERSON> at <EMAIL_ADDRESS>"])]
    assert out.hits[0] == [] and out.hits[1] == hits[1]  # unchanged records keep their first hits
    assert residual(out.hits, ignore={"DATE_TIME"}, total=3).records == 0


def test_redact_and_verify_stops_after_max_passes_and_leaves_the_residual():
    from finetune_governance.scan.redact import redact_and_verify

    texts = ["Mail ann@example.org"]
    hits = [[_hit(0, texts[0], "ann@example.org", "EMAIL_ADDRESS")]]
    passes = []

    def rescan(batch, passno):  # a detector that always finds a new name at the end of the text
        passes.append(passno)
        return [[_hit(0, t, t[-4:], "PERSON")] for t in batch]

    out = redact_and_verify(texts, hits, rescan=rescan, action_for=ACTIONS.get, allowed=set(), max_passes=3,
                            first_record=7)
    assert passes == [1, 2, 3] and out.passes == 3
    assert [h.record for h in out.hits[0]] == [7] and out.hits[0][0].entity_type == "PERSON"
    assert residual(out.hits, ignore=set(), total=1).records == 1


def test_redact_and_verify_without_changes_rescans_nothing():
    from finetune_governance.scan.redact import redact_and_verify

    texts = ["on Monday"]
    hits = [[_hit(0, texts[0], "Monday", "DATE_TIME")]]

    def rescan(batch, passno):
        raise AssertionError("nothing changed, nothing to re-scan")

    out = redact_and_verify(texts, hits, rescan=rescan, action_for=ACTIONS.get, allowed={"DATE_TIME"})
    assert out.texts == texts and out.hits == hits and out.passes == 1
