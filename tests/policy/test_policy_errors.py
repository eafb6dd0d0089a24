"""Malformed policy files: each gives one `file:line:column: key.path: problem` line and exit 2."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main

HEAD = """schema_version: 1
name: custom
title: Custom
version: "1"
"""

RULE = """rules:
  - id: custom.purpose
    title: Purpose declared
    cites: ["GDPR Art. 5(1)(b)"]
    severity: block
    check: declaration
    params: {field: purpose}
"""

# (case id, file text, expected line:column, expected message after the position)
CASES = [
    ("yaml-syntax-unclosed-bracket", HEAD + "rules: [\n", None, r"YAML syntax error"),
    ("yaml-bad-indentation", HEAD + "rules:\n  - id: a\n   title: b\n", "7:4", r"YAML syntax error: expected <block end>, but found '<block mapping start>'"),
    ("yaml-tab", HEAD + "rules:\n\t- id: a\n", "6:1", r"YAML syntax error: found character '\\t' that cannot start any token"),
    ("top-level-list", "- a\n- b\n", "1:1", r"expected a YAML mapping at the top level, found list"),
    ("unknown-top-key", HEAD + "rulez: []\n", "5:1", r"rulez: unknown key 'rulez' \(did you mean 'rules'\?\)"),
    ("unknown-rule-key", HEAD + RULE + "    cite: x\n", "12:5", r"rules\.0\.cite: unknown key 'cite' \(did you mean 'cites'\?\)"),
    ("unknown-param-key", HEAD + RULE.replace("{field: purpose}", "{field: purpose, requird: true}"),
     "11:30", r"rules\.0\.params\.requird: unknown key 'requird' \(did you mean 'required'\?\)"),
    ("missing-required-key", HEAD.replace('title: Custom\n', ''), "1:1", r"title: required key is missing"),
    ("missing-cites", HEAD + RULE.replace('    cites: ["GDPR Art. 5(1)(b)"]\n', ''), "6:5", r"rules\.0\.cites: required key is missing"),
    ("empty-cites", HEAD + RULE.replace('["GDPR Art. 5(1)(b)"]', '[]'), "8:5", r"rules\.0\.cites: List should have at least 1 item"),
    ("wrong-type-cites", HEAD + RULE.replace('["GDPR Art. 5(1)(b)"]', '42'), "8:5", r"rules\.0\.cites: Input should be a valid list"),
    ("bad-severity", HEAD + RULE.replace("severity: block", "severity: blok"), "9:5",
     r"rules\.0\.severity: Input should be 'block' or 'warn' \(did you mean 'block'\?\)"),
    ("unknown-family", HEAD + RULE.replace("check: declaration", "check: declarations"), "10:5",
     r"rules\.0\.check: unknown value 'declarations' \(did you mean 'declaration'\?\); expected one of: declaration, pii"),
    ("missing-family", HEAD + RULE.replace("    check: declaration\n", ""), "6:5", r"rules\.0\.check: required key is missing"),
    ("stage-mismatch", HEAD + RULE.replace("severity: block", "severity: block\n    stage: train"), "6:5",
     r"rules\.0: stage must be 'declare' for this check"),
    ("bad-rule-id", HEAD + RULE.replace("id: custom.purpose", "id: Custom Purpose"), "6:5",
     r"rules\.0\.id: String should match pattern"),
    ("duplicate-rule-id", HEAD + RULE + RULE.replace("rules:\n", ""), "12:5",
     r"rules\.1\.id: rule id 'custom.purpose' appears twice in this file"),
    ("duplicate-yaml-key", HEAD + "title: Again\n", "5:1", r"\(top level\): duplicate key 'title'"),
    ("unknown-datasheet-field", HEAD + RULE.replace("{field: purpose}", "{field: purpse}"), "11:14",
     r"rules\.0\.params\.field: 'purpse' is not a datasheet declaration \(did you mean 'purpose'\?\)"),
    ("min-above-max", HEAD + RULE.replace("{field: purpose}", "{field: retention_days, min: 10, max: 1}"), "11:5",
     r"rules\.0\.params: min must not exceed max"),
    ("epsilon-out-of-range", HEAD + """rules:
  - id: custom.dp
    title: DP
    cites: ["GDPR Art. 25"]
    severity: block
    check: privacy
    params: {differential_privacy: required, max_epsilon: -1}
""", "11:46", r"rules\.0\.params\.max_epsilon: Input should be greater than 0"),
    ("dp-required-without-epsilon", HEAD + """rules:
  - id: custom.dp
    title: DP
    cites: ["GDPR Art. 25"]
    severity: block
    check: privacy
    params: {differential_privacy: required}
""", "11:5", r"rules\.0\.params: max_epsilon is required when differential_privacy is 'required'"),
    ("residual-rate-above-one", HEAD + """rules:
  - id: custom.pii
    title: PII
    cites: ["GDPR Art. 5(1)(c)"]
    severity: block
    check: pii
    params: {max_residual_rate: 1.5}
""", "11:14", r"rules\.0\.params\.max_residual_rate: Input should be less than or equal to 1"),
    ("fairness-without-bound", HEAD + """rules:
  - id: custom.fair
    title: Fair
    cites: ["GDPR Art. 5(1)(a)"]
    severity: warn
    check: fairness
    params: {metric: demographic_parity_ratio}
""", "11:5", r"rules\.0\.params: give min or max"),
    ("bad-regex", HEAD + """rules:
  - id: custom.pii
    title: PII
    cites: ["GDPR Art. 5(1)(c)"]
    severity: block
    check: pii
    params:
      recognizers:
        - entity: EMPLOYEE_ID
          patterns: [{name: emp, regex: "E(\\\\d+"}]
""", "14:34", r"rules\.0\.params\.recognizers\.0\.patterns\.0\.regex: regex does not compile"),
    ("bad-evidence-path", HEAD + """rules:
  - id: custom.docs
    title: Docs
    cites: ["EU AI Act Annex IV"]
    severity: block
    check: documentation
    params:
      items:
        - {id: purpose, title: Purpose, evidence: [declaration.purpose]}
""", "13:41", r"rules\.0\.params\.items\.0\.evidence: evidence path 'declaration\.purpose': 'declaration' is not a field "
              r"of RunEvidence \(did you mean 'declarations'\?\)"),
    ("identifier-gap-without-note", HEAD + """rules:
  - id: custom.ids
    title: Identifiers
    cites: ["45 CFR 164.514(b)(2)"]
    severity: block
    check: identifiers
    params:
      identifiers:
        - {id: vin, title: Vehicle identifiers}
""", "13:11", r"rules\.0\.params\.identifiers\.0: an identifier the scan cannot fully detect needs a note"),
    ("wrong-schema-version", HEAD.replace("schema_version: 1", "schema_version: 2"), "1:1",
     r"schema_version: Input should be 1"),
    ("disable-without-reason", HEAD + RULE + "disable:\n  - {id: custom.purpose}\n", "13:5",
     r"disable\.0\.reason: required key is missing"),
    ("fairness-min-above-max", HEAD + 'rules:\n  - id: custom.fair\n    title: Fair\n    cites: ["GDPR Art. 5(1)(a)"]\n    severity: warn\n    check: fairness\n    params: {PARAMS}\n'.replace("{PARAMS}", "{metric: demographic_parity_ratio, min: 0.8, max: 0.5}"),
     "11:5", r"rules\.0\.params: min \(0\.8\) must not exceed max \(0\.5\)"),
    ("fairness-ratio-above-one", HEAD + 'rules:\n  - id: custom.fair\n    title: Fair\n    cites: ["GDPR Art. 5(1)(a)"]\n    severity: warn\n    check: fairness\n    params: {PARAMS}\n'.replace("{PARAMS}", "{metric: impact_ratio, min: 1.5}"),
     "11:5", r"rules\.0\.params: min must be between 0 and 1"),
    ("fairness-negative-difference", HEAD + 'rules:\n  - id: custom.fair\n    title: Fair\n    cites: ["GDPR Art. 5(1)(a)"]\n    severity: warn\n    check: fairness\n    params: {PARAMS}\n'.replace("{PARAMS}", "{metric: demographic_parity_difference, min: -3}"),
     "11:5", r"rules\.0\.params: min must be between 0 and 1"),
    ("fairness-n-boot-huge", HEAD + 'rules:\n  - id: custom.fair\n    title: Fair\n    cites: ["GDPR Art. 5(1)(a)"]\n    severity: warn\n    check: fairness\n    params: {PARAMS}\n'.replace("{PARAMS}", "{metric: impact_ratio, min: 0.8, n_boot: 100000000}"),
     "11:46", r"rules\.0\.params\.n_boot: Input should be less than or equal to 10000"),
    ("fairness-interval-without-bootstrap", HEAD + 'rules:\n  - id: custom.fair\n    title: Fair\n    cites: ["GDPR Art. 5(1)(a)"]\n    severity: warn\n    check: fairness\n    params: {PARAMS}\n'.replace("{PARAMS}", "{metric: impact_ratio, min: 0.8, decide_on: interval}"),
     "11:5", r"rules\.0\.params: decide_on: interval needs n_boot of at least 100"),
    ("blank-citation", HEAD + RULE.replace('["GDPR Art. 5(1)(b)"]', '["  "]'), "8:13",
     r"rules\.0\.cites\.0: String should match pattern"),
    ("yaml-alias", HEAD + "description: &d text\nrules: *d\n", "6:8", r"YAML alias '\*d' is not supported"),
    ("yaml-recursive-alias", HEAD.replace("title: Custom", "title: &a [*a]"), None, r"YAML alias '\*a' is not supported"),
    ("only-if-equals-without-only-if", HEAD + RULE.replace("{field: purpose}", "{field: purpose, only_if_equals: x}"),
     "11:5", r"rules\.0\.params: only_if_equals needs only_if"),
]

EXTENDS_CASES = [
    ("unknown-parent", {"policy.yaml": HEAD + "extends: [gdpr, nonexistent]\n"}, "5:17",
     r"extends\.1: parent policy 'nonexistent' not found"),
    ("self-cycle", {"policy.yaml": HEAD + "extends: [policy.yaml]\n"}, "5:11",
     r"extends\.0: extends cycle \(policy\.yaml -> policy\.yaml\)"),
    ("two-file-cycle", {"policy.yaml": HEAD + "extends: [b.yaml]\n",
                        "b.yaml": HEAD.replace("name: custom", "name: b") + "extends:\n  - policy.yaml\n"},
     "6:5", r"b\.yaml:6:5: extends\.0: extends cycle \(policy\.yaml -> b\.yaml -> policy\.yaml\)"),
    ("disable-unknown-rule", {"policy.yaml": HEAD + "extends: [gdpr]\ndisable:\n  - {id: gdpr.lawfull-basis, reason: not us}\n"},
     "7:6", r"disable\.0\.id: rule 'gdpr\.lawfull-basis' is not defined by this policy or its parents"),
    ("error-in-parent", {"policy.yaml": HEAD + "extends: [parent.yaml]\n",
                         "parent.yaml": HEAD + RULE.replace("severity: block", "severity: 3")},
     "9:5", r"parent\.yaml:9:5: rules\.0\.severity: Input should be 'block' or 'warn'"),
]


def _validate(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["policy", "validate", str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize("case, text, where, expected", CASES, ids=[c[0] for c in CASES])
def test_malformed_policy_one_line_error(tmp_path, case, text, where, expected):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = _validate(path)
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    position = where or r"\d+:\d+"
    assert re.match(rf"^error: {re.escape(str(path))}:{position}: {expected}", lines[0]), lines[0]
    assert "Traceback" not in output


@pytest.mark.parametrize("case, files, where, expected", EXTENDS_CASES, ids=[c[0] for c in EXTENDS_CASES])
def test_malformed_composition_one_line_error(tmp_path, case, files, where, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    code, output = _validate(tmp_path / "policy.yaml")
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert re.match(rf"^error: {re.escape(str(tmp_path))}/\S+:{where}: ", lines[0]), lines[0]
    assert re.search(expected, lines[0]), lines[0]


def test_at_least_twenty_malformed_cases():
    assert len(CASES) + len(EXTENDS_CASES) >= 20


def test_validate_reports_every_bad_file_and_passes_good_ones(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(HEAD + RULE, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "rulez: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["policy", "validate", str(good), str(bad)])
    assert result.exit_code == 2
    assert f"ok: {good} (1 rules, 0 disabled)" in result.output
    assert f"error: {bad}:5:1: rulez: unknown key 'rulez'" in result.output


def test_missing_file_is_exit_2(tmp_path):
    code, output = _validate(tmp_path / "nope.yaml")
    assert code == 2
    assert "policy '" in output and "not found" in output
