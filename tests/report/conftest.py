"""Report fixtures: one real tiny run with hostile strings in the data, shared by every report test."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
import yaml

from ..conftest import EXAMPLE, ROUTINE, URGENT

#: strings that would run script, break out of an attribute, or open markup if not escaped
HOSTILE_GROUP = '"><script>alert(1)</script>'
HOSTILE_GROUP_2 = "' onmouseover='alert(2)' x='</td></tr><tr><td>$\\frac{1}{0}$"
HOSTILE_COLUMN = "<img src=x onerror=alert(3)>"
HOSTILE_LABEL = "<b>urgent</b>\"'"
HOSTILE_NAME = "tickets</title><script>alert(4)</script>"
HOSTILE_STRINGS = (HOSTILE_GROUP, HOSTILE_GROUP_2, HOSTILE_COLUMN, HOSTILE_LABEL, HOSTILE_NAME)


def write_hostile_tickets(folder: Path, n: int = 200, seed: int = 7) -> Path:
    """A tiny CSV and datasheet whose group names, a column name, a label and the dataset name are hostile."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        urgent = i % 5 < 2
        text = rng.choice(URGENT if urgent else ROUTINE)
        if i % 4 == 0:
            text += f". Mail me at user{i}@example.com"
        rows.append({"text": text, "label": HOSTILE_LABEL if urgent else "routine",
                     HOSTILE_COLUMN: rng.choice([HOSTILE_GROUP, HOSTILE_GROUP_2, "plain"])})
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "tickets.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    sheet = yaml.safe_load((EXAMPLE / "datasheet.yaml").read_text(encoding="utf-8"))
    sheet["name"] = HOSTILE_NAME
    sheet["favourable_label"] = HOSTILE_LABEL
    sheet["columns"] = {"text": "text", "label": "label", "sensitive_features": [HOSTILE_COLUMN]}
    (folder / "datasheet.yaml").write_text(yaml.safe_dump(sheet, allow_unicode=True), encoding="utf-8")
    return data


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory) -> tuple[Path, Path]:
    """A fresh Ed25519 key pair: (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder = tmp_path_factory.mktemp("keys")
    key = Ed25519PrivateKey.generate()
    private = folder / "signing.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public = folder / "signing.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


@pytest.fixture(scope="session")
def real_run(tiny_bert, tmp_path_factory, signing_keys) -> Path:
    """One real signed run (tiny BERT, GDPR policy, DP) on the hostile data; returns the run folder."""
    from finetune_governance.api import RunRequest, run
    from finetune_governance.report.signing import signing_key
    from finetune_governance.runconfig import build_config

    root = tmp_path_factory.mktemp("report_run")
    data = write_hostile_tickets(root / "data")
    config = build_config(config_path=None, data=data, datasheet=None, model=str(tiny_bert), epochs=1, limit=None,
                          output=root / "reports")
    with signing_key(signing_keys[0]):
        outcome = run(RunRequest(policy="gdpr", config=config, run_id="hostile", command="pytest report run"))
    return outcome.report_dir
