"""Apply the policy's per-entity action to detected spans (Presidio Anonymizer)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Callable, Sequence

from .pii import Hit

#: actions that change the text
TEXT_ACTIONS = ("redact", "replace", "mask", "hash")


def _operators(hash_key: bytes | None) -> dict[str, Callable[[str, str], object]]:
    from presidio_anonymizer.entities import OperatorConfig

    def keyed_hash(value: str) -> str:
        assert hash_key is not None
        return hmac.new(hash_key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    return {
        "redact": lambda entity, _: OperatorConfig("redact", {}),
        "replace": lambda entity, _: OperatorConfig("replace", {"new_value": f"<{entity}>"}),
        "mask": lambda entity, _: OperatorConfig("mask", {"masking_char": "*", "chars_to_mask": 10_000, "from_end": False}),
        "hash": lambda entity, _: OperatorConfig("custom", {"lambda": keyed_hash}),
    }


def redact_texts(
    texts: Sequence[str],
    hits: list[list[Hit]],
    *,
    action_for: Callable[[str], str],
    hash_key: bytes | None = None,
) -> list[str]:
    """Texts with every span whose action changes text rewritten; others untouched."""
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import RecognizerResult

    needs_key = any(action_for(h.entity_type) == "hash" for rh in hits for h in rh)
    if needs_key and not hash_key:
        from ..errors import UsageError

        raise UsageError("the policy asks for keyed hashing: set FTG_HASH_KEY to a secret key")
    engine = AnonymizerEngine()
    make = _operators(hash_key)
    out: list[str] = []
    for text, record_hits in zip(texts, hits):
        spans = [h for h in record_hits if action_for(h.entity_type) in TEXT_ACTIONS]
        if not spans:
            out.append(text)
            continue
        results = [RecognizerResult(h.entity_type, h.start, h.end, h.score) for h in spans]
        operators = {h.entity_type: make[action_for(h.entity_type)](h.entity_type, "") for h in spans}
        out.append(engine.anonymize(text=text, analyzer_results=results, operators=operators).text)
    return out
