"""model_card.md content: the Hugging Face template's sections filled from the evidence, a real licence,
a local dataset that does not pose as a Hub id, no absolute local paths and no hard-coded claims."""

from __future__ import annotations

import pytest
from huggingface_hub import ModelCard

from finetune_governance.evidence import DeclarationEvidence
from finetune_governance.report import render_model_card
from finetune_governance.report.model_card import card_metadata, hub_licence
from tests.report.report_data import hand_built_evidence, image_evidence

HF_SECTIONS = ["## How to get started", "## Training procedure", "## Bias, risks and limitations",
               "## Environmental impact"]


def _declared(**declarations) -> DeclarationEvidence:
    return DeclarationEvidence(datasheet_path="/work/project/data/datasheet.yaml", datasheet_sha256="cd" * 32,
                               declarations={"name": "tickets", **declarations})


@pytest.mark.parametrize(("declared", "expected"), [
    ("CC0-1.0", {"license": "cc0-1.0"}),
    ("Apache-2.0", {"license": "apache-2.0"}),
    ("proprietary", {"license": "other", "license_name": "proprietary"}),
    ("ACME data licence v2", {"license": "other", "license_name": "ACME data licence v2"}),
    (None, {"license": "unknown"}),
])
def test_licence_is_the_datasheets_as_a_hub_id_or_named_other(declared, expected):
    assert hub_licence(declared) == expected
    evidence = hand_built_evidence(declarations=_declared(licence=declared))
    meta = card_metadata(evidence)
    assert {k: meta[k] for k in ("license", "license_name") if k in meta} == expected


def test_sections_of_the_hugging_face_template_are_filled():
    text = render_model_card(hand_built_evidence(declarations=_declared(purpose="Route tickets", licence="MIT")))
    for section in HF_SECTIONS:
        assert section in text, section
    started = text[text.index("## How to get started"):text.index("## Factors")]
    assert "EncoderClassifier" not in started  # the hand-built run used the checkpoint's own head ('auto')
    assert "AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)" in started
    assert "max_length=64" in started  # the recorded max length, not a constant
    impact = text[text.index("## Environmental impact"):]
    assert "Hardware type: cpu" in impact and "1 s for 20 optimiser steps (2 epoch(s))" in impact
    ethics = text[text.index("## Ethical considerations"):text.index("### Policy findings")]
    assert ethics.count("**Risk:**") == ethics.count("**Mitigation:**") >= 4
    assert "differentially private SGD" in ethics and "Route tickets" in ethics
    assert "allocation harm" in ethics


def test_limitations_name_groups_without_data_scan_limits_and_dp_assumptions():
    evidence = hand_built_evidence().model_copy(deep=True)
    male = evidence.assessment.fairness[0].groups[1]
    male.status, male.in_ratios, male.reason = "insufficient data", False, "12 members, fewer than the minimum 30"
    from finetune_governance.evidence import ScanEvidence

    evidence.scan = ScanEvidence(column="text", records_scanned=410, unique_texts=410, spacy_model=None,
                                 presidio_version="2.2", entities_scanned=["EMAIL_ADDRESS", "PERSON"],
                                 score_threshold=0.4, limitations=["PERSON: no spaCy model, names not detected"],
                                 entities=[], records_with_pii=0, blocked_entities=[], seconds=1.0)
    text = render_model_card(evidence)
    limits = text[text.index("## Bias, risks and limitations"):text.index("## Ethical considerations")]
    assert "gender: groups left out of the ratios: male (12 members, fewer than the minimum 30)" in limits
    assert "Not verified by the PII scan: PERSON: no spaCy model, names not detected" in limits
    assert "per training record" in limits and "Poisson sampling of records, which was used" in limits
    assert "| male | 42 | 0.7500 [0.6000, 0.8500] | 0.5000 [0.4000, 0.6000] |" in text
    assert "| n/a (excluded) | insufficient data: 12 members, fewer than the minimum 30 |" in text
    assert "Collect more data for gender groups male" in text


def test_no_absolute_local_paths_and_dataset_is_not_a_hub_id():
    evidence = hand_built_evidence(working_dir="/work/project", declarations=_declared(licence="MIT"))
    evidence.dataset = evidence.dataset.model_copy(update={"path": "/work/project/data/tickets.csv"})
    evidence.training = evidence.training.model_copy(update={"base_model": "/opt/models/tiny-bert"})
    text = render_model_card(evidence)
    assert "/work/project" not in text and "/opt/models" not in text
    assert "`data/tickets.csv`" in text and "data/datasheet.yaml" in text  # relative to the working directory
    assert "local checkpoint tiny-bert" in text  # outside it: the name only
    card = ModelCard(text)
    assert card.data.datasets == ["tickets"] and card.data.base_model is None
    assert card.data.eval_results[0].dataset_type == "csv"  # the local format, not a Hub dataset id
    assert "not a Hugging Face Hub dataset id" in text and evidence.dataset.sha256 in text


def test_split_claims_come_from_the_evidence():
    stratified = render_model_card(hand_built_evidence().model_copy(deep=True))
    assert "stratified by label" not in stratified  # the hand-built record does not say how it split
    evidence = hand_built_evidence().model_copy(deep=True)
    evidence.dataset.split_method = "stratified"
    assert "stratified by label" in render_model_card(evidence)
    evidence.dataset.split_method = "random"
    text = render_model_card(evidence)
    assert "stratified by label" not in text and "randomly drawn held-out split" in text


def test_language_only_for_text_recorded_in_the_evidence():
    evidence = hand_built_evidence().model_copy(deep=True)
    assert "language" not in card_metadata(evidence)
    evidence.dataset.language = "en"
    assert card_metadata(evidence)["language"] == ["en"]


def _run_snippet(code: str, folder, monkeypatch) -> dict:
    monkeypatch.chdir(folder)
    scope: dict = {}
    exec(compile(code, "get_started", "exec"), scope)  # noqa: S102 - the card's own code, run as a user would
    return scope


def test_get_started_code_loads_a_saved_text_model(tmp_path, monkeypatch, tiny_bert):
    import shutil

    from finetune_governance.report._model import model_facts
    from finetune_governance.report.model_card import get_started

    shutil.copytree(tiny_bert, tmp_path / "model")
    evidence = hand_built_evidence()
    scope = _run_snippet(get_started(evidence, model_facts(evidence)), tmp_path, monkeypatch)
    assert tuple(scope["probabilities"].shape) == (1, 2)


def test_get_started_code_loads_a_saved_torchvision_model(tmp_path, monkeypatch):
    from PIL import Image
    from safetensors.torch import save_file
    from torchvision.models import get_model

    from finetune_governance.report._model import model_facts
    from finetune_governance.report.model_card import get_started
    from finetune_governance.train.images import replace_head

    net = get_model("resnet18", weights=None)
    replace_head(net, 2)  # as a run builds it
    (tmp_path / "model").mkdir()
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp_path / "model" / "model.safetensors"))
    Image.new("RGB", (300, 260), (120, 30, 200)).save(tmp_path / "image.jpg")
    evidence = image_evidence()
    scope = _run_snippet(get_started(evidence, model_facts(evidence)), tmp_path, monkeypatch)
    assert tuple(scope["probabilities"].shape) == (1, 2)


def test_get_started_code_loads_a_dp_trained_hugging_face_image_model(tmp_path, monkeypatch):
    from PIL import Image
    from transformers import ResNetConfig, ResNetForImageClassification

    from finetune_governance.report._model import model_facts
    from finetune_governance.report.model_card import get_started
    from finetune_governance.train.privacy import fix_for_dp

    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 8], depths=[1, 1], num_labels=2)
    net, replaced = fix_for_dp(ResNetForImageClassification(config))  # BatchNorm -> GroupNorm, as DP runs do
    assert replaced
    net.save_pretrained(tmp_path / "model")
    Image.new("RGB", (64, 64), (10, 200, 30)).save(tmp_path / "image.jpg")
    evidence = image_evidence()
    evidence.training = evidence.training.model_copy(update={"base_model": "/models/resnet-hf", "max_length": 32})
    evidence.privacy = evidence.privacy.model_copy(update={"replaced_modules": replaced})
    code = get_started(evidence, model_facts(evidence))
    assert "fix_for_dp" in code
    scope = _run_snippet(code, tmp_path, monkeypatch)
    assert tuple(scope["probabilities"].shape) == (1, 2)


def test_a_run_stopped_before_training_says_why_not_that_it_audited_predictions():
    evidence = hand_built_evidence(training=None, privacy=None, assessment=None,
                                   stopped_early="the PII scan found blocked entity types (US_SSN)",
                                   stages_run=["declare", "scan"])
    text = render_model_card(evidence)
    assert "- The model was not trained in this run: the PII scan found blocked entity types (US_SSN)." in text
    assert "predictions only" not in text and "audit" not in text.split("## Model details")[1].split("##")[0]
    assert "finetune-governance 0.1.0 (git commit" in text  # the software versions, even without training
