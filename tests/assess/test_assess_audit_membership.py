"""Membership inference in `audit`: a `member` column (1 = training record, 0 = held-out) with class
probabilities runs the loss-threshold attacks; the held-out rows alone are assessed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from sklearn.metrics import roc_auc_score

from finetune_governance.cli import main

POLICY = {"schema_version": 1, "name": "m", "title": "m", "version": "1", "rules": [
    {"id": "m.mia", "title": "Membership leakage", "cites": ["GDPR Art. 32"], "severity": "block",
     "check": "membership_inference", "params": {"max_auc": 0.6}}]}


def _predictions(path: Path, model, x, y, members: np.ndarray) -> Path:
    probs = model.predict_proba(x)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record", "label", "prediction", "member", *[f"score_{c}" for c in model.classes_]])
        for i in range(len(y)):
            writer.writerow([i, y[i], model.classes_[probs[i].argmax()], int(members[i]),
                             *[f"{p:.6f}" for p in probs[i]]])
    return path


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=(n, 5))
    y = np.where(x[:, 0] + 1.5 * rng.normal(size=n) > 0, "yes", "no")  # noisy: memorising it leaks
    members = np.zeros(n, dtype=bool)
    members[:300] = True
    return x, y, members


def _audit(tmp_path: Path, preds: Path, run_id: str) -> tuple[int, dict]:
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(POLICY), encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "--policy", str(tmp_path / "policy.yaml"), "--predictions", str(preds),
                                       "--output", str(tmp_path / "out"), "--run-id", run_id])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads((tmp_path / "out" / run_id / "audit.json").read_text(encoding="utf-8"))


def test_membership_audit_separates_an_overfit_model_from_a_regularised_one(tmp_path, data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    x, y, members = data
    tree = DecisionTreeClassifier(random_state=0).fit(x[members], y[members])  # memorises the training rows
    code, ev = _audit(tmp_path, _predictions(tmp_path / "tree.csv", tree, x, y, members), "tree")
    membership = ev["assessment"]["membership"]
    assert membership["members"] == 300 and membership["non_members"] == 300
    assert membership["auc"] > 0.7 and code == 1
    assert ev["assessment"]["test_records"] == 300 and ev["dataset"]["train_records"] == 300
    # the loss attack by hand: loss = -log p(true label), lower loss => member
    probs = tree.predict_proba(x)
    p_true = np.clip(probs[np.arange(len(y)), [list(tree.classes_).index(v) for v in y]], 1e-12, 1)
    loss_auc = roc_auc_score(members, np.log(np.round(p_true, 6).clip(1e-12)))
    attack = next(a for a in membership["attacks"] if a["name"] == "loss")
    assert attack["auc"] == pytest.approx(loss_auc, abs=1e-3)
    assert 0.0 <= attack["tpr_at_1pct_fpr"] <= 1.0
    losses = (tmp_path / "out" / "tree" / "membership_losses.csv").read_text(encoding="utf-8").splitlines()
    assert losses[0] == "record,member,label,loss" and len(losses) == 601

    smooth = LogisticRegression(C=0.01).fit(x[members], y[members])
    code, ev = _audit(tmp_path, _predictions(tmp_path / "lr.csv", smooth, x, y, members), "lr")
    assert ev["assessment"]["membership"]["auc"] < 0.6 and code == 0
    # the assessment is of the held-out rows only
    held = ~members
    accuracy = float(np.mean(smooth.predict(x[held]) == y[held]))
    assert ev["assessment"]["accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_without_member_column_the_reason_is_recorded(tmp_path, data):
    from sklearn.linear_model import LogisticRegression

    x, y, members = data
    model = LogisticRegression().fit(x[members], y[members])
    path = _predictions(tmp_path / "p.csv", model, x, y, members)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([r[:3] + r[4:] for r in rows])  # drop the member column
    code, ev = _audit(tmp_path, path, "none")
    assert ev["assessment"]["membership"] is None and "no 'member' column" in ev["assessment"]["membership_not_run"]
    finding = ev["findings"][0]
    assert finding["status"] == "not_run" and "no 'member' column" in finding["message"] and code == 1


def test_member_column_without_probabilities(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("label,prediction,member\n" + "yes,yes,1\nno,no,0\nyes,no,0\n" * 4, encoding="utf-8")
    code, ev = _audit(tmp_path, path, "noprob")
    assert "needs class probabilities" in ev["assessment"]["membership_not_run"]
