"""audit.json is versioned and validates against the committed JSON Schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from finetune_governance.evidence import EVIDENCE_SCHEMA_VERSION
from finetune_governance.report.schema import SCHEMA_PATH, audit_schema, main, schema_text
from tests.report.report_data import hand_built_evidence


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_in_sync_with_the_evidence_model():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), \
        "stale: run python -m finetune_governance.report.schema --write"
    assert main([]) == 0


def test_schema_is_versioned():
    schema = audit_schema()
    assert schema["$id"].endswith(EVIDENCE_SCHEMA_VERSION)
    assert schema["properties"]["schema_version"]["const"] == EVIDENCE_SCHEMA_VERSION
    assert schema["additionalProperties"] is False


def test_real_run_audit_json_validates(real_run):
    document = json.loads((real_run / "audit.json").read_text(encoding="utf-8"))
    _validator().validate(document)
    for part in ("policy", "declarations", "dataset", "scan", "training", "privacy", "assessment", "environment",
                 "signing", "findings", "git_commit", "tool_version"):
        assert part in document, part
    assert document["assessment"]["fairness"][0]["groups"][0]["ci"], "per-group intervals"
    assert document["privacy"]["history"] and document["privacy"]["epsilon_curve"]


def test_hand_built_evidence_validates():
    _validator().validate(json.loads(hand_built_evidence().model_dump_json()))


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(unknown_field=1),
    lambda d: d.update(schema_version="0.9"),
    lambda d: d["findings"][0].update(status="passed"),
    lambda d: d["assessment"].update(accuracy="high"),
    lambda d: d.pop("run_id"),
])
def test_invalid_documents_fail_validation(mutate):
    document = json.loads(hand_built_evidence().model_dump_json())
    mutate(document)
    assert list(_validator().iter_errors(document))
