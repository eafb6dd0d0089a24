"""Device and seeding: the one place that knows about CUDA."""

from __future__ import annotations

import random


def pick_device(requested: str = "auto") -> str:
    """'cuda' when available (or requested), else 'cpu'."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        from ..errors import UsageError

        raise UsageError("device 'cuda' requested but no CUDA GPU is available")
    return requested


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a CPU run is reproducible."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(False)


def autocast(device: str):
    """bf16 autocast on CUDA GPUs that support it; a no-op context elsewhere."""
    import contextlib

    import torch

    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
