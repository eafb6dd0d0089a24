"""The evidence record of one run, and the findings checks derive from it.

Stages fill in the parts they own; checks read them; reports render them. Every
record here is closed (unknown fields rejected) so a typo cannot hide a value.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EVIDENCE_SCHEMA_VERSION = "1.0"

Status = Literal["pass", "fail", "warn", "waived", "error", "not_run"]


class Record(BaseModel):
    """Base of every evidence record: closed, and JSON-serialisable."""

    model_config = ConfigDict(extra="forbid")


class Finding(Record):
    """The outcome of one rule: what was measured, against what, and the verdict."""

    rule_id: str
    title: str
    cites: list[str]
    severity: Literal["block", "warn"]
    stage: str
    status: Status
    measured: Any = None
    threshold: Any = None
    message: str
    waiver: dict[str, str] | None = None

    @property
    def blocking_failure(self) -> bool:
        return self.severity == "block" and self.status in ("fail", "error", "not_run")


class PolicyEvidence(Record):
    name: str
    title: str
    version: str
    path: str
    sha256: str
    sources: list[str]
    rules: list[dict[str, Any]]
    disabled: list[dict[str, str]]


class DeclarationEvidence(Record):
    datasheet_path: str
    datasheet_sha256: str
    declarations: dict[str, Any]


class DatasetEvidence(Record):
    path: str
    sha256: str
    format: str
    records: int
    text_column: str
    label_column: str
    sensitive_features: list[str]
    classes: list[str]
    label_counts: dict[str, int]
    train_records: int | None = None
    test_records: int | None = None
    split_seed: int | None = None
    redacted_sha256: str | None = Field(default=None, description="sha256 of the redacted texts (NUL-separated UTF-8).")


class MaskedPreview(Record):
    record: int = Field(description="0-based index of the record in the dataset.")
    preview: str = Field(description="The detected value with letters and digits masked.")
    score: float


class EntitySummary(Record):
    entity_type: str
    action: str
    count: int = Field(description="Number of detected spans.")
    records: int = Field(description="Number of records with at least one span.")
    record_rate: float = Field(description="records / records scanned.")
    previews: list[MaskedPreview]


class ResidualSummary(Record):
    records: int = Field(description="Records that still contain a detection after redaction.")
    rate: float
    by_entity: dict[str, int]


class ScanEvidence(Record):
    column: str
    records_scanned: int
    unique_texts: int
    spacy_model: str | None
    presidio_version: str
    entities_scanned: list[str]
    score_threshold: float
    limitations: list[str]
    entities: list[EntitySummary]
    records_with_pii: int
    blocked_entities: list[str] = Field(description="Entity types with action block that were found.")
    residual: ResidualSummary | None = None
    seconds: float


class PrivacyEvidence(Record):
    enabled: bool
    mechanism: str | None = None
    accountant: str | None = None
    grad_sample_mode: str | None = None
    poisson_sampling: bool | None = None
    target_epsilon: float | None = None
    delta: float | None = None
    noise_multiplier: float | None = None
    max_grad_norm: float | None = None
    sample_rate: float | None = None
    steps: int | None = None
    epsilon: float | None = None
    history: list[dict[str, float]] = Field(default_factory=list, description="Accountant history: noise_multiplier, sample_rate, steps.")
    epsilon_curve: list[list[float]] = Field(default_factory=list, description="[step, epsilon] pairs.")
    note: str | None = None


class TrainingEvidence(Record):
    base_model: str
    base_model_sha256: str
    architecture: str
    parameters_total: int
    parameters_trainable: int
    frozen: str
    device: str
    epochs: int
    steps: int
    batch_size: int
    learning_rate: float
    max_length: int
    seed: int
    loss_per_epoch: list[float]
    stop_reason: str
    seconds: float
    model_sha256: str | None = None
    model_path: str | None = None


class GroupMetrics(Record):
    group: str
    count: int
    accuracy: float | None
    selection_rate: float | None
    status: Literal["ok", "insufficient data"]


class FeatureFairness(Record):
    feature: str
    groups: list[GroupMetrics]
    demographic_parity_ratio: float | None
    demographic_parity_difference: float | None
    accuracy_difference: float | None
    excluded_groups: list[str] = Field(default_factory=list)


class AssessmentEvidence(Record):
    test_records: int
    favourable_label: str
    accuracy: float
    f1_macro: float
    per_class_f1: dict[str, float]
    confusion_matrix: list[list[int]]
    fairness: list[FeatureFairness]
    min_group_size: int
    predictions_path: str
    predictions_sha256: str


class EnvironmentEvidence(Record):
    python: str
    platform: str
    packages: dict[str, str]
    device: str


class RunEvidence(Record):
    """Everything one run recorded; ``audit.json`` is this record."""

    schema_version: str = EVIDENCE_SCHEMA_VERSION
    run_id: str
    tool_version: str
    git_commit: str | None
    started_at: str
    finished_at: str | None = None
    command: str
    config: dict[str, Any]
    environment: EnvironmentEvidence
    policy: PolicyEvidence
    declarations: DeclarationEvidence | None = None
    dataset: DatasetEvidence | None = None
    scan: ScanEvidence | None = None
    training: TrainingEvidence | None = None
    privacy: PrivacyEvidence | None = None
    assessment: AssessmentEvidence | None = None
    stages_run: list[str] = Field(default_factory=list)
    stopped_early: str | None = None
    warnings: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    verdict: Literal["pass", "fail"] | None = None
    exit_code: int | None = None
    artifacts: dict[str, str] = Field(default_factory=dict, description="Artifact file name -> sha256.")
