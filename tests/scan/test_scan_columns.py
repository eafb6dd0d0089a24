"""Every column of the table is scanned: the text column record by record, the others by
distinct value; PII in the label or a sensitive-feature column blocks, elsewhere it is reported."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.evidence import ColumnScan, EntitySummary, MaskedPreview
from finetune_governance.scan.columns import ColumnValues, columns_to_scan, masked_names, scan_columns

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_tickets"
CANARY = "ozymandias.canary.4417@feather-canary.org"


@pytest.fixture
def scanner(analyzer_info, gdpr_pii):
    from finetune_governance.scan.plan import plan_entities
    from finetune_governance.scan.scanner import Scanner, ScanSettings

    analyzer, info = analyzer_info
    settings = ScanSettings(entities=plan_entities(gdpr_pii, info).entities, score_threshold=gdpr_pii.score_threshold)
    with Scanner(analyzer, settings) as scanner:
        yield scanner


def _summaries(columns, scanner, gdpr_pii, chunk_records=20_000):
    from finetune_governance.scan.columns import allowed_in_columns

    return {c.column: c for c in scan_columns(columns, scanner, allowed=allowed_in_columns(gdpr_pii.actions),
                                              threshold_for=gdpr_pii.threshold_for, chunk_records=chunk_records)}


def test_distinct_values_are_scanned_with_record_indices_across_chunks(scanner, gdpr_pii):
    contact = ["", "maria.garcia@example.org", "TKT-00001", "maria.garcia@example.org", "Call 404-214-7967", "Maria Garcia",
               "TKT-01640", "+14042147967"]
    gender = ["female", "male", "female", "male", "female", "non-binary", "male", "male"]
    found = _summaries([ColumnValues("contact", "other", contact), ColumnValues("gender", "sensitive_feature", gender)],
                       scanner, gdpr_pii, chunk_records=4)
    c = found["contact"]
    assert (c.role, c.method, c.handling) == ("other", "distinct values", "reported, not redacted")
    assert c.records_scanned == 8 and c.distinct_values == 6 and c.records_with_pii == 5
    by_type = {e.entity_type: e for e in c.entities}
    assert set(by_type) == {"EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON"}  # the ticket codes are not places or phones
    assert [p.record for p in by_type["PHONE_NUMBER"].previews] == [4, 7]
    email = by_type["EMAIL_ADDRESS"]
    assert (email.count, email.records, email.action) == (2, 2, "report")
    assert [(p.record, p.preview) for p in email.previews] == [(1, "m****.******@*******.***"),
                                                               (3, "m****.******@*******.***")]
    assert by_type["PERSON"].previews[0].record == 5
    g = found["gender"]
    assert g.entities == [] and g.handling == "blocks the run" and g.distinct_values == 3


def test_category_names_in_feature_and_label_columns_are_not_pii(scanner, gdpr_pii):
    race = ["Hispanic or Latino", "Black or African American", "American Indian or Alaska Native", "Asian",
            "Native Hawaiian or Other Pacific Islander", "Muslim", "Maria Garcia"]
    found = _summaries([ColumnValues("race", "sensitive_feature", race), ColumnValues("nationality", "label", race[:6]),
                        ColumnValues("notes", "other", race[:6])], scanner, gdpr_pii)
    assert [(e.entity_type, e.records) for e in found["race"].entities] == [("PERSON", 1)]  # the name only
    assert found["race"].entities[0].previews[0].record == 6
    assert found["nationality"].entities == []
    assert {e.entity_type for e in found["notes"].entities} >= {"NRP"}  # free text elsewhere: still reported


def test_label_and_feature_columns_block_allowed_types_do_not(scanner, gdpr_pii):
    found = _summaries([ColumnValues("label", "label", ["urgent", "j.doe@example.com", "https://example.com/a"])],
                       scanner, gdpr_pii)
    actions = {e.entity_type: e.action for e in found["label"].entities}
    assert actions == {"EMAIL_ADDRESS": "block", "URL": "allow"}  # the gdpr pack allows URLs


def test_columns_holding_no_text_are_listed_not_scanned():
    chosen, skipped = columns_to_scan(
        [("text", ["a", "b"]), ("label", [0, 1]), ("score", [0.5, 1.5]), ("gender", [None, "f"]),
         ("notes", [None, "call me"]), ("tokens", [[1, 2], [3]])],
        text_column="text", label_column="label", sensitive_features=["gender"])
    assert [(c.name, c.role, c.values) for c in chosen] == [
        ("label", "label", ["0", "1"]), ("gender", "sensitive_feature", ["", "f"]), ("notes", "other", ["", "call me"])]
    assert skipped == ["score", "tokens"]


def test_masked_names_are_unique_and_hold_no_value():
    masked = masked_names(["john@example.com", "jane@example.com", "urgent"])
    assert masked == {"john@example.com": "j***@*******.***", "jane@example.com": "j***@*******.*** (2)",
                      "urgent": "u*****"}


def _scan_evidence(columns: list[ColumnScan]):
    from tests.report.report_data import hand_built_evidence

    from finetune_governance.evidence import ResidualSummary, ScanEvidence

    evidence = hand_built_evidence()
    evidence.scan = ScanEvidence(column="text", records_scanned=200, unique_texts=200, spacy_model=None,
                                 presidio_version="2", entities_scanned=["EMAIL_ADDRESS"], score_threshold=0.4,
                                 limitations=[], entities=[], records_with_pii=0, blocked_entities=[],
                                 residual=ResidualSummary(records=0, rate=0.0, by_entity={}), seconds=1.0,
                                 columns=columns)
    return evidence


def _column(name: str, role: str, handling: str, entity: str = "EMAIL_ADDRESS", action: str = "block") -> ColumnScan:
    summary = EntitySummary(entity_type=entity, action=action, count=2, records=2, record_rate=0.01,
                            previews=[MaskedPreview(record=7, preview="j***@*******.***", score=1.0)])
    return ColumnScan(column=name, role=role, method="distinct values", records_scanned=200, distinct_values=3,
                      records_with_pii=2, handling=handling, entities=[summary])


def test_pii_rule_fails_on_a_feature_column_and_warns_on_an_unread_one():
    from finetune_governance.checks import evaluate
    from finetune_governance.policy import load_policy

    policy = load_policy("gdpr")
    evidence = _scan_evidence([_column("gender", "sensitive_feature", "blocks the run")])
    pii = next(f for f in evaluate(policy, evidence) if f.rule_id == "gdpr.minimisation.pii")
    assert pii.status == "fail" and pii.blocking_failure
    assert pii.message.startswith("sensitive-feature column 'gender' holds PII (EMAIL_ADDRESS in 2 record(s))")
    assert "group names" in pii.message and "recode the column" in pii.message and "\n" not in pii.message
    assert pii.measured["read_columns_with_pii"] == {"gender": ["EMAIL_ADDRESS"]}
    evidence = _scan_evidence([_column("contact", "other", "reported, not redacted")])
    pii = next(f for f in evaluate(policy, evidence) if f.rule_id == "gdpr.minimisation.pii")
    assert pii.status == "warn" and not pii.blocking_failure
    assert "warning: PII in column(s) the run does not read (reported, not redacted): 'contact' EMAIL_ADDRESS" in pii.message
    evidence = _scan_evidence([_column("contact", "other", "reported, not redacted", entity="URL", action="allow")])
    assert next(f for f in evaluate(policy, evidence) if f.rule_id == "gdpr.minimisation.pii").status == "pass"


def test_a_policy_without_a_pii_rule_still_fails_on_a_label_column_with_pii():
    from finetune_governance.checks import evaluate
    from finetune_governance.gate import verdict
    from finetune_governance.policy import load_policy

    policy = load_policy("nyc-ll144")
    assert not policy.rules_of("pii")
    evidence = _scan_evidence([_column("label", "label", "blocks the run", entity="PERSON")])
    findings = evaluate(policy, evidence)
    [core] = [f for f in findings if f.rule_id == "core.pii.read-columns"]
    assert core.status == "fail" and core.stage == "scan" and "label column 'label' holds PII (PERSON" in core.message
    assert verdict(findings)[1] == 1
    clean = _scan_evidence([_column("gender", "sensitive_feature", "blocks the run", entity="URL", action="allow")])
    assert not [f for f in evaluate(policy, clean) if f.rule_id == "core.pii.read-columns"]


def _table(tmp_path: Path, *, gender_canary_every: int = 0, contact: bool = True) -> Path:
    data = tmp_path / "data" / "tickets.csv"
    data.parent.mkdir(parents=True)
    shutil.copy(EXAMPLE / "datasheet.yaml", data.parent / "datasheet.yaml")
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "text", "label", "gender", "age_band", "contact"])
        for i in range(12):
            gender = CANARY if gender_canary_every and i % gender_canary_every == 0 else ("female", "male")[i % 2]
            writer.writerow([f"TKT-{i:05d}", "How do I export my invoices?" if i % 3 else "Mail me at a.b@example.com",
                             ("routine", "urgent")[i % 2], gender, ("18-29", "30-44", "45-59", "60+")[i % 4],
                             f"c{i}@example.net" if contact and i % 4 == 0 else ""])
    return data


def test_scan_command_reports_every_column_and_blocks_on_a_feature_column(tmp_path):
    data = _table(tmp_path, gender_canary_every=5)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(data), "--output", str(out),
                                       "--run-id", "cols", "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "sensitive-feature column 'gender' holds PII (EMAIL_ADDRESS in 3 record(s))" in result.output
    audit = json.loads((out / "cols" / "audit.json").read_text(encoding="utf-8"))
    columns = {c["column"]: c for c in audit["scan"]["columns"]}
    assert list(columns) == ["text", "ticket_id", "label", "gender", "age_band", "contact"]
    assert columns["text"]["role"] == "text" and columns["text"]["records_with_pii"] == 4
    assert [e["entity_type"] for e in columns["text"]["entities"]] == [e["entity_type"] for e in audit["scan"]["entities"]]
    assert columns["gender"]["role"] == "sensitive_feature"
    assert [(e["entity_type"], e["records"], [p["record"] for p in e["previews"]]) for e in columns["gender"]["entities"]] \
        == [("EMAIL_ADDRESS", 3, [0, 5, 10])]
    assert [(e["entity_type"], e["records"]) for e in columns["contact"]["entities"]] == [("EMAIL_ADDRESS", 3)]
    assert columns["ticket_id"]["entities"] == [] and columns["age_band"]["entities"] == []
    written = "".join(p.read_text(encoding="utf-8") for p in (out / "cols").iterdir() if p.is_file())
    assert CANARY not in written and CANARY not in result.output
    assert "By column" in (out / "cols" / "audit.html").read_text(encoding="utf-8")


def test_scan_command_warns_on_unread_columns_and_lists_non_text_ones(tmp_path):
    data = tmp_path / "t.jsonl"
    shutil.copy(EXAMPLE / "datasheet.yaml", tmp_path / "datasheet.yaml")
    rows = [{"text": "How do I export my invoices?", "label": "routine", "score": i / 10,
             "contact": f"c{i}@example.net" if i % 2 else None} for i in range(6)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(data), "--output", str(out),
                                       "--run-id", "w", "--workers", "1"])
    assert result.exit_code == 0, result.output
    audit = json.loads((out / "w" / "audit.json").read_text(encoding="utf-8"))
    pii = next(f for f in audit["findings"] if f["rule_id"] == "gdpr.minimisation.pii")
    assert pii["status"] == "warn" and "'contact' EMAIL_ADDRESS in 3 record(s)" in pii["message"]
    assert "columns holding no text not scanned: score" in audit["scan"]["limitations"]
    assert [c["column"] for c in audit["scan"]["columns"]] == ["text", "label", "contact"]
    assert "contact (other: EMAIL_ADDRESS in 3 record(s) -> report)" in (out / "w" / "model_card.md").read_text(
        encoding="utf-8")
