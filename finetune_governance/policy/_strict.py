"""The base of every policy object: unknown keys are errors, values are immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: a rule, item or identifier id: lower case, digits, dots, dashes, underscores
ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"

#: an entity type as the scan names it, e.g. EMAIL_ADDRESS
ENTITY_PATTERN = r"^[A-Z][A-Z0-9_]*$"


class StrictModel(BaseModel):
    """Base for every policy object: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NotCovered(StrictModel):
    """Something the source text requires that this tool cannot check: reported as not verified."""

    item: str = Field(min_length=1, description="The requirement, as the source names it.")
    cites: list[str] = Field(default_factory=list, description="The clause that requires it.")
    reason: str = Field(min_length=3, description="Why the tool cannot verify it, and who must.")
