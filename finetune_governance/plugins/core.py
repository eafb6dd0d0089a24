"""The core as a plugin: the bundled rule families and every PII recognizer the scan uses
(Presidio's predefined ones, written dates, secrets, the policy's own) register through the
same hooks any plugin uses."""

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
def governance_recognizers(nlp_engine: Any, countries: Sequence[str] | None,
                           policy_recognizers: Sequence[Any]) -> list[Any]:
    """Presidio's predefined English recognizers (every one of ``countries`` when given),
    written dates, secrets via detect-secrets, and the policy's own recognizers
    (``scan/recognizers.py``). ``nlp_engine`` None: as the scan's engine would configure
    them, no model loaded (to list what the recognizers detect)."""
    from ..scan.recognizers import core_recognizers

    return core_recognizers(nlp_engine=nlp_engine, countries=countries, policy_recognizers=policy_recognizers)
