"""model_card.md loads with huggingface_hub; junit.xml and sarif.json parse; cyclonedx.json validates."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from huggingface_hub import ModelCard

from finetune_governance.report import render_cyclonedx, render_model_card
from tests.report.report_data import HOSTILE_GROUP, hand_built_evidence, image_evidence

CARD_SECTIONS = ["## Model details", "## Intended use", "## Factors", "## Metrics", "## Evaluation data",
                 "## Training data", "## Quantitative analyses", "## Privacy", "## Ethical considerations",
                 "## Caveats and recommendations"]


def test_model_card_loads_and_eval_results_parse(real_run):
    card = ModelCard.load(real_run / "model_card.md")
    evidence = json.loads((real_run / "audit.json").read_text(encoding="utf-8"))
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results["accuracy"] == evidence["assessment"]["accuracy"]
    assert results["f1"] == evidence["assessment"]["f1_macro"]
    assert all(r.task_type == "text-classification" and r.dataset_split == "test" for r in card.data.eval_results)
    custom_head = evidence["training"]["head"] in ("cls_linear", "mean_pool")  # loads with EncoderClassifier
    assert card.data.pipeline_tag == "text-classification"
    assert card.data.library_name == ("pytorch" if custom_head else "transformers")
    assert card.data.license == "cc0-1.0"  # the datasheet's CC0-1.0, as the Hub's licence id
    assert card.data.language == ["en"]
    assert "differential-privacy" in card.data.tags
    assert card.data.datasets and all("<" not in d for d in card.data.datasets)
    positions = [card.text.index(s) for s in CARD_SECTIONS]
    assert positions == sorted(positions)


def test_model_card_privacy_and_groups_with_intervals():
    text = render_model_card(hand_built_evidence())
    card = ModelCard(text)
    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert "epsilon = 3.200, delta = 0.00100000" in text and "In plain words" in text
    assert "| female | 40 | 0.8000 [0.7000, 0.9000] | 0.4000 [0.3000, 0.5000] |" in text


def test_model_card_escapes_hostile_values(real_run):
    text = (real_run / "model_card.md").read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1]
    assert "<script" not in body and "<img" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "\n| \"&gt;&lt;script&gt;" in body  # the hostile group is one table cell


def test_junit_one_case_per_rule(real_run):
    suite = ET.parse(real_run / "junit.xml").getroot()
    evidence = json.loads((real_run / "audit.json").read_text(encoding="utf-8"))
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [f["rule_id"] for f in evidence["findings"]]
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {f["rule_id"] for f in evidence["findings"] if f["status"] in ("fail", "error", "not_run")}
    assert int(suite.get("failures")) == len(failed) >= 1


def test_sarif_results_for_non_passing_findings(real_run):
    log = json.loads((real_run / "sarif.json").read_text(encoding="utf-8"))
    evidence = json.loads((real_run / "audit.json").read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [f["rule_id"] for f in evidence["findings"]]
    expected = [f for f in evidence["findings"] if f["status"] != "pass"]
    assert [r["ruleId"] for r in run["results"]] == [f["rule_id"] for f in expected]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        physical = result["locations"][0]["physicalLocation"]
        path = _local_path(physical["artifactLocation"], run["originalUriBaseIds"])
        line = path.read_text(encoding="utf-8").splitlines()[physical["region"]["startLine"] - 1]
        assert result["ruleId"] in line  # the line of the policy file that defines the rule
        assert result["partialFingerprints"]
    blocking = next(r for r in run["results"] if r["ruleId"] == "test.no-regression")
    assert blocking["level"] == "error" and blocking["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"].endswith("policy.yaml")


def _local_path(location: dict, bases: dict) -> Path:
    """The file an artifactLocation names: a file URI, or a relative URI under its base."""
    uri = location["uri"]
    if "uriBaseId" in location:
        uri = bases[location["uriBaseId"]]["uri"] + uri
    return Path(url2pathname(urlparse(uri).path))


def test_hand_built_sarif_levels():
    from finetune_governance.report import render_sarif

    run = json.loads(render_sarif(hand_built_evidence()))["runs"][0]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [("gdpr.fairness.parity", "warning")]


def test_cyclonedx_ml_bom_validates(real_run):
    text = (real_run / "cyclonedx.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    model = bom["metadata"]["component"]  # the model is the BOM's subject, not a duplicate
    assert model["bom-ref"] == "model" and model["type"] == "machine-learning-model"
    assert [c for c in bom["components"] if c["bom-ref"] in ("model", "run")] == []
    evidence = json.loads((real_run / "audit.json").read_text(encoding="utf-8"))
    assert model["hashes"] == [{"alg": "SHA-256", "content": evidence["training"]["model_sha256"]}]
    metrics = model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    sliced = [m for m in metrics if m["slice"] == f"{evidence['dataset']['sensitive_features'][0]}={HOSTILE_GROUP}"]
    rates = [m for m in sliced if m["type"] in ("accuracy", "selection_rate", "true_positive_rate",
                                                "false_positive_rate")]
    assert rates and all("confidenceInterval" in m for m in rates)  # ratios have no interval of their own
    considerations = model["modelCard"]["considerations"]
    assert considerations["fairnessAssessments"]
    assert all("None" not in a["harms"] for a in considerations["fairnessAssessments"])
    statuses = {f"{f['rule_id']} ({'; '.join(f['cites'])}): {f['status']}" for f in evidence["findings"]}
    assert considerations["ethicalConsiderations"] and not statuses & {c["name"] for c in
                                                                       considerations["ethicalConsiderations"]}
    assert model["modelCard"]["modelParameters"]["task"] == "text-classification"
    assert model["modelCard"]["modelParameters"]["inputs"] == [{"format": "text"}]
    data = [c for c in bom["components"] if c["type"] == "data"]
    assert {c["hashes"][0]["content"] for c in data} == {evidence["dataset"]["sha256"],
                                                         evidence["dataset"]["redacted_sha256"]}


def test_cyclonedx_hand_built_validates():
    text = render_cyclonedx(hand_built_evidence())
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    redacted = next(c for c in json.loads(text)["components"] if c["bom-ref"] == "dataset-redacted")
    assert "NUL-terminated" in redacted["data"][0]["description"]  # as sha256_texts hashes them


def test_cyclonedx_considerations_are_risks_with_mitigations():
    bom = json.loads(render_cyclonedx(hand_built_evidence()))
    considerations = bom["metadata"]["component"]["modelCard"]["considerations"]
    ethics = {c["name"]: c["mitigationStrategy"] for c in considerations["ethicalConsiderations"]}
    memorise = next(m for n, m in ethics.items() if "memorise" in n)
    assert "differentially private SGD" in memorise and "epsilon 3.2 at delta 0.001" in memorise
    assert any("declared purpose" in n or "No purpose" in n for n in ethics)
    female = next(a for a in considerations["fairnessAssessments"] if a["groupAtRisk"] == "gender=female")
    assert "accuracy 0.8000 [0.7000, 0.9000]" in female["harms"] and "impact ratio 0.8000" in female["harms"]


def test_image_run_says_image_classification_in_card_and_bom():
    evidence = image_evidence()
    card = ModelCard(render_model_card(evidence))
    assert card.data.pipeline_tag == "image-classification" and card.data.library_name == "pytorch"
    assert all(r.task_type == "image-classification" for r in card.data.eval_results)
    assert card.data.language is None and "torchvision" in card.data.tags
    assert "max_length" not in card.text and "tokens" not in card.text
    assert "get_model(\"resnet18\", weights=None, num_classes=2)" in card.text
    text = render_cyclonedx(evidence)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    parameters = bom["metadata"]["component"]["modelCard"]["modelParameters"]
    assert parameters["task"] == "image-classification" and parameters["inputs"] == [{"format": "image"}]
    redacted = next(c for c in bom["components"] if c["bom-ref"] == "dataset-redacted")
    assert "image folder" in redacted["data"][0]["description"]
