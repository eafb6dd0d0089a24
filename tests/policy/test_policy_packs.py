"""The bundled packs: all validate, cite every rule, match the committed JSON Schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from finetune_governance.policy import bundled_policies, load_policy
from finetune_governance.policy.jsonschema import SCHEMA_FILE, policy_json_schema, render_json_schema

PACKS = ["baseline", "eu-ai-act-high-risk", "gdpr", "hipaa", "nyc-ll144", "nyc-ll144-scoring"]


def test_every_pack_is_bundled():
    assert sorted(bundled_policies()) == PACKS


@pytest.mark.parametrize("name", PACKS)
def test_pack_validates_and_cites_every_rule(name):
    policy = load_policy(name)
    assert policy.rules
    for rule in policy.rules:
        assert rule.cites and all(c.strip() for c in rule.cites), rule.id
        assert rule.id.startswith(name.split("-")[0]), rule.id


@pytest.mark.parametrize("name", PACKS)
def test_pack_matches_the_committed_json_schema(name):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(bundled_policies()[name].read_text(encoding="utf-8")), schema)


def test_committed_json_schema_is_in_sync_with_the_models():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_json_schema(), (
        "policies/policy.schema.json is stale: run `governed-finetune policy schema --write`")


def test_json_schema_rejects_unknown_keys():
    bad = {"schema_version": 1, "name": "x", "title": "X", "version": "1", "rulez": []}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, policy_json_schema())


def test_gdpr_keeps_its_rule_ids():
    ids = [r.id for r in load_policy("gdpr").rules]
    for rid in ("gdpr.lawful-basis", "gdpr.special-categories", "gdpr.purpose-limitation", "gdpr.storage-limitation",
                "gdpr.dpia", "gdpr.minimisation.pii", "gdpr.privacy.dp", "gdpr.fairness.parity"):
        assert rid in ids
    assert load_policy("gdpr").rules_of("fairness")[0].severity == "warn"


def test_baseline_only_warns():
    assert {r.severity for r in load_policy("baseline").rules} == {"warn"}


def test_hipaa_maps_all_eighteen_safe_harbor_identifiers():
    [rule] = load_policy("hipaa").rules_of("identifiers")
    clauses = [i.cites[0] for i in rule.params.identifiers]
    assert clauses == [f"45 CFR 164.514(b)(2)(i)({letter})" for letter in "ABCDEFGHIJKLMNOPQR"]
    unverified = [i.id for i in rule.params.identifiers if not i.entities]
    assert unverified == ["health-plan-beneficiary-numbers", "vehicle-identifiers", "biometric-identifiers",
                          "full-face-photographs"]


def test_nyc_ll144_marks_four_fifths_as_convention():
    policy = load_policy("nyc-ll144")
    four_fifths = next(r for r in policy.rules if r.id == "nyc-ll144.four-fifths")
    assert four_fifths.severity == "warn" and four_fifths.params.min == 0.8
    assert "convention" in four_fifths.cites[0] and "1607.4(D)" in four_fifths.cites[0]
    for rule in policy.rules_of("fairness"):
        assert rule.params.metric == "impact_ratio" and rule.params.intersections
        assert rule.params.exclude_below_share == 0.02
        assert rule.params.features == ["sex", "race_ethnicity"]


def test_eu_ai_act_covers_articles_10_12_15_and_annex_iv():
    cites = " ".join(c for r in load_policy("eu-ai-act-high-risk").rules for c in r.cites)
    for clause in ("Art. 10(2)(f)", "Art. 10(2)(g)", "Art. 10(3)", "Art. 10(5)", "Art. 12(1)", "Art. 15(1)",
                   "Annex IV"):
        assert clause in cites, clause


def _fields(model, seen=None) -> set[str]:
    from finetune_governance.yamlio import _candidates, _is_model

    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            for candidate in _candidates(annotation):
                if _is_model(candidate):
                    names |= _fields(candidate, seen)
                else:
                    stack.extend(getattr(candidate, "__args__", ()) or ())
    return names


def test_readme_documents_every_key():
    from finetune_governance.policy.loader import BUNDLED_DIR
    from finetune_governance.policy.schema import Policy
    from finetune_governance.policy.waivers import WaiverFile

    readme = (BUNDLED_DIR / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in _fields(Policy) | _fields(WaiverFile) if f"`{name}`" not in readme)
    assert not missing, f"policies/README.md does not document: {missing}"
