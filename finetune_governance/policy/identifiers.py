"""Parameters of the ``identifiers`` family: named identifiers mapped to scan entities.

HIPAA's Safe Harbor method (45 CFR 164.514(b)(2)) lists 18 identifiers that must be
removed. Each identifier maps to the entity types the scan can detect; one that no
entity covers (or covers only in part) is listed in the report as not verified.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from ._strict import ENTITY_PATTERN, ID_PATTERN, StrictModel


class IdentifierSpec(StrictModel):
    """One identifier the source requires removed, and how the scan detects it."""

    id: str = Field(pattern=ID_PATTERN, description="Identifier id, e.g. names.")
    title: str = Field(min_length=1, description="The identifier as the source words it.")
    cites: list[str] = Field(default_factory=list, description="The clause that lists it.")
    entities: list[str] = Field(default_factory=list, description="Scan entity types that detect it (empty: not detectable).")
    complete: bool = Field(default=True, description="False: the entities detect only part of the identifier.")
    note: str | None = Field(default=None, description="What the scan cannot see (required when not complete).")

    @field_validator("entities")
    @classmethod
    def _entity_names(cls, value: list[str]) -> list[str]:
        import re

        bad = [e for e in value if not re.match(ENTITY_PATTERN, e)]
        if bad:
            raise ValueError(f"entity types are upper case, e.g. '{bad[0].upper()}'")
        return value

    @model_validator(mode="after")
    def _gap_explained(self) -> "IdentifierSpec":
        if (not self.entities or not self.complete) and not self.note:
            raise ValueError("an identifier the scan cannot fully detect needs a note saying what is not verified")
        return self

    @property
    def verifiable(self) -> bool:
        """True when the scan can detect every form of this identifier."""
        return bool(self.entities) and self.complete


class IdentifiersParams(StrictModel):
    """Every listed identifier must be removed from the training text."""

    identifiers: list[IdentifierSpec] = Field(min_length=1)
    max_residual_records: int = Field(
        default=0, ge=0, description="Records per entity type that may still hold a detection after redaction."
    )

    @field_validator("identifiers")
    @classmethod
    def _unique(cls, value: list[IdentifierSpec]) -> list[IdentifierSpec]:
        ids = [i.id for i in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"identifier id '{dupes[0]}' appears twice")
        return value
