"""Cheap necessary conditions per entity type, checked before Presidio runs.

Each condition is implied by every pattern of the entity's recognizer (e.g. an e-mail
address contains ``@``; a payment card number has at least 12 digits), so skipping an
entity whose condition fails cannot lose a detection. Entity types without a condition
are always analysed. Pure functions.
"""

from __future__ import annotations

from typing import Callable, Iterable

#: least number of ASCII digits any match of the entity's recognizer contains
MIN_DIGITS = {
    "PHONE_NUMBER": 4,  # the shortest national numbers libphonenumber accepts in Presidio's regions
    "CREDIT_CARD": 12,
    "US_SSN": 9,
    "US_ITIN": 9,
    "US_BANK_NUMBER": 8,
    "US_PASSPORT": 8,
    "UK_NHS": 10,
    "MEDICAL_LICENSE": 7,
    "IBAN_CODE": 2,
    "DATE_TIME": 1,
    "US_DRIVER_LICENSE": 1,  # every alternative of both patterns holds [0-9]
    "CRYPTO": 1,  # (bc1|[13])...
}

#: a character every match of the entity's recognizer contains (any of them)
REQUIRED_CHARS = {
    "EMAIL_ADDRESS": "@",
    "URL": ".:",
    "MAC_ADDRESS": ":-.",
    "UUID": "-",
}


def _maybe_ip(text: str, digits: int) -> bool:
    # IPv4: four dotted numbers (4+ digits); IPv6: at least two colons ("::1", "fe80::1")
    return ("." in text and digits >= 4) or text.count(":") >= 2


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def candidate_entities(
    text: str, entities: Iterable[str], *, ner_found: Iterable[str] = (), unconditioned: Iterable[str] = ()
) -> list[str]:
    """The entities of ``entities`` that could occur in ``text``.

    NER entity types (``PERSON``, ...) are candidates only when the NER model found one
    (``ner_found``): their recognizer reports exactly the model's entities. Entity types in
    ``unconditioned`` (those a policy or plugin recognizer also reports, whose patterns the
    conditions here know nothing about) are always candidates.
    """
    from .engine import NER_ENTITIES

    found, free = set(ner_found), set(unconditioned)
    digits: Callable[[], int] = _cached(lambda: _digits(text))
    keep: list[str] = []
    for entity in entities:
        if entity in free:
            keep.append(entity)
            continue
        if entity in NER_ENTITIES:
            if entity in found:
                keep.append(entity)
            continue
        chars = REQUIRED_CHARS.get(entity)
        if chars is not None and not any(c in text for c in chars):
            continue
        if entity == "IP_ADDRESS" and not _maybe_ip(text, digits()):
            continue
        need = MIN_DIGITS.get(entity)
        if need is not None and digits() < need:
            continue
        keep.append(entity)
    return keep


def _cached(compute: Callable[[], int]) -> Callable[[], int]:
    box: list[int] = []

    def get() -> int:
        if not box:
            box.append(compute())
        return box[0]

    return get
