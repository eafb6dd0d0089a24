"""Checkpoints that resume a run exactly, and a write-ahead privacy ledger.

A checkpoint is a folder: ``model.safetensors`` (weights), ``rng.safetensors`` (torch RNG
states), ``optimizer.pt`` (loaded with ``weights_only=True``: tensors and plain values only)
and ``state.json`` (counters, losses, noise multiplier, clipping norm, NumPy/Python RNG).
Nothing is unpickled. ``latest`` names the newest complete checkpoint and is replaced
atomically, so a crash while writing leaves the previous one usable.

The ledger (``ledger.jsonl``) gets one line per DP step *before* the step runs, so steps
taken after the last checkpoint by a run that was killed are still accounted on resume.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import GovernanceError
from .privacy import HistoryEntry, compress_history

LATEST = "latest"
LEDGER = "ledger.jsonl"


class CheckpointError(GovernanceError):
    """A checkpoint is missing, corrupt, or belongs to a different run plan."""


@dataclass
class LoopState:
    """Where the loop is: everything but tensors. Epoch and step-in-epoch are 0-based counters;
    noise multiplier is a ratio to ``max_grad_norm`` (L2 clipping bound)."""

    plan: str
    epoch: int = 0
    step_in_epoch: int = 0
    steps: int = 0
    running_loss: float = 0.0
    seen: int = 0
    losses: list[float] = field(default_factory=list)
    curve: list[list[float]] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)
    best_metric: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    noise_multiplier: float | None = None
    max_grad_norm: float | None = None
    sample_rate: float | None = None
    numpy_rng: list | None = None
    python_rng: list | None = None


class PrivacyLedger:
    """Per-step (noise multiplier, sample rate) record, written ahead of each step (fsync'd)."""

    def __init__(self, path: Path | None, steps: list[tuple[float, float]] | None = None) -> None:
        self.path = path
        self.steps: list[tuple[float, float]] = list(steps or [])

    @classmethod
    def open(cls, folder: Path | None, *, fresh: bool) -> "PrivacyLedger":
        if folder is None:
            return cls(None)
        path = folder / LEDGER
        if fresh or not path.exists():
            path.write_text("", encoding="utf-8")
            return cls(path)
        steps = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                sigma, q = json.loads(line)
                steps.append((float(sigma), float(q)))
            except (ValueError, TypeError) as exc:
                if n == len(path.read_text(encoding="utf-8").splitlines()):
                    continue  # a torn last line: the write was cut, the step never ran
                raise CheckpointError(f"{path}: line {n} is not [noise_multiplier, sample_rate]") from exc
        return cls(path, steps)

    def record(self, *, noise_multiplier: float, sample_rate: float) -> None:
        """Account one step before it runs."""
        self.steps.append((noise_multiplier, sample_rate))
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps([noise_multiplier, sample_rate]) + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    @property
    def history(self) -> list[HistoryEntry]:
        return compress_history(self.steps)


def prepare_dir(folder: Path, *, resume: bool) -> None:
    """Create the checkpoint folder; a fresh run clears an old one."""
    if not resume and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def save_checkpoint(folder: Path, *, model, optimizer, scheduler, state: LoopState, generators: dict) -> Path:
    """Write a checkpoint for ``state`` and point ``latest`` at it; older ones are removed."""
    import numpy as np
    import torch
    from safetensors.torch import save_file

    name = f"ckpt-{state.epoch:04d}-{state.step_in_epoch:06d}"
    target, tmp = folder / name, folder / (name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    save_file(weights, str(tmp / "model.safetensors"))
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            rng[f"cuda{i}"] = s
    for key, gen in generators.items():
        if gen is not None:
            rng[f"gen_{key}"] = gen if isinstance(gen, torch.Tensor) else gen.get_state()
    save_file(rng, str(tmp / "rng.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / "optimizer.pt")
    np_state = np.random.get_state()
    state.numpy_rng = [np_state[0], np_state[1].tolist(), *np_state[2:]]
    py_state = random.getstate()
    state.python_rng = [py_state[0], list(py_state[1]), py_state[2]]
    (tmp / "state.json").write_text(json.dumps(asdict(state)), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    pointer = folder / (LATEST + ".tmp")
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, folder / LATEST)
    for old in folder.glob("ckpt-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return target


@dataclass
class Loaded:
    state: LoopState
    rng: dict


def load_checkpoint(folder: Path, *, plan: str, model, optimizer, scheduler) -> Loaded:
    """Load the latest checkpoint into model, optimizer and scheduler (no unpickling).
    RNG states are returned for the loop to restore at the right moment."""
    import torch
    from safetensors.torch import load_file

    pointer = folder / LATEST
    if not pointer.is_file():
        raise CheckpointError(f"{folder}: no checkpoint to resume from (no '{LATEST}' file); run without resume")
    ckpt = folder / pointer.read_text(encoding="utf-8").strip()
    try:
        raw = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
        state = LoopState(**raw)
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{ckpt / 'state.json'}: unreadable checkpoint state ({type(exc).__name__})") from exc
    if state.plan != plan:
        raise CheckpointError(f"{ckpt}: the checkpoint belongs to a different run plan (model, data or settings "
                              f"changed: {state.plan[:12]} != {plan[:12]}); run without resume to start afresh")
    try:
        model.load_state_dict(load_file(str(ckpt / "model.safetensors")))
        rng = load_file(str(ckpt / "rng.safetensors"))
        extra = torch.load(ckpt / "optimizer.pt", map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise CheckpointError(f"{ckpt}: cannot load checkpoint tensors: {str(exc).splitlines()[0][:160]}") from exc
    optimizer.load_state_dict(extra["optimizer"])
    scheduler.load_state_dict(extra["scheduler"])
    return Loaded(state=state, rng=rng)


def restore_host_rng(state: LoopState, rng: dict) -> None:
    """Restore torch (CPU and CUDA), NumPy and Python RNG states."""
    import numpy as np
    import torch

    torch.set_rng_state(rng["torch"])
    cuda = [rng[k] for k in sorted(rng) if k.startswith("cuda")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    if state.numpy_rng:
        kind, keys, pos, has_gauss, cached = state.numpy_rng
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    if state.python_rng:
        version, internal, gauss = state.python_rng
        random.setstate((version, tuple(internal), gauss))
