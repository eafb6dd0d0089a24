"""The scanner's shortcuts give Presidio's own results: fast analyze, bounded phone matcher, lazy artifacts."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from finetune_governance.scan.analyze import FastAnalyze
from finetune_governance.scan.phone import analyze_phones, min_candidate_digits
from finetune_governance.scan.segments import split_segments

from test_scan_recognizers import NEGATIVES, POSITIVES

TRICKY_PHONES = [
    "Call +49 30 1234 or 030 1234 5678 today", "Order 12345, zip 90210, price 45.99", "ext. 1 ext 23 x 4",
    "tel 1-800-FLOWERS now", "+378 0549 812345", "+1 264 497 1234 and 497-1234", "12/03/2024 at 10:30:15",
    "(02) 9876 5432 / 9876 5433", "+44 20 7946 0018, +33 1 42 68 53 00", "٠١٢٣٤٥٦٧٨٩ and １２３４５６７８",
    "card 4111 1111 1111 1111 and IBAN DE89370400440532013000", "0049 (0)30 901820", "+972-3-123-4567",
]


def _spans(results) -> set[tuple[int, int, str, float]]:
    return {(r.start, r.end, r.entity_type, round(r.score, 6)) for r in results}


def _bench_segments(n: int) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "support_tickets"))
    from generate import generate

    records, _ = generate(n, seed=29, pii_rate=0.5)
    return list(dict.fromkeys(s for r in records for _, s in split_segments(r["text"])))


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [p[0] for p in POSITIVES] + [n[0] for n in NEGATIVES] + TRICKY_PHONES + _bench_segments(150)


def test_fast_analyze_equals_presidio(analyzer_info, texts) -> None:
    analyzer, info = analyzer_info
    fast = FastAnalyze(analyzer)
    assert fast.exact and fast.empty_shortcut
    entities = [e for e in info.supported_entities]
    differ = []
    for text in texts:
        artifacts = analyzer.nlp_engine.process_text(text, "en")
        plain = analyzer.analyze(text=text, language="en", entities=entities, score_threshold=0.3, nlp_artifacts=artifacts)
        ours = fast(text, entities=entities, score_threshold=0.3, nlp_artifacts=artifacts)
        if _spans(plain) != _spans(ours):
            differ.append(text[:20])
    assert differ == []


def _phone_fuzz(n: int) -> list[str]:
    rng = random.Random(7)
    alphabet = "0123456789" * 4 + " -+().x/#:" + "ab"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(3, 28))) for _ in range(n)]


def test_bounded_phone_matcher_equals_presidio(analyzer_info, texts) -> None:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    phone = PhoneRecognizer()
    for text in texts + _phone_fuzz(3000):
        assert _spans(analyze_phones(phone, text, ["PHONE_NUMBER"])) == _spans(phone.analyze(text, ["PHONE_NUMBER"])), text


def test_phone_bounds_are_below_every_valid_number_length() -> None:
    # Germany has 4-digit national numbers; elsewhere a country code or a longer NSN is needed
    assert min_candidate_digits("DE") == 4
    assert all(2 <= min_candidate_digits(r) <= 7 for r in ("US", "GB", "FR", "IL", "IN", "CA", "BR"))
    assert min_candidate_digits("ZZ") == 1


def test_lazy_artifacts_equal_presidio_fields(analyzer_info) -> None:
    from presidio_analyzer.nlp_engine import NlpArtifacts

    from finetune_governance.scan.scanner import _artifact

    analyzer, _ = analyzer_info
    text = "Hi team, my phone number is 404-214-7967: call me, Maria."
    lazy = _artifact(analyzer, text, None)
    doc = analyzer.nlp_engine.nlp["en"].make_doc(text)
    lemmas = [t.lower_ for t in doc]
    eager = NlpArtifacts(entities=[], tokens=doc, tokens_indices=[t.idx for t in doc], lemmas=lemmas,
                         nlp_engine=analyzer.nlp_engine, language="en")
    assert (lazy.tokens_indices, lazy.lemmas, lazy.keywords) == (eager.tokens_indices, eager.lemmas, eager.keywords)


def test_policy_recognizer_of_a_conditioned_type_is_always_analysed() -> None:
    from finetune_governance.policy.schema import RecognizerSpec
    from finetune_governance.scan import scan_texts
    from finetune_governance.scan.engine import build_analyzer

    # a deny-list e-mail alias without "@": the e-mail pre-filter must not skip it
    spec = RecognizerSpec(entity="EMAIL_ADDRESS", deny_list=["helpdesk-alias"])
    analyzer, _ = build_analyzer(recognizers=[spec], pattern_only=True)
    hits = scan_texts(["write to helpdesk-alias please"], analyzer=analyzer, entities=["EMAIL_ADDRESS"], score_threshold=0.4)
    assert [(h.start, h.end) for h in hits[0]] == [(9, 23)]
