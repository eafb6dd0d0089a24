"""Split a text into sentence-like segments, the unit the scanner analyses and caches.

Support text repeats the same sentences ("Thanks in advance.") across many records, so
analysing each distinct sentence once removes most of the NER work. A segment ends after
``.``, ``!`` or ``?`` followed by white space and an upper-case letter, unless the word
before the stop is a common abbreviation ("Dr.", "St.") so names and street addresses stay
in one piece. Pure functions.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Ave|Rd|Blvd|Ln|Ct|Pl|Pkwy|Hwy|Mt|Jr|Sr|No|Apt|Ste|Inc|Ltd|Co|vs|etc|e\.g|i\.e)"
    r"|\b[A-Z])\.$"
)
#: longer segments are cut at white space (spaCy's NER refuses documents over 1,000,000 characters)
MAX_SEGMENT_CHARS = 100_000


def split_segments(text: str) -> list[tuple[int, str]]:
    """``(offset, segment)`` pairs that tile ``text`` apart from the white space between them."""
    segments: list[tuple[int, str]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start : match.start()]
        if _ABBREVIATION.search(head[-6:]):
            continue
        if head:
            segments.append((start, head))
        start = match.end()
    if start < len(text):
        segments.append((start, text[start:]))
    return [piece for offset, segment in segments for piece in _cut(offset, segment)]


def _cut(offset: int, segment: str) -> list[tuple[int, str]]:
    """``segment`` in pieces of at most ``MAX_SEGMENT_CHARS``, cut at the last white space."""
    pieces: list[tuple[int, str]] = []
    while len(segment) > MAX_SEGMENT_CHARS:
        cut = segment.rfind(" ", MAX_SEGMENT_CHARS // 2, MAX_SEGMENT_CHARS)
        cut = cut + 1 if cut > 0 else MAX_SEGMENT_CHARS
        pieces.append((offset, segment[:cut]))
        offset, segment = offset + cut, segment[cut:]
    pieces.append((offset, segment))
    return pieces
