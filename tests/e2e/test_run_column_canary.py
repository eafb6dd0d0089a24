"""Canary: a unique e-mail planted in a sensitive-feature (or the label) column never reaches a
file the run writes, and the run fails closed with a message naming the column."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main

from ..conftest import EXAMPLE, write_tickets

CANARY = "xerxes.canary.5521@tamarisk-canary.org"


def _plant(data: Path, column: str, every: int = 7) -> None:
    with data.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for i, row in enumerate(rows):
        if i % every == 0:
            row[column] = CANARY
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("column, role", [("gender", "sensitive-feature column"), ("label", "label column")])
def test_pii_in_a_column_the_reports_show_fails_closed_and_leaks_nowhere(tmp_path, tiny_bert, column, role):
    data = write_tickets(tmp_path / "data" / "tickets.csv", n=120)
    shutil.copy(EXAMPLE / "datasheet.yaml", data.parent / "datasheet.yaml")
    _plant(data, column)
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, ["run", "--policy", "gdpr", "--data", str(data), "--model", str(tiny_bert),
                                       "--output", str(out), "--run-id", "c", "--quiet"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and CANARY not in result.output
    evidence = json.loads((out / "c" / "audit.json").read_text(encoding="utf-8"))
    assert "train" not in evidence["stages_run"] and evidence["stopped_early"]
    assert not (out / "c" / "predictions.csv").exists() and not (out / "c" / "model").exists()
    pii = next(f for f in evidence["findings"] if f["rule_id"] == "gdpr.minimisation.pii")
    assert pii["status"] == "fail"
    assert pii["message"].startswith(f"{role} '{column}' holds PII (EMAIL_ADDRESS in 18 record(s))")
    assert "recode the column" in pii["message"]
    assert f"{role} '{column}' holds PII" in result.output  # the console names it too
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"audit.json", "audit.html", "model_card.md", "run.log", "junit.xml"} <= {p.name for p in files}
    for path in files:
        content = path.read_bytes().decode("utf-8", errors="replace")
        assert CANARY not in content and CANARY.split("@")[0] not in content, path.name
    [core] = [p for p in evidence["plugins"]["loaded"] if p["name"] == "core"]  # every recognizer via the hook
    assert {"PERSON", "EMAIL_ADDRESS", "STREET_ADDRESS", "DATE_TIME", "PASSWORD"} <= set(core["recognizers"])
    html = (out / "c" / "audit.html").read_text(encoding="utf-8")
    row = html[html.index('<tr data-plugin="core">'):].split("</tr>")[0]
    assert "STREET_ADDRESS" in row and "SECRET_API_KEY" in row
    if column == "label":  # label names are written into the dataset evidence: masked
        assert "x*****.******.****@********-******.***" in evidence["dataset"]["classes"]
