"""ImageFolder scan: file names and EXIF (generated JPEG/PNG files), redaction strips and renames."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from finetune_governance.errors import DataError
from finetune_governance.policy.schema import PiiParams
from finetune_governance.scan.imagemeta import has_metadata, read_fields
from finetune_governance.scan.images import scan_image_folder

CANARIES = ("Zebulon Quartermaine", "SN-CANARY-90817", "zq.canary@example.org", "Quentin Marlowe-Tribble")


def _jpeg(path: Path, *, artist: str | None = None, serial: str | None = None, gps: bool = False,
          description: str | None = None) -> None:
    img = Image.new("RGB", (16, 12), (120, 30, 200))
    exif = Image.Exif()
    if artist:
        exif[0x013B] = artist
    if description:
        exif[0x010E] = description
    if serial:
        exif.get_ifd(0x8769)[0xA431] = serial
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 29.6), 3: "E", 4: (2.0, 17.0, 40.2)})
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, exif=exif, comment=b"")


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    _jpeg(root / "cats" / "plain_001.jpg")
    _jpeg(root / "cats" / f"{CANARIES[3].replace(' ', '_')}.jpg")
    _jpeg(root / "dogs" / "dog_002.jpg", artist=CANARIES[0], serial=CANARIES[1], gps=True)
    _jpeg(root / "dogs" / "dog_003.jpg", description=f"Sent by {CANARIES[2]}")
    Image.new("RGB", (8, 8)).save(root / "dogs" / "dog_004.png")
    return root


def test_read_fields_finds_exif(folder: Path) -> None:
    fields = {(f.field, f.kind): f.value for f in read_fields(folder / "dogs" / "dog_002.jpg", 2)}
    assert fields[("Artist", "EXIF_OWNER")] == CANARIES[0]
    assert fields[("BodySerialNumber", "DEVICE_SERIAL")] == CANARIES[1]
    lat, lon = (float(x) for x in fields[("GPSInfo", "GPS_LOCATION")].split(","))
    assert lat == pytest.approx(48.8582, abs=1e-3) and lon == pytest.approx(2.2945, abs=1e-3)


def test_scan_and_redact_image_folder(folder: Path, tmp_path: Path, analyzer_info) -> None:
    params = PiiParams(score_threshold=0.4, default_action="replace")
    out = tmp_path / "redacted"
    evidence, plan = scan_image_folder(folder, params, hash_key=b"k" * 16, redact_to=out, analyzer_and_info=analyzer_info)
    found = {e.entity_type: e.records for e in evidence.entities}
    assert found["EXIF_OWNER"] == 1 and found["DEVICE_SERIAL"] == 1 and found["GPS_LOCATION"] == 1
    assert found["EMAIL_ADDRESS"] == 1 and found["PERSON"] >= 1
    assert ("file_name", "PERSON") in {(f.field, f.entity_type) for f in evidence.by_field}
    assert evidence.records_scanned == 5 and evidence.residual is not None and evidence.residual.records == 0
    [classes] = evidence.columns  # the class folder names, scanned as the label column: no PII in cats/dogs
    assert (classes.role, classes.handling, classes.entities) == ("label", "blocks the run", [])
    assert classes.records_scanned == 5 and classes.distinct_values == 2 and not evidence.read_columns_with_pii
    by_source = {a.source.name: a for a in plan.actions}
    assert by_source["dog_002.jpg"].strip_metadata and not by_source["plain_001.jpg"].strip_metadata
    renamed = by_source[f"{CANARIES[3].replace(' ', '_')}.jpg"].target_name
    assert len(Path(renamed).stem) == 16 and renamed.endswith(".jpg")
    assert not has_metadata(out / "dogs" / "dog_002.jpg") and not has_metadata(out / "dogs" / "dog_003.jpg")
    assert sorted(p.relative_to(out).parts[0] for p in out.rglob("*.*")) == ["cats"] * 2 + ["dogs"] * 3
    written = json.dumps(evidence.model_dump()) + " ".join(str(p) for p in out.rglob("*"))
    assert not any(c in written for c in CANARIES)
    assert not any(c.split()[0] in written for c in (CANARIES[0], CANARIES[3]))


def test_class_folder_named_after_a_person_blocks(tmp_path: Path, analyzer_info) -> None:
    root = tmp_path / "images"
    _jpeg(root / CANARIES[0] / "a.jpg")
    _jpeg(root / CANARIES[0] / "b.jpg")
    _jpeg(root / "others" / "c.jpg")
    evidence, _ = scan_image_folder(root, PiiParams(score_threshold=0.4), analyzer_and_info=analyzer_info)
    [classes] = evidence.read_columns_with_pii
    assert classes.role == "label" and [e.entity_type for e in classes.entities] == ["PERSON"]
    assert classes.entities[0].records == 2 and classes.records_with_pii == 2
    written = json.dumps(evidence.model_dump())
    assert CANARIES[0] not in written and CANARIES[0].split()[1] not in written


def test_block_writes_nothing(folder: Path, tmp_path: Path, analyzer_info) -> None:
    params = PiiParams(score_threshold=0.4, actions={"GPS_LOCATION": "block"})
    out = tmp_path / "redacted"
    evidence, plan = scan_image_folder(folder, params, redact_to=out, analyzer_and_info=analyzer_info)
    assert evidence.blocked_entities == ["GPS_LOCATION"] and plan.blocked and not out.exists()


def test_not_an_image_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no images found"):
        scan_image_folder(tmp_path, PiiParams())


def test_scan_command_on_image_folder(folder: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from finetune_governance.cli import main

    out, redacted = tmp_path / "out", tmp_path / "clean"
    result = CliRunner().invoke(main, ["scan", "--policy", "gdpr", "--data", str(folder), "--output", str(out),
                                       "--redact-to", str(redacted), "--run-id", "img", "--workers", "1"])
    assert result.exit_code in (0, 1), result.output
    audit = json.loads((out / "img" / "audit.json").read_text())
    assert audit["scan"]["records_scanned"] == 5 and audit["scan"]["by_field"]
    written = " ".join(p.read_text(errors="ignore") for p in out.rglob("*") if p.is_file())
    written += " ".join(str(p) for p in redacted.rglob("*")) + result.output
    assert not any(c in written for c in CANARIES)
