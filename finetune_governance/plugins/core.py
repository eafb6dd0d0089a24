"""The core as a plugin: the bundled rule families and Presidio's predefined recognizers
register through the same hooks any plugin uses."""

from __future__ import annotations

from typing import Any, Sequence

from .hookspec import hookimpl
from .types import RuleFamily


@hookimpl
def governance_rule_families() -> list[RuleFamily]:
    from ..checks import CHECKS
    from ..policy.schema import core_family_stages

    stages = core_family_stages()
    return [RuleFamily(name=name, check=spec.function, summary=spec.summary, reads=spec.reads,
                       stage=stages.get(name, "assess")) for name, spec in CHECKS.items()]


@hookimpl
def governance_recognizers(nlp_engine: Any, countries: Sequence[str] | None) -> list[Any]:
    """Presidio's predefined English recognizers; country-specific ones only for ``countries``."""
    from presidio_analyzer import RecognizerRegistry

    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    recognizers = list(registry.recognizers)
    if countries is not None:
        wanted = {c.lower() for c in countries} | {""}
        recognizers = [r for r in recognizers if (getattr(r, "COUNTRY_CODE", None) or "").lower() in wanted]
    return recognizers
