"""``AnalyzerEngine.analyze`` for many short texts, without Presidio's per-call overhead.

The same steps in the same order (run the recognizers, context enhancement, score filter,
de-duplication, explanations dropped), with three shortcuts that cannot change a result:

- the recognizer list is looked up once per entity set (the registry does not change);
- a text no recognizer matched returns ``[]`` at once: with no raw results, Presidio's
  context enhancement, score filter and de-duplication return an empty list (only taken
  when every recognizer keeps the base class's context hook and the enhancer is Presidio's
  lemma enhancer, so no custom logic is skipped);
- Presidio's own ``PhoneRecognizer`` runs with the bounded matcher of ``phone.py``.

Anything else (decision-process logging on, a Presidio without the private steps used
here) goes through ``analyzer.analyze``. ``tests/scan/test_scan_fast_analyze.py`` compares
both on positive and negative examples and the bench corpus.
"""

from __future__ import annotations

from typing import Sequence

_STEPS = ("_enhance_using_context", "_AnalyzerEngine__remove_low_scores", "_AnalyzerEngine__remove_decision_process",
          "_AnalyzerEngine__add_recognizer_id_if_not_exists")


class FastAnalyze:
    """Call as ``fast(text, entities=[...], score_threshold=0.4, nlp_artifacts=...)``."""

    def __init__(self, analyzer) -> None:
        from presidio_analyzer import EntityRecognizer
        from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
        from presidio_analyzer.predefined_recognizers import PhoneRecognizer

        from . import phone

        self.analyzer = analyzer
        self._recognizers: dict[tuple[str, ...], list] = {}
        self._phone_type = PhoneRecognizer if phone.supported() else None
        self.exact = (
            not getattr(analyzer, "log_decision_process", False)
            and type(analyzer.context_aware_enhancer) is LemmaContextAwareEnhancer
            and all(hasattr(analyzer, step) for step in _STEPS)
        )
        # a recognizer with its own context hook could add results to an empty list
        self.empty_shortcut = self.exact and all(
            type(r).enhance_using_context is EntityRecognizer.enhance_using_context for r in analyzer.registry.recognizers
        )

    def _recognizers_for(self, entities: tuple[str, ...]) -> list:
        if entities not in self._recognizers:
            self._recognizers[entities] = self.analyzer.registry.get_recognizers(language="en", entities=list(entities))
        return self._recognizers[entities]

    def _run(self, recognizer, text: str, entities: list[str], nlp_artifacts) -> list:
        if self._phone_type is not None and type(recognizer) is self._phone_type:
            from .phone import analyze_phones

            return analyze_phones(recognizer, text, entities, nlp_artifacts)
        return recognizer.analyze(text=text, entities=entities, nlp_artifacts=nlp_artifacts)

    def __call__(self, text: str, *, entities: Sequence[str], score_threshold: float, nlp_artifacts) -> list:
        """Presidio ``RecognizerResult`` list, equal to ``analyzer.analyze(text, "en", ...)``'s."""
        analyzer, entities = self.analyzer, list(entities)
        if not self.exact:
            return analyzer.analyze(text=text, language="en", entities=entities, score_threshold=score_threshold,
                                    nlp_artifacts=nlp_artifacts)
        from presidio_analyzer import EntityRecognizer

        recognizers = self._recognizers_for(tuple(entities))
        results: list = []
        for recognizer in recognizers:
            if not recognizer.is_loaded:
                recognizer.load()
                recognizer.is_loaded = True
            found = self._run(recognizer, text, entities, nlp_artifacts)
            if found:
                analyzer._AnalyzerEngine__add_recognizer_id_if_not_exists(found, recognizer)
                results.extend(found)
        if not results and self.empty_shortcut:
            return []
        results = analyzer._enhance_using_context(text, results, nlp_artifacts, recognizers, None)
        results = analyzer._AnalyzerEngine__remove_low_scores(results, score_threshold, recognizers)
        results = EntityRecognizer.remove_duplicates(results)
        return analyzer._AnalyzerEngine__remove_decision_process(results)
