"""One training loop for plain and DP-SGD fine-tuning of a sequence classifier."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from .privacy import HistoryEntry, PrivacySettings, epsilon_from_history, history_of, make_private


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings. Learning rate is AdamW's; batch size is the expected size."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    seed: int
    device: str


@dataclass
class TrainResult:
    """What training did: losses, steps, why it stopped, and the DP record."""

    loss_per_epoch: list[float]
    steps: int
    stop_reason: str
    seconds: float
    noise_multiplier: float | None = None
    sample_rate: float | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    epsilon_curve: list[tuple[int, float]] = field(default_factory=list)


def _batch_inputs(batch, device: str):
    import torch

    input_ids, attention_mask, labels = batch
    length = max(int(attention_mask.sum(dim=1).max()) if attention_mask.numel() else 1, 1)
    input_ids, attention_mask = input_ids[:, :length].to(device), attention_mask[:, :length].to(device)
    labels = labels.to(device)
    position_ids = torch.arange(length, device=device).unsqueeze(0).expand(input_ids.shape[0], length)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids}, labels


def train_classifier(
    model,
    dataset,
    *,
    settings: TrainSettings,
    privacy: PrivacySettings | None,
    max_epsilon: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Fine-tune ``model`` on a TensorDataset of (input_ids, attention_mask, labels).

    With ``privacy``, DP-SGD (Opacus, Poisson sampling); training stops before a step
    that would take epsilon above ``max_epsilon``. ``on_step(step, total)`` reports progress.
    """
    import torch
    import torch.nn as nn
    from torch.utils.data import DataLoader

    generator = torch.Generator().manual_seed(settings.seed)
    loader = DataLoader(dataset, batch_size=settings.batch_size, shuffle=True, generator=generator)
    model.to(settings.device)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    criterion = nn.CrossEntropyLoss()
    engine = None
    if privacy is not None:
        engine, model, optimizer, criterion, loader = make_private(
            model, optimizer, loader, settings=privacy, epochs=settings.epochs
        )
    total = settings.epochs * len(loader)
    started = time.perf_counter()
    losses: list[float] = []
    curve: list[tuple[int, float]] = []
    steps = 0
    stop_reason = f"completed {settings.epochs} epoch(s)"
    for epoch in range(settings.epochs):
        running, seen = 0.0, 0
        for batch in loader:
            if engine is not None and max_epsilon is not None:
                upcoming = with_one_more_step(
                    history_of(engine.accountant),
                    noise_multiplier=float(optimizer.noise_multiplier),
                    sample_rate=float(loader.sample_rate),
                )
                if epsilon_from_history(upcoming, delta=privacy.delta, accountant=privacy.accountant) > max_epsilon:
                    stop_reason = f"stopped before step {steps + 1}: it would take epsilon above {max_epsilon}"
                    break
            inputs, labels = _batch_inputs(batch, settings.device)
            if labels.numel() == 0:
                continue  # an empty Poisson batch: no step, nothing accounted
            optimizer.zero_grad(set_to_none=True)
            logits = model(**inputs).logits
            loss = criterion(logits, labels)
            loss.backward()
            optimizer.step()
            steps += 1
            running += float(loss.detach()) * labels.shape[0]
            seen += labels.shape[0]
            if engine is not None:
                curve.append((steps, round(float(engine.accountant.get_epsilon(privacy.delta)), 6)))
            if on_step is not None:
                on_step(steps, total)
        else:
            losses.append(running / max(seen, 1))
            continue
        losses.append(running / max(seen, 1))
        break
    result = TrainResult(
        loss_per_epoch=[round(x, 6) for x in losses],
        steps=steps,
        stop_reason=stop_reason,
        seconds=round(time.perf_counter() - started, 3),
        epsilon_curve=curve,
    )
    if engine is not None:
        result.noise_multiplier = float(optimizer.noise_multiplier)
        result.sample_rate = float(loader.sample_rate)
        result.history = history_of(engine.accountant)
    return result


def with_one_more_step(history: list[HistoryEntry], *, noise_multiplier: float, sample_rate: float) -> list[HistoryEntry]:
    """The accountant history as it would be after one more step."""
    if history and history[-1].noise_multiplier == noise_multiplier and history[-1].sample_rate == sample_rate:
        last = history[-1]
        return [*history[:-1], HistoryEntry(noise_multiplier, sample_rate, last.steps + 1)]
    return [*history, HistoryEntry(noise_multiplier, sample_rate, 1)]


def unwrap(model):
    """The plain module inside an Opacus wrapper."""
    return getattr(model, "_module", model)


def predict_proba(model, dataset, *, batch_size: int, device: str):
    """Class probabilities (numpy, [N, C]) for a TensorDataset, in order."""
    import numpy as np
    import torch
    from torch.utils.data import DataLoader

    model = unwrap(model)
    model.to(device)
    model.eval()
    out = []
    with torch.no_grad():
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            inputs, _ = _batch_inputs(batch, device)
            out.append(torch.softmax(model(**inputs).logits.float(), dim=-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))
