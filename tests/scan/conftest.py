"""Scan fixtures: the analyzer is built once per session (loading spaCy takes seconds)."""

from __future__ import annotations

import pytest

from finetune_governance.policy import load_policy


@pytest.fixture(scope="session")
def gdpr_pii():
    return load_policy("gdpr").rules_of("pii")[0].params


@pytest.fixture(scope="session")
def analyzer_info(gdpr_pii):
    from finetune_governance.scan.engine import cached_analyzer

    return cached_analyzer(recognizers=gdpr_pii.recognizers, countries=gdpr_pii.countries)


@pytest.fixture(scope="session")
def scan_one(analyzer_info, gdpr_pii):
    """Scan one text with the bundled GDPR policy's settings: [(value, entity_type), ...]."""
    from finetune_governance.scan import scan_texts
    from finetune_governance.scan.plan import plan_entities

    analyzer, info = analyzer_info
    entities = plan_entities(gdpr_pii, info).entities

    def scan(text: str) -> list[tuple[str, str]]:
        hits = scan_texts([text], analyzer=analyzer, entities=entities, score_threshold=gdpr_pii.score_threshold)[0]
        return [(text[h.start : h.end], h.entity_type) for h in hits]

    return scan
