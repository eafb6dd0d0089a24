"""Scan texts for PII with Presidio, in batches, and summarise what was found.

The scan is a pure function from a batch of texts to per-record hits, so it can later
run inside a distributed map step. Identical sentences are analysed once; spaCy runs
over the batch with ``nlp.pipe`` (see ``scanner.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ..evidence import EntitySummary, MaskedPreview, ResidualSummary

MAX_PREVIEWS = 3


@dataclass(frozen=True)
class Hit:
    """One detected span in one record. Holds offsets, never the value."""

    record: int
    start: int
    end: int
    entity_type: str
    score: float


def _drop_contained(hits: list[Hit]) -> list[Hit]:
    """Drop spans inside a higher- or equal-scored span of another type (URL inside EMAIL)."""
    kept: list[Hit] = []
    for hit in hits:
        inside = any(
            other is not hit
            and other.start <= hit.start
            and hit.end <= other.end
            and (other.end - other.start) > (hit.end - hit.start)
            and other.score >= hit.score
            for other in hits
        )
        if not inside:
            kept.append(hit)
    return kept


def to_hits(spans: list[list[tuple[int, int, str, float]]], *, first_record: int = 0) -> list[list[Hit]]:
    """Per-record ``Hit`` lists, nested duplicates dropped, sorted by position."""
    hits: list[list[Hit]] = []
    for index, record_spans in enumerate(spans):
        record_hits = [Hit(first_record + index, s, e, t, sc) for s, e, t, sc in record_spans]
        hits.append(sorted(_drop_contained(record_hits), key=lambda h: (h.start, h.end, h.entity_type)))
    return hits


def scan_texts(
    texts: Sequence[str],
    *,
    analyzer,
    entities: Sequence[str],
    score_threshold: float,
    batch_size: int = 256,
    on_progress: Callable[[int], None] | None = None,
    workers: int = 1,
    chunk_records: int = 20_000,
    score_thresholds: Mapping[str, float] | None = None,
) -> list[list[Hit]]:
    """Per record, the spans found at or above ``score_threshold`` (0-1).

    ``score_thresholds`` overrides the cut-off per entity type.

    Texts are scanned ``chunk_records`` at a time; ``workers`` processes analyse the
    distinct sentences (see ``Scanner``). ``on_progress`` receives records done.
    """
    from .scanner import Scanner, ScanSettings

    settings = ScanSettings(entities=tuple(entities), score_threshold=score_threshold, batch_size=batch_size,
                            score_thresholds=tuple(sorted((score_thresholds or {}).items())))
    hits: list[list[Hit]] = []
    with Scanner(analyzer, settings, workers=workers) as scanner:
        for first in range(0, len(texts), chunk_records):
            chunk = texts[first : first + chunk_records]
            hits += to_hits(scanner.scan(chunk, on_progress=on_progress), first_record=first)
    return hits


def mask_value(value: str) -> str:
    """Keep the first character and the punctuation; mask every other letter or digit."""
    return "".join(ch if i == 0 or not ch.isalnum() else "*" for i, ch in enumerate(value))


class Tally:
    """Counts, affected records and a few masked previews per entity type, chunk by chunk.

    Memory is bounded by the number of entity types (record sets are counted per chunk).
    """

    def __init__(self) -> None:
        self.records_total = 0
        self.records_with_hits = 0
        self.counts: dict[str, int] = defaultdict(int)
        self.records: dict[str, int] = defaultdict(int)
        self.previews: dict[str, list[MaskedPreview]] = defaultdict(list)

    def add(self, texts: Sequence[str], hits: list[list[Hit]], *, first_record: int = 0) -> None:
        """Add one chunk; ``hits[i]`` belongs to ``texts[i]`` (record ``first_record + i``)."""
        self.records_total += len(texts)
        for index, record_hits in enumerate(hits):
            if record_hits:
                self.records_with_hits += 1
            for kind in {h.entity_type for h in record_hits}:
                self.records[kind] += 1
            for hit in record_hits:
                self.counts[hit.entity_type] += 1
                if len(self.previews[hit.entity_type]) < MAX_PREVIEWS:
                    value = texts[index][hit.start : hit.end]
                    self.previews[hit.entity_type].append(
                        MaskedPreview(record=hit.record, preview=mask_value(value), score=round(hit.score, 3))
                    )

    def summaries(
        self, *, action_for: Callable[[str], str], threshold_for: Callable[[str], float] | None = None
    ) -> list[EntitySummary]:
        """One summary per entity type found; ``threshold_for`` gives the cut-off recorded per type."""
        total = max(self.records_total, 1)
        return [
            EntitySummary(
                entity_type=entity,
                action=action_for(entity),
                count=self.counts[entity],
                records=self.records[entity],
                record_rate=round(self.records[entity] / total, 6),
                score_threshold=threshold_for(entity) if threshold_for is not None else None,
                previews=list(self.previews[entity]),
            )
            for entity in sorted(self.counts, key=lambda e: (-self.counts[e], e))
        ]


def summarise(
    texts: Sequence[str],
    hits: list[list[Hit]],
    *,
    action_for: Callable[[str], str],
    threshold_for: Callable[[str], float] | None = None,
) -> list[EntitySummary]:
    """Counts, affected records, score cut-off and masked previews per entity type."""
    tally = Tally()
    tally.add(texts, hits)
    return tally.summaries(action_for=action_for, threshold_for=threshold_for)


def residual(hits: list[list[Hit]], *, ignore: set[str], total: int) -> ResidualSummary:
    """Records that still hold a detection (of a type not allowed) after redaction."""
    by_entity: dict[str, int] = defaultdict(int)
    affected = 0
    for record_hits in hits:
        kinds = {h.entity_type for h in record_hits if h.entity_type not in ignore}
        if kinds:
            affected += 1
        for kind in kinds:
            by_entity[kind] += 1
    return ResidualSummary(records=affected, rate=round(affected / max(total, 1), 6), by_entity=dict(by_entity))
