"""``governed-finetune policy list|show|explain|schema``."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.policy.jsonschema import render_json_schema


def _invoke(*args: str):
    return CliRunner().invoke(main, ["policy", *args])


def test_list_names_every_pack():
    result = _invoke("list")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == ["baseline", "eu-ai-act-high-risk", "gdpr", "hipaa", "nyc-ll144", "nyc-ll144-scoring"]


def test_show_prints_the_resolved_policy(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text('schema_version: 1\nname: child\ntitle: Child\nversion: "1"\nextends: [gdpr]\n'
                     'disable:\n  - {id: gdpr.dpia, reason: covered by the parent DPIA}\n', encoding="utf-8")
    result = _invoke("show", str(child))
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["name"] == "child"
    assert "gdpr.dpia" not in [r["id"] for r in shown["rules"]]
    assert shown["disabled"] == [{"id": "gdpr.dpia", "reason": "covered by the parent DPIA"}]
    assert shown["sources"][0].endswith("gdpr.yaml")


def test_explain_says_what_and_where():
    result = _invoke("explain", "gdpr.privacy.dp")
    assert result.exit_code == 0
    assert "cites:      GDPR Art. 25(1); GDPR Art. 32(1)" in result.output
    assert "reads:      privacy, dataset.train_records" in result.output
    assert "max_epsilon: 8.0" in result.output
    assert "defined in: gdpr" in result.output


def test_explain_unknown_rule_suggests_and_exits_2():
    result = _invoke("explain", "gdpr.privacy.db")
    assert result.exit_code == 2
    assert "did you mean 'gdpr.privacy.dp'?" in result.output


def test_explain_within_one_policy():
    result = _invoke("explain", "hipaa.safe-harbor.identifiers", "--policy", "hipaa")
    assert result.exit_code == 0
    assert "family:     identifiers" in result.output and "not verified" in result.output


def test_schema_prints_the_committed_schema():
    result = _invoke("schema")
    assert result.exit_code == 0 and result.output == render_json_schema()
