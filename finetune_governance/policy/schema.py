"""The policy language: pydantic models with unknown keys rejected.

A policy is a list of rules. Every rule names the clause it enforces (``cites``), how
much a failure matters (``severity``), the stage whose evidence it reads, and typed
parameters for its rule family (``check``). Policies compose with ``extends``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from ._strict import StrictModel
from .documentation import DocumentationParams
from .identifiers import IdentifiersParams

SCHEMA_VERSION = 1

Severity = Literal["block", "warn"]
Stage = Literal["declare", "scan", "train", "assess"]
PiiAction = Literal["block", "redact", "replace", "mask", "hash", "allow"]


class RuleBase(StrictModel):
    """Fields every rule has, whatever its family."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Unique rule id, e.g. gdpr.lawful-basis.")
    title: str = Field(min_length=1, description="One line a reviewer reads.")
    cites: list[Annotated[str, Field(pattern=r"\S")]] = Field(
        min_length=1, description="Legal or standard references the rule enforces (non-empty strings).")
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


def check_datasheet_key(dotted: str) -> None:
    """Raise ``ValueError`` unless ``dotted`` names a datasheet declaration (did-you-mean included)."""
    import difflib

    from pydantic import BaseModel

    from ..data.datasheet import Datasheet

    model: type[BaseModel] | None = Datasheet
    for part in dotted.split("."):
        if model is None:
            raise ValueError(f"'{dotted}': declarations below '{part}' do not exist")
        fields = model.model_fields
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"'{part}' is not a datasheet declaration{hint}")
        annotation = fields[part].annotation
        args = [annotation, *getattr(annotation, "__args__", ())]
        model = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)


class DeclarationParams(StrictModel):
    """Check one datasheet declaration: present, allowed values, numeric limits."""

    field: str = Field(description="Datasheet key, dotted for nested keys (e.g. consent.explicit).")
    required: bool = Field(default=True, description="The declaration must be present and non-empty.")
    one_of: list[str | int | bool] | None = Field(default=None, description="Allowed values.")
    min: float | None = Field(default=None, description="Lowest allowed number.")
    max: float | None = Field(default=None, description="Highest allowed number.")
    equals: str | int | bool | None = Field(default=None, description="The only allowed value.")
    only_if: str | None = Field(default=None, description="Apply only when this other declaration is non-empty.")
    only_if_equals: str | int | bool | None = Field(
        default=None, description="With only_if: apply only when that declaration equals (or, for a list, holds) this "
                                  "value.")

    @field_validator("field", "only_if")
    @classmethod
    def _datasheet_key(cls, value: str | None) -> str | None:
        if value is not None:
            check_datasheet_key(value)
        return value

    @model_validator(mode="after")
    def _bounds_ordered(self) -> "DeclarationParams":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        if self.only_if_equals is not None and self.only_if is None:
            raise ValueError("only_if_equals needs only_if (the declaration it compares)")
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
    score_thresholds: dict[str, float] = Field(
        default_factory=dict, description="Score cut-off (0-1) per entity type, overriding score_threshold for that type."
    )
    actions: dict[str, PiiAction] = Field(default_factory=dict, description="Action per Presidio entity type.")
    default_action: PiiAction = Field(default="redact", description="Action for entity types not listed in actions.")
    entities: list[str] | None = Field(default=None, description="Entity types to scan (default: all supported).")
    max_residual_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Highest share of records with PII left after redaction.")
    recognizers: list[RecognizerSpec] = Field(default_factory=list, description="Custom recognizers (e.g. employee ids).")
    countries: list[str] | None = Field(
        default=None, description="ISO 3166 alpha-2 codes (gb = Presidio's uk): every predefined recognizer of these "
                                  "countries loads; default: Presidio's default set."
    )

    @field_validator("countries")
    @classmethod
    def _country_codes(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            bad = [c for c in value if len(c) != 2 or not c.isalpha()]
            if bad:
                raise ValueError(f"countries are ISO 3166 alpha-2 codes such as 'us' or 'gb', not '{bad[0]}'")
            return [c.lower() for c in value]
        return value

    @field_validator("actions", "score_thresholds")
    @classmethod
    def _upper_case_entities(cls, value: dict) -> dict:
        bad = [k for k in value if k != k.upper()]
        if bad:
            raise ValueError(f"entity types are upper case, e.g. '{bad[0].upper()}'")
        return value

    @field_validator("score_thresholds")
    @classmethod
    def _thresholds_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not 0.0 <= v <= 1.0]
        if bad:
            raise ValueError(f"score_thresholds.{bad[0]}: a score cut-off is between 0 and 1, not {value[bad[0]]}")
        return value

    def threshold_for(self, entity: str) -> float:
        """The score cut-off (0-1) that applies to ``entity``."""
        return self.score_thresholds.get(entity, self.score_threshold)


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
    "impact_ratio",
    "scoring_rate_impact_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
]


class FairnessParams(StrictModel):
    """A group-fairness metric over each declared sensitive feature."""

    metric: FairnessMetric
    min: float | None = Field(default=None, description="Lowest allowed value (ratios).")
    max: float | None = Field(default=None, description="Highest allowed value (differences).")
    min_group_size: int = Field(default=30, ge=1, description="Groups smaller than this are excluded and reported.")
    features: list[str] | None = Field(default=None, description="Sensitive features to check (default: all declared).")
    intersections: bool = Field(default=False, description="Also check the intersections of the sensitive features.")
    exclude_below_share: float | None = Field(
        default=None, ge=0.0, lt=1.0,
        description="Groups under this share of the records are reported but left out of ratios (NYC LL144: 0.02).",
    )
    n_boot: int = Field(default=0, ge=0, le=10_000,
                        description="Bootstrap resamples for confidence intervals (0: none; at most 10,000).")
    ci_level: float = Field(default=0.95, gt=0.5, lt=1.0, description="Confidence level of the bootstrap intervals.")
    decide_on: Literal["estimate", "interval"] = Field(
        default="estimate",
        description="estimate: the point estimate is compared with the bounds (the interval is reported); interval: "
                    "the rule passes only when the whole confidence interval is within the bounds (needs n_boot).")
    favourable_label: str | None = Field(
        default=None, description="The label value that is the favourable outcome (selection); overrides the "
                                  "datasheet's favourable_label. One of the two must name it.")
    exclude_unknown: bool = Field(
        default=False,
        description="The 'unknown' group (missing values) is counted and reported but left out of ratios (NYC LL144).",
    )

    @model_validator(mode="after")
    def _one_bound(self) -> "FairnessParams":
        if self.min is None and self.max is None:
            raise ValueError("give min or max")
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1: every fairness metric here is a ratio or an "
                                 f"absolute difference of rates, not {value}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        if self.decide_on == "interval" and self.n_boot < 100:
            raise ValueError("decide_on: interval needs n_boot of at least 100 bootstrap resamples")
        return self


class FairnessRule(RuleBase):
    check: Literal["fairness"]
    params: FairnessParams
    family_stage: ClassVar[Stage] = "assess"


class PerformanceParams(StrictModel):
    """A minimum held-out performance figure."""

    metric: Literal["accuracy", "f1_macro"]
    min: float | None = Field(default=None, ge=0.0, le=1.0, description="Lowest allowed value (0-1).")
    against_declared: bool = Field(
        default=False, description="Also require at least the level the datasheet declares in declared_performance "
                                   "(EU AI Act Art. 15(3): accuracy declared and met).")

    @model_validator(mode="after")
    def _a_bound(self) -> "PerformanceParams":
        if self.min is None and not self.against_declared:
            raise ValueError("give min or against_declared: true")
        return self


class PerformanceRule(RuleBase):
    check: Literal["performance"]
    params: PerformanceParams
    family_stage: ClassVar[Stage] = "assess"


class MembershipInferenceParams(StrictModel):
    """Limits on a membership-inference audit (training members vs held-out non-members)."""

    max_auc: float | None = Field(default=None, ge=0.5, le=1.0, description="Highest allowed attack ROC AUC (0.5 = chance).")
    max_tpr_at_1pct_fpr: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Highest allowed attack true positive rate at 1% false positive rate."
    )

    @model_validator(mode="after")
    def _one_limit(self) -> "MembershipInferenceParams":
        if self.max_auc is None and self.max_tpr_at_1pct_fpr is None:
            raise ValueError("give max_auc or max_tpr_at_1pct_fpr")
        return self


class MembershipInferenceRule(RuleBase):
    check: Literal["membership_inference"]
    params: MembershipInferenceParams
    family_stage: ClassVar[Stage] = "assess"


class UtilityParams(StrictModel):
    """Utility under privacy: accuracy lost against a reference run (fractions in [0, 1])."""

    max_accuracy_drop: float | None = Field(default=None, ge=0.0, le=1.0, description="Largest allowed overall accuracy drop.")
    max_group_drop_spread: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Largest allowed spread (max - min) of per-group accuracy drops."
    )
    reference: Literal["baseline", "non_private"] = Field(
        default="baseline", description="baseline: the --baseline run's audit.json; non_private: the run also "
                                        "trains the same settings without DP and compares with that.")

    @model_validator(mode="after")
    def _one_limit(self) -> "UtilityParams":
        if self.max_accuracy_drop is None and self.max_group_drop_spread is None:
            raise ValueError("give max_accuracy_drop or max_group_drop_spread")
        return self


class FairnessDrop(StrictModel):
    """How far one group-fairness aggregate may worsen against the baseline."""

    metric: FairnessMetric
    by: float = Field(ge=0.0, description="Largest allowed worsening (ratios: decrease; differences: increase).")


class RegressionParams(StrictModel):
    """Limits on how much worse this run may be than the baseline run (``--baseline``); each optional."""

    max_epsilon_increase: float | None = Field(default=None, ge=0.0, description="Largest allowed epsilon increase.")
    max_accuracy_drop: float | None = Field(default=None, ge=0.0, le=1.0, description="Largest allowed accuracy drop.")
    max_f1_drop: float | None = Field(default=None, ge=0.0, le=1.0, description="Largest allowed macro F1 drop.")
    max_fairness_drop: FairnessDrop | None = Field(
        default=None, description="Largest allowed worsening of a fairness aggregate, per sensitive feature.")
    max_membership_auc_increase: float | None = Field(
        default=None, ge=0.0, le=0.5, description="Largest allowed increase of the membership-inference attack AUC.")
    verdict_must_not_worsen: bool = Field(
        default=False, description="Fail when the baseline passed and the other rules now fail the gate.")

    @model_validator(mode="after")
    def _one_limit(self) -> "RegressionParams":
        if not self.verdict_must_not_worsen and all(
                v is None for v in (self.max_epsilon_increase, self.max_accuracy_drop, self.max_f1_drop,
                                    self.max_fairness_drop, self.max_membership_auc_increase)):
            raise ValueError("give at least one of max_epsilon_increase, max_accuracy_drop, max_f1_drop, "
                             "max_fairness_drop, max_membership_auc_increase, verdict_must_not_worsen: true")
        return self


class RegressionRule(RuleBase):
    check: Literal["regression"]
    params: RegressionParams
    family_stage: ClassVar[Stage] = "assess"


class UtilityRule(RuleBase):
    check: Literal["utility"]
    params: UtilityParams
    family_stage: ClassVar[Stage] = "assess"


class PiiClaimParams(StrictModel):
    """Cross-check the datasheet's ``contains_personal_data`` claim against the scan."""

    min_records: int = Field(default=1, ge=1, description="Records with PII that contradict a 'no personal data' claim.")
    require_claim: bool = Field(default=False, description="Also fail when the datasheet does not declare contains_personal_data.")


class PiiClaimRule(RuleBase):
    check: Literal["pii_claim"]
    params: PiiClaimParams = Field(default_factory=PiiClaimParams)
    family_stage: ClassVar[Stage] = "scan"


class IdentifiersRule(RuleBase):
    check: Literal["identifiers"]
    params: IdentifiersParams
    family_stage: ClassVar[Stage] = "scan"


class DocumentationRule(RuleBase):
    check: Literal["documentation"]
    params: DocumentationParams
    family_stage: ClassVar[Stage] = "assess"


class PluginRule(RuleBase):
    """A rule of a family a plugin provides (``check`` is namespaced, e.g. ``acme.house_metric``).

    Its ``params`` are validated by the plugin's own model when the policy is loaded; its
    stage comes from the plugin's family."""

    check: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$",
                       description="A plugin's rule family, namespaced with a dot (e.g. acme.house_metric).")
    params: dict[str, Any] = Field(default_factory=dict, description="Parameters the plugin's family defines.")

    @model_validator(mode="after")
    def _stage_matches_family(self) -> "PluginRule":  # the plugin's family decides (policy/plugins.py)
        return self


CORE_RULES = (DeclarationRule, PiiRule, PrivacyRule, FairnessRule, PerformanceRule, MembershipInferenceRule,
              UtilityRule, PiiClaimRule, IdentifiersRule, DocumentationRule, RegressionRule)


def core_family_stages() -> dict[str, Stage]:
    """Each bundled rule family's name and the stage whose evidence it reads."""
    return {cls.model_fields["check"].annotation.__args__[0]: cls.family_stage for cls in CORE_RULES}


def _rule_tag(value: Any) -> str | None:
    """The union member for a rule: its ``check``, or ``plugin`` for a namespaced family."""
    check = value.get("check") if isinstance(value, dict) else getattr(value, "check", None)
    if not isinstance(check, str):
        return None  # pydantic reports the missing key
    return "plugin" if "." in check else check


Rule = Annotated[
    Union[tuple(Annotated[cls, Tag(cls.model_fields["check"].annotation.__args__[0])] for cls in CORE_RULES)
          + (Annotated[PluginRule, Tag("plugin")],)],
    Discriminator(_rule_tag),
]


class DisabledRule(StrictModel):
    """Switch off an inherited rule; the reason is kept in the evidence."""

    id: str
    reason: str = Field(min_length=3)


class Integrations(StrictModel):
    """Where a run's results go besides the report folder."""

    mlflow: bool | None = Field(default=None, description="Log the verdict, metrics and reports to the active MLflow "
                                                          "run (as --mlflow does).")


class Policy(StrictModel):
    """One policy file as written (before ``extends`` is resolved)."""

    schema_version: Literal[1] = Field(description="Version of this policy language.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    version: str = Field(description="Version of this policy pack.")
    description: str | None = None
    extends: list[str] = Field(default_factory=list, description="Parent policies: bundled names or paths.")
    plugins: list[str] = Field(
        default_factory=list,
        description="Python modules to load as plugins (dotted names), besides installed entry-point plugins.")
    rules: list[Rule] = Field(default_factory=list, description="Rules; a rule whose id a parent defines replaces it.")
    disable: list[DisabledRule] = Field(default_factory=list, description="Inherited rules switched off, with reasons.")
    integrations: Integrations = Field(default_factory=Integrations,
                                       description="Integrations the policy asks for; a child's setting overrides.")


class ResolvedPolicy(StrictModel):
    """A policy after ``extends``: the rules that apply, in order, and what was disabled."""

    name: str
    title: str
    version: str
    path: str
    sha256: str
    sources: list[str] = Field(description="Every file that contributed, parents first.")
    plugins: list[str] = Field(default_factory=list, description="Plugin modules named by this policy or its parents.")
    rules: list[Rule]
    disabled: list[DisabledRule]
    integrations: Integrations = Field(default_factory=Integrations)

    def rules_of(self, check: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.check == check]

    def pii_params(self) -> PiiParams:
        """The scan settings: the first ``pii`` rule's, else scan everything and change nothing."""
        rules = self.rules_of("pii")
        return rules[0].params if rules else PiiParams(default_action="allow")
