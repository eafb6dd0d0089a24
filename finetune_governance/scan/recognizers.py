"""The core's PII recognizers, handed to the analyzer through the plugin hook
``governance_recognizers`` (``plugins/core.py``), as any plugin's are.

- Presidio's predefined English recognizers. Without ``countries``: Presidio's default set
  (its ``default_recognizers.yaml``: generic types plus the enabled US and UK ones). With
  ``countries``: every predefined recognizer of those countries, including the ones Presidio
  ships disabled (UK national insurance number, passport, postcode, driving licence; US NPI,
  MBI, ...) and the ones Presidio defines for another language only (Spanish NIF, German tax
  id, ...: their formats do not depend on the language around them). ``gb`` (ISO 3166) is
  Presidio's ``uk``.
- ``WrittenDateRecognizer``: dates written out ("March 3rd, 2021", "12 Jan 1948"), which
  Presidio's date patterns (numeric forms only) do not find; see ``dates.py``.
- ``SecretsRecognizer``: credentials via detect-secrets (``secrets.py``).
- The policy's own recognizers (``recognizers:`` of its ``pii`` rule): regex patterns with
  context words and deny-lists, built here as Presidio ``PatternRecognizer`` objects.
"""

from __future__ import annotations

import copy
import logging
import re
from functools import lru_cache
from typing import Any, Sequence

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

from .dates import WRITTEN_DATE
from .secrets import SECRET_ENTITIES, find_secrets

#: ISO 3166 alpha-2 codes Presidio spells differently
PRESIDIO_COUNTRY = {"gb": "uk"}
#: score of a written date before context words (Presidio's numeric date patterns score 0.6)
WRITTEN_DATE_SCORE = 0.6


def presidio_countries(countries: Sequence[str]) -> list[str]:
    """``countries`` (ISO 3166 alpha-2) as Presidio's recognizers tag them."""
    return sorted({PRESIDIO_COUNTRY.get(c.lower(), c.lower()) for c in countries})


@lru_cache(maxsize=1)
def _default_configuration() -> dict:
    from presidio_analyzer.recognizer_registry.recognizers_loader_utils import RecognizerConfigurationLoader

    return RecognizerConfigurationLoader.get(registry_configuration={"supported_languages": ["en"]})


def _languages(conf: dict) -> list[str]:
    return [entry if isinstance(entry, str) else entry.get("language") for entry in conf.get("supported_languages") or []]


def predefined_recognizers(*, nlp_engine: Any, countries: Sequence[str] | None) -> list:
    """Presidio's predefined recognizers for English text (see the module docstring), the
    NER recognizer of ``nlp_engine`` last (``nlp_engine`` None: as the scan's engine would
    configure it; for listing what the recognizers detect without loading spaCy)."""
    from presidio_analyzer import RecognizerRegistry
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer
    from presidio_analyzer.recognizer_registry.recognizers_loader_utils import RecognizerListLoader

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)  # "not added: language not supported" x 11
    conf = copy.deepcopy(_default_configuration())
    if countries is not None:
        wanted = set(presidio_countries(countries))
        chosen = []
        for entry in conf["recognizers"]:
            if isinstance(entry, dict) and entry.get("type") == "predefined" and entry.get("country_code") in wanted:
                entry = dict(entry, enabled=True)
                if "en" not in _languages(entry):
                    entry["supported_languages"] = ["en"]
            chosen.append(entry)
        conf["recognizers"] = chosen
        conf["supported_countries"] = sorted(wanted)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.recognizers = list(RecognizerListLoader.get(**conf))
    if nlp_engine is not None:
        registry.add_nlp_recognizer(nlp_engine=nlp_engine)
    else:
        from .engine import unloaded_nlp_engine

        entities = unloaded_nlp_engine().get_supported_entities()
        registry.recognizers.append(SpacyRecognizer(supported_language="en", supported_entities=sorted(entities)))
    return list(registry.recognizers)


class WrittenDateRecognizer(PatternRecognizer):
    """``DATE_TIME`` for written calendar dates: a month name with a day and/or a year."""

    #: every match holds a digit (a day or a year): prefilter.py's DATE_TIME condition holds
    prefilter_safe = True
    CONTEXT = ["date", "born", "birth", "birthday", "dob", "admitted", "discharged", "died", "visit", "seen"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_entity="DATE_TIME", name="WrittenDateRecognizer",
                         patterns=[Pattern("written date", WRITTEN_DATE, WRITTEN_DATE_SCORE)], context=self.CONTEXT,
                         supported_language=supported_language,
                         global_regex_flags=re.DOTALL | re.MULTILINE)  # case matters: "May" is a month, "may" a verb


class SecretsRecognizer(EntityRecognizer):
    """Credentials (``PASSWORD``, ``PRIVATE_KEY``, ``SECRET_API_KEY``, ``SECRET_TOKEN``) via detect-secrets."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_entities=list(SECRET_ENTITIES), name="SecretsRecognizer",
                         supported_language=supported_language)

    def load(self) -> None:  # detect-secrets' plugins are built on first use (secrets._plugins)
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        wanted = frozenset(entities) & frozenset(SECRET_ENTITIES)
        if not wanted:
            return []
        return [RecognizerResult(s.entity_type, s.start, s.end, s.score) for s in find_secrets(text, entities=wanted)]


def policy_recognizer(spec) -> PatternRecognizer:
    """A policy's ``RecognizerSpec`` as a Presidio ``PatternRecognizer`` named ``policy:<ENTITY>``."""
    return PatternRecognizer(
        supported_entity=spec.entity,
        name=f"policy:{spec.entity}",
        patterns=[Pattern(p.name, p.regex, p.score) for p in spec.patterns] or None,
        deny_list=list(spec.deny_list) or None,
        context=list(spec.context) or None,
        supported_language="en",
    )


def core_recognizers(*, nlp_engine: Any, countries: Sequence[str] | None, policy_recognizers: Sequence = ()) -> list:
    """Every recognizer the core contributes: Presidio's predefined ones, written dates,
    secrets, and the policy's own."""
    return [*predefined_recognizers(nlp_engine=nlp_engine, countries=countries), WrittenDateRecognizer(),
            SecretsRecognizer(), *(policy_recognizer(spec) for spec in policy_recognizers)]
