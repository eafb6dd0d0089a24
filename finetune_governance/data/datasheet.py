"""The dataset's declarations (its datasheet): claims that policies check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DatasheetError
from ..yamlio import load_model

LawfulBasis = Literal[
    "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests", "none"
]


Art9Ground = Literal["9(2)(a)", "9(2)(b)", "9(2)(c)", "9(2)(d)", "9(2)(e)", "9(2)(f)", "9(2)(g)", "9(2)(h)",
                    "9(2)(i)", "9(2)(j)"]


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
    special_category_ground: Art9Ground | None = Field(
        default=None, description="The GDPR Art. 9(2) exception relied on for special categories, e.g. 9(2)(a) "
                                  "explicit consent.")
    high_risk_processing: bool | None = Field(
        default=None, description="The controller's GDPR Art. 35(1) assessment: is the processing likely to result "
                                  "in a high risk to data subjects?")
    dpia_reference: str | None = None
    data_gaps: str | None = Field(
        default=None, description="Known data gaps or shortcomings and how they are addressed (EU AI Act Art. "
                                  "10(2)(h)); 'none identified' is a declaration too.")
    declared_performance: dict[Literal["accuracy", "f1_macro"], Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict, description="Performance levels declared in the instructions for use (EU AI Act "
                                          "Art. 15(3)), as fractions in [0, 1].")
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
