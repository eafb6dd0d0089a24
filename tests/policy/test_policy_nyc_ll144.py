"""The NYC LL144 pack end to end through `governed-finetune audit`: impact ratios for sex,
race/ethnicity and their intersection, the unknown category counted but not in the ratios,
categories under 2% excluded and reported, four-fifths only a warning."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from finetune_governance.cli import main

DATASHEET = """schema_version: 1
name: screening
description: Screening decisions of an AEDT (synthetic test data).
purpose: Bias audit of an automated employment decision tool.
lawful_basis: legitimate_interests
origin: Historical screening decisions exported from the AEDT (synthetic for this test)
licence: proprietary
jurisdiction: US-NY
data_subjects: [candidates]
contains_personal_data: true
favourable_label: selected
columns: {text: text, label: label, sensitive_features: [sex, race_ethnicity]}
"""


def _predictions(path: Path) -> list[dict[str, str]]:
    rng = random.Random(7)
    rows = []
    for _ in range(1500):
        sex = rng.choices(["female", "male", ""], [0.47, 0.47, 0.06])[0]
        race = rng.choices(["White", "Black", "Hispanic", "Asian", "Native American", ""],
                           [0.4, 0.22, 0.2, 0.12, 0.01, 0.05])[0]
        rate = (0.45 if sex == "male" else 0.35) - (0.08 if race == "Black" else 0.0)
        rows.append({"label": rng.choice(["selected", "rejected"]),
                     "prediction": "selected" if rng.random() < rate else "rejected",
                     "sex": sex, "race_ethnicity": race})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _impact_ratios(rows: list[dict[str, str]], feature: str) -> dict[str, float]:
    """By hand: selection rate per category over categories with 2%+ of the data, unknown left out."""
    counts = Counter(r[feature] for r in rows)
    selected = Counter(r[feature] for r in rows if r["prediction"] == "selected")
    rates = {g: selected[g] / n for g, n in counts.items() if g and n / len(rows) >= 0.02}
    top = max(rates.values())
    return {g: rate / top for g, rate in rates.items()}


def test_nyc_ll144_audit_of_outside_predictions(tmp_path):
    rows = _predictions(tmp_path / "preds.csv")
    (tmp_path / "datasheet.yaml").write_text(DATASHEET, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "--policy", "nyc-ll144", "--predictions", str(tmp_path / "preds.csv"),
                                       "--datasheet", str(tmp_path / "datasheet.yaml"),
                                       "--output", str(tmp_path / "out"), "--run-id", "ll144"])
    assert result.exit_code == 0, result.output  # the figures exist; four-fifths only warns
    audit = json.loads((tmp_path / "out" / "ll144" / "audit.json").read_text(encoding="utf-8"))
    by_feature = {f["feature"]: f for f in audit["assessment"]["fairness"]}
    assert set(by_feature) == {"sex", "race_ethnicity", "sex & race_ethnicity"}

    for feature in ("sex", "race_ethnicity"):
        groups = {g["group"]: g for g in by_feature[feature]["groups"]}
        expected = _impact_ratios(rows, feature)
        for group, ratio in expected.items():
            assert groups[group]["in_ratios"] and abs(groups[group]["impact_ratio"] - ratio) < 1e-4, group
        assert abs(by_feature[feature]["impact_ratio"] - min(expected.values())) < 1e-4
        unknown = groups["unknown"]
        assert unknown["count"] == sum(1 for r in rows if not r[feature])
        assert not unknown["in_ratios"] and "unknown category" in unknown["reason"]
    race = {g["group"]: g for g in by_feature["race_ethnicity"]["groups"]}
    assert not race["Native American"]["in_ratios"] and "under 0.02" in race["Native American"]["reason"]
    assert "Native American" in by_feature["race_ethnicity"]["excluded_groups"]
    crossed = {g["group"]: g for g in by_feature["sex & race_ethnicity"]["groups"]}
    assert not any(g["in_ratios"] for name, g in crossed.items() if "unknown" in name)

    findings = {f["rule_id"]: f for f in audit["findings"]}
    assert findings["nyc-ll144.audit.impact-ratios"]["status"] == "pass"
    assert findings["nyc-ll144.four-fifths"]["status"] == "warn"  # sex ratio ~0.78 < 0.8: a warning, not a fail
    assert findings["nyc-ll144.four-fifths"]["severity"] == "warn"
    # every table (sex, race/ethnicity, their intersection) records its 2% cut-off
    assert all(f["exclude_below_share"] == 0.02 for f in by_feature.values())
    assert findings["nyc-ll144.audit.published-figures"]["measured"]["exclusion"] == "present"
    page = (tmp_path / "out" / "ll144" / "audit.html").read_text(encoding="utf-8")
    assert "unknown category: counted, not in ratios" in page


def _scored(path: Path) -> list[dict[str, str]]:
    rng = random.Random(11)
    rows = []
    for _ in range(1200):
        sex = rng.choices(["female", "male", ""], [0.48, 0.48, 0.04])[0]
        race = rng.choices(["White", "Black", "Asian", "Pacific Islander"], [0.5, 0.3, 0.19, 0.01])[0]
        score = rng.random() + (0.15 if sex == "male" else 0.0)
        rows.append({"label": rng.choice(["selected", "rejected"]), "prediction": "selected" if score > 0.6 else
                     "rejected", "score": f"{score:.6f}", "sex": sex, "race_ethnicity": race})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_nyc_ll144_scoring_pack_uses_scoring_rates(tmp_path):
    """6 RCNY § 5-301(c): share above the full sample's median score, per category, over the highest."""
    from statistics import median

    rows = _scored(tmp_path / "scores.csv")
    (tmp_path / "datasheet.yaml").write_text(DATASHEET, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "--policy", "nyc-ll144-scoring", "--predictions",
                                       str(tmp_path / "scores.csv"), "--datasheet", str(tmp_path / "datasheet.yaml"),
                                       "--output", str(tmp_path / "out"), "--run-id", "scoring"])
    assert result.exit_code == 0, result.output
    audit = json.loads((tmp_path / "out" / "scoring" / "audit.json").read_text(encoding="utf-8"))
    findings = {f["rule_id"]: f for f in audit["findings"]}
    assert findings["nyc-ll144.audit.impact-ratios"]["status"] == "pass"
    assert "6 RCNY § 5-301(c)" in findings["nyc-ll144.audit.impact-ratios"]["cites"]
    cut = median(float(r["score"]) for r in rows)
    counts = Counter(r["sex"] for r in rows)
    above = Counter(r["sex"] for r in rows if float(r["score"]) > cut)
    rates = {g: above[g] / n for g, n in counts.items() if g}
    expected = min(rates.values()) / max(rates.values())
    measured = findings["nyc-ll144.four-fifths"]["measured"]["sex"]
    assert abs(measured - expected) < 1e-4, (measured, expected)
    assert findings["nyc-ll144.four-fifths"]["status"] == ("warn" if expected < 0.8 else "pass")


def test_nyc_ll144_scoring_pack_without_scores_is_an_input_error(tmp_path):
    _predictions(tmp_path / "preds.csv")
    (tmp_path / "datasheet.yaml").write_text(DATASHEET, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "--policy", "nyc-ll144-scoring", "--predictions",
                                       str(tmp_path / "preds.csv"), "--datasheet", str(tmp_path / "datasheet.yaml"),
                                       "--output", str(tmp_path / "out"), "--run-id", "noscore"])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "score" in result.output
