"""Fixtures for the training tests: tiny image folders and tiny token datasets."""

from __future__ import annotations

from pathlib import Path

import pytest


def write_image_folder(root: Path, *, classes=("cat", "dog"), per_class: int = 12, size: int = 20) -> Path:
    """Solid-colour PNGs, one colour family per class, so a model can learn them."""
    from PIL import Image

    for c, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shade = 40 + 8 * i
            colour = (shade, 30, 200 - shade) if c == 0 else (30, 200 - shade, shade)
            Image.new("RGB", (size, size), colour).save(folder / f"{i}.png")
    return root


@pytest.fixture
def image_folder(tmp_path) -> Path:
    return write_image_folder(tmp_path / "images")


@pytest.fixture
def token_data():
    """96 random token sequences (length 8, ids 1000..1999) with a learnable label."""
    import torch
    from torch.utils.data import TensorDataset

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 2000, (96, 8), generator=g)
    return TensorDataset(ids, torch.ones_like(ids), (ids[:, 0] > 1500).long())
