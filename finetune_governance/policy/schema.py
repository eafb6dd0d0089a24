"""The policy language: pydantic models with unknown keys rejected.

A policy is a list of rules. Every rule names the clause it enforces (``cites``), how
much a failure matters (``severity``), the stage whose evidence it reads, and typed
parameters for its rule family (``check``). Policies compose with ``extends``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1

Severity = Literal["block", "warn"]
Stage = Literal["declare", "scan", "train", "assess"]
PiiAction = Literal["block", "redact", "replace", "mask", "hash", "allow"]


class StrictModel(BaseModel):
    """Base for every policy object: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleBase(StrictModel):
    """Fields every rule has, whatever its family."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Unique rule id, e.g. gdpr.lawful-basis.")
    title: str = Field(min_length=1, description="One line a reviewer reads.")
    cites: list[str] = Field(min_length=1, description="Legal or standard references the rule enforces.")
    severity: Severity = Field(description="block: a failure fails the gate; warn: reported only.")
    stage: Stage | None = Field(default=None, description="Stage whose evidence the rule reads (defaults per family).")
    description: str | None = Field(default=None, description="Why the rule exists; thresholds explained.")

    #: the stage a family's evidence comes from; each family sets it
    family_stage: ClassVar[Stage] = "declare"

    @model_validator(mode="after")
    def _stage_matches_family(self) -> "RuleBase":
        if self.stage is None:
            object.__setattr__(self, "stage", self.family_stage)
        elif self.stage != self.family_stage:
            raise ValueError(f"stage must be '{self.family_stage}' for this check")
        return self


class DeclarationParams(StrictModel):
    """Check one datasheet declaration: present, allowed values, numeric limits."""

    field: str = Field(description="Datasheet key, dotted for nested keys (e.g. consent.explicit).")
    required: bool = Field(default=True, description="The declaration must be present and non-empty.")
    one_of: list[str | int | bool] | None = Field(default=None, description="Allowed values.")
    min: float | None = Field(default=None, description="Lowest allowed number.")
    max: float | None = Field(default=None, description="Highest allowed number.")
    equals: str | int | bool | None = Field(default=None, description="The only allowed value.")
    only_if: str | None = Field(default=None, description="Apply only when this other declaration is non-empty.")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> "DeclarationParams":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class DeclarationRule(RuleBase):
    check: Literal["declaration"]
    params: DeclarationParams
    family_stage: ClassVar[Stage] = "declare"


class PatternSpec(StrictModel):
    """One regular expression of a custom recognizer."""

    name: str
    regex: str
    score: float = Field(default=0.6, ge=0.0, le=1.0)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        import re

        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"regex does not compile: {exc}") from exc
        return value


class RecognizerSpec(StrictModel):
    """A custom recognizer declared in the policy (patterns and/or a deny-list)."""

    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    patterns: list[PatternSpec] = Field(default_factory=list)
    deny_list: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list, description="Words near a hit that raise its score.")

    @model_validator(mode="after")
    def _something_to_match(self) -> "RecognizerSpec":
        if not self.patterns and not self.deny_list:
            raise ValueError("a recognizer needs patterns or a deny_list")
        return self


class PiiParams(StrictModel):
    """How the scan treats each entity type, and how clean the redacted data must be."""

    score_threshold: float = Field(default=0.5, ge=0.0, le=1.0, description="Presidio score at or above which a hit counts.")
    actions: dict[str, PiiAction] = Field(default_factory=dict, description="Action per Presidio entity type.")
    default_action: PiiAction = Field(default="redact", description="Action for entity types not listed in actions.")
    entities: list[str] | None = Field(default=None, description="Entity types to scan (default: all supported).")
    max_residual_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Highest share of records with PII left after redaction.")
    recognizers: list[RecognizerSpec] = Field(default_factory=list, description="Custom recognizers (e.g. employee ids).")

    @field_validator("actions")
    @classmethod
    def _upper_case_entities(cls, value: dict[str, PiiAction]) -> dict[str, PiiAction]:
        bad = [k for k in value if k != k.upper()]
        if bad:
            raise ValueError(f"entity types are upper case, e.g. '{bad[0].upper()}'")
        return value


class PiiRule(RuleBase):
    check: Literal["pii"]
    params: PiiParams
    family_stage: ClassVar[Stage] = "scan"


class PrivacyParams(StrictModel):
    """Differential privacy requirements for training."""

    differential_privacy: Literal["required", "optional", "off"] = Field(description="Whether DP-SGD must be used.")
    max_epsilon: float | None = Field(default=None, gt=0.0, le=100.0, description="Largest allowed epsilon.")
    max_delta: float | Literal["1/N"] = Field(default="1/N", description="Largest allowed delta; '1/N' means below 1/N.")
    max_grad_norm: float = Field(default=1.0, gt=0.0, description="Per-sample clipping norm (L2).")

    @field_validator("max_delta")
    @classmethod
    def _delta_range(cls, value: float | str) -> float | str:
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ValueError("max_delta must be between 0 and 1 (exclusive) or '1/N'")
        return value

    @model_validator(mode="after")
    def _epsilon_when_required(self) -> "PrivacyParams":
        if self.differential_privacy == "required" and self.max_epsilon is None:
            raise ValueError("max_epsilon is required when differential_privacy is 'required'")
        return self


class PrivacyRule(RuleBase):
    check: Literal["privacy"]
    params: PrivacyParams
    family_stage: ClassVar[Stage] = "train"


FairnessMetric = Literal[
    "demographic_parity_ratio",
    "demographic_parity_difference",
    "accuracy_difference",
]


class FairnessParams(StrictModel):
    """A group-fairness metric over each declared sensitive feature."""

    metric: FairnessMetric
    min: float | None = Field(default=None, description="Lowest allowed value (ratios).")
    max: float | None = Field(default=None, description="Highest allowed value (differences).")
    min_group_size: int = Field(default=30, ge=1, description="Groups smaller than this are excluded and reported.")
    features: list[str] | None = Field(default=None, description="Sensitive features to check (default: all declared).")

    @model_validator(mode="after")
    def _one_bound(self) -> "FairnessParams":
        if self.min is None and self.max is None:
            raise ValueError("give min or max")
        return self


class FairnessRule(RuleBase):
    check: Literal["fairness"]
    params: FairnessParams
    family_stage: ClassVar[Stage] = "assess"


class PerformanceParams(StrictModel):
    """A minimum held-out performance figure."""

    metric: Literal["accuracy", "f1_macro"]
    min: float = Field(ge=0.0, le=1.0)


class PerformanceRule(RuleBase):
    check: Literal["performance"]
    params: PerformanceParams
    family_stage: ClassVar[Stage] = "assess"


Rule = Annotated[
    Union[DeclarationRule, PiiRule, PrivacyRule, FairnessRule, PerformanceRule],
    Field(discriminator="check"),
]


class DisabledRule(StrictModel):
    """Switch off an inherited rule; the reason is kept in the evidence."""

    id: str
    reason: str = Field(min_length=3)


class Policy(StrictModel):
    """One policy file as written (before ``extends`` is resolved)."""

    schema_version: Literal[1] = Field(description="Version of this policy language.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    version: str = Field(description="Version of this policy pack.")
    description: str | None = None
    extends: list[str] = Field(default_factory=list, description="Parent policies: bundled names or paths.")
    rules: list[Rule] = Field(default_factory=list)
    disable: list[DisabledRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Policy":
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id '{rule.id}' appears twice")
            seen.add(rule.id)
        return self


class ResolvedPolicy(StrictModel):
    """A policy after ``extends``: the rules that apply, in order, and what was disabled."""

    name: str
    title: str
    version: str
    path: str
    sha256: str
    sources: list[str] = Field(description="Every file that contributed, parents first.")
    rules: list[Rule]
    disabled: list[DisabledRule]

    def rules_of(self, check: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.check == check]
