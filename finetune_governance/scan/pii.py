"""Scan texts for PII with Presidio, in batches, and summarise what was found.

The scan is a pure function from a batch of texts to per-record hits, so it can later
run inside a distributed map step. Identical texts are analysed once; spaCy runs over
the batch with ``nlp.pipe``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Sequence

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


def scan_texts(
    texts: Sequence[str],
    *,
    analyzer,
    entities: Sequence[str],
    score_threshold: float,
    batch_size: int = 64,
    on_progress: Callable[[int], None] | None = None,
) -> list[list[Hit]]:
    """Per record, the spans Presidio finds at or above ``score_threshold``."""
    unique: dict[str, int] = {}
    for text in texts:
        if text and text not in unique:
            unique[text] = len(unique)
    ordered = list(unique)
    found: list[list[tuple[int, int, str, float]]] = [[] for _ in ordered]
    artifacts = analyzer.nlp_engine.process_batch(ordered, language="en", batch_size=batch_size)
    for index, (text, nlp_artifacts) in enumerate(artifacts):
        results = analyzer.analyze(
            text=text,
            language="en",
            entities=list(entities),
            score_threshold=score_threshold,
            nlp_artifacts=nlp_artifacts,
        )
        found[index] = [(r.start, r.end, r.entity_type, float(r.score)) for r in results]
        if on_progress is not None:
            on_progress(1)
    hits: list[list[Hit]] = []
    for record, text in enumerate(texts):
        if not text:
            hits.append([])
            continue
        spans = found[unique[text]]
        record_hits = [Hit(record, s, e, t, sc) for s, e, t, sc in spans]
        hits.append(sorted(_drop_contained(record_hits), key=lambda h: (h.start, h.end)))
    return hits


def mask_value(value: str) -> str:
    """Keep the first character and the punctuation; mask every other letter or digit."""
    return "".join(ch if i == 0 or not ch.isalnum() else "*" for i, ch in enumerate(value))


def summarise(
    texts: Sequence[str],
    hits: list[list[Hit]],
    *,
    action_for: Callable[[str], str],
) -> list[EntitySummary]:
    """Counts, affected records and masked previews per entity type."""
    counts: dict[str, int] = defaultdict(int)
    records: dict[str, set[int]] = defaultdict(set)
    previews: dict[str, list[MaskedPreview]] = defaultdict(list)
    for record_hits in hits:
        for hit in record_hits:
            counts[hit.entity_type] += 1
            records[hit.entity_type].add(hit.record)
            if len(previews[hit.entity_type]) < MAX_PREVIEWS:
                value = texts[hit.record][hit.start : hit.end]
                previews[hit.entity_type].append(
                    MaskedPreview(record=hit.record, preview=mask_value(value), score=round(hit.score, 3))
                )
    total = max(len(texts), 1)
    return [
        EntitySummary(
            entity_type=entity,
            action=action_for(entity),
            count=counts[entity],
            records=len(records[entity]),
            record_rate=round(len(records[entity]) / total, 6),
            previews=previews[entity],
        )
        for entity in sorted(counts, key=lambda e: (-counts[e], e))
    ]


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
