"""The bundled packs' declaration rules that depend on other declarations: GDPR Art. 9(2)
grounds and explicit consent, the Art. 35 high-risk assessment and DPIA, and the EU AI Act's
data gaps and declared accuracy (Art. 10(2)(h), 15(3))."""

from __future__ import annotations

import pytest

from finetune_governance.checks import evaluate
from finetune_governance.policy import load_policy


def _statuses(evidence, pack: str, **declarations) -> dict[str, str]:
    evidence.declarations.declarations.update(declarations)
    return {f.rule_id: f.status for f in evaluate(load_policy(pack), evidence)}


@pytest.mark.parametrize("declared, ground, explicit, expected", [
    ([], None, False, {"gdpr.special-categories": "pass", "gdpr.special-categories.explicit-consent": "pass"}),
    (["health"], None, False, {"gdpr.special-categories": "fail"}),
    (["health"], "9(2)(h)", False, {"gdpr.special-categories": "pass",
                                    "gdpr.special-categories.explicit-consent": "pass"}),
    (["health"], "9(2)(a)", False, {"gdpr.special-categories": "pass",
                                    "gdpr.special-categories.explicit-consent": "fail"}),
    (["health"], "9(2)(a)", True, {"gdpr.special-categories": "pass",
                                   "gdpr.special-categories.explicit-consent": "pass"}),
])
def test_gdpr_special_categories_need_an_art9_ground(evidence, declared, ground, explicit, expected):
    found = _statuses(evidence, "gdpr", special_categories=declared, special_category_ground=ground,
                      consent={"obtained": True, "explicit": explicit, "reference": "C-1"})
    assert {k: found[k] for k in expected} == expected


@pytest.mark.parametrize("high_risk, special, dpia, expected", [
    (None, [], "DPIA-1", {"gdpr.high-risk-assessed": "fail", "gdpr.dpia": "pass"}),
    (False, [], None, {"gdpr.high-risk-assessed": "pass", "gdpr.dpia": "pass", "gdpr.dpia.special-categories": "pass"}),
    (True, [], None, {"gdpr.high-risk-assessed": "pass", "gdpr.dpia": "fail"}),
    (True, [], "DPIA-1", {"gdpr.dpia": "pass"}),
    (False, ["health"], None, {"gdpr.dpia": "pass", "gdpr.dpia.special-categories": "fail"}),
])
def test_gdpr_dpia_for_high_risk_or_special_categories(evidence, high_risk, special, dpia, expected):
    found = _statuses(evidence, "gdpr", high_risk_processing=high_risk, special_categories=special,
                      special_category_ground="9(2)(h)" if special else None, dpia_reference=dpia)
    assert {k: found[k] for k in expected} == expected


def test_eu_ai_act_data_gaps_and_declared_accuracy(evidence):
    good = _statuses(evidence, "eu-ai-act-high-risk")
    assert good["eu-ai-act.art10.data-gaps"] == "pass"
    assert good["eu-ai-act.art15.accuracy-declared"] == "pass" and good["eu-ai-act.art15.accuracy"] == "pass"
    missing = _statuses(evidence, "eu-ai-act-high-risk", data_gaps=None, declared_performance={})
    assert missing["eu-ai-act.art10.data-gaps"] == "fail"
    assert missing["eu-ai-act.art15.accuracy-declared"] == "fail"
    assert missing["eu-ai-act.art15.accuracy"] == "fail"  # nothing declared to meet


def test_eu_ai_act_measured_below_the_declared_level_fails(evidence):
    findings = evaluate(load_policy("eu-ai-act-high-risk"), evidence)
    evidence.declarations.declarations["declared_performance"] = {"f1_macro": 0.95}  # measured 0.88
    [finding] = [f for f in evaluate(load_policy("eu-ai-act-high-risk"), evidence)
                 if f.rule_id == "eu-ai-act.art15.accuracy"]
    assert finding.status == "fail" and finding.threshold == {"min": 0.7, "declared": 0.95}
    assert "below the declared level 0.95" in finding.message
    assert any(f.rule_id == "eu-ai-act.art15.accuracy" and f.status == "pass" for f in findings)


def test_every_cited_clause_the_packs_claim(evidence):
    cites = {c for r in load_policy("eu-ai-act-high-risk").rules for c in r.cites}
    for clause in ("EU AI Act Art. 10(2)(f)", "EU AI Act Art. 10(2)(g)", "EU AI Act Art. 10(2)(h)",
                   "EU AI Act Art. 10(3)", "EU AI Act Art. 15(1)", "EU AI Act Art. 15(3)"):
        assert clause in cites, clause
    gdpr = {c for r in load_policy("gdpr").rules for c in r.cites}
    for clause in ("GDPR Art. 6(1)", "GDPR Art. 9(2)", "GDPR Art. 9(2)(a)", "GDPR Art. 5(1)(b)", "GDPR Art. 5(1)(e)",
                   "GDPR Art. 5(1)(c)", "GDPR Art. 25(1)", "GDPR Art. 32(1)", "GDPR Art. 35(1)", "GDPR Art. 5(1)(a)"):
        assert clause in gdpr, clause
