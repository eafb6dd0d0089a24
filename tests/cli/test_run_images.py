"""`governed-finetune run` on an ImageFolder: torchvision models by name, local weights, DP, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from finetune_governance.cli import main

from ..conftest import EXAMPLE
from ..train.conftest import write_image_folder

DP_POLICY = """schema_version: 1
name: dp-only
title: DP only
version: "1"
rules:
  - id: dp.budget
    title: DP within budget
    cites: ["GDPR Art. 25(1)"]
    severity: block
    check: privacy
    params: {differential_privacy: required, max_epsilon: 8.0, max_delta: 1/N, max_grad_norm: 1.0}
"""


def _datasheet(path: Path) -> Path:
    sheet = yaml.safe_load((EXAMPLE / "datasheet.yaml").read_text(encoding="utf-8"))
    sheet["columns"] = {"text": "file", "label": "label", "sensitive_features": []}
    sheet["favourable_label"] = "dog"
    path.write_text(yaml.safe_dump(sheet), encoding="utf-8")
    return path


@pytest.fixture
def images(tmp_path) -> Path:
    root = write_image_folder(tmp_path / "pets", per_class=10, size=32)
    _datasheet(root / "datasheet.yaml")
    return root


def _config(tmp: Path, root: Path, model: str, *, weights: Path | None = None) -> Path:
    config = {"schema_version": 1, "data": {"path": str(root), "datasheet": str(root / "datasheet.yaml")},
              "model": {"base": model, "image_size": 32, "freeze": "none",
                        **({"weights": str(weights)} if weights else {})},
              "training": {"epochs": 1, "batch_size": 8, "learning_rate": 0.001, "seed": 1, "device": "cpu"},
              "output": {"root": str(tmp / "reports")}}
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", "--quiet", *args])
    return result.exit_code, result.output


def test_cli_flags_run_the_image_path_with_local_weights(tmp_path, images):
    import torch
    from safetensors.torch import save_file
    from torchvision.models import get_model

    torch.manual_seed(2)
    save_file(get_model("resnet18", weights=None).state_dict(), str(tmp_path / "r18.safetensors"))
    code, output = _run(["--policy", "baseline", "--model", "torchvision:resnet18", "--data", str(images),
                         "--weights", str(tmp_path / "r18.safetensors"), "--output", str(tmp_path / "out"),
                         "--run-id", "img"])
    assert code == 0, output
    audit = json.loads((tmp_path / "out" / "img" / "audit.json").read_text())
    assert audit["dataset"]["format"] == "imagefolder" and audit["dataset"]["records"] == 20
    assert audit["dataset"]["classes"] == ["cat", "dog"] and audit["dataset"]["text_column"] == "file"
    assert audit["training"]["base_model"] == "torchvision:resnet18" and audit["training"]["architecture"] == "ResNet"
    assert audit["training"]["head"] == "fc" and audit["training"]["steps"] >= 1
    assert audit["scan"]["records_scanned"] == 20
    assert any("file names" in note for note in audit["scan"]["limitations"])
    assert audit["assessment"]["accuracy"] is not None
    assert (tmp_path / "out" / "img" / "model" / "model.safetensors").is_file()
    assert "error" not in output


def test_dp_image_run_replaces_batchnorm_and_spends_the_budget(tmp_path, images):
    (tmp_path / "dp.yaml").write_text(DP_POLICY, encoding="utf-8")
    config = _config(tmp_path, images, "torchvision:mobilenet_v3_small")
    code, output = _run(["--policy", str(tmp_path / "dp.yaml"), "--config", str(config), "--run-id", "dp"])
    assert code == 0, output
    audit = json.loads((tmp_path / "reports" / "dp" / "audit.json").read_text())
    privacy = audit["privacy"]
    assert privacy["enabled"] and 0 < privacy["epsilon"] <= 8.0 and privacy["poisson_sampling"]
    assert privacy["replaced_modules"] and all("BatchNorm2d -> GroupNorm" in r for r in privacy["replaced_modules"])
    assert audit["findings"][0]["rule_id"] == "dp.budget" and audit["findings"][0]["status"] == "pass"


def _assert_one_line(code: int, output: str, *needles: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_bad_image_input_is_one_line(tmp_path, images):
    out = str(tmp_path / "out")
    base = ["--policy", "baseline", "--output", out]
    _assert_one_line(*_run([*base, "--model", "torchvision:resnet1800", "--data", str(images)]),
                     "torchvision:resnet1800", "unknown torchvision architecture", "resnet18")
    _assert_one_line(*_run([*base, "--model", "torchvision:resnet18", "--data", str(images),
                            "--weights", str(tmp_path / "missing.pt")]), "missing.pt", "not found")
    _assert_one_line(*_run([*base, "--data", str(images)]), "is an image folder", "torchvision:")
    one = write_image_folder(tmp_path / "one", classes=("cat",), per_class=3, size=32)
    _datasheet(one / "datasheet.yaml")
    _assert_one_line(*_run([*base, "--model", "torchvision:resnet18", "--data", str(one)]),
                     str(one), "at least two")
    (images / "dog" / "notes.txt").write_text("not an image", encoding="utf-8")
    _assert_one_line(*_run([*base, "--model", "torchvision:resnet18", "--data", str(images)]),
                     "notes.txt", "not an image file")
    (images / "dog" / "notes.txt").unlink()
    (images / "dog" / "broken.png").write_bytes(b"\x89PNG not really")
    _assert_one_line(*_run([*base, "--model", "torchvision:resnet18", "--data", str(images)]),
                     "broken.png", "cannot be decoded")
    assert not list(Path(out).rglob("audit.json")) and not Path(out).exists()


def test_image_run_trains_on_a_copy_without_pii_names_or_metadata(tmp_path, images):
    """File names and EXIF with PII are found, redacted (renamed, stripped) and re-scanned; the
    run trains on that copy and writes neither the names nor the metadata values anywhere."""
    from PIL import Image

    person, artist = "Johanna Whitfield", "Bartholomew Quince"
    for i in range(3):
        img = Image.new("RGB", (32, 32), (40 + 8 * i, 30, 160))
        exif = Image.Exif()
        exif[0x013B] = artist  # Artist: an owner field
        img.save(images / "cat" / f"{person.replace(' ', '_')}_{i}.jpg", exif=exif.tobytes())
    code, output = _run(["--policy", "baseline", "--config", str(_config(tmp_path, images, "torchvision:resnet18")),
                         "--output", str(tmp_path / "out"), "--run-id", "pii"])
    assert code in (0, 1), output
    audit = json.loads((tmp_path / "out" / "pii" / "audit.json").read_text())
    found = {e["entity_type"]: e for e in audit["scan"]["entities"]}
    assert found["PERSON"]["records"] >= 3 and found["EXIF_OWNER"]["records"] == 3
    assert audit["scan"]["residual"]["records"] == 0
    assert audit["dataset"]["records"] == 23 and audit["training"]["steps"] >= 1
    assert audit["dataset"]["redacted_sha256"] and audit["dataset"]["redacted_sha256"] != audit["dataset"]["sha256"]
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file() and path.suffix != ".safetensors":
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert "Whitfield" not in text and "Quince" not in text, path.name


def test_class_folder_holding_a_name_stops_before_training(tmp_path):
    canary = "Zebulon Quartermaine"
    root = write_image_folder(tmp_path / "pets", classes=(canary, "dog"), per_class=6, size=32)
    _datasheet(root / "datasheet.yaml")
    code, output = _run(["--policy", "gdpr", "--model", "torchvision:resnet18", "--data", str(root),
                         "--output", str(tmp_path / "out"), "--run-id", "names"])
    assert code == 1, output  # the label names would be written into the reports and the model
    assert "rename the class folders" in output
    audit = json.loads((tmp_path / "out" / "names" / "audit.json").read_text())
    assert "train" not in audit["stages_run"] and "class folder (label)" in audit["stopped_early"]
    [classes] = [c for c in audit["scan"]["columns"] if c["role"] == "label"]
    assert [e["entity_type"] for e in classes["entities"]] == ["PERSON"]
    [pii] = [f for f in audit["findings"] if f["rule_id"] == "gdpr.minimisation.pii"]
    assert pii["status"] == "fail"
    written = " ".join(p.read_text(errors="ignore") for p in (tmp_path / "out").rglob("*") if p.is_file()) + output
    assert canary not in written and "Quartermaine" not in written
