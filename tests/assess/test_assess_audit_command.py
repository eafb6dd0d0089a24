"""`governed-finetune audit` on predictions made outside the tool (scikit-learn here)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from finetune_governance.cli import main

POLICY = {
    "schema_version": 1, "name": "hiring", "title": "Hiring audit", "version": "1",
    "rules": [
        {"id": "h.purpose", "title": "Purpose declared", "cites": ["EU AI Act Art. 10"], "severity": "block",
         "check": "declaration", "params": {"field": "purpose"}},
        {"id": "h.pii", "title": "PII redacted", "cites": ["GDPR Art. 5(1)(c)"], "severity": "block",
         "check": "pii", "params": {}},
        {"id": "h.accuracy", "title": "Accuracy", "cites": ["EU AI Act Art. 15"], "severity": "block",
         "check": "performance", "params": {"metric": "accuracy", "min": 0.6}},
        {"id": "h.impact", "title": "Impact ratio", "cites": ["NYC LL144 5-300"], "severity": "warn",
         "check": "fairness", "params": {"metric": "impact_ratio", "min": 0.8, "min_group_size": 10,
                                         "exclude_below_share": 0.02, "n_boot": 20, "intersections": True}},
        {"id": "h.mia", "title": "Membership leakage", "cites": ["GDPR Art. 32"], "severity": "warn",
         "check": "membership_inference", "params": {"max_auc": 0.6}},
        {"id": "h.utility", "title": "Utility kept", "cites": ["EU AI Act Art. 15"], "severity": "block",
         "check": "utility", "params": {"max_accuracy_drop": 0.05, "max_group_drop_spread": 0.1}},
    ],
}


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> dict[str, Path]:
    """A scikit-learn model's predictions on a synthetic hiring set, a datasheet and a policy."""
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("outside")
    rng = np.random.default_rng(7)
    n = 400
    x = rng.normal(size=(n, 3))
    y = np.where(x[:, 0] + 0.5 * rng.normal(size=n) > 0, "hire", "reject")
    model = LogisticRegression().fit(x[:200], y[:200])
    probs = model.predict_proba(x[200:])
    pred = model.predict(x[200:])
    sex = rng.choice(["female", "male", ""], 200, p=[0.49, 0.49, 0.02])
    band = rng.choice(["<40", "40+"], 200)
    path = root / "preds.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "prediction", *[f"score_{c}" for c in model.classes_], "sex", "age_band", "notes"])
        for i in range(200):
            writer.writerow([y[200 + i], pred[i], *[f"{p:.6f}" for p in probs[i]], sex[i], band[i], "free text"])
    datasheet = root / "datasheet.yaml"
    datasheet.write_text(yaml.safe_dump({
        "schema_version": 1, "name": "hiring", "purpose": "Shortlist applicants for human review",
        "favourable_label": "hire",
        "columns": {"text": "cv", "label": "label", "sensitive_features": ["sex", "age_band"]},
    }), encoding="utf-8")
    policy = root / "policy.yaml"
    policy.write_text(yaml.safe_dump(POLICY, sort_keys=False), encoding="utf-8")
    return {"root": root, "preds": path, "datasheet": datasheet, "policy": policy}


def _audit(outside, *extra: str, run_id: str) -> tuple[int, str, Path]:
    args = ["audit", "--policy", str(outside["policy"]), "--predictions", str(outside["preds"]),
            "--datasheet", str(outside["datasheet"]), "--output", str(outside["root"] / "reports"),
            "--run-id", run_id, *extra]
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output, outside["root"] / "reports" / run_id


def test_audit_writes_the_same_reports_and_fails_closed_without_baseline(outside):
    code, output, out = _audit(outside, run_id="first")
    for name in ("audit.json", "audit.html", "model_card.md", "junit.xml", "predictions.csv"):
        assert (out / name).is_file(), name
    ev = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    status = {f["rule_id"]: f["status"] for f in ev["findings"]}
    assert "h.pii" not in status and {"id": "h.pii", "reason": "not applicable to a predictions-only audit (stage scan)"} \
        in ev["policy"]["disabled"]
    assert status["h.purpose"] == "pass" and status["h.accuracy"] == "pass"
    assert status["h.mia"] == "not_run" and status["h.utility"] == "not_run"
    assert code == 1 and ev["verdict"] == "fail"  # a blocking utility rule without a reference cannot pass
    a = ev["assessment"]
    assert a["favourable_label"] == "hire" and a["roc_auc"] > 0.8
    features = [f["feature"] for f in a["fairness"]]
    assert features == ["sex", "age_band", "sex & age_band"]
    sex = {g["group"]: g for g in a["fairness"][0]["groups"]}
    assert "unknown" in sex and not sex["unknown"]["in_ratios"]
    assert sex["female"]["ci"]["selection_rate"][0] <= sex["female"]["selection_rate"]
    saved = (out / "predictions.csv").read_text(encoding="utf-8")
    assert "free text" not in saved and saved.splitlines()[0].endswith("sex,age_band")
    scanned = {c["column"]: c for c in ev["scan"]["columns"]}  # the label and group names the reports show
    assert set(scanned) == {"label", "sex", "age_band"} and not any(c["entities"] for c in scanned.values())
    assert ev["stages_run"] == ["declare", "scan", "assess"] and ev["stopped_early"] is None


def test_audit_withholds_group_names_holding_pii(outside, tmp_path):
    canary = "zq.canary.5521@example.org"
    rows = list(csv.reader(outside["preds"].open(encoding="utf-8")))
    sex = rows[0].index("sex")
    rows[3][sex] = canary
    rows[4][sex] = "Hispanic or Latino"  # a category name is not PII
    preds = tmp_path / "preds.csv"
    with preds.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    result = CliRunner().invoke(main, ["audit", "--policy", str(outside["policy"]), "--predictions", str(preds),
                                       "--datasheet", str(outside["datasheet"]), "--output", str(tmp_path / "out"),
                                       "--run-id", "pii"])
    assert result.exit_code == 1, result.output
    ev = json.loads((tmp_path / "out" / "pii" / "audit.json").read_text(encoding="utf-8"))
    status = {f["rule_id"]: f["status"] for f in ev["findings"]}
    assert status["core.pii.read-columns"] == "fail" and status["h.accuracy"] == "not_run"
    assert ev["assessment"] is None and "'sex'" in ev["stopped_early"]
    [sex_scan] = [c for c in ev["scan"]["columns"] if c["column"] == "sex"]
    assert [(e["entity_type"], e["records"]) for e in sex_scan["entities"]] == [("EMAIL_ADDRESS", 1)]
    assert not (tmp_path / "out" / "pii" / "predictions.csv").exists()
    written = " ".join(p.read_text(errors="ignore") for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert canary not in written + result.output


def test_audit_with_baseline_checks_utility(outside):
    _audit(outside, run_id="ref")
    code, output, out = _audit(outside, "--baseline", str(outside["root"] / "reports" / "ref" / "audit.json"),
                               run_id="second")
    ev = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    utility = ev["assessment"]["utility"]
    assert utility["accuracy_drop"] == 0.0 and utility["group_drop_spread"] == 0.0
    assert {f["rule_id"]: f["status"] for f in ev["findings"]}["h.utility"] == "pass"
    assert code == 0, output


def _one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _bad(outside, rows: list[list[str]], header: list[str], *extra: str):
    path = outside["root"] / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return CliRunner().invoke(main, ["audit", "--policy", str(outside["policy"]), "--predictions", str(path),
                                     "--output", str(outside["root"] / "bad-reports"), *extra])


@pytest.mark.parametrize(("header", "rows", "needles"), [
    (["label", "sex"], [["hire", "f"]], ("missing column 'prediction'",)),
    (["label", "prediction"], [["hire", "hire"], ["reject", "maybe"]], ("line 3", "'maybe' is not in the label set")),
    (["label", "prediction"], [["hire", "hire"], ["reject", ""]], ("line 3", "empty prediction")),
    (["label", "prediction", "score"], [["hire", "hire", "0.9"], ["reject", "reject", "NaN"]],
     ("line 3", "'score' must be a finite number")),
    (["label", "prediction", "score_hire"], [["hire", "hire", "0.9"], ["reject", "reject", "0.1"]],
     ("missing column 'score_reject'", "every label needs one (score_hire, score_reject)")),
    (["label", "prediction", "score_hire", "score_reject"], [["hire", "hire", "0.9", "0.9"]],
     ("line 2", "sum to 1.800")),
    (["label", "prediction", "sex", "sex"], [["hire", "hire", "f", "f"]], ("column 'sex' appears twice",)),
    (["record", "label", "prediction"], [["1", "hire", "hire"], ["1", "reject", "reject"]],
     ("line 3", "record 1 already on line 2")),
    (["label", "prediction", "member"], [["hire", "hire", "1"], ["reject", "reject", "yes"]],
     ("line 3", "'member' must be 1")),
])
def test_bad_prediction_files_get_one_line_errors(outside, header, rows, needles):
    _one_line_error(_bad(outside, rows, header, "--favourable-label", "hire"), *needles)
    assert not (outside["root"] / "bad-reports").exists()


def test_no_favourable_label_is_an_error_not_label_one(outside):
    result = _bad(outside, [["1", "1"], ["0", "0"]], ["label", "prediction"])
    _one_line_error(result, "no favourable label")


def test_favourable_label_outside_label_set(outside):
    result = _bad(outside, [["1", "1"], ["0", "0"]], ["label", "prediction"], "--favourable-label", "yes")
    _one_line_error(result, "favourable label 'yes' is not in the label set")


def test_bad_baseline_is_an_input_error(outside):
    bogus = outside["root"] / "bogus.json"
    bogus.write_text("{}", encoding="utf-8")
    code, output, _ = _audit(outside, "--baseline", str(bogus), run_id="never")
    assert code == 2 and "no assessment.accuracy" in output
