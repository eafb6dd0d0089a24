"""The fast scan: distinct sentences once, NER in batches, cheap pre-filters, two processes.

``Scanner.scan`` takes a batch of texts and returns per-record spans; it keeps a bounded
cache of analysed segments between batches, so a file streamed in chunks never re-analyses
a sentence it has seen. With ``workers > 1`` segments are analysed in forked processes
that share the loaded analyzer (copy-on-write). The result does not depend on ``workers``.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from typing import Callable, Sequence

from .prefilter import candidate_entities
from .rules import drop_false_positives
from .secrets import SECRET_ENTITIES, find_secrets
from .segments import split_segments

Span = tuple[int, int, str, float]

#: fewer new segments than this are analysed in-process (forking costs more)
PARALLEL_MIN_SEGMENTS = 1_000
_STATE: dict[str, object] = {}


@dataclass(frozen=True)
class ScanSettings:
    """What to look for: Presidio entity types, secret types, and the score cut-off (0-1)."""

    entities: tuple[str, ...]
    score_threshold: float
    batch_size: int = 256

    @property
    def presidio_entities(self) -> tuple[str, ...]:
        return tuple(e for e in self.entities if e not in SECRET_ENTITIES)

    @property
    def secret_entities(self) -> frozenset[str]:
        return frozenset(e for e in self.entities if e in SECRET_ENTITIES)


def _artifacts(analyzer, segments: list[str], settings: ScanSettings):
    from .engine import NER_ENTITIES

    engine = analyzer.nlp_engine
    needs_ner = any(e in NER_ENTITIES for e in settings.presidio_entities)
    if needs_ner:
        return (art for _, art in engine.process_batch(segments, language="en", batch_size=settings.batch_size))
    nlp = engine.nlp["en"]
    return (engine._doc_to_nlp_artifact(nlp.make_doc(s), "en") for s in segments)


def context_words(analyzer) -> dict[str, tuple[str, ...]]:
    """The context words of every recognizer, per entity type."""
    words: dict[str, tuple[str, ...]] = {}
    for recognizer in analyzer.registry.recognizers:
        for entity in recognizer.supported_entities:
            words[entity] = words.get(entity, ()) + tuple(getattr(recognizer, "context", None) or ())
    return words


def analyse_segments(analyzer, segments: list[str], settings: ScanSettings) -> list[tuple[Span, ...]]:
    """Spans per segment: Presidio (pre-filtered, false positives removed) plus secrets."""
    out: list[tuple[Span, ...]] = []
    context = context_words(analyzer)
    presidio = settings.presidio_entities
    for segment, art in zip(segments, _artifacts(analyzer, segments, settings)):
        spans: list[Span] = []
        wanted = candidate_entities(segment, presidio, ner_found={e.label_ for e in art.entities})
        if wanted:
            results = analyzer.analyze(text=segment, language="en", entities=wanted,
                                       score_threshold=settings.score_threshold, nlp_artifacts=art)
            spans += [(r.start, r.end, r.entity_type, float(r.score)) for r in drop_false_positives(segment, results, context=context)]
        if settings.secret_entities:
            spans += [(s.start, s.end, s.entity_type, s.score) for s in find_secrets(segment, entities=settings.secret_entities)]
        out.append(tuple(spans))
    return out


def _worker(segments: list[str]) -> list[tuple[Span, ...]]:
    return analyse_segments(_STATE["analyzer"], segments, _STATE["settings"])  # type: ignore[arg-type]


class Scanner:
    """Scan batches of texts with one analyzer; use as a context manager to free workers."""

    def __init__(self, analyzer, settings: ScanSettings, *, workers: int = 1, cache_size: int = 200_000) -> None:
        self.analyzer = analyzer
        self.settings = settings
        self.workers = max(1, workers)
        self.cache_size = cache_size
        self._cache: dict[str, tuple[Span, ...]] = {}
        self._pool = None
        self.segments_seen = 0
        self.segments_analysed = 0

    def __enter__(self) -> "Scanner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def _analyse(self, segments: list[str]) -> list[tuple[Span, ...]]:
        if self.workers == 1 or len(segments) < PARALLEL_MIN_SEGMENTS:
            return analyse_segments(self.analyzer, segments, self.settings)
        if self._pool is None:
            _STATE.update(analyzer=self.analyzer, settings=self.settings)
            self._pool = multiprocessing.get_context("fork").Pool(self.workers)
        size = max(64, -(-len(segments) // (self.workers * 4)))
        parts = [segments[i : i + size] for i in range(0, len(segments), size)]
        return [spans for part in self._pool.map(_worker, parts) for spans in part]

    def scan(self, texts: Sequence[str], *, on_progress: Callable[[int], None] | None = None) -> list[list[Span]]:
        """Per text, its spans ``(start, end, entity_type, score)`` in text offsets."""
        split = [split_segments(t) if t else [] for t in texts]
        new: dict[str, None] = {}
        for pieces in split:
            for _, segment in pieces:
                self.segments_seen += 1
                if segment not in self._cache:
                    new[segment] = None
        if len(self._cache) + len(new) > self.cache_size:
            self._cache.clear()
            new = {s: None for pieces in split for _, s in pieces}
        ordered = list(new)
        self._cache.update(zip(ordered, self._analyse(ordered)))
        self.segments_analysed += len(ordered)
        result: list[list[Span]] = []
        for pieces in split:
            spans = [(off + s, off + e, t, sc) for off, seg in pieces for s, e, t, sc in self._cache[seg]]
            result.append(spans)
        if on_progress is not None:
            on_progress(len(texts))
        return result
