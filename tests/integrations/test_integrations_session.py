"""GovernanceSession's assessment is the one run and audit use (intersections, per-rule settings,
bootstrap, probabilities); waivers apply at finish; a missing favourable label fails before training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from finetune_governance.errors import DataError, UsageError
from finetune_governance.integrations.session import GovernanceSession, SessionSettings

SHEET = {"schema_version": 1, "name": "tickets", "purpose": "Route tickets", "favourable_label": "urgent",
         "columns": {"text": "text", "label": "label", "sensitive_features": ["gender", "age_band"]}}
RULES = [
    {"id": "s.parity", "title": "Parity", "cites": ["c"], "severity": "block", "check": "fairness",
     "params": {"metric": "demographic_parity_ratio", "min": 0.95, "min_group_size": 5, "intersections": True,
                "n_boot": 100}},
    {"id": "s.small", "title": "Impact", "cites": ["c"], "severity": "warn", "check": "fairness",
     "params": {"metric": "impact_ratio", "min": 0.0, "min_group_size": 1, "features": ["gender"]}},
]


def _session(tmp_path: Path, *, sheet=SHEET, waivers: Path | None = None, run_id: str = "s") -> GovernanceSession:
    (tmp_path / "datasheet.yaml").write_text(yaml.safe_dump(sheet), encoding="utf-8")
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(
        {"schema_version": 1, "name": "s", "title": "s", "version": "1", "rules": RULES}), encoding="utf-8")
    return GovernanceSession(SessionSettings(policy=tmp_path / "policy.yaml", datasheet=tmp_path / "datasheet.yaml",
                                             output_dir=tmp_path / "out", run_id=run_id, waivers=waivers))


def _started(session: GovernanceSession) -> None:
    """The evidence begin() would start (its scan is covered by the callback tests)."""
    from finetune_governance.api import policy_evidence
    from finetune_governance.environment import environment
    from finetune_governance.evidence import RunEvidence

    session.evidence = RunEvidence(run_id="s", tool_version="0", git_commit=None,
                                   started_at="2026-03-01T12:00:00+00:00", command="test", config={},
                                   environment=environment("cpu"), policy=policy_evidence(session.policy))
    session.plugins = None


def _eval_set(n: int = 80):
    rng = np.random.default_rng(1)
    frame = {"text": ["t"] * n, "label": list(rng.choice(["routine", "urgent"], n)),
             "gender": list(rng.choice(["female", "male"], n)), "age_band": list(rng.choice(["18-29", "30-44"], n))}
    p_urgent = rng.random(n)
    predicted = ["urgent" if p > 0.5 else "routine" for p in p_urgent]
    return frame, predicted, [[1 - p, p] for p in p_urgent]


def test_session_assessment_matches_the_shared_one(tmp_path):
    from finetune_governance.assess import assess_predictions, fairness_plan

    session = _session(tmp_path)
    _started(session)
    frame, predicted, probs = _eval_set()
    got = session.assess(frame, predicted, classes=["routine", "urgent"], probabilities=probs)
    expected = assess_predictions(
        y_true=frame["label"], y_pred=predicted, classes=["routine", "urgent"], favourable_label="urgent",
        groups={f: frame[f] for f in ("gender", "age_band")}, settings=fairness_plan(session.policy,
                                                                                    favourable_label="urgent"),
        probabilities=probs, predictions_path="predictions.csv", predictions_sha256=got.predictions_sha256)
    assert got.fairness == expected.fairness and got.fairness_by_rule == expected.fairness_by_rule
    assert [f.feature for f in got.fairness] == ["gender", "age_band", "gender & age_band"]
    assert list(got.fairness_by_rule) == ["s.small"] and got.fairness[0].ci  # bootstrap ran
    assert got.roc_auc is not None and got.expected_calibration_error is not None
    assert got.balanced_accuracy is not None and got.per_class_precision and got.per_class_recall
    saved = (tmp_path / "out" / "s" / "predictions.csv").read_text(encoding="utf-8").splitlines()
    assert saved[0] == "record,label,prediction,score_routine,score_urgent,gender,age_band"
    assert "no predictions on the training split" in got.membership_not_run


def test_session_waivers_apply_at_finish(tmp_path):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(yaml.safe_dump({"schema_version": 1, "waivers": [
        {"rule_id": "s.parity", "justification": "Accepted for the pilot (T-9)", "approver": "Jane Doe (DPO)",
         "expires": "2999-12-31"}]}), encoding="utf-8")
    session = _session(tmp_path, waivers=waivers)
    _started(session)
    frame, predicted, probs = _eval_set()
    session.assess(frame, predicted, classes=["routine", "urgent"], probabilities=probs)
    assert session.finish() == 0
    audit = json.loads((tmp_path / "out" / "s" / "audit.json").read_text(encoding="utf-8"))
    assert {f["rule_id"]: f["status"] for f in audit["findings"]}["s.parity"] == "waived"


def test_session_input_errors(tmp_path):
    with pytest.raises(UsageError, match="no favourable label for fairness rule 's.parity'"):
        _session(tmp_path, sheet={k: v for k, v in SHEET.items() if k != "favourable_label"})
    session = _session(tmp_path)
    _started(session)
    frame, predicted, probs = _eval_set()
    with pytest.raises(DataError, match="expected \\(80, 2\\)"):
        session.assess(frame, predicted, classes=["routine", "urgent"], probabilities=[p[:1] for p in probs])
    with pytest.raises(DataError, match="label 'urgent' is not one of the classes"):
        session.assess(frame, predicted, classes=["routine", "other"])


def test_begin_stops_on_pii_in_a_feature_column_even_without_a_pii_rule(tmp_path):
    from finetune_governance.errors import BlockedError

    canary = "quincy.canary.8812@marram-canary.org"
    session = _session(tmp_path, run_id="cols")
    n = 40
    data = {"text": ["How do I export my invoices?"] * n, "label": ["routine", "urgent"] * (n // 2),
            "gender": [canary if i % 10 == 0 else "female" for i in range(n)], "age_band": ["18-29"] * n,
            "input_ids": [[101, 7, 102]] * n, "notes": ["call Maria Garcia" if i == 3 else "" for i in range(n)]}
    with pytest.raises(BlockedError, match="stopped before it began") as raised:
        session.begin(data, command="test", config={})
    assert canary not in str(raised.value)
    audit = json.loads((tmp_path / "out" / "cols" / "audit.json").read_text(encoding="utf-8"))
    [core] = [f for f in audit["findings"] if f["rule_id"] == "core.pii.read-columns"]
    assert core["status"] == "fail" and "sensitive-feature column 'gender' holds PII (EMAIL_ADDRESS" in core["message"]
    columns = {c["column"]: c for c in audit["scan"]["columns"]}
    assert list(columns) == ["text", "label", "gender", "age_band", "notes"]  # input_ids holds no text
    assert [e["entity_type"] for e in columns["notes"]["entities"]] == ["PERSON"]
    assert "columns holding no text not scanned: input_ids" in audit["scan"]["limitations"]
    written = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out" / "cols").iterdir() if p.is_file())
    assert canary not in written and "Maria Garcia" not in written
