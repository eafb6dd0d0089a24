"""`audit` inputs: predictions files read strictly (shifted or ragged rows, real "None" values,
directories, labels outside --labels), --baseline validated before any work and used by the
regression rules, --waivers as in run, the favourable label from the rule or the datasheet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from finetune_governance.cli import main

POLICY = {"schema_version": 1, "name": "p", "title": "p", "version": "1", "rules": [
    {"id": "p.accuracy", "title": "Accuracy", "cites": ["c"], "severity": "block", "check": "performance",
     "params": {"metric": "accuracy", "min": 0.5}},
    {"id": "p.parity", "title": "Parity", "cites": ["c"], "severity": "block", "check": "fairness",
     "params": {"metric": "demographic_parity_ratio", "min": 0.8, "min_group_size": 1}},
]}


def _policy(tmp_path: Path, policy: dict = POLICY) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return str(path)


def _invoke(tmp_path: Path, csv_text: str | None, *extra: str, policy: dict = POLICY, run_id: str = "a"):
    args = ["audit", "--policy", _policy(tmp_path, policy), "--output", str(tmp_path / "out"), "--run-id", run_id,
            *extra]
    if csv_text is not None:
        (tmp_path / "preds.csv").write_text(csv_text, encoding="utf-8")
        args += ["--predictions", str(tmp_path / "preds.csv")]
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output, result.output
    return result


def _one_line_error(result, *needles: str) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def test_a_shifted_row_is_an_error_not_a_silent_index(tmp_path):
    # audit36/shift.csv: rows with one field more than the header once became an index column
    text = "label,prediction,race_ethnicity\nno,yes,yes,a\nno,no,no,b\n"
    _one_line_error(_invoke(tmp_path, text, "--favourable-label", "yes"), "line 2", "4 fields, the header has 3")
    assert not (tmp_path / "out").exists()


def test_a_ragged_row_names_its_line(tmp_path):
    # audit36/bad_ragged.csv
    text = "label,prediction\nyes,yes,extra,more\nno,no\n"
    _one_line_error(_invoke(tmp_path, text, "--favourable-label", "yes"), "line 2", "4 fields")
    text = "label,prediction,sex\nyes,yes,f\nno,no\n"
    _one_line_error(_invoke(tmp_path, text, "--favourable-label", "yes"), "line 3", "2 fields, the header has 3")


def test_none_na_and_null_are_values_not_missing(tmp_path):
    # audit36/bad_labelNone.csv: a label "None" is a label; a sensitive value "NA" is a group
    text = "label,prediction,sex\nNone,None,NA\nyes,yes,null\nNone,yes,NA\nyes,None,\n"
    result = _invoke(tmp_path, text, "--favourable-label", "yes")
    assert result.exit_code == 1, result.output
    ev = json.loads((tmp_path / "out" / "a" / "audit.json").read_text(encoding="utf-8"))
    assert ev["assessment"]["classes"] == ["None", "yes"]
    assert {g["group"]: g["count"] for g in ev["assessment"]["fairness"][0]["groups"]} == \
        {"NA": 2, "null": 1, "unknown": 1}
    _one_line_error(_invoke(tmp_path, text, "--favourable-label", "yes", "--labels", "yes,no", run_id="b"),
                    "line 2", "label 'None' is not in the label set (yes, no)")


def test_a_true_label_outside_labels(tmp_path):
    text = "label,prediction\nyes,yes\nmaybe,no\n"
    _one_line_error(_invoke(tmp_path, text, "--favourable-label", "yes", "--labels", "yes,no"),
                    "line 3", "label 'maybe' is not in the label set")


def test_a_directory_as_predictions(tmp_path):
    result = _invoke(tmp_path, None, "--predictions", str(tmp_path), "--favourable-label", "yes")
    _one_line_error(result, "is a directory; --predictions takes a CSV file")


def test_unterminated_quote_and_duplicate_columns(tmp_path):
    _one_line_error(_invoke(tmp_path, 'label,prediction,sex\nyes,yes,"open\nno,no,m\n', "--favourable-label", "yes"),
                    "not a readable CSV")


# --- favourable label ---------------------------------------------------------------------------------------

def test_no_favourable_label_names_the_datasheet_key_and_the_rule_param(tmp_path):
    result = _invoke(tmp_path, "label,prediction,sex\nyes,yes,f\nno,no,m\n")
    _one_line_error(result, "no favourable label for fairness rule 'p.parity'", "favourable_label in the datasheet",
                    "params.favourable_label on the rule")


def test_the_rules_favourable_label_wins_and_must_be_a_label(tmp_path):
    text = "label,prediction,sex\nhire,hire,f\ninterview,hire,f\nreject,interview,m\ninterview,interview,m\n"
    rules = [dict(POLICY["rules"][1], params={**POLICY["rules"][1]["params"], "favourable_label": "interview"})]
    result = _invoke(tmp_path, text, "--favourable-label", "hire", policy={**POLICY, "rules": rules})
    ev = json.loads((tmp_path / "out" / "a" / "audit.json").read_text(encoding="utf-8"))
    table = ev["assessment"]["fairness_by_rule"]["p.parity"][0]
    assert table["favourable_label"] == "interview" and ev["assessment"]["favourable_label"] == "hire"
    rates = {g["group"]: g["selection_rate"] for g in table["groups"]}
    assert rates == {"f": 0.0, "m": 1.0}  # one-vs-rest on "interview"
    assert result.exit_code == 1
    rules = [dict(POLICY["rules"][1], params={**POLICY["rules"][1]["params"], "favourable_label": "hired"})]
    _one_line_error(_invoke(tmp_path, text, "--favourable-label", "hire", policy={**POLICY, "rules": rules},
                            run_id="b"), "fairness rule 'p.parity': favourable label 'hired'", "is not a label")


# --- baseline --------------------------------------------------------------------------------------------

TEXT = "label,prediction,sex\n" + "yes,yes,f\nno,no,f\nyes,yes,m\nno,yes,m\n" * 5


@pytest.mark.parametrize(("content", "needle"), [
    ({"assessment": {"accuracy": 0.9, "fairness": [{"x": 1}]}}, "assessment.fairness[0].feature: field required"),
    ({"assessment": {"accuracy": 0.9, "fairness": "abc"}}, "assessment.fairness: should be a valid list"),
    ({"assessment": {"accuracy": True}}, "assessment.accuracy: should be a finite number"),
    ([1], "no assessment.accuracy"),
    ({"assessment": {"accuracy": 0.9, "fairness": [{"feature": "sex", "demographic_parity_ratio": False}]}},
     "assessment.fairness[0].demographic_parity_ratio: should be a finite number"),
    ({"assessment": {"accuracy": 0.9}, "privacy": {"enabled": "yes"}}, "privacy.enabled: should be a valid boolean"),
])
def test_a_malformed_baseline_is_a_one_line_input_error_before_any_work(tmp_path, content, needle):
    # audit36/badbase.json .. badbase4.json
    base = tmp_path / "base.json"
    base.write_text(json.dumps(content), encoding="utf-8")
    _one_line_error(_invoke(tmp_path, TEXT, "--favourable-label", "yes", "--baseline", str(base)), needle)
    assert not (tmp_path / "out").exists()


def test_audit_baseline_feeds_the_regression_rules(tmp_path):
    regression = {"id": "p.regression", "title": "No regression", "cites": ["c"], "severity": "block",
                  "check": "regression", "params": {"max_accuracy_drop": 0.01,
                                                    "max_fairness_drop": {"metric": "demographic_parity_ratio",
                                                                          "by": 0.05}}}
    policy = {**POLICY, "rules": [*POLICY["rules"], regression]}
    first = _invoke(tmp_path, TEXT, "--favourable-label", "yes", policy=policy, run_id="base")
    assert first.exit_code == 1  # regression: no baseline yet (not run)
    base = tmp_path / "out" / "base" / "audit.json"
    worse = TEXT.replace("yes,yes,f", "yes,no,f")
    result = _invoke(tmp_path, worse, "--favourable-label", "yes", "--baseline", str(base), policy=policy,
                     run_id="next")
    ev = json.loads((tmp_path / "out" / "next" / "audit.json").read_text(encoding="utf-8"))
    assert ev["baseline"]["path"] == str(base) and ev["baseline"]["accuracy"] == 0.75
    finding = {f["rule_id"]: f for f in ev["findings"]}["p.regression"]
    assert finding["status"] == "fail" and "accuracy dropped by 0.2500" in finding["message"]
    assert result.exit_code == 1


# --- waivers ---------------------------------------------------------------------------------------------

def test_audit_applies_waivers(tmp_path):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"schema_version": 1, "waivers": [
        {"rule_id": "p.parity", "justification": "Rebalanced in the next data release (T-1)",
         "approver": "Jane Doe (DPO)", "expires": "2999-12-31"}]}), encoding="utf-8")
    unfair = "label,prediction,sex\n" + "yes,yes,f\nno,yes,f\nyes,no,m\nno,no,m\n" * 5
    assert _invoke(tmp_path, unfair, "--favourable-label", "yes", run_id="plain").exit_code == 1
    result = _invoke(tmp_path, unfair, "--favourable-label", "yes", "--waivers", str(waivers), run_id="waived")
    assert result.exit_code == 0, result.output
    ev = json.loads((tmp_path / "out" / "waived" / "audit.json").read_text(encoding="utf-8"))
    finding = {f["rule_id"]: f for f in ev["findings"]}["p.parity"]
    assert finding["status"] == "waived" and finding["waiver"]["approver"] == "Jane Doe (DPO)"
    waivers.write_text("schema_version: 1\nwaivers: [{rule_id: p.parity}]\n", encoding="utf-8")
    _one_line_error(_invoke(tmp_path, unfair, "--favourable-label", "yes", "--waivers", str(waivers), run_id="bad"))
