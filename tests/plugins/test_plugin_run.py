"""The example plugin end to end: a real governed run (tiny BERT, Presidio, Opacus,
Fairlearn) with ACME's recognizer, house rule, collector and report section."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from tests.conftest import EXAMPLE, write_tickets

ROOT = Path(__file__).resolve().parents[2]


def _tickets_with_staff_numbers(folder: Path) -> tuple[Path, list[str]]:
    data = write_tickets(folder / "tickets.csv", n=200)
    shutil.copy(EXAMPLE / "datasheet.yaml", folder / "datasheet.yaml")
    rows = list(csv.DictReader(data.open(encoding="utf-8")))
    planted = []
    for i, row in enumerate(rows):
        if i % 4 == 1:
            number = f"EMP-{700000 + 37 * i:06d}"
            planted.append(number)
            row["text"] += f". Raised by employee {number}"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return data, planted


def test_example_plugin_in_a_real_run(acme, tiny_bert, tmp_path):
    from finetune_governance.api import RunRequest, run
    from finetune_governance.runconfig import build_config

    data, planted = _tickets_with_staff_numbers(tmp_path / "data")
    config = build_config(config_path=None, data=data, datasheet=None, model=str(tiny_bert), epochs=1, limit=None,
                          output=tmp_path / "reports")
    outcome = run(RunRequest(policy=ROOT / "examples" / "plugin" / "acme-policy.yaml", config=config,
                             run_id="acme", command="pytest acme run"))
    ev = outcome.evidence

    # the recognizer: found, redacted, none left
    found = {e.entity_type: e for e in ev.scan.entities}
    assert found["EMPLOYEE_ID"].count == len(planted)
    assert ev.scan.residual.by_entity.get("EMPLOYEE_ID", 0) == 0

    # the house rule: evaluated from the evidence, recomputable from the per-group table
    house = next(f for f in ev.findings if f.rule_id == "acme.fairness.worst-group")
    assert house.status in ("pass", "fail")
    worst = min(g.accuracy for f in ev.assessment.fairness for g in f.groups
                if g.accuracy is not None and g.count >= 20)
    assert house.measured == round(worst, 4)

    # the collector and the report section
    assert ev.extra["acme.data_source"] == {"file": "tickets.csv", "banned": False}
    loaded = {p.name: p for p in ev.plugins.loaded}
    assert loaded["acme"].source == "entry-point" and "EMPLOYEE_ID" in loaded["acme"].recognizers
    assert not ev.plugins.failures
    page = (outcome.report_dir / "audit.html").read_text(encoding="utf-8")
    assert 'id="plugin-acme-worst_group"' in page and "ACME house metric" in page
    card = (outcome.report_dir / "model_card.md").read_text(encoding="utf-8")
    assert "## ACME house metric: worst-served groups" in card
    audit = json.loads((outcome.report_dir / "audit.json").read_text(encoding="utf-8"))
    assert audit["report_sections"][0]["plugin"] == "acme"

    # no planted staff number in anything the run wrote
    for path in outcome.report_dir.rglob("*"):
        if path.is_file() and path.suffix not in (".safetensors", ".bin"):
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert not [n for n in planted if n in text], path.name
