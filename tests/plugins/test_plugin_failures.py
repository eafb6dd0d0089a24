"""Plugins that break fail the gate closed, whatever breaks and wherever: an entry-point
plugin that cannot be imported, a policy plugin in a real run (stopped before training), a
house check that raises (the finding names the plugin), a recognizer that raises during the
scan (reports still written, nothing of the scanned text in them), and the callbacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.gate import verdict

HEAD = 'schema_version: 1\nname: t\ntitle: t\nversion: "1"\n'

RAISING_RECOGNIZER = '''
from presidio_analyzer import EntityRecognizer
from finetune_governance.plugins import hookimpl


class Flaky(EntityRecognizer):
    def __init__(self):
        super().__init__(supported_entities=["STAFF_BADGE"], name="FlakyBadge")

    def load(self):
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        raise ValueError("cannot parse " + text)  # quotes the record: must never reach a report


@hookimpl
def governance_recognizers(nlp_engine, countries):
    return [Flaky()]
'''

RAISING_CHECK = '''
from finetune_governance.plugins import RuleFamily, hookimpl


def check(rule, evidence):
    return 1 / 0


@hookimpl
def governance_rule_families():
    return [RuleFamily(name="house.broken", check=check, summary="raises", reads=())]
'''


def _policy(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


@pytest.fixture
def broken_entry_point(tmp_path_factory, monkeypatch, fresh_hosts) -> Path:
    """A real installed distribution whose ``finetune_governance.plugins`` entry point fails to import."""
    source = tmp_path_factory.mktemp("broken_src")
    (source / "broken_gov").mkdir()
    (source / "broken_gov" / "__init__.py").write_text("raise ImportError('needs the house database driver')\n",
                                                       encoding="utf-8")
    (source / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "broken-gov"\nversion = "0.0.1"\n'
        '[project.entry-points."finetune_governance.plugins"]\nbroken = "broken_gov"\n'
        '[tool.setuptools]\npackages = ["broken_gov"]\n', encoding="utf-8")
    site = tmp_path_factory.mktemp("broken_site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(source)], check=True)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("FTG_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    yield site
    sys.modules.pop("broken_gov", None)


def test_entry_point_plugin_that_fails_to_import(broken_entry_point, tmp_path):
    from finetune_governance.checks import evaluate
    from finetune_governance.policy import load_policy
    from tests.report.report_data import hand_built_evidence

    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 1
    assert "FAILED plugin 'broken' failed in import: ImportError: needs the house database driver" in result.output
    findings = evaluate(load_policy(_policy(tmp_path, "rules: []\n")), hand_built_evidence())
    [failure] = [f for f in findings if f.rule_id == "plugin.broken"]
    assert failure.status == "error" and "needs the house database driver" in failure.message
    assert verdict(findings) == ("fail", 1)


def test_check_that_raises_names_its_plugin(plugin_module, tmp_path, monkeypatch):
    from finetune_governance.checks import evaluate
    from finetune_governance.policy import load_policy
    from tests.report.report_data import hand_built_evidence

    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugin_module("house_checks", RAISING_CHECK)
    policy = load_policy(_policy(tmp_path, "plugins: [house_checks]\nrules:\n"
                                 "  - {id: h.rule, title: House, cites: [c], severity: warn, check: house.broken}\n"))
    [finding] = evaluate(policy, hand_built_evidence())
    assert finding.status == "error"
    assert "ZeroDivisionError (rule family 'house.broken' of plugin 'house_checks')" in finding.message
    assert verdict([finding]) == ("fail", 1)  # an error fails the gate even on a warn rule


def test_cli_run_with_a_missing_plugin_stops_before_training_and_fails(tickets, tiny_bert, tmp_path, monkeypatch,
                                                                        fresh_hosts):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    policy = _policy(tmp_path, "extends: [baseline]\nplugins: [acme_house_rules_not_installed]\n")
    result = CliRunner().invoke(main, ["run", "--policy", str(policy), "--data", str(tickets), "--model", str(tiny_bert),
                                       "--output", str(tmp_path / "reports"), "--run-id", "p1", "--quiet"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    audit = json.loads((tmp_path / "reports" / "p1" / "audit.json").read_text(encoding="utf-8"))
    assert audit["verdict"] == "fail" and audit["training"] is None and "train" not in audit["stages_run"]
    assert "acme_house_rules_not_installed" in audit["stopped_early"]
    [failure] = [f for f in audit["findings"] if f["rule_id"] == "plugin.acme_house_rules_not_installed"]
    assert failure["status"] == "error"
    assert (tmp_path / "reports" / "p1" / "audit.html").is_file()


def test_scan_with_a_raising_recognizer_fails_closed_and_leaks_nothing(plugin_module, tickets, tmp_path, monkeypatch):
    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugin_module("flaky_badges", RAISING_RECOGNIZER)
    policy = _policy(tmp_path, "extends: [baseline]\nplugins: [flaky_badges]\n")
    redacted = tmp_path / "redacted.csv"
    result = CliRunner().invoke(main, ["scan", "--policy", str(policy), "--data", str(tickets), "--workers", "1",
                                       "--redact-to", str(redacted), "--output", str(tmp_path / "reports"),
                                       "--run-id", "s1"])
    assert result.exit_code == 1, result.output
    assert "Scan stopped: the PII scan did not complete: plugin 'flaky_badges' recognizer 'FlakyBadge' raised " \
           "ValueError (message withheld" in result.output
    assert not redacted.exists()  # no half-redacted file that looks complete
    folder = tmp_path / "reports" / "s1"
    audit = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    assert audit["verdict"] == "fail" and audit["scan"] is None
    [failure] = [f for f in audit["findings"] if f["rule_id"].startswith("plugin.flaky_badges")]
    assert failure["status"] == "error" and failure["rule_id"] == "plugin.flaky_badges.recognizer-flakybadge"
    texts = [line.split(",")[1] for line in tickets.read_text(encoding="utf-8").splitlines()[1:]]
    for path in folder.rglob("*"):
        if path.is_file():
            body = path.read_text(encoding="utf-8", errors="ignore")
            assert "cannot parse" not in body and not any(t[:40] in body for t in texts[:20]), path.name


def test_run_with_a_raising_recognizer_stops_before_training(plugin_module, tickets, tiny_bert, tmp_path, monkeypatch):
    from finetune_governance.api import RunRequest, run
    from finetune_governance.runconfig import build_config

    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugin_module("flaky_badges_run", RAISING_RECOGNIZER)
    policy = _policy(tmp_path, "extends: [baseline]\nplugins: [flaky_badges_run]\n")
    config = build_config(config_path=None, data=tickets, datasheet=None, model=str(tiny_bert), epochs=1, limit=None,
                          output=tmp_path / "reports")
    outcome = run(RunRequest(policy=policy, config=config, run_id="r1", command="pytest"))
    ev = outcome.evidence
    assert outcome.exit_code == 1 and ev.training is None and ev.scan is None
    assert ev.stopped_early.startswith("the PII scan did not complete: plugin 'flaky_badges_run'")
    assert [f.phase for f in ev.plugins.failures] == ["recognizer:FlakyBadge"]


def test_callback_session_stops_before_training_on_a_broken_plugin(tickets, tmp_path, monkeypatch, fresh_hosts):
    import pandas as pd

    from finetune_governance.errors import BlockedError
    from finetune_governance.integrations import GovernanceSession, SessionSettings

    monkeypatch.setenv("FTG_DISABLE_PLUGIN_AUTOLOAD", "1")
    policy = _policy(tmp_path, "extends: [baseline]\nplugins: [acme_house_rules_not_installed]\n")
    session = GovernanceSession(SessionSettings(policy=policy, datasheet=tickets.parent / "datasheet.yaml",
                                                output_dir=tmp_path / "reports", run_id="cb"))
    with pytest.raises(BlockedError, match="training stopped before it began"):
        session.begin(pd.read_csv(tickets, dtype=str), command="pytest", config={})
    assert session.exit_code == 1
    assert any(f.rule_id == "plugin.acme_house_rules_not_installed" and f.status == "error"
               for f in session.evidence.findings)
    assert (tmp_path / "reports" / "cb" / "audit.html").is_file()
