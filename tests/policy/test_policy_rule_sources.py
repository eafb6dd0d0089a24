"""The policy loader records where each active rule is defined: the file and line of its id."""

from __future__ import annotations

from finetune_governance.policy import load_policy
from finetune_governance.policy.loader import rule_sources

CHILD = """schema_version: 1
name: child
title: Child
version: "1"
extends: [gdpr]
rules:
  - title: Parity, stricter
    id: gdpr.fairness.parity
    cites: ["GDPR Art. 5(1)(a)"]
    severity: block
    check: fairness
    params: {metric: demographic_parity_ratio, min: 0.9}
disable:
  - id: gdpr.dpia
    reason: covered by the group DPIA
"""


def test_each_active_rule_points_at_its_id_line_and_overrides_win(tmp_path):
    path = tmp_path / "child.yaml"
    path.write_text(CHILD, encoding="utf-8")
    policy = load_policy(path)
    sources = rule_sources(policy)
    assert set(sources) == {r.id for r in policy.rules}  # disabled rules have none
    assert sources["gdpr.fairness.parity"] == (str(path), 8, 5)
    parent, line, _ = sources["gdpr.lawful-basis"]
    assert parent.endswith("gdpr.yaml")
    with open(parent, encoding="utf-8") as handle:
        assert "gdpr.lawful-basis" in handle.read().splitlines()[line - 1]
