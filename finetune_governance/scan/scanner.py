"""The fast scan: distinct sentences once, NER in batches, cheap pre-filters, two processes.

NER runs only on segments the NER gate lets through (``nergate.py``); Presidio's NLP
artifacts are built only for segments some entity type can occur in. What each measure
buys, and what was tried and rejected, is in ``bench/README.md``.

``Scanner.scan`` takes a batch of texts and returns per-record spans; it keeps a bounded
cache of analysed segments between batches, so a file streamed in chunks never re-analyses
a sentence it has seen. With ``workers > 1`` segments are analysed in forked processes
that share the loaded analyzer (copy-on-write). The result does not depend on ``workers``.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable, Sequence

from .prefilter import candidate_entities
from .rules import drop_false_positives, drop_inside_patterns
from .segments import split_segments

Span = tuple[int, int, str, float]

#: fewer new segments than this are analysed in-process (forking costs more)
PARALLEL_MIN_SEGMENTS = 1_000
_STATE: dict[str, object] = {}


@dataclass(frozen=True)
class ScanSettings:
    """What to look for: entity types (secrets included), and the score cut-offs (0-1).

    ``score_threshold`` applies to every entity type without its own entry in
    ``score_thresholds`` (pairs of entity type and cut-off).
    """

    entities: tuple[str, ...]
    score_threshold: float
    batch_size: int = 256
    score_thresholds: tuple[tuple[str, float], ...] = ()

    def threshold_for(self, entity: str) -> float:
        """The score cut-off of ``entity``."""
        return dict(self.score_thresholds).get(entity, self.score_threshold)

    @classmethod
    def of_policy(cls, params, entities) -> "ScanSettings":
        """The settings for ``entities`` under a policy's ``PiiParams`` (its cut-offs)."""
        return cls(entities=tuple(entities), score_threshold=params.score_threshold,
                   score_thresholds=tuple(sorted(params.score_thresholds.items())))


def _ner_docs(analyzer, segments: list[str], settings: ScanSettings, *, ner: bool = True) -> list:
    """Per segment, the spaCy doc with NER run, or None where the NER gate skips it (all
    None without ``ner``)."""
    from .engine import NER_ENTITIES
    from .nergate import needs_ner

    docs: list = [None] * len(segments)
    if not ner or not any(e in NER_ENTITIES for e in settings.entities):
        return docs
    chosen = [i for i, s in enumerate(segments) if needs_ner(s)]
    nlp = analyzer.nlp_engine.nlp["en"]
    for i, doc in zip(chosen, nlp.pipe([segments[i] for i in chosen], batch_size=settings.batch_size)):
        docs[i] = doc
    return docs


def _artifact(analyzer, segment: str, doc):
    """Presidio's NLP artifacts of ``segment`` (``doc``: its NER-read doc, or None: tokens only).

    Token offsets, lemmas and context keywords are computed on first use: only the context
    enhancer reads them, and only for segments with a hit (the values are Presidio's own).
    Without a NER doc the segment is tokenised on first use too: a tokenised doc has no
    entities, so the NER recognizer reports nothing either way.
    """
    engine = analyzer.nlp_engine
    if doc is None:
        return _lazy_artifacts_class()(entities=[], tokens=None, nlp_engine=engine, scores=[],
                                       make_tokens=lambda: engine.nlp["en"].make_doc(segment))
    entities, scores = engine._get_updated_entities(engine._get_entities(doc), engine._get_scores_for_entities(doc))
    return _lazy_artifacts_class()(entities=entities, tokens=doc, nlp_engine=engine, scores=scores)


@lru_cache(maxsize=1)
def _lazy_artifacts_class():
    from presidio_analyzer.nlp_engine import NlpArtifacts

    class LazyNlpArtifacts(NlpArtifacts):
        """``NlpArtifacts`` whose tokens (when ``make_tokens`` is given), token offsets, lemmas
        and keywords are built when first read."""

        def __init__(self, *, entities, tokens, nlp_engine, scores, make_tokens=None) -> None:  # noqa: D107 - lazy
            self.entities, self.nlp_engine, self.language = entities, nlp_engine, "en"
            self.scores = scores if scores else [0.85] * len(entities)
            if make_tokens is None:
                self.tokens = tokens
            self._make_tokens = make_tokens

        @cached_property
        def tokens(self):  # type: ignore[override]
            return self._make_tokens()

        @cached_property
        def _table(self) -> tuple[list[int], list[str]]:
            from spacy.attrs import IDX, LOWER

            rows = self.tokens.to_array([IDX, LOWER]).tolist() if len(self.tokens) else []
            strings = self.tokens.vocab.strings
            return [row[0] for row in rows], [strings[row[1]] for row in rows]

        @cached_property
        def tokens_indices(self) -> list[int]:  # type: ignore[override]
            return self._table[0]

        @cached_property
        def lemmas(self) -> list[str]:  # type: ignore[override]
            return self._table[1]

        @cached_property
        def keywords(self) -> list[str]:  # type: ignore[override]
            return NlpArtifacts.set_keywords(self.nlp_engine, self.lemmas, self.language)

    return LazyNlpArtifacts


def context_words(analyzer) -> dict[str, tuple[str, ...]]:
    """The context words of every recognizer, per entity type."""
    words: dict[str, tuple[str, ...]] = {}
    for recognizer in analyzer.registry.recognizers:
        for entity in recognizer.supported_entities:
            words[entity] = words.get(entity, ()) + tuple(getattr(recognizer, "context", None) or ())
    return words


def custom_entities(analyzer) -> frozenset[str]:
    """Entity types some recognizer outside Presidio's predefined ones reports (policy, plugin).

    The pre-filter's conditions describe Presidio's own patterns, so these are always
    analysed, unless the recognizer says each of its matches meets them (``prefilter_safe``).
    """
    return frozenset(
        entity for recognizer in analyzer.registry.recognizers
        if (not type(recognizer).__module__.startswith("presidio_analyzer.")
            or type(recognizer).__name__ == "PatternRecognizer")
        and not getattr(recognizer, "prefilter_safe", False)
        for entity in recognizer.supported_entities
    )


def analyse_segments(analyzer, segments: list[str], settings: ScanSettings, *,
                     ner: bool = True) -> list[tuple[Span, ...]]:
    """Spans per segment: every recognizer of the analyzer (secrets included), pre-filtered,
    false positives removed.

    NLP artifacts are built only for segments some entity type can occur in; NER runs
    only on segments the NER gate (``nergate.py``) lets through, and not at all without
    ``ner`` (the NER entity types then find nothing).
    """
    from .analyze import FastAnalyze
    from .engine import NER_MAPPING

    out: list[tuple[Span, ...]] = []
    context = context_words(analyzer)
    unconditioned = custom_entities(analyzer)
    analyze = FastAnalyze(analyzer)
    floor = min((settings.threshold_for(e) for e in settings.entities), default=settings.score_threshold)
    for segment, doc in zip(segments, _ner_docs(analyzer, segments, settings, ner=ner)):
        spans: list[Span] = []
        found = {NER_MAPPING.get(e.label_, e.label_) for e in doc.ents} if doc is not None else set()
        wanted = candidate_entities(segment, settings.entities, ner_found=found, unconditioned=unconditioned)
        if wanted:
            results = analyze(segment, entities=wanted, score_threshold=floor,
                              nlp_artifacts=_artifact(analyzer, segment, doc))
            results = drop_inside_patterns(drop_false_positives(segment, results, context=context))
            spans += [(r.start, r.end, r.entity_type, float(r.score)) for r in results]
        out.append(tuple(sp for sp in spans if sp[3] >= settings.threshold_for(sp[2])))
    return out


def _worker(job: tuple[list[str], bool]) -> list[tuple[Span, ...]]:
    segments, ner = job
    return analyse_segments(_STATE["analyzer"], segments, _STATE["settings"], ner=ner)  # type: ignore[arg-type]


class Scanner:
    """Scan batches of texts with one analyzer; use as a context manager to free workers."""

    def __init__(self, analyzer, settings: ScanSettings, *, workers: int = 1, cache_size: int = 200_000) -> None:
        self.analyzer = analyzer
        self.settings = settings
        self.workers = max(1, workers)
        self.cache_size = cache_size
        self._caches: dict[bool, dict[str, tuple[Span, ...]]] = {True: {}, False: {}}  # with NER, without
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

    def _analyse(self, segments: list[str], *, ner: bool = True) -> list[tuple[Span, ...]]:
        if self.workers == 1 or len(segments) < PARALLEL_MIN_SEGMENTS:
            return analyse_segments(self.analyzer, segments, self.settings, ner=ner)
        if self._pool is None:
            _STATE.update(analyzer=self.analyzer, settings=self.settings)
            self._pool = multiprocessing.get_context("fork").Pool(self.workers)
        size = max(64, -(-len(segments) // (self.workers * 4)))
        parts = [segments[i : i + size] for i in range(0, len(segments), size)]
        return [spans for part in self._pool.map(_worker, [(p, ner) for p in parts]) for spans in part]

    def scan(self, texts: Sequence[str], *, on_progress: Callable[[int], None] | None = None,
             ner: bool = True) -> list[list[Span]]:
        """Per text, its spans ``(start, end, entity_type, score)`` in text offsets (without
        ``ner``: no NER, so no ``PERSON``, ``LOCATION`` or ``NRP``)."""
        cache = self._caches[ner]
        split = [split_segments(t) if t else [] for t in texts]
        new: dict[str, None] = {}
        for pieces in split:
            for _, segment in pieces:
                self.segments_seen += 1
                if segment not in cache:
                    new[segment] = None
        if len(cache) + len(new) > self.cache_size:
            cache.clear()
            new = {s: None for pieces in split for _, s in pieces}
        ordered = list(new)
        cache.update(zip(ordered, self._analyse(ordered, ner=ner)))
        self.segments_analysed += len(ordered)
        result: list[list[Span]] = []
        for pieces in split:
            spans = [(off + s, off + e, t, sc) for off, seg in pieces for s, e, t, sc in cache[seg]]
            result.append(spans)
        if on_progress is not None:
            on_progress(len(texts))
        return result
