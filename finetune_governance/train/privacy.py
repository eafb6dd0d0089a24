"""Differential privacy with Opacus: make a training setup private and account for it.

The epsilon arithmetic is a pure function of the accountant history, so an auditor
can recompute every epsilon the evidence claims from (noise multiplier, sample rate,
steps) and delta alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

Accountant = Literal["rdp", "prv"]
GradSampleMode = Literal["ghost", "hooks"]


@dataclass(frozen=True)
class PrivacySettings:
    """What the policy and config ask of DP-SGD. Epsilon and delta are (epsilon, delta)-DP."""

    target_epsilon: float
    delta: float
    max_grad_norm: float
    grad_sample_mode: GradSampleMode = "ghost"
    accountant: Accountant = "rdp"


@dataclass(frozen=True)
class HistoryEntry:
    """One segment of training at a fixed noise multiplier and sample rate."""

    noise_multiplier: float
    sample_rate: float
    steps: int


def epsilon_from_history(history: Sequence[HistoryEntry], *, delta: float, accountant: Accountant = "rdp") -> float:
    """Epsilon spent by ``history`` at ``delta`` (pure; recomputable by an auditor)."""
    from opacus.accountants import create_accountant

    if not history:
        return 0.0
    acc = create_accountant(mechanism=accountant)
    acc.history = [(h.noise_multiplier, h.sample_rate, h.steps) for h in history]
    return float(acc.get_epsilon(delta=delta))


def history_of(accountant) -> list[HistoryEntry]:
    """The accountant's history as typed entries."""
    return [HistoryEntry(float(n), float(q), int(s)) for n, q, s in accountant.history]


def make_private(model, optimizer, loader, *, settings: PrivacySettings, epochs: int):
    """Wrap model, optimizer and loader for DP-SGD with Poisson sampling.

    Returns (engine, model, optimizer, criterion, loader); the criterion must compute the
    loss (with ghost clipping it runs the second backward pass).
    """
    import torch.nn as nn
    from opacus import PrivacyEngine

    engine = PrivacyEngine(accountant=settings.accountant, secure_mode=False)
    model.train()
    result = engine.make_private_with_epsilon(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        criterion=nn.CrossEntropyLoss(),
        target_epsilon=settings.target_epsilon,
        target_delta=settings.delta,
        epochs=epochs,
        max_grad_norm=settings.max_grad_norm,
        poisson_sampling=True,
        grad_sample_mode=settings.grad_sample_mode,
    )
    if settings.grad_sample_mode == "ghost":
        private_model, private_optimizer, criterion, private_loader = result
    else:
        private_model, private_optimizer, private_loader = result
        criterion = nn.CrossEntropyLoss()
    return engine, private_model, private_optimizer, criterion, private_loader
