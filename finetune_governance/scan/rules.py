"""Context rules that remove Presidio's known false positives. Pure functions.

- Weak identifiers (driver licence, passport, bank account, ITIN, NHS and medical
  licence numbers) match ordinary words and numbers; they count only when a context word
  of their recognizer ("licence", "passport", "NHS", ...) raised the score.
- A span detected both as ``PHONE_NUMBER`` and as a weak identifier (a 10-digit phone
  number passes the NHS checksum one time in eleven) is a phone number, unless it is a
  ``UK_NHS`` number with a context word of its own ("NHS", "health authority"; not one
  the phone recognizer shares such as "number"): then it is the NHS number, not a phone.
- ``DATE_TIME`` counts only when it looks like a calendar date (a digit group such as
  ``03/04/1985``, a four-digit year, or a month name with a day or a year such as
  ``March 3rd, 2021``: ``dates.py``); "today", "6 am" or "in May" is not personal data.
- A NER span (``PERSON``, ``LOCATION``, ``NRP``) that lies inside a span of a structured
  type (street address, e-mail address, phone, card, IBAN, IP address) is part of that
  value: "Willow Lane" in "8819 Willow Lane" is the street address, not a second
  location. The structured hit covers it for redaction. URLs are not containers: a
  policy may allow URLs while a name inside one must still be found.
"""

from __future__ import annotations

import re
from typing import Sequence

from .dates import looks_like_calendar_date
#: entity types whose patterns alone are too weak to count without a context word
CONTEXT_REQUIRED = frozenset({
    "US_DRIVER_LICENSE", "US_PASSPORT", "US_BANK_NUMBER", "US_ITIN", "UK_NHS", "MEDICAL_LICENSE",
})

ENHANCED_KEY = "is_score_enhanced_by_context"


def _overlaps(a, b) -> bool:
    return a.start < b.end and b.start < a.end


#: characters either side of a weak hit searched for its recognizer's context words
CONTEXT_WINDOW = 60
#: weak types that win over an overlapping phone hit when a context word of their own is near
SPECIFIC_CONTEXT_BEATS_PHONE = frozenset({"UK_NHS"})


def _has_context(text: str, result, words: Sequence[str], *, use_score: bool = True) -> bool:
    meta = result.recognition_metadata or {}
    if use_score and meta.get(ENHANCED_KEY):
        return True
    window = text[max(0, result.start - CONTEXT_WINDOW) : result.end + CONTEXT_WINDOW].lower()
    return any(re.search(r"\b" + re.escape(word.lower()) + r"\b", window) for word in words)


def drop_false_positives(text: str, results: Sequence, *, context: dict[str, tuple[str, ...]] | None = None) -> list:
    """``results`` (Presidio ``RecognizerResult``) without the false positives above.

    ``context``: the context words of each entity's recognizer (a hit whose score is
    already the maximum is never marked as enhanced by Presidio).
    """
    context = context or {}
    phones = [r for r in results if r.entity_type == "PHONE_NUMBER"]
    phone_words = set(context.get("PHONE_NUMBER", ()))
    kept, not_phones = [], []
    for result in results:
        kind = result.entity_type
        if kind in CONTEXT_REQUIRED:
            if not _has_context(text, result, context.get(kind, ())):
                continue
            if any(_overlaps(result, p) for p in phones):
                own = [w for w in context.get(kind, ()) if w not in phone_words]
                if kind not in SPECIFIC_CONTEXT_BEATS_PHONE or not _has_context(text, result, own, use_score=False):
                    continue
                not_phones.append(result)
        if kind == "DATE_TIME" and not looks_like_calendar_date(text[result.start : result.end]):
            continue
        kept.append(result)
    return [r for r in kept if r.entity_type != "PHONE_NUMBER" or not any(_overlaps(r, n) for n in not_phones)]


#: entity types whose spans hold a NER entity as part of their value
CONTAINERS = frozenset({
    "STREET_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS",
})
NER_TYPES = frozenset({"PERSON", "LOCATION", "NRP"})


def drop_inside_patterns(results: Sequence) -> list:
    """``results`` without NER spans that lie inside a span of a ``CONTAINERS`` type."""
    containers = [r for r in results if r.entity_type in CONTAINERS]
    return [
        r for r in results
        if r.entity_type not in NER_TYPES or not any(c.start <= r.start and r.end <= c.end for c in containers)
    ]
