"""Parameters of the ``documentation`` family: items the run's documentation must hold.

Each item names dotted paths into the run evidence (``RunEvidence``), e.g.
``declarations.declarations.purpose`` or ``assessment.fairness``; the model card and
audit report render that evidence, so a present path is a documented item. Paths are
checked against the evidence model when the policy loads.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, Field, field_validator

from ..evidence import RunEvidence
from ._strict import ID_PATTERN, NotCovered, StrictModel

#: evidence filled in only after the checks run, so no check can rely on it
AFTER_CHECKS = frozenset({"findings", "verdict", "exit_code", "finished_at", "artifacts"})


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X | None``, or None for anything else."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def check_evidence_path(dotted: str) -> str:
    """Raise ``ValueError`` unless ``dotted`` names a field of the run evidence.

    Descends through nested records; a dict-valued field (e.g. ``declarations.declarations``)
    accepts any key after it; lists and numbers end the path.
    """
    model: type[BaseModel] | None = RunEvidence
    parts = dotted.split(".")
    if parts[0] in AFTER_CHECKS:
        raise ValueError(f"evidence path '{dotted}': '{parts[0]}' is recorded after the checks run")
    for index, part in enumerate(parts):
        if model is None:
            return dotted  # inside a free-form dict
        fields = model.model_fields
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"evidence path '{dotted}': '{part}' is not a field of {model.__name__}{hint}")
        annotation = fields[part].annotation
        nested = _model_of(annotation)
        if nested is not None:
            model = nested
            continue
        origin = typing.get_origin(annotation)
        if origin is dict or annotation is dict or (origin is None and annotation is Any):
            model = None
            continue
        if index < len(parts) - 1:
            raise ValueError(f"evidence path '{dotted}': '{part}' holds a value, not a record; end the path there")
    return dotted


class DocumentationItem(StrictModel):
    """One item the documentation must contain, and the evidence that holds it."""

    id: str = Field(pattern=ID_PATTERN, description="Item id, e.g. annex-iv.2d.data-provenance.")
    title: str = Field(min_length=1, description="What the item is, as the source names it.")
    cites: list[str] = Field(default_factory=list, description="The clause that requires the item.")
    evidence: list[str] = Field(min_length=1, description="Dotted evidence paths that must all be present and non-empty.")

    @field_validator("evidence")
    @classmethod
    def _paths_exist(cls, value: list[str]) -> list[str]:
        return [check_evidence_path(v) for v in value]


class DocumentationParams(StrictModel):
    """Items the run's documentation (model card, audit report) must contain."""

    items: list[DocumentationItem] = Field(min_length=1, description="Items checked against the evidence.")
    not_covered: list[NotCovered] = Field(
        default_factory=list, description="Items outside a training run; listed in the report as not verified."
    )

    @field_validator("items")
    @classmethod
    def _unique_items(cls, value: list[DocumentationItem]) -> list[DocumentationItem]:
        ids = [item.id for item in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"item id '{dupes[0]}' appears twice")
        return value
