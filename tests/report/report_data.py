"""Report test data: hostile strings, a hand-built evidence record, and the shared real-run fixtures."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

if TYPE_CHECKING:
    from finetune_governance.evidence import RunEvidence

from tests.conftest import EXAMPLE, ROUTINE, URGENT

#: strings that would run script, break out of an attribute, or open markup if not escaped
HOSTILE_GROUP = '"><script>alert(1)</script>'
HOSTILE_GROUP_2 = "' onmouseover='alert(2)' x='</td></tr><tr><td>$\\frac{1}{0}$"
HOSTILE_COLUMN = "<img src=x onerror=alert(3)>"
HOSTILE_LABEL = "<b>urgent</b>\"'"
HOSTILE_NAME = "tickets</title><script>alert(4)</script>"
HOSTILE_STRINGS = (HOSTILE_GROUP, HOSTILE_GROUP_2, HOSTILE_COLUMN, HOSTILE_LABEL, HOSTILE_NAME)


def write_hostile_tickets(folder: Path, n: int = 200, seed: int = 7) -> Path:
    """A tiny CSV and datasheet whose group names, a column name, a label and the dataset name are hostile."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        urgent = i % 5 < 2
        text = rng.choice(URGENT if urgent else ROUTINE)
        if i % 4 == 0:
            text += f". Mail me at user{i}@example.com"
        rows.append({"text": text, "label": HOSTILE_LABEL if urgent else "routine",
                     HOSTILE_COLUMN: rng.choice([HOSTILE_GROUP, HOSTILE_GROUP_2, "plain"])})
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "tickets.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    sheet = yaml.safe_load((EXAMPLE / "datasheet.yaml").read_text(encoding="utf-8"))
    sheet["name"] = HOSTILE_NAME
    sheet["favourable_label"] = HOSTILE_LABEL
    sheet["columns"] = {"text": "text", "label": "label", "sensitive_features": [HOSTILE_COLUMN]}
    (folder / "datasheet.yaml").write_text(yaml.safe_dump(sheet, allow_unicode=True), encoding="utf-8")
    return data


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory) -> tuple[Path, Path]:
    """A fresh Ed25519 key pair: (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder = tmp_path_factory.mktemp("keys")
    key = Ed25519PrivateKey.generate()
    private = folder / "signing.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public = folder / "signing.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


HOSTILE_WAIVER = "Rebalanced next release <script>alert(5)</script>"

#: the GDPR pack plus bootstrap intervals, a membership audit limit and a blocking utility rule
TEST_POLICY = """
schema_version: 1
name: gdpr-report-test
title: GDPR with intervals and a regression rule
version: "0.1"
extends: [gdpr]
rules:
  - id: gdpr.fairness.parity
    title: Selection rates are similar across groups
    cites: ["GDPR Art. 5(1)(a)"]
    severity: warn
    check: fairness
    params: {metric: demographic_parity_ratio, min: 0.8, min_group_size: 10, n_boot: 30}
  - id: test.leakage
    title: Membership inference stays near chance
    cites: ["GDPR Art. 32(1)"]
    severity: warn
    check: membership_inference
    params: {max_auc: 0.99}
  - id: test.no-regression
    title: No accuracy regression against the approved run
    cites: ["internal change control"]
    severity: block
    check: utility
    params: {max_accuracy_drop: 0.05}
"""


@pytest.fixture(scope="session")
def real_run(tiny_bert, tmp_path_factory, signing_keys) -> Path:
    """One real signed run (tiny BERT, GDPR + test rules, DP) on the hostile data, with a waiver and
    a baseline it regresses against (so it fails); returns the run folder."""
    from finetune_governance.api import RunRequest, run
    from finetune_governance.runconfig import build_config

    root = tmp_path_factory.mktemp("report_run")
    data = write_hostile_tickets(root / "data")
    policy = root / "policy.yaml"
    policy.write_text(TEST_POLICY, encoding="utf-8")
    waivers = root / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"schema_version": 1, "waivers": [{
        "rule_id": "gdpr.fairness.parity", "justification": HOSTILE_WAIVER, "approver": "Jane Doe (DPO)",
        "expires": "2999-12-31"}]}), encoding="utf-8")
    baseline = root / "baseline.json"
    baseline.write_text('{"run_id": "approved", "assessment": {"accuracy": 0.999, "fairness": []}}', encoding="utf-8")
    config = build_config(config_path=None, data=data, datasheet=None, model=str(tiny_bert), epochs=1, limit=None,
                          output=root / "reports")
    outcome = run(RunRequest(policy=policy, config=config, run_id="hostile", command="pytest report run",
                             waivers=waivers, baseline=baseline, signing_key=signing_keys[0]))
    return outcome.report_dir


def hand_built_evidence(**updates) -> "RunEvidence":
    """A complete RunEvidence built by hand (no pipeline): DP, fairness with intervals, membership."""
    from finetune_governance.evidence import (AssessmentEvidence, AttackResult, DatasetEvidence, EnvironmentEvidence,
                                              FeatureFairness, Finding, GroupMetrics, MembershipEvidence,
                                              PolicyEvidence, PrivacyEvidence, RunEvidence, TrainingEvidence)

    sha = "ab" * 32
    groups = [GroupMetrics(group="female", count=40, accuracy=0.8, selection_rate=0.4, status="ok",
                           impact_ratio=0.8, ci={"accuracy": [0.7, 0.9], "selection_rate": [0.3, 0.5]}),
              GroupMetrics(group="male", count=42, accuracy=0.75, selection_rate=0.5, status="ok",
                           impact_ratio=1.0, ci={"accuracy": [0.6, 0.85], "selection_rate": [0.4, 0.6]})]
    evidence = RunEvidence(
        run_id="hand-1", tool_version="0.1.0", git_commit=None, started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:01:00+00:00", command="governed-finetune run --policy gdpr", config={},
        environment=EnvironmentEvidence(python="3.11", platform="linux", packages={"torch": "2"}, device="cpu"),
        policy=PolicyEvidence(name="gdpr", title="GDPR", version="1.0", path="policies/gdpr.yaml", sha256=sha,
                              sources=["policies/gdpr.yaml"], rules=[], disabled=[]),
        dataset=DatasetEvidence(path="data/tickets.csv", sha256=sha, format="csv", records=410, text_column="text",
                                label_column="label", sensitive_features=["gender"], classes=["routine", "urgent"],
                                label_counts={"routine": 250, "urgent": 160}, train_records=328, test_records=82,
                                split_seed=13, redacted_sha256=sha),
        training=TrainingEvidence(base_model="minilm", base_model_sha256=sha, architecture="BertModel",
                                  parameters_total=100, parameters_trainable=10, frozen="none", device="cpu",
                                  epochs=2, steps=20, batch_size=32, learning_rate=0.001, max_length=64, seed=13,
                                  loss_per_epoch=[0.7, 0.6], stop_reason="completed", seconds=1.0, model_sha256=sha,
                                  model_path="model"),
        privacy=PrivacyEvidence(enabled=True, mechanism="gaussian", accountant="rdp", target_epsilon=8.0, delta=1e-3,
                                noise_multiplier=1.1, max_grad_norm=1.0, sample_rate=0.1, steps=20, epsilon=3.2,
                                epsilon_curve=[[1, 0.5], [10, 2.0], [20, 3.2]], poisson_sampling=True),
        assessment=AssessmentEvidence(
            test_records=82, favourable_label="urgent", accuracy=0.78, f1_macro=0.76,
            per_class_f1={"routine": 0.8, "urgent": 0.72}, confusion_matrix=[[40, 9], [9, 24]],
            classes=["routine", "urgent"], min_group_size=30, predictions_path="predictions.csv",
            predictions_sha256=sha, n_boot=200,
            fairness=[FeatureFairness(feature="gender", groups=groups, demographic_parity_ratio=0.8,
                                      demographic_parity_difference=0.1, accuracy_difference=0.05, impact_ratio=0.8,
                                      ci={"demographic_parity_ratio": [0.6, 0.95]})],
            membership=MembershipEvidence(members=100, non_members=82, auc=0.52, tpr_at_1pct_fpr=0.02, note="n",
                                          attacks=[AttackResult(name="loss", description="d", auc=0.52,
                                                                tpr_at_1pct_fpr=0.02)])),
        stages_run=["declare", "scan", "train", "assess"],
        findings=[Finding(rule_id="gdpr.privacy.dp", title="DP", cites=["GDPR Art. 25(1)"], severity="block",
                          stage="train", status="pass", measured=3.2, threshold=8.0, message="ok"),
                  Finding(rule_id="gdpr.fairness.parity", title="Parity", cites=["GDPR Art. 5(1)(a)"],
                          severity="warn", stage="assess", status="warn", measured=0.8, threshold=0.9,
                          message="parity 0.8 < 0.9")],
        verdict="pass", exit_code=0,
    )
    return evidence.model_copy(update=updates)


def image_evidence(**updates) -> "RunEvidence":
    """The hand-built record as an image run: an ImageFolder and a torchvision ResNet-18."""
    evidence = hand_built_evidence()
    evidence.dataset = evidence.dataset.model_copy(update={
        "path": "data/photos", "format": "imagefolder", "text_column": "file", "language": None,
        "classes": ["cat", "dog"], "label_counts": {"cat": 250, "dog": 160}})
    evidence.training = evidence.training.model_copy(update={
        "base_model": "torchvision:resnet18", "architecture": "ResNet", "head": "fc", "max_length": 224})
    return evidence.model_copy(update=updates)


#: a screening datasheet with the declarations the EU AI Act and GDPR packs read
SCORING_DATASHEET = """schema_version: 1
name: screening
description: Screening scores of an AEDT (synthetic test data).
purpose: Bias audit of an automated employment decision tool.
lawful_basis: legitimate_interests
origin: Historical screening decisions exported from the AEDT (synthetic for this test)
licence: proprietary
jurisdiction: US-NY
data_subjects: [candidates]
contains_personal_data: true
special_categories: [racial or ethnic origin]
special_category_ground: "9(2)(g)"
high_risk_processing: true
dpia_reference: DPIA-2026-04
data_gaps: Pacific Islander candidates are 1% of the sample; their ratios are not computed.
declared_performance: {accuracy: 0.45, f1_macro: 0.4}
favourable_label: selected
columns: {text: text, label: label, sensitive_features: [sex, race_ethnicity]}
"""

#: the NYC LL144 scoring pack plus a rule with its own group settings (its own tables)
SCORING_POLICY = """schema_version: 1
name: scoring-report-test
title: NYC LL144 scoring with a stricter parity rule
version: "0.1"
extends: [nyc-ll144-scoring]
rules:
  - id: test.parity-large-groups
    title: Selection rates are similar across groups of 50 or more
    cites: ["internal"]
    severity: warn
    check: fairness
    params: {metric: demographic_parity_ratio, min: 0.8, min_group_size: 50, n_boot: 200, ci_level: 0.9}
"""


def write_scored_predictions(path: Path, n: int = 1200, seed: int = 11) -> Path:
    """Scores of an outside model: men score higher; Pacific Islander candidates (1%) never have the
    favourable true label (their TPR is void) and are under the 2% cut-off; 4% have no sex recorded."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        sex = rng.choices(["female", "male", ""], [0.48, 0.48, 0.04])[0]
        race = rng.choices(["White", "Black", "Asian", "Pacific Islander"], [0.5, 0.3, 0.19, 0.01])[0]
        score = rng.random() + (0.15 if sex == "male" else 0.0)
        label = "rejected" if race == "Pacific Islander" else rng.choice(["selected", "rejected"])
        rows.append({"label": label, "prediction": "selected" if score > 0.6 else "rejected",
                     "score": f"{score:.6f}", "sex": sex, "race_ethnicity": race})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def scoring_audit(tmp_path_factory) -> Path:
    """A real `governed-finetune audit` of outside scores under the NYC LL144 scoring pack plus a rule
    with its own group settings; returns the run folder."""
    from finetune_governance.assess.audit import AuditRequest, audit

    root = tmp_path_factory.mktemp("scoring_audit")
    predictions = write_scored_predictions(root / "scores.csv")
    (root / "datasheet.yaml").write_text(SCORING_DATASHEET, encoding="utf-8")
    (root / "policy.yaml").write_text(SCORING_POLICY, encoding="utf-8")
    outcome = audit(AuditRequest(policy=root / "policy.yaml", predictions=predictions,
                                 datasheet=root / "datasheet.yaml", output=root / "reports", run_id="scoring",
                                 command="pytest scoring audit"))
    return outcome.report_dir
