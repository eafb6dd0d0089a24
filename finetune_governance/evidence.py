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


class SourceLocation(Record):
    """Where something is written in a file (1-based line and column)."""

    path: str
    line: int = Field(ge=1)
    column: int = Field(default=1, ge=1)


class PolicyEvidence(Record):
    name: str
    title: str
    version: str
    path: str
    sha256: str
    sources: list[str]
    rules: list[dict[str, Any]]
    disabled: list[dict[str, str]]
    rule_sources: dict[str, SourceLocation] = Field(
        default_factory=dict, description="Rule id -> the policy file and line that define it (the last "
                                          "definition, when a child policy overrides a parent's rule).")


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
    split_method: Literal["stratified", "random"] | None = Field(
        default=None, description="How the held-out split was drawn: stratified by label, or plain random (a "
                                  "class too small to stratify).")
    language: str | None = Field(default=None, description="Language of the text records as the PII scan "
                                 "analysed them (ISO 639-1); None for images.")
    redacted_sha256: str | None = Field(
        default=None, description="sha256 of what training read after redaction: for text, over the redacted "
                                  "texts, each UTF-8 encoded and NUL-terminated, in record order; for an image "
                                  "folder, over the redacted copy (each file's relative path, NUL, and its "
                                  "sha256, sorted by path).")


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
    score_threshold: float | None = Field(default=None, description="Score cut-off (0-1) applied to this entity type.")
    previews: list[MaskedPreview]


class ResidualSummary(Record):
    records: int = Field(description="Records that still contain a detection after redaction.")
    rate: float
    by_entity: dict[str, int]


class FieldSummary(Record):
    field: str = Field(description="Where values were found: 'file_name' or an EXIF field name (image datasets).")
    entity_type: str
    count: int = Field(description="Number of values found in this field.")
    records: int = Field(description="Number of images with at least one such value in this field.")


ColumnRole = Literal["text", "label", "sensitive_feature", "other"]


class ColumnScan(Record):
    """PII found in one column of the table, per entity type."""

    column: str
    role: ColumnRole = Field(description="text: the column trained on (scanned record by record and redacted); "
                                         "label, sensitive_feature: read by the run, whose values are written "
                                         "into the reports and the model (label names, group names); other: not "
                                         "read by the run.")
    method: Literal["records", "distinct values"] = Field(
        description="records: every record scanned; distinct values: each distinct value scanned once.")
    records_scanned: int
    distinct_values: int | None = Field(
        default=None, description="Distinct non-empty values; null when more than 100,000 (counting stops there).")
    records_with_pii: int = Field(description="Records whose value in this column holds a detection.")
    handling: Literal["redacted", "blocks the run", "reported, not redacted"] = Field(
        description="What the run does with PII found in this column: the text column's follows the policy's "
                    "actions; elsewhere a type counts unless the policy's actions name it allow (action 'allow'), "
                    "and is 'block' in the label and sensitive-feature columns, 'report' in the others.")
    entities: list[EntitySummary] = Field(description="Per entity type; record indices are 0-based rows of the table.")


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
    by_field: list[FieldSummary] = Field(default_factory=list, description="Per field and entity type (image datasets).")
    redaction_passes: int = Field(default=1, description="Redact-and-re-scan passes run before the residual was measured.")
    seconds: float
    columns: list[ColumnScan] = Field(
        default_factory=list, description="Per column of the table (the text column first, then every other column "
                                          "holding text) and entity type; for an image dataset the class folder names (the "
                                          "labels); for a predictions-only audit the label and group names.")

    @property
    def read_columns_with_pii(self) -> list[ColumnScan]:
        """Label and sensitive-feature columns holding PII of a type the policy does not allow."""
        return [c for c in self.columns if c.handling == "blocks the run" and _kept(c)]

    @property
    def unread_columns_with_pii(self) -> list[ColumnScan]:
        """Columns the run does not read holding PII of a type the policy does not allow."""
        return [c for c in self.columns if c.handling == "reported, not redacted" and _kept(c)]


def _kept(column: ColumnScan) -> bool:
    return any(e.action != "allow" for e in column.entities)


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
    steps_per_epoch: int | None = Field(default=None, description="Planned steps per epoch (1 / sample rate).")
    steps_accounted: int | None = Field(default=None, description="Steps in the accountant history, including "
                                        "steps lost to a crash before the last checkpoint.")
    lost_steps: int = Field(default=0, description="Steps taken after the last checkpoint of a killed run; "
                            "accounted, not in the model.")
    resumed_from_step: int | None = None
    replaced_modules: list[str] = Field(default_factory=list, description="Modules ModuleValidator.fix replaced.")


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
    head: str = "auto"
    scheduler: str = "constant"
    weight_decay: float | None = None
    validation_records: int = 0
    validation_accuracy: list[float] = Field(default_factory=list, description="Per epoch, fraction in [0, 1].")
    best_epoch: int | None = None
    checkpoint_dir: str | None = None
    resumed_from_step: int | None = None


class GroupMetrics(Record):
    """One group's figures; rates are fractions in [0, 1], the favourable label one-vs-rest."""

    group: str
    count: int
    accuracy: float | None
    selection_rate: float | None
    status: Literal["ok", "insufficient data", "insufficient data for error rates"] = Field(
        description="ok; insufficient data (fewer than the minimum members: left out of every aggregate); "
                    "insufficient data for error rates (one true outcome only: the metrics in void_metrics are "
                    "void, the selection-rate ones are not).")
    share: float | None = Field(default=None, description="count / records assessed.")
    positives: int | None = Field(default=None, description="Members whose true label is the favourable one.")
    true_positive_rate: float | None = None
    false_positive_rate: float | None = None
    impact_ratio: float | None = Field(default=None, description="selection_rate / highest selection rate of the groups in the ratios; none for a group left out of them.")
    in_ratios: bool = Field(default=True, description="False: reported, but left out of the ratios and differences.")
    reason: str | None = Field(default=None, description="Why the group is insufficient data or left out of the ratios.")
    ci: dict[str, list[float]] = Field(default_factory=dict, description="Metric -> [low, high] bootstrap interval.")
    scoring_rate: float | None = Field(default=None, description="Share of members scoring above the median score "
                                       "of all records assessed (NYC LL144 scoring rate).")
    scoring_rate_impact_ratio: float | None = Field(
        default=None, description="scoring_rate / highest scoring rate of the groups in the ratios; none for a group left out of them.")
    void_metrics: dict[str, str] = Field(
        default_factory=dict, description="Metric -> why it is void for this group (a group with one true outcome "
                                          "only has no TPR or no FPR, and is left out of the aggregates built on "
                                          "them).")


class FeatureFairness(Record):
    feature: str
    groups: list[GroupMetrics]
    demographic_parity_ratio: float | None
    demographic_parity_difference: float | None
    accuracy_difference: float | None
    excluded_groups: list[str] = Field(default_factory=list)
    intersection_of: list[str] = Field(default_factory=list, description="The features crossed, for an intersection.")
    equalized_odds_difference: float | None = None
    equal_opportunity_difference: float | None = None
    impact_ratio: float | None = Field(default=None, description="Lowest group impact ratio (NYC LL144).")
    ci: dict[str, list[float]] = Field(default_factory=dict, description="Aggregate -> [low, high] bootstrap interval.")
    scoring_rate_impact_ratio: float | None = Field(
        default=None, description="Lowest group scoring-rate impact ratio (NYC LL144, scoring AEDTs).")
    median_score: float | None = Field(default=None, description="Median score of all records assessed, the "
                                       "scoring-rate cut-off.")
    favourable_label: str | None = Field(default=None, description="Label treated as the favourable outcome.")
    min_group_size: int | None = Field(default=None, description="Groups smaller than this were left out.")
    exclude_below_share: float | None = Field(default=None, description="Groups under this share left out of ratios.")
    exclude_unknown: bool | None = Field(default=None, description="The unknown group was left out of ratios.")
    n_boot: int = Field(default=0, description="Bootstrap resamples behind ci (0: none).")
    ci_level: float | None = Field(default=None, description="Confidence level of ci.")
    bootstrap_seed: int | None = Field(
        default=None, description="Seed of the resampling: resample r is row r of numpy.random.default_rng(seed)"
                                  ".integers(0, N, size=(n_boot, N)); every figure is recomputed on it.")
    ci_resamples: dict[str, int] = Field(
        default_factory=dict, description="Aggregate -> resamples in which it was defined; an interval is given "
                                          "only when at least ci_level of the resamples define it.")


class AttackResult(Record):
    name: str
    description: str
    auc: float = Field(description="ROC AUC of the attack (0.5 = chance).")
    tpr_at_1pct_fpr: float = Field(description="True positive rate at 1% false positive rate.")


class MembershipEvidence(Record):
    """Membership inference: training members against held-out non-members."""

    members: int
    non_members: int
    attacks: list[AttackResult]
    auc: float = Field(description="Highest AUC over the attacks.")
    tpr_at_1pct_fpr: float = Field(description="Highest TPR at 1% FPR over the attacks.")
    note: str


class UtilityEvidence(Record):
    """Accuracy against a reference run (e.g. the approved non-private baseline)."""

    reference: str
    reference_sha256: str
    reference_run_id: str | None
    reference_accuracy: float
    accuracy: float
    accuracy_drop: float = Field(description="reference accuracy - accuracy (positive: worse).")
    group_drops: dict[str, dict[str, float]] = Field(default_factory=dict, description="Feature -> group -> accuracy drop.")
    group_drop_spread: float | None = Field(default=None, description="Largest (max - min) group drop over the features.")
    note: str | None = None
    in_run: bool = Field(default=False, description="True: the reference is a non-private model trained in this "
                         "run with the same settings and split; reference_sha256 is its predictions file's.")


class AssessmentEvidence(Record):
    test_records: int
    favourable_label: str | None = Field(description="The favourable outcome of the primary fairness table; null "
                                         "when no fairness rule needs one and none was named.")
    accuracy: float
    f1_macro: float
    per_class_f1: dict[str, float]
    confusion_matrix: list[list[int]]
    fairness: list[FeatureFairness]
    min_group_size: int
    predictions_path: str
    predictions_sha256: str
    classes: list[str] = Field(default_factory=list, description="Label order of the confusion matrix.")
    balanced_accuracy: float | None = None
    precision_macro: float | None = None
    recall_macro: float | None = None
    per_class_precision: dict[str, float] = Field(default_factory=dict)
    per_class_recall: dict[str, float] = Field(default_factory=dict)
    roc_auc: float | None = Field(default=None, description="Binary tasks: AUC of the favourable label's score.")
    expected_calibration_error: float | None = Field(default=None, description="Top-label ECE, equal-width bins.")
    calibration_bins: int | None = None
    exclude_below_share: float | None = None
    n_boot: int = 0
    membership: MembershipEvidence | None = None
    utility: UtilityEvidence | None = None
    notes: list[str] = Field(default_factory=list)
    utility_non_private: UtilityEvidence | None = Field(
        default=None, description="Against a non-private model trained in this run (utility rules with "
                                  "reference: non_private).")
    membership_not_run: str | None = Field(default=None, description="Why the membership-inference audit did not run.")
    fairness_by_rule: dict[str, list[FeatureFairness]] = Field(
        default_factory=dict, description="Rule id -> the tables that fairness rule reads, for rules whose group "
                                          "settings differ from the primary table's (fairness).")
    exclude_unknown: bool = False
    ci_level: float | None = None
    bootstrap_seed: int | None = None
    score_source: str | None = Field(default=None, description="What the score behind scoring rates is.")


class BaselineEvidence(Record):
    """A previous run's audit.json (``--baseline``): where it is, and the figures regression rules compare."""

    path: str
    sha256: str
    run_id: str | None
    verdict: str | None = None
    dp_enabled: bool | None = Field(default=None, description="Whether the baseline trained with DP (None: unknown).")
    epsilon: float | None = None
    accuracy: float | None = None
    f1_macro: float | None = None
    fairness: dict[str, dict[str, float | None]] = Field(
        default_factory=dict, description="Feature -> fairness aggregate -> value.")
    membership_auc: float | None = None


class EnvironmentEvidence(Record):
    python: str
    platform: str
    packages: dict[str, str]
    device: str


class SigningEvidence(Record):
    """How the run's manifest (manifest.json: sha256 of every artifact) is signed."""

    signed: bool
    algorithm: str | None = Field(default=None, description="'Ed25519' when signed.")
    public_key: str | None = Field(default=None, description="Raw Ed25519 public key, hex.")
    key_fingerprint: str | None = Field(default=None, description="sha256 of the raw public key, hex.")
    key_source: str | None = Field(default=None, description="Where the key path came from: option or FTG_SIGNING_KEY.")
    note: str


class PluginRecord(Record):
    """A loaded plugin and what it provides."""

    name: str
    source: Literal["core", "entry-point", "policy", "registered"]
    module: str
    version: str | None = None
    families: list[str] = Field(default_factory=list)
    recognizers: list[str] = Field(default_factory=list, description="Entity types its recognizers detect.")
    collectors: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)


class PluginFailureRecord(Record):
    """A plugin that failed to import, or a hook of it that raised (an error finding)."""

    plugin: str
    phase: str
    error: str


class PluginsEvidence(Record):
    """Plugins loaded for the run (the core included) and every plugin failure."""

    loaded: list[PluginRecord] = Field(default_factory=list)
    failures: list[PluginFailureRecord] = Field(default_factory=list)


class PluginSection(Record):
    """A plugin's report section, rendered from this evidence (HTML autoescaped)."""

    plugin: str
    name: str
    title: str
    html: str
    markdown: str


class RunEvidence(Record):
    """Everything one run recorded; ``audit.json`` is this record."""

    schema_version: str = EVIDENCE_SCHEMA_VERSION
    run_id: str
    tool_version: str
    git_commit: str | None = Field(description="Commit of the tool's own git checkout; null for an installed copy.")
    git_dirty: bool | None = Field(default=None, description="The tool's checkout had uncommitted changes to tracked "
                                   "files; null outside a checkout.")
    started_at: str
    finished_at: str | None = None
    command: str
    config: dict[str, Any]
    environment: EnvironmentEvidence
    policy: PolicyEvidence
    working_dir: str | None = Field(default=None, description="Absolute working directory of the run; reports "
                                    "show the paths under it relative to it.")
    declarations: DeclarationEvidence | None = None
    dataset: DatasetEvidence | None = None
    scan: ScanEvidence | None = None
    training: TrainingEvidence | None = None
    privacy: PrivacyEvidence | None = None
    assessment: AssessmentEvidence | None = None
    plugins: PluginsEvidence | None = None
    extra: dict[str, Any] = Field(default_factory=dict,
                                  description="Plugin evidence collectors' output, by collector name.")
    report_sections: list[PluginSection] = Field(default_factory=list)
    stages_run: list[str] = Field(default_factory=list)
    stopped_early: str | None = None
    warnings: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    verdict: Literal["pass", "fail"] | None = None
    exit_code: int | None = None
    artifacts: dict[str, str] = Field(default_factory=dict, description="Artifact file name -> sha256.")
    signing: SigningEvidence | None = Field(default=None, description="Manifest signing; null in runs before reports.")
    baseline: BaselineEvidence | None = Field(default=None, description="The --baseline run regression rules compare with.")
