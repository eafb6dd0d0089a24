"""Per-entity score cut-offs from the policy, applied by the scanner and recorded per entity."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from finetune_governance.policy.schema import PiiParams
from finetune_governance.scan import scan_texts, summarise

TEXT = "Please email maria.lopez@example.com; my name is Maria Lopez."


def test_threshold_for_falls_back_to_global() -> None:
    params = PiiParams(score_threshold=0.4, score_thresholds={"PERSON": 0.9})
    assert params.threshold_for("PERSON") == 0.9
    assert params.threshold_for("EMAIL_ADDRESS") == 0.4


@pytest.mark.parametrize("bad", [{"person": 0.5}, {"PERSON": 1.5}])
def test_bad_thresholds_rejected(bad) -> None:
    with pytest.raises(ValidationError):
        PiiParams(score_thresholds=bad)


def test_per_entity_threshold_drops_only_that_type(analyzer_info) -> None:
    analyzer, _ = analyzer_info
    entities = ["EMAIL_ADDRESS", "PERSON"]
    base = scan_texts([TEXT], analyzer=analyzer, entities=entities, score_threshold=0.4)[0]
    assert {h.entity_type for h in base} == {"EMAIL_ADDRESS", "PERSON"}
    person_score = max(h.score for h in base if h.entity_type == "PERSON")
    strict = scan_texts([TEXT], analyzer=analyzer, entities=entities, score_threshold=0.4,
                        score_thresholds={"PERSON": min(1.0, person_score + 0.01)})[0]
    assert {h.entity_type for h in strict} == {"EMAIL_ADDRESS"}
    params = PiiParams(score_threshold=0.4, score_thresholds={"PERSON": 0.95})
    summaries = summarise([TEXT], [base], action_for=lambda e: "redact", threshold_for=params.threshold_for)
    assert {s.entity_type: s.score_threshold for s in summaries} == {"EMAIL_ADDRESS": 0.4, "PERSON": 0.95}
