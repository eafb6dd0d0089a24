"""Shared fixtures: tiny models and tiny data, all made offline."""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "support_tickets"

URGENT = [
    "Our whole site is down and customers cannot pay, please fix this immediately",
    "I was charged twice this morning and the payment is still pending, this is urgent",
    "Someone logged into my account from abroad, I think it is fraud, lock it now",
    "Production database is unreachable since midnight, we are losing orders",
]
ROUTINE = [
    "Could you send me a copy of last month's invoice when you have a moment",
    "How do I change the email address on my newsletter preferences",
    "I would like to suggest a dark mode for the dashboard, thanks",
    "Please update my plan to the annual billing option next cycle",
]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A 2-layer random BERT with the bundled MiniLM tokenizer, saved as a checkpoint folder."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from finetune_governance.train.models import bundled_minilm

    out = tmp_path_factory.mktemp("tiny_bert")
    tokenizer = AutoTokenizer.from_pretrained(bundled_minilm(), local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    import torch

    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def write_tickets(path: Path, n: int = 240, *, seed: int = 0, pii_every: int = 3) -> Path:
    """A small labelled CSV in the example's shape; every ``pii_every``-th record carries PII."""
    rng = random.Random(seed)
    names = ["John Smith", "Maria Garcia", "Wei Chen", "Aisha Khan", "Peter Novak"]
    rows = []
    for i in range(n):
        urgent = i % 5 < 2
        text = rng.choice(URGENT if urgent else ROUTINE)
        if i % pii_every == 0:
            text += f". My name is {rng.choice(names)}, email me at user{i}@example.com"
        rows.append({
            "ticket_id": str(i), "text": text, "label": "urgent" if urgent else "routine",
            "gender": rng.choice(["female", "male"]), "age_band": rng.choice(["18-29", "30-44"]),
        })
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def tickets(tmp_path) -> Path:
    """A folder with tickets.csv (240 records) and the example's datasheet beside it."""
    data = write_tickets(tmp_path / "data" / "tickets.csv")
    shutil.copy(EXAMPLE / "datasheet.yaml", data.parent / "datasheet.yaml")
    return data
