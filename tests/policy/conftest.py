"""Fixtures for the policy tests: a complete, hand-built run evidence record."""

from __future__ import annotations

from pathlib import Path

import pytest

from finetune_governance.evidence import (
    AssessmentEvidence, AttackResult, BaselineEvidence, DatasetEvidence, DeclarationEvidence, EntitySummary, EnvironmentEvidence,
    FeatureFairness, GroupMetrics, MaskedPreview, MembershipEvidence, PolicyEvidence, PrivacyEvidence,
    ResidualSummary, RunEvidence, ScanEvidence, TrainingEvidence, UtilityEvidence,
)

DECLARATIONS = {
    "schema_version": 1, "name": "tickets", "purpose": "Route support tickets", "lawful_basis": "legitimate_interests",
    "consent": {"obtained": False, "explicit": False, "reference": None}, "retention_days": 365,
    "origin": "synthetic", "licence": "CC0-1.0", "jurisdiction": "EU", "transfers": [], "data_subjects": ["customers"],
    "contains_personal_data": True, "special_categories": [], "high_risk_processing": True,
    "dpia_reference": "DPIA-1", "data_gaps": "English only", "declared_performance": {"accuracy": 0.8, "f1_macro": 0.8},
    "favourable_label": "urgent", "columns": {"text": "text", "label": "label", "sensitive_features": ["gender"]},
}


def _entity(name: str, count: int, action: str = "replace") -> EntitySummary:
    return EntitySummary(entity_type=name, action=action, count=count, records=count, record_rate=count / 100,
                         previews=[MaskedPreview(record=0, preview="X***", score=0.9)])


def _group(name: str, count: int, rate: float, accuracy: float) -> GroupMetrics:
    return GroupMetrics(group=name, count=count, accuracy=accuracy, selection_rate=rate, status="ok")


def make_evidence() -> RunEvidence:
    """A run in which every stage ran and every bundled threshold is met."""
    return RunEvidence(
        run_id="test-run", tool_version="0.0", git_commit=None, started_at="2026-03-01T12:00:00+00:00",
        command="governed-finetune run", config={"seed": 1},
        environment=EnvironmentEvidence(python="3.11", platform="linux", packages={"torch": "2"}, device="cpu"),
        policy=PolicyEvidence(name="p", title="P", version="1", path="p.yaml", sha256="0" * 64, sources=[],
                              rules=[], disabled=[]),
        declarations=DeclarationEvidence(datasheet_path="d.yaml", datasheet_sha256="1" * 64,
                                         declarations=dict(DECLARATIONS)),
        dataset=DatasetEvidence(path="t.csv", sha256="2" * 64, format="csv", records=100, text_column="text",
                                label_column="label", sensitive_features=["gender"], classes=["routine", "urgent"],
                                label_counts={"routine": 60, "urgent": 40}, train_records=80, test_records=20),
        scan=ScanEvidence(column="text", records_scanned=100, unique_texts=100, spacy_model="en_core_web_sm",
                          presidio_version="2", entities_scanned=["EMAIL_ADDRESS", "PERSON", "PHONE_NUMBER", "URL"],
                          score_threshold=0.4, limitations=["NER recall is not 100%"],
                          entities=[_entity("PERSON", 5), _entity("EMAIL_ADDRESS", 3)], records_with_pii=7,
                          blocked_entities=[], residual=ResidualSummary(records=0, rate=0.0, by_entity={}),
                          seconds=1.0),
        training=TrainingEvidence(base_model="minilm", base_model_sha256="3" * 64, architecture="Bert",
                                  parameters_total=10, parameters_trainable=5, frozen="embeddings", device="cpu",
                                  epochs=1, steps=10, batch_size=8, learning_rate=0.001, max_length=32, seed=1,
                                  loss_per_epoch=[0.5], stop_reason="completed", seconds=1.0),
        privacy=PrivacyEvidence(enabled=True, poisson_sampling=True, epsilon=3.0, delta=1e-4, noise_multiplier=1.0),
        assessment=AssessmentEvidence(
            test_records=20, favourable_label="urgent", accuracy=0.9, f1_macro=0.88,
            per_class_f1={"routine": 0.9, "urgent": 0.86}, confusion_matrix=[[10, 1], [1, 8]],
            fairness=[FeatureFairness(feature="gender", groups=[_group("female", 50, 0.40, 0.9),
                                                                 _group("male", 50, 0.38, 0.88)],
                                      demographic_parity_ratio=0.95, demographic_parity_difference=0.02,
                                      accuracy_difference=0.02, impact_ratio=0.95)],
            min_group_size=30, predictions_path="predictions.csv", predictions_sha256="4" * 64,
            membership=MembershipEvidence(members=80, non_members=20, attacks=[AttackResult(
                name="loss", description="loss threshold", auc=0.52, tpr_at_1pct_fpr=0.01)], auc=0.52,
                tpr_at_1pct_fpr=0.01, note="n"),
            utility=UtilityEvidence(reference="ref/audit.json", reference_sha256="5" * 64, reference_run_id="ref",
                                    reference_accuracy=0.92, accuracy=0.9, accuracy_drop=0.02,
                                    group_drop_spread=0.01),
        ),
        stages_run=["declare", "scan", "train", "assess"],
        baseline=BaselineEvidence(path="ref/audit.json", sha256="5" * 64, run_id="ref", verdict="pass",
                                  dp_enabled=True, epsilon=3.0, accuracy=0.92, f1_macro=0.9,
                                  fairness={"gender": {"demographic_parity_ratio": 0.96}}, membership_auc=0.51),
    )


@pytest.fixture
def evidence() -> RunEvidence:
    return make_evidence()


@pytest.fixture
def write_policy(tmp_path):
    """Write a policy file from text; returns its path."""

    def write(text: str, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
