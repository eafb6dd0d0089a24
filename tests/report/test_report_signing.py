"""The signed manifest: verify passes on a fresh run, and any single-byte change fails naming the file."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main
from finetune_governance.report import write_reports
from finetune_governance.report.signing import MANIFEST, SIGNATURE, VerificationError, verify_run
from tests.report.report_data import hand_built_evidence


@pytest.fixture
def run_copy(real_run, tmp_path):
    return shutil.copytree(real_run, tmp_path / "run")


def test_fresh_run_verifies_with_the_pinned_key(run_copy, signing_keys):
    result = CliRunner().invoke(main, ["verify", str(run_copy), "--public-key", str(signing_keys[1])])
    assert result.exit_code == 0, result.output
    assert "signature valid" in result.output and "the pinned key" in result.output
    manifest = json.loads((run_copy / MANIFEST).read_text(encoding="utf-8"))
    files = set(manifest["files"])
    assert {"audit.json", "audit.html", "model_card.md", "junit.xml", "sarif.json", "cyclonedx.json",
            "predictions.csv", "run.log", "model/model.safetensors"} <= files
    evidence = json.loads((run_copy / "audit.json").read_text(encoding="utf-8"))
    assert evidence["signing"]["signed"] and evidence["signing"]["public_key"] == manifest["public_key"]


def test_any_single_byte_change_fails_naming_the_file(run_copy):
    names = [p.relative_to(run_copy).as_posix() for p in sorted(run_copy.rglob("*")) if p.is_file()]
    assert MANIFEST in names and SIGNATURE in names
    for name in names:
        path = run_copy / name
        original = path.read_bytes()
        for offset in sorted({0, len(original) // 2, len(original) - 1}):
            changed = bytearray(original)
            changed[offset] ^= 0x01
            path.write_bytes(bytes(changed))
            with pytest.raises(VerificationError) as info:
                verify_run(run_copy)
            named = MANIFEST if name == SIGNATURE else name  # a bad signature is reported against the manifest
            assert f"{run_copy / named}:" in info.value.message or f"{run_copy / name}:" in info.value.message, \
                (name, info.value.message)
        path.write_bytes(original)
    assert verify_run(run_copy).signed


def test_cli_names_the_altered_file_and_exits_1(run_copy):
    (run_copy / "predictions.csv").write_bytes((run_copy / "predictions.csv").read_bytes() + b"\n")
    result = CliRunner().invoke(main, ["verify", str(run_copy)])
    assert result.exit_code == 1
    assert "predictions.csv: altered" in result.output and "Traceback" not in result.output


def test_added_and_missing_files_fail(run_copy):
    (run_copy / "extra.txt").write_text("x", encoding="utf-8")
    with pytest.raises(VerificationError, match="extra.txt: not in the manifest"):
        verify_run(run_copy)
    (run_copy / "extra.txt").unlink()
    (run_copy / "junit.xml").unlink()
    with pytest.raises(VerificationError, match="junit.xml: missing"):
        verify_run(run_copy)


def test_a_different_pinned_key_fails(run_copy, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    other = tmp_path / "other.pub"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    result = CliRunner().invoke(main, ["verify", str(run_copy), "--public-key", str(other)])
    assert result.exit_code == 1 and "not by the --public-key given" in result.output


def test_unsigned_run_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("FTG_SIGNING_KEY", raising=False)
    evidence = hand_built_evidence()
    write_reports(evidence, tmp_path)
    assert not (tmp_path / SIGNATURE).exists()
    assert evidence.signing is not None and not evidence.signing.signed and "unsigned" in evidence.signing.note
    assert "<strong>Unsigned.</strong>" in (tmp_path / "audit.html").read_text(encoding="utf-8")
    assert json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))["signed"] is False
    result = CliRunner().invoke(main, ["verify", str(tmp_path)])
    assert result.exit_code == 0 and "UNSIGNED" in result.output
    result = CliRunner().invoke(main, ["verify", str(tmp_path), "--require-signature"])
    assert result.exit_code == 1 and "manifest.json.sig: missing" in result.output


def test_key_from_environment_signs(tmp_path, monkeypatch, signing_keys):
    monkeypatch.setenv("FTG_SIGNING_KEY", str(signing_keys[0]))
    evidence = hand_built_evidence()
    write_reports(evidence, tmp_path)
    assert evidence.signing.signed and evidence.signing.key_source == "FTG_SIGNING_KEY"
    assert verify_run(tmp_path, public_key=signing_keys[1]).pinned


def test_bad_signing_key_is_a_one_line_usage_error(tmp_path, tickets):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--policy", "gdpr", "--data", str(tickets), "--signing-key", str(bad),
                                       "--output", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2 and "signing key" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_signing_key_block_signs_like_the_option(tmp_path, signing_keys):
    from finetune_governance.report.signing import signing_key

    evidence = hand_built_evidence()
    with signing_key(signing_keys[0]):
        write_reports(evidence, tmp_path)
    assert evidence.signing.signed and evidence.signing.key_source == "option"
    assert verify_run(tmp_path, public_key=signing_keys[1]).pinned


def test_api_bad_signing_key_fails_before_anything_is_written(tmp_path, tickets):
    from finetune_governance.api import RunRequest, run
    from finetune_governance.errors import UsageError
    from finetune_governance.runconfig import build_config

    bad = tmp_path / "bad.pem"
    bad.write_text("not a key", encoding="utf-8")
    config = build_config(config_path=None, data=tickets, datasheet=None, model=None, epochs=1, limit=None,
                          output=tmp_path / "out")
    with pytest.raises(UsageError, match="signing key"):
        run(RunRequest(policy="gdpr", config=config, signing_key=bad))
    assert not (tmp_path / "out").exists()


def test_signature_removed_from_a_signed_run_fails(run_copy):
    (run_copy / SIGNATURE).unlink()
    result = CliRunner().invoke(main, ["verify", str(run_copy)])
    assert result.exit_code == 1 and "UNSIGNED" not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "manifest.json.sig: missing; audit.json records a run signed with key" in result.output


def test_manifest_rewritten_unsigned_for_a_signed_run_fails(run_copy):
    from finetune_governance.data.fingerprint import sha256_file

    manifest = json.loads((run_copy / MANIFEST).read_text(encoding="utf-8"))
    manifest.update(signed=False, algorithm=None, public_key=None)
    manifest["files"] = {name: sha256_file(run_copy / name) for name in manifest["files"]}
    (run_copy / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (run_copy / SIGNATURE).unlink()
    with pytest.raises(VerificationError, match="audit.json records a run signed .* manifest.json is unsigned"):
        verify_run(run_copy)
