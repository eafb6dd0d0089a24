"""Composition: extends by name or path, overrides by id, disable with a reason."""

from __future__ import annotations

from finetune_governance.policy import load_policy

HEAD = 'schema_version: 1\nname: child\ntitle: Child\nversion: "2"\n'


def test_extends_bundled_overrides_by_id_and_disables(write_policy):
    path = write_policy(HEAD + """extends: [gdpr]
rules:
  - id: gdpr.privacy.dp
    title: Tighter budget
    cites: ["GDPR Art. 25(1)"]
    severity: block
    check: privacy
    params: {differential_privacy: required, max_epsilon: 3.0}
disable:
  - id: gdpr.fairness.parity
    reason: fairness is assessed by a separate audit (AUD-7)
""")
    policy = load_policy(path)
    ids = [r.id for r in policy.rules]
    assert "gdpr.fairness.parity" not in ids
    assert ids[-1] == "gdpr.privacy.dp"  # an override moves to its new position
    assert policy.rules_of("privacy")[0].params.max_epsilon == 3.0
    assert [d.id for d in policy.disabled] == ["gdpr.fairness.parity"]
    assert policy.sources[0].endswith("gdpr.yaml") and policy.sources[-1] == str(path)
    assert (policy.name, policy.version) == ("child", "2")


def test_extends_several_parents_and_relative_paths(write_policy):
    write_policy(HEAD.replace("child", "mid") + "extends: [baseline]\n", name="mid.yaml")
    path = write_policy(HEAD + "extends: [mid.yaml, nyc-ll144]\n")
    policy = load_policy(path)
    ids = [r.id for r in policy.rules]
    assert ids[0].startswith("baseline.") and ids[-1].startswith("nyc-ll144.")
    assert len(policy.sources) == 4


def test_digest_changes_when_a_parent_changes(write_policy):
    parent = write_policy(HEAD.replace("child", "parent") + "extends: [baseline]\n", name="parent.yaml")
    child = write_policy(HEAD + "extends: [parent.yaml]\n")
    before = load_policy(child).sha256
    parent.write_text(parent.read_text() + "description: changed\n", encoding="utf-8")
    assert load_policy(child).sha256 != before


def test_a_parent_reached_twice_is_not_a_cycle(write_policy):
    write_policy(HEAD.replace("child", "a") + "extends: [baseline]\n", name="a.yaml")
    write_policy(HEAD.replace("child", "b") + "extends: [baseline]\n", name="b.yaml")
    policy = load_policy(write_policy(HEAD + "extends: [a.yaml, b.yaml]\n"))
    assert len([r for r in policy.rules if r.id == "baseline.purpose"]) == 1
