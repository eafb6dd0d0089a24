"""The plugin host: discovery (entry point and policy), the core registered through the
same hooks, plugin rule binding, and plugin failures failing the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.checks import CHECKS, evaluate
from finetune_governance.cli import main
from finetune_governance.errors import PolicyError
from finetune_governance.gate import verdict
from finetune_governance.plugins import build_host, plugin_host
from finetune_governance.policy import load_policy

HEAD = 'schema_version: 1\nname: t\ntitle: test\nversion: "1"\n'

HOUSE_RULE = """
rules:
  - id: acme.fairness.worst-group
    title: Worst-served group accuracy meets the house minimum
    cites: ["ACME Model Risk Standard 4.2"]
    severity: block
    check: acme.worst_group_accuracy
    params: {min: 0.7, min_group_size: 20}
"""

RAISING_PLUGIN = '''
from finetune_governance.plugins import hookimpl

@hookimpl
def governance_rule_families():
    raise RuntimeError("house rules database unreachable")
'''


def _policy(tmp_path: Path, body: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def _evidence_with_groups(accuracies: dict[str, float], count: int = 50):
    from tests.report.report_data import hand_built_evidence
    from finetune_governance.evidence import FeatureFairness, GroupMetrics

    evidence = hand_built_evidence()
    evidence.assessment.fairness = [FeatureFairness(
        feature="gender", demographic_parity_ratio=0.9, demographic_parity_difference=0.05, accuracy_difference=0.1,
        groups=[GroupMetrics(group=g, count=count, accuracy=a, selection_rate=0.4, status="ok")
                for g, a in accuracies.items()])]
    evidence.plugins = None
    return evidence


def test_core_checks_register_through_the_same_hook(fresh_hosts, monkeypatch):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    host = build_host()
    families = host.families()
    assert set(CHECKS) == set(families)
    assert {host.family_owner(name) for name in CHECKS} == {"core"}
    assert [info.name for info in host.describe()] == ["core"]
    assert families["privacy"].stage == "train" and families["pii"].stage == "scan"


def test_entry_point_plugin_is_discovered_and_listed(acme):
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.output)["plugins"]}
    assert listed["acme"]["source"] == "entry-point" and listed["acme"]["version"] == "0.1.0"
    assert [r["family"] for r in listed["acme"]["rules"]] == ["acme.worst_group_accuracy"]
    assert listed["acme"]["recognizers"] == ["EMPLOYEE_ID"]
    assert listed["acme"]["collectors"] == ["acme.data_source"]
    assert listed["acme"]["sections"] == ["worst_group"]
    text = CliRunner().invoke(main, ["plugins"])
    assert "rule family acme.worst_group_accuracy [assess]" in text.output


def test_autoload_can_be_switched_off(acme, monkeypatch):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert [info.name for info in plugin_host().describe()] == ["core"]


def test_plugin_recognizer_joins_the_scan(acme):
    from finetune_governance.scan import scan_texts
    from finetune_governance.scan.engine import cached_analyzer

    analyzer, info = cached_analyzer(pattern_only=True)
    assert "EMPLOYEE_ID" in info.supported_entities
    [hits] = scan_texts(["Badge of employee EMP-482913 was lost"], analyzer=analyzer,
                        entities=["EMPLOYEE_ID"], score_threshold=0.5)
    assert [(h.entity_type, h.start, h.end) for h in hits] == [("EMPLOYEE_ID", 18, 28)]


def test_plugin_rule_passes_and_fails_through_its_check(acme, tmp_path):
    policy = load_policy(_policy(tmp_path, HOUSE_RULE))
    [rule] = policy.rules
    assert rule.stage == "assess" and rule.params == {"min": 0.7, "min_group_size": 20}
    good = evaluate(policy, _evidence_with_groups({"female": 0.81, "male": 0.75}))
    bad = evaluate(policy, _evidence_with_groups({"female": 0.81, "male": 0.62}))
    assert [(f.rule_id, f.status) for f in good] == [("acme.fairness.worst-group", "pass")]
    assert [(f.status, f.measured) for f in bad] == [("fail", 0.62)]
    assert "gender=male" in bad[0].message
    assert verdict(bad)[1] == 1


def test_policy_named_plugin_module(plugin_module, tmp_path, monkeypatch):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugin_module("house_rules", '''
from finetune_governance.plugins import RuleFamily, finding, hookimpl

def check(rule, evidence):
    return finding(rule, passed=evidence.dataset.records >= rule.params["min_records"],
                   measured=evidence.dataset.records, threshold=rule.params["min_records"], message="records")

@hookimpl
def governance_rule_families():
    return [RuleFamily(name="house.min_records", check=check, summary="enough records", reads=("dataset.records",),
                       stage="declare")]
''')
    path = _policy(tmp_path, """plugins: [house_rules]
rules:
  - {id: house.size, title: Enough data, cites: ["House rule 1"], severity: block, check: house.min_records,
     params: {min_records: 10}}
""")
    policy = load_policy(path)
    assert policy.plugins == ["house_rules"] and policy.rules[0].stage == "declare"
    from tests.report.report_data import hand_built_evidence

    [finding] = evaluate(policy, hand_built_evidence())
    assert finding.status == "pass"
    result = CliRunner().invoke(main, ["policy", "explain", "house.size", "--policy", str(path)])
    assert result.exit_code == 0 and "from plugin house_rules" in result.output


def test_unknown_plugin_family_is_a_one_line_error(acme, tmp_path):
    path = _policy(tmp_path, HOUSE_RULE.replace("acme.worst_group_accuracy", "acme.worst_group_acuracy"))
    with pytest.raises(PolicyError, match=r"policy.yaml:\d+:\d+: rules.0.check: rule family "
                                          r"'acme.worst_group_acuracy' is not provided by any loaded plugin "
                                          r"\(did you mean 'acme.worst_group_accuracy'\?\)"):
        load_policy(path)


def test_plugin_params_are_validated_by_the_plugins_model(acme, tmp_path):
    path = _policy(tmp_path, HOUSE_RULE.replace("min: 0.7", "min: 7"))
    result = CliRunner().invoke(main, ["policy", "validate", str(path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "rules.0.check: params.min: Input should be less than or equal to 1" in result.output


def test_plugin_that_fails_to_import_fails_the_gate(tmp_path, fresh_hosts, monkeypatch):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    policy = load_policy(_policy(tmp_path, "plugins: [acme_governance_missing]\n" + HOUSE_RULE))
    from tests.report.report_data import hand_built_evidence

    findings = evaluate(policy, hand_built_evidence())
    by_id = {f.rule_id: f for f in findings}
    assert by_id["acme.fairness.worst-group"].status == "error"
    assert "failed plugins: acme_governance_missing" in by_id["acme.fairness.worst-group"].message
    failure = by_id["plugin.acme_governance_missing"]
    assert failure.status == "error" and "failed in import: ModuleNotFoundError" in failure.message
    assert verdict(findings) == ("fail", 1)
    result = CliRunner().invoke(main, ["plugins", "--policy", str(tmp_path / "policy.yaml")])
    assert result.exit_code == 1 and "FAILED plugin 'acme_governance_missing' failed in import" in result.output


def test_plugin_hook_that_raises_fails_the_gate_even_with_warn_rules(plugin_module, tmp_path, monkeypatch):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugin_module("flaky_rules", RAISING_PLUGIN)
    policy = load_policy(_policy(tmp_path, """plugins: [flaky_rules]
rules:
  - {id: t.minimum, title: Accuracy, cites: ["c"], severity: warn, check: performance,
     params: {metric: accuracy, min: 0.1}}
"""))
    from tests.report.report_data import hand_built_evidence

    findings = evaluate(policy, hand_built_evidence())
    assert [f.status for f in findings] == ["pass", "error"]
    assert findings[1].rule_id == "plugin.flaky_rules.governance_rule_families"
    assert "governance_rule_families: RuntimeError: house rules database unreachable" in findings[1].message
    assert verdict(findings) == ("fail", 1)


def test_plugin_may_not_take_a_core_family_name(plugin_module, tmp_path, monkeypatch):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugin_module("shadowing", '''
from finetune_governance.plugins import RuleFamily, hookimpl

@hookimpl
def governance_rule_families():
    return [RuleFamily(name="privacy", check=lambda rule, ev: None, summary="x", reads=())]
''')
    host = plugin_host(["shadowing"])
    assert host.family_owner("privacy") == "core"
    assert any("already provided by 'core'" in f.error for f in host.failures)


def test_collector_and_section_failures_are_recorded_against_the_plugin(plugin_module, monkeypatch):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugin_module("broken_extras", '''
from finetune_governance.plugins import Collector, ReportSection, hookimpl

@hookimpl
def governance_collectors():
    return [Collector(name="broken.size", stage="assess", collect=lambda context: 1 / 0),
            Collector(name="broken.unserialisable", stage="assess", collect=lambda context: {"x": object()})]

@hookimpl
def governance_report_sections():
    return [ReportSection(name="oops", title="Oops", html="{{ evidence.no_such_key.deeper }}")]
''')
    from tests.report.report_data import hand_built_evidence
    from finetune_governance.plugins.record import attach_plugins, render_sections, run_collectors
    from finetune_governance.policy.schema import ResolvedPolicy

    policy = ResolvedPolicy(name="t", title="t", version="1", path="t.yaml", sha256="0", sources=[],
                            plugins=["broken_extras"], rules=[], disabled=[])
    evidence = hand_built_evidence()
    evidence.findings = []
    host = attach_plugins(evidence, policy)
    run_collectors(host, evidence, stage="assess", policy=policy)
    failures = render_sections(host, evidence)
    assert evidence.extra == {} and evidence.report_sections == []
    phases = sorted(f.phase for f in evidence.plugins.failures)
    assert phases == ["collector:broken.size", "collector:broken.unserialisable", "report section:oops"]
    assert [f.phase for f in failures] == ["report section:oops"]
    findings = evaluate(policy, evidence, host)
    assert sorted(f.rule_id for f in findings) == ["plugin.broken_extras.collector-broken.size",
                                                   "plugin.broken_extras.collector-broken.unserialisable",
                                                   "plugin.broken_extras.report-section-oops"]
    assert all(f.status == "error" for f in findings) and verdict(findings) == ("fail", 1)


def test_core_recognizers_are_listed_with_their_entity_types(fresh_hosts, monkeypatch):
    from tests.report.report_data import hand_built_evidence

    from finetune_governance.plugins.record import attach_plugins

    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = CliRunner().invoke(main, ["plugins", "--json", "--policy", "gdpr"])
    assert result.exit_code == 0, result.output
    core = json.loads(result.output)["plugins"][0]
    assert core["name"] == "core"
    assert {"PERSON", "EMAIL_ADDRESS", "DATE_TIME", "PASSWORD", "PRIVATE_KEY", "STREET_ADDRESS"} <= set(core["recognizers"])
    bare = json.loads(CliRunner().invoke(main, ["plugins", "--json"]).output)["plugins"][0]
    assert "STREET_ADDRESS" not in bare["recognizers"] and "SECRET_TOKEN" in bare["recognizers"]  # policy data only
    text = CliRunner().invoke(main, ["plugins", "--policy", "gdpr"]).output
    assert "recognizers: " in text and "STREET_ADDRESS" in text
    evidence = hand_built_evidence()
    attach_plugins(evidence, load_policy("hipaa"))
    [record] = [p for p in evidence.plugins.loaded if p.name == "core"]
    assert {"US_ZIP_CODE", "MEDICAL_RECORD_NUMBER", "DATE_TIME", "SECRET_API_KEY"} <= set(record.recognizers)
