"""``governed-finetune scan``: evidence, canary no-leak, bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.errors import DataError
from finetune_governance.scan.stream import iter_text_chunks

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_tickets"

CANARIES = {
    "PERSON": "Zebulon Quillfeather",
    "EMAIL_ADDRESS": "zq.canary.7731@quillfeather-canary.org",
    "PHONE_NUMBER": "415-555-0199",
    "US_SSN": "771-42-9318",
    "CREDIT_CARD": "4929 7316 2847 3654",
}


def _write(path: Path, texts: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "text", "label"])
        for i, text in enumerate(texts):
            writer.writerow([i, text, "urgent" if i % 2 else "routine"])
    return path


def _canary_data(tmp_path: Path) -> Path:
    c = CANARIES
    texts = [
        f"My name is {c['PERSON']} and my email is {c['EMAIL_ADDRESS']}.",
        f"Call me on {c['PHONE_NUMBER']} about the outage.",
        f"For verification, my SSN is {c['US_SSN']}.",
        f"The card number is {c['CREDIT_CARD']}.",
        "How do I export my invoices as CSV?",
    ] * 3
    data = tmp_path / "data" / "tickets.csv"
    data.parent.mkdir()
    shutil.copy(EXAMPLE / "datasheet.yaml", data.parent / "datasheet.yaml")
    return _write(data, texts)


def test_canary_values_never_reach_written_files(tmp_path):
    data = _canary_data(tmp_path)
    out = tmp_path / "out"
    redacted = out / "redacted.csv"
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(data), "--output", str(out),
                                       "--redact-to", str(redacted), "--run-id", "canary", "--workers", "1"])
    assert result.exit_code in (0, 1), result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert redacted in files and (out / "canary" / "audit.json") in files
    for path in files:
        content = path.read_text(encoding="utf-8")
        for entity, value in CANARIES.items():
            assert value not in content, f"{entity} canary leaked into {path.name}"
            assert value.replace(" ", "") not in content
    for value in CANARIES.values():
        assert value not in result.output


def test_scan_command_writes_scan_evidence_and_only_scan_rules(tmp_path):
    data = _canary_data(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(data), "--output", str(out),
                                       "--run-id", "r1", "--workers", "1"])
    audit = json.loads((out / "r1" / "audit.json").read_text(encoding="utf-8"))
    scan = audit["scan"]
    assert scan["records_scanned"] == 15 and scan["records_with_pii"] == 12
    found = {e["entity_type"]: e["records"] for e in scan["entities"]}
    assert found["US_SSN"] == 3 and found["EMAIL_ADDRESS"] == 3 and found["CREDIT_CARD"] == 3
    assert scan["residual"]["records"] == 0
    stages = {f["stage"] for f in audit["findings"]}
    assert stages <= {"declare", "scan"} and "scan" in stages
    pii = next(f for f in audit["findings"] if f["rule_id"] == "gdpr.minimisation.pii")
    assert pii["status"] == "pass"
    assert result.exit_code == audit["exit_code"]


def test_block_action_fails_and_removes_redacted_output(tmp_path):
    policy = tmp_path / "block.yaml"
    policy.write_text(
        "schema_version: 1\nname: block-ssn\ntitle: Block SSNs\nversion: '1'\nrules:\n"
        "  - id: pii.block\n    title: No SSNs\n    cites: ['test']\n    severity: block\n    check: pii\n"
        "    params: {actions: {US_SSN: block}, entities: [US_SSN, EMAIL_ADDRESS]}\n", encoding="utf-8")
    data = _canary_data(tmp_path)
    redacted = tmp_path / "red.csv"
    result = CliRunner().invoke(main, ["scan", "--policy", str(policy), "--data", str(data), "--output",
                                       str(tmp_path / "out"), "--redact-to", str(redacted), "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert not redacted.exists()
    assert "US_SSN" in result.output


def test_missing_text_column_is_a_one_line_error(tmp_path):
    data = _write(tmp_path / "t.csv", ["hello"])
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(data), "--text-column", "body",
                                       "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "text column 'body' not found" in result.output and "Traceback" not in result.output


def test_non_utf8_file_is_a_clear_error(tmp_path):
    data = tmp_path / "latin1.csv"
    data.write_bytes("ticket_id,text\n1,Jos\xe9 paid\n".encode("latin-1"))
    with pytest.raises(DataError, match="not valid UTF-8"):
        list(iter_text_chunks(data, text_column="text"))
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(data), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "UTF-8" in result.output


def test_empty_strings_and_a_5mb_record_are_handled(analyzer_info):
    from finetune_governance.scan import scan_texts

    analyzer, _ = analyzer_info
    filler = "The dashboard was slow again this afternoon. " * 115_000
    big = filler + "Please email big.record@example.com about it."
    assert len(big) > 5_000_000
    hits = scan_texts(["", big, ""], analyzer=analyzer, entities=["EMAIL_ADDRESS", "PERSON"], score_threshold=0.4)
    assert hits[0] == [] and hits[2] == []
    assert [big[h.start : h.end] for h in hits[1]] == ["big.record@example.com"]


def test_residual_above_max_residual_rate_fails_the_pii_rule(tmp_path, monkeypatch):
    # a redaction step that leaves everything in place: the re-scan must see it and the rule fail
    import finetune_governance.scan.redact as redact

    monkeypatch.setattr(redact, "redact_texts", lambda texts, hits, **kwargs: list(texts))
    data = _canary_data(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(data), "--output", str(out),
                                       "--run-id", "res", "--workers", "1"])
    audit = json.loads((out / "res" / "audit.json").read_text(encoding="utf-8"))
    assert audit["scan"]["residual"]["records"] == audit["scan"]["records_with_pii"] == 12
    pii = next(f for f in audit["findings"] if f["rule_id"] == "gdpr.minimisation.pii")
    assert pii["status"] == "fail" and "still hold PII after redaction" in pii["message"]
    assert result.exit_code == 1


def _hash_policy(tmp_path: Path) -> Path:
    policy = tmp_path / "hash.yaml"
    policy.write_text(
        "schema_version: 1\nname: hash-emails\ntitle: Hash e-mails\nversion: '1'\nrules:\n"
        "  - id: pii.hash\n    title: E-mails hashed\n    cites: ['test']\n    severity: block\n    check: pii\n"
        "    params: {default_action: hash, entities: [EMAIL_ADDRESS]}\n", encoding="utf-8")
    return policy


def test_keyed_hash_reads_its_key_from_the_environment(tmp_path, monkeypatch):
    import hashlib
    import hmac

    data = _canary_data(tmp_path)
    redacted = tmp_path / "hashed.csv"
    args = ["scan", "--policy", str(_hash_policy(tmp_path)), "--data", str(data), "--output", str(tmp_path / "out"),
            "--redact-to", str(redacted), "--workers", "1"]
    monkeypatch.delenv("FTG_HASH_KEY", raising=False)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "FTG_HASH_KEY" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("FTG_HASH_KEY", "canary-key")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    digest = hmac.new(b"canary-key", CANARIES["EMAIL_ADDRESS"].encode(), hashlib.sha256).hexdigest()[:16]
    content = redacted.read_text(encoding="utf-8")
    assert content.count(digest) == 3 and CANARIES["EMAIL_ADDRESS"] not in content
