"""Differential privacy with Opacus: make a training setup private and account for it.

The epsilon arithmetic is a pure function of the accountant history, so an auditor
can recompute every epsilon the evidence claims from (noise multiplier, sample rate,
steps) and delta alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import torch.nn as nn

from .trainable import trainable_modules

Accountant = Literal["rdp", "prv"]
GradSampleMode = Literal["bookkeeping", "ghost", "hooks"]


@dataclass(frozen=True)
class PrivacySettings:
    """What the policy and config ask of DP-SGD. Epsilon and delta are (epsilon, delta)-DP;
    ``max_grad_norm`` is the per-sample L2 clipping bound."""

    target_epsilon: float
    delta: float
    max_grad_norm: float
    grad_sample_mode: GradSampleMode = "bookkeeping"
    accountant: Accountant = "rdp"


@dataclass(frozen=True)
class HistoryEntry:
    """One segment of training at a fixed noise multiplier (ratio of the noise standard
    deviation to the clipping norm) and sample rate (Poisson probability per record)."""

    noise_multiplier: float
    sample_rate: float
    steps: int


@dataclass(frozen=True)
class PrivateSetup:
    """The wrapped model, optimizer, criterion and Poisson loader, the engine accounting them,
    the per-sample gradient mode used, and ``release`` (undo what was attached to the model)."""

    engine: object
    model: object
    optimizer: object
    criterion: object
    loader: object
    grad_sample_mode: GradSampleMode
    release: Callable[[], None] = lambda: None


def epsilon_from_history(history: Sequence[HistoryEntry], *, delta: float, accountant: Accountant = "rdp") -> float:
    """Epsilon spent by ``history`` at ``delta`` (pure; recomputable by an auditor)."""
    from opacus.accountants import create_accountant

    if not history:
        return 0.0
    acc = create_accountant(mechanism=accountant)
    acc.history = [(h.noise_multiplier, h.sample_rate, h.steps) for h in history]
    return float(acc.get_epsilon(delta=delta))


def compress_history(steps: Sequence[tuple[float, float]]) -> list[HistoryEntry]:
    """Run-length encode per-step (noise multiplier, sample rate) pairs into history entries."""
    out: list[HistoryEntry] = []
    for sigma, q in steps:
        if out and out[-1].noise_multiplier == sigma and out[-1].sample_rate == q:
            out[-1] = HistoryEntry(sigma, q, out[-1].steps + 1)
        else:
            out.append(HistoryEntry(sigma, q, 1))
    return out


def with_one_more_step(history: Sequence[HistoryEntry], *, noise_multiplier: float, sample_rate: float) -> list[HistoryEntry]:
    """The accountant history as it would be after one more step."""
    expanded = [(h.noise_multiplier, h.sample_rate) for h in history for _ in range(h.steps)]
    return compress_history([*expanded, (noise_multiplier, sample_rate)])


def history_of(accountant) -> list[HistoryEntry]:
    """The accountant's history as typed entries."""
    return [HistoryEntry(float(n), float(q), int(s)) for n, q, s in accountant.history]


def calibrate_noise(*, target_epsilon: float, delta: float, sample_rate: float, steps: int, accountant: Accountant) -> float:
    """The noise multiplier that spends ``target_epsilon`` at ``delta`` over ``steps`` steps."""
    from opacus.accountants.utils import get_noise_multiplier

    return float(get_noise_multiplier(target_epsilon=target_epsilon, target_delta=delta, sample_rate=sample_rate,
                                      steps=steps, accountant=accountant))


def ghost_supported(model) -> bool:
    """True when every module with trainable parameters has an Opacus norm or grad sampler,
    so ghost clipping can run without the functorch fallback."""
    from opacus.grad_sample import GradSampleModuleFastGradientClipping as G

    known = set(G.NORM_SAMPLERS) | set(G.GRAD_SAMPLERS)
    return all(type(module) in known for _, module, _ in trainable_modules(model))


def fix_for_dp(model) -> tuple[object, list[str]]:
    """``ModuleValidator.fix`` (BatchNorm to GroupNorm, ...) and the names of the replaced modules."""
    from opacus.validators import ModuleValidator

    for module in model.modules():  # in-place activations break Opacus' backward hooks
        if getattr(module, "inplace", False) is True:
            module.inplace = False
    before = {name: type(m).__name__ for name, m in model.named_modules()}
    if not ModuleValidator.validate(model, strict=False):
        return model, []
    fixed = ModuleValidator.fix(model)
    after = {name: type(m).__name__ for name, m in fixed.named_modules()}
    names = [name for name, kind in before.items() if name in after and after[name] != kind]
    for name in names:  # residual blocks add in place to these outputs; give them a copy
        parent, _, leaf = name.rpartition(".")
        owner = fixed.get_submodule(parent) if parent else fixed
        wrapped = nn.Sequential(owner.get_submodule(leaf), _Copy())
        if leaf.isdigit():
            owner[int(leaf)] = wrapped
        else:
            setattr(owner, leaf, wrapped)
    return fixed, [f"{name}: {before[name]} -> {after[name]}" for name in names]


class _Copy(nn.Module):
    """Returns a copy of its input: lets an in-place add follow a hooked module."""

    def forward(self, x):
        return x.clone()


def choose_mode(model, requested: GradSampleMode) -> GradSampleMode:
    """The mode that can train ``model``: book-keeping, else ghost clipping, else hooks."""
    from .bookkeeping import bookkeeping_unsupported

    mode = requested
    if mode == "bookkeeping" and bookkeeping_unsupported(model) is not None:
        mode = "ghost"
    if mode == "ghost" and not ghost_supported(model):
        mode = "hooks"
    return mode


def make_private(model, optimizer, loader, *, settings: PrivacySettings, noise_multiplier: float,
                 noise_generator=None) -> PrivateSetup:
    """Wrap model, optimizer and loader for DP-SGD with Poisson sampling at a fixed noise multiplier.

    Book-keeping clipping (one backward pass) is used where every trainable layer is a Linear,
    Embedding or LayerNorm; else Opacus ghost clipping where it supports every trainable layer;
    else hooks. Poisson sampling draws from ``loader.generator``; noise from ``noise_generator``.
    """
    import torch.nn as nn
    from opacus import PrivacyEngine

    mode = choose_mode(model, settings.grad_sample_mode)
    engine = PrivacyEngine(accountant=settings.accountant, secure_mode=False)
    model.train()
    if mode == "bookkeeping":
        return _make_bookkeeping(engine, model, optimizer, loader, settings=settings,
                                 noise_multiplier=noise_multiplier, noise_generator=noise_generator)
    result = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, criterion=nn.CrossEntropyLoss(),
        noise_multiplier=noise_multiplier, max_grad_norm=settings.max_grad_norm, poisson_sampling=True,
        grad_sample_mode=mode, noise_generator=noise_generator,
    )
    if mode == "ghost":
        private_model, private_optimizer, criterion, private_loader = result
    else:
        private_model, private_optimizer, private_loader = result
        criterion = nn.CrossEntropyLoss()
    return PrivateSetup(engine, private_model, private_optimizer, criterion, private_loader, mode)


def _make_bookkeeping(engine, model, optimizer, loader, *, settings: PrivacySettings, noise_multiplier: float,
                      noise_generator) -> PrivateSetup:
    """What ``PrivacyEngine.make_private`` does for ghost clipping (same validation, Poisson
    loader, noise, scaling and accountant hook), with book-keeping clipping in place of the
    wrapped module: the optimizer receives the clipped sum in ``p.grad`` and adds the noise."""
    from opacus.data_loader import DPDataLoader

    from .bookkeeping import BookKeeping, BookKeepingCriterion
    from .dp_optimizer import ClippedSumDPOptimizer

    engine.validate(module=model, optimizer=None, data_loader=None)
    private_loader = DPDataLoader.from_data_loader(loader, generator=None, distributed=False)
    sample_rate = 1 / len(private_loader)
    private_optimizer = ClippedSumDPOptimizer(
        optimizer, noise_multiplier=noise_multiplier, max_grad_norm=settings.max_grad_norm,
        expected_batch_size=int(len(private_loader.dataset) * sample_rate), loss_reduction="mean",
        generator=noise_generator, secure_mode=False)
    private_optimizer.attach_step_hook(engine.accountant.get_optimizer_hook_fn(sample_rate=sample_rate))
    book = BookKeeping(model, max_grad_norm=settings.max_grad_norm)
    return PrivateSetup(engine, model, private_optimizer, BookKeepingCriterion(book), private_loader, "bookkeeping",
                        release=book.release)


def noise_only_step(optimizer) -> None:
    """The DP-SGD step for an empty Poisson batch: the clipped sum is zero, the noise is not.

    Skipping the step would reveal that the batch was empty, which the accountant does not
    cover; this adds the noise, scales it, calls the accountant hook and steps.
    """
    import torch

    optimizer._check_skip_next_step()  # consume BatchMemoryManager's signal for this (empty) batch
    for p in optimizer.params:
        p.summed_grad = torch.zeros_like(p)
    optimizer.add_noise()
    optimizer.scale_grad()
    if optimizer.step_hook:
        optimizer.step_hook(optimizer)
    optimizer.original_optimizer.step()
