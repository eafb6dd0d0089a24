"""The dataset's declarations (its datasheet): claims that policies check."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DatasheetError
from ..yamlio import load_model

LawfulBasis = Literal[
    "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests", "none"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Consent(_Strict):
    """Whether and how the data subjects consented."""

    obtained: bool
    explicit: bool = False
    reference: str | None = Field(default=None, description="Where the consent records are kept.")


class Columns(_Strict):
    """Which column holds what."""

    text: str
    label: str
    sensitive_features: list[str] = Field(default_factory=list)
    id: str | None = None


class Datasheet(_Strict):
    """Declarations about one dataset (see examples/support_tickets/datasheet.yaml)."""

    schema_version: Literal[1]
    name: str
    description: str | None = None
    purpose: str | None = None
    lawful_basis: LawfulBasis | None = None
    consent: Consent | None = None
    retention_days: int | None = Field(default=None, ge=0)
    origin: str | None = None
    licence: str | None = Field(default=None, description="SPDX identifier or 'proprietary'.")
    jurisdiction: str | None = None
    transfers: list[str] = Field(default_factory=list, description="Countries data is transferred to.")
    data_subjects: list[str] = Field(default_factory=list)
    contains_personal_data: bool | None = None
    special_categories: list[str] = Field(default_factory=list, description="GDPR Art. 9 categories present.")
    dpia_reference: str | None = None
    favourable_label: str | None = Field(default=None, description="The label value that is the favourable outcome.")
    columns: Columns

    def declaration(self, dotted: str) -> Any:
        """The value of a (dotted) declaration, or None when absent."""
        value: Any = self.model_dump()
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value


def load_datasheet(path: Path) -> Datasheet:
    """Read and validate a datasheet; every failure is one line naming file and key."""
    return load_model(path, Datasheet, error=DatasheetError)
