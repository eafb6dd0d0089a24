"""Which entity types a scan looks for, given the policy and what the engine supports."""

from __future__ import annotations

from dataclasses import dataclass

from ..policy.schema import PiiParams
from .engine import EngineInfo


@dataclass(frozen=True)
class ScanPlan:
    """The entity types to scan, and those the policy names that nothing can detect."""

    entities: tuple[str, ...]
    limitations: tuple[str, ...]


def plan_entities(params: PiiParams, info: EngineInfo) -> ScanPlan:
    """Policy entities (default: every type the engine's recognizers detect: secrets and the
    policy's own recognizers included)."""
    available = set(info.supported_entities)
    wanted = set(params.entities) if params.entities else available
    entities = tuple(sorted(wanted & available))
    missing = sorted(wanted - available)
    return ScanPlan(
        entities=entities,
        limitations=tuple(info.limitations) + tuple(f"{e}: no recognizer available, not scanned" for e in missing),
    )
