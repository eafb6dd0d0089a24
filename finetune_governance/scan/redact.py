"""Apply the policy's per-entity action to detected spans (Presidio Anonymizer)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
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


#: redaction passes before the residual is recorded (each pass re-scans what it changed)
MAX_REDACTION_PASSES = 3


@dataclass
class VerifiedRedaction:
    """Redacted texts and, per record, the detections a re-scan of its final text found."""

    texts: list[str]
    hits: list[list[Hit]]  # a record redaction left unchanged keeps its first scan's hits
    passes: int


def redact_and_verify(
    texts: Sequence[str],
    hits: list[list[Hit]],
    *,
    rescan: Callable[[list[str], int], list[list[Hit]]],
    action_for: Callable[[str], str],
    allowed: set[str],
    hash_key: bytes | None = None,
    max_passes: int = MAX_REDACTION_PASSES,
    first_record: int = 0,
) -> VerifiedRedaction:
    """Redact, re-scan what changed, and redact again what still holds a detection of a type
    not ``allowed`` (spans the NER model only sees once the text around them changed), at most
    ``max_passes`` passes in all. ``rescan(texts, pass_number)`` scans a list of texts; its hits
    are renumbered to ``first_record`` + the record's index. The residual is measured on the
    returned ``hits``."""
    redacted = redact_texts(texts, hits, action_for=action_for, hash_key=hash_key)
    final = list(hits)
    changed = [i for i, (a, b) in enumerate(zip(texts, redacted)) if a != b]
    passes = 1
    while changed:
        for i, record_hits in zip(changed, rescan([redacted[i] for i in changed], passes)):
            final[i] = [replace(h, record=first_record + i) for h in record_hits]
        left = [i for i in changed if any(h.entity_type not in allowed for h in final[i])]
        if not left or passes >= max_passes:
            break
        passes += 1
        again = redact_texts([redacted[i] for i in left], [final[i] for i in left], action_for=action_for,
                             hash_key=hash_key)
        changed = [i for i, text in zip(left, again) if text != redacted[i]]
        for i, text in zip(left, again):
            redacted[i] = text
    return VerifiedRedaction(texts=redacted, hits=final, passes=passes)
