"""One training loop for plain and DP-SGD fine-tuning of text and image classifiers.

Budget enforcement: before every DP step the loop computes the epsilon the history would
reach with that step and stops if it would exceed ``max_epsilon``. Every step is written to
the ledger before it runs; checkpoints are written each epoch and on SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from ..errors import GovernanceError
from .checkpoint import LoopState, PrivacyLedger, load_checkpoint, prepare_dir, restore_host_rng, save_checkpoint
from .device import autocast
from .privacy import (
    HistoryEntry, PrivacySettings, calibrate_noise, epsilon_from_history, make_private, noise_only_step,
    with_one_more_step,
)

Forward = Callable[[object, object, str], tuple]


class TrainingInterrupted(GovernanceError):
    """SIGTERM arrived; a checkpoint was written and the run can be resumed."""

    exit_code = 130


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings. Learning rate is AdamW's; batch size is the expected size
    (Poisson sampling under DP); ``patience`` is in epochs without validation improvement."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    seed: int
    device: str
    scheduler: Literal["constant", "linear"] = "constant"
    patience: int | None = None
    checkpoint_dir: Path | None = None
    resume: bool = False
    plan: str = ""
    max_physical_batch_size: int | None = None
    run_config: str | None = None  # JSON saved beside fresh checkpoints, so ``--resume CKPT`` can rebuild the run


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
    steps_per_epoch: int = 0
    grad_sample_mode: str | None = None
    lost_steps: int = 0
    resumed_from_step: int | None = None
    validation_accuracy: list[float] = field(default_factory=list)
    best_epoch: int | None = None


def text_forward(model, batch, device: str):
    """(logits, labels) for a batch of (input_ids, attention_mask, labels).

    Explicit per-example ``position_ids`` (the BERT position-embedding fix: the shared
    [1, L] buffer has no batch dimension for per-sample gradients), numbered as the model
    numbers them itself (RoBERTa-style embeddings: from the padding index)."""
    input_ids, attention_mask, labels = batch
    length = max(int(attention_mask.sum(dim=1).max()) if attention_mask.numel() else 1, 1)
    input_ids = input_ids[:, :length].contiguous().to(device)
    attention_mask = attention_mask[:, :length].contiguous().to(device)
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=_position_ids(model, input_ids))
    return getattr(out, "logits", out), labels.to(device)


def _position_ids(model, input_ids):
    """[batch, length] position ids: 0..L-1, or the embeddings' own numbering where they define one."""
    import torch

    inner = unwrap(model)
    base = getattr(inner, getattr(inner, "base_model_prefix", ""), inner)
    embeddings = getattr(base, "embeddings", None)
    numbered = getattr(embeddings, "create_position_ids_from_input_ids", None)
    if numbered is not None and getattr(embeddings, "padding_idx", None) is not None:
        return numbered(input_ids, embeddings.padding_idx)
    length = input_ids.shape[1]
    return torch.arange(length, device=input_ids.device).unsqueeze(0).expand(input_ids.shape[0], length).contiguous()


def image_forward(model, batch, device: str):
    """(logits, labels) for a batch of (images, labels); HF outputs or plain tensors."""
    images, labels = batch
    out = model(images.to(device))
    return getattr(out, "logits", out), labels.to(device)


def _clear_skip_signals(optimizer) -> None:
    """Forget BatchMemoryManager's pending 'skip the next step' signals (DP optimizers only)."""
    queue = getattr(optimizer, "_step_skip_queue", None)
    if queue is not None:
        queue.clear()


def unwrap(model):
    """The plain module inside an Opacus wrapper."""
    return getattr(model, "_module", model)


def predict_proba(model, dataset, *, batch_size: int, device: str, forward: Forward = text_forward):
    """Class probabilities (numpy, [N, C]) for a dataset, in order."""
    import numpy as np
    import torch
    from torch.utils.data import DataLoader

    model = unwrap(model)
    model.to(device)
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad(), autocast(device):
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            logits, _ = forward(model, batch, device)
            out.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 0))


def _accuracy(model, dataset, *, device: str, forward: Forward) -> float:
    import numpy as np

    probs = predict_proba(model, dataset, batch_size=64, device=device, forward=forward)
    labels = np.array([int(dataset[i][-1]) for i in range(len(dataset))])
    return float((probs.argmax(axis=1) == labels).mean()) if len(labels) else 0.0


class _Sigterm:
    """Turns SIGTERM into a flag the loop checks between steps (main thread only)."""

    def __init__(self) -> None:
        self.flag = False
        self.previous = None

    def __enter__(self) -> "_Sigterm":
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.flag = True

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


@contextlib.contextmanager
def _released(setup):
    """Undo what DP attached to the model (book-keeping's layer classes) when training ends."""
    try:
        yield
    finally:
        if setup is not None:
            setup.release()


def train_classifier(
    model,
    dataset,
    *,
    settings: TrainSettings,
    privacy: PrivacySettings | None,
    max_epsilon: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
    forward: Forward = text_forward,
    validation=None,
) -> TrainResult:
    """Fine-tune ``model`` on ``dataset`` (AdamW, optional DP-SGD with Poisson sampling).

    DP: the noise multiplier is calibrated so ``privacy.target_epsilon`` is spent over the
    planned epochs; training stops before a step that would take epsilon above
    ``max_epsilon``. Under DP, a logical (Poisson) batch larger than
    ``settings.max_physical_batch_size`` is split by Opacus' ``BatchMemoryManager``: the
    clipped gradients of its parts are summed and one noisy step is taken per logical batch,
    so steps and epsilon are those of the unsplit run. With ``validation`` and ``settings.patience``, stops early when validation
    accuracy has not improved for ``patience`` epochs and keeps the best epoch's weights.
    ``on_step(step, total)`` reports progress.
    """
    import torch
    import torch.nn as nn
    from torch.utils.data import DataLoader

    device = settings.device
    sampler_gen = torch.Generator().manual_seed(settings.seed)
    loader = DataLoader(dataset, batch_size=settings.batch_size, shuffle=True, generator=sampler_gen)
    model.to(device)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    criterion = nn.CrossEntropyLoss()
    per_epoch = len(loader)
    total = settings.epochs * per_epoch
    noise_gen = None
    setup = None
    sigma = q = None
    try:  # a failure before the loop (bad checkpoint, ...) must not leave DP attached to the model
        if privacy is not None:
            q = 1.0 / per_epoch
            sigma = calibrate_noise(target_epsilon=privacy.target_epsilon, delta=privacy.delta, sample_rate=q,
                                    steps=total, accountant=privacy.accountant)
            noise_gen = torch.Generator(device=device).manual_seed(settings.seed + 1)
            setup = make_private(model, optimizer, loader, settings=privacy, noise_multiplier=sigma,
                                 noise_generator=noise_gen)
            model, optimizer, criterion, loader = setup.model, setup.optimizer, setup.criterion, setup.loader
            q = float(loader.sample_rate)
            physical = settings.max_physical_batch_size
            if physical is not None and physical < settings.batch_size:
                from opacus.utils.batch_memory_manager import BatchMemoryManager

                with BatchMemoryManager(data_loader=loader, max_physical_batch_size=physical,
                                        optimizer=optimizer) as split:
                    loader = split  # physical batches; the optimizer steps once per logical batch
        schedule = (lambda s: max(0.0, 1.0 - s / max(total, 1))) if settings.scheduler == "linear" else (lambda s: 1.0)
        scheduler = torch.optim.lr_scheduler.LambdaLR(getattr(optimizer, "original_optimizer", optimizer), schedule)

        folder = settings.checkpoint_dir
        state = LoopState(plan=settings.plan, noise_multiplier=sigma, sample_rate=q,
                          max_grad_norm=privacy.max_grad_norm if privacy else None)
        rng: dict | None = None
        resumed_from = None
        if folder is not None:
            prepare_dir(folder, resume=settings.resume)
            if settings.run_config is not None and not settings.resume:
                from ..config import SAVED_CONFIG

                (folder / SAVED_CONFIG).write_text(settings.run_config, encoding="utf-8")
            if settings.resume:
                loaded = load_checkpoint(folder, plan=settings.plan, model=unwrap(model), optimizer=optimizer,
                                         scheduler=scheduler)
                state, rng = loaded.state, loaded.rng
                resumed_from = state.steps
                if privacy is not None and (state.noise_multiplier != sigma or state.sample_rate != q):
                    from .checkpoint import CheckpointError

                    raise CheckpointError(f"{folder}: checkpoint noise multiplier / sample rate differ from this run's")
        ledger = PrivacyLedger.open(folder, fresh=not settings.resume) if privacy else None
        lost = (len(ledger.steps) - state.steps) if ledger is not None and resumed_from is not None else 0
        best_weights = None
        if folder is not None and (folder / "best.safetensors").is_file() and resumed_from is not None:
            from safetensors.torch import load_file

            best_weights = load_file(str(folder / "best.safetensors"))

        def checkpoint(epoch_start_state) -> None:
            if folder is not None:
                save_checkpoint(folder, model=unwrap(model), optimizer=optimizer, scheduler=scheduler, state=state,
                                generators={"epoch_start": epoch_start_state, "noise": noise_gen})
    except BaseException:
        if setup is not None:
            setup.release()
        raise

    started = time.perf_counter()
    stop_reason = f"completed {settings.epochs} epoch(s)"
    stopping = False
    with _Sigterm() as sigterm, _released(setup):
        while state.epoch < settings.epochs and not stopping:
            if rng is not None:  # resuming: replay the sampler to where the checkpoint was
                sampler_gen.set_state(rng["gen_epoch_start"])
                epoch_start = sampler_gen.get_state()
                batches = iter(loader)
                for _ in range(state.step_in_epoch):
                    next(batches)
                _clear_skip_signals(optimizer)  # replayed batches signalled steps that are not taken again
                restore_host_rng(state, rng)
                if noise_gen is not None:
                    noise_gen.set_state(rng["gen_noise"].to(noise_gen.get_state().device))
                rng = None
            else:
                epoch_start = sampler_gen.get_state()
                batches = iter(loader)
            logical_start = True
            for batch in batches:
                if logical_start and privacy is not None and max_epsilon is not None:
                    upcoming = with_one_more_step(ledger.history, noise_multiplier=sigma, sample_rate=q)
                    if epsilon_from_history(upcoming, delta=privacy.delta, accountant=privacy.accountant) > max_epsilon:
                        stop_reason = (f"stopped before step {state.steps + 1}: it would take epsilon above "
                                       f"{max_epsilon}")
                        stopping = True
                        break
                if logical_start and ledger is not None:
                    ledger.record(noise_multiplier=sigma, sample_rate=q)
                optimizer.zero_grad(set_to_none=True)
                labels_in = batch[-1]
                if labels_in.numel() == 0:
                    if setup is not None:
                        noise_only_step(optimizer)  # an empty Poisson batch is still a DP step
                    loss_value = 0.0
                else:
                    with autocast(device):
                        logits, labels = forward(model, batch, device)
                    loss = criterion(logits.float(), labels)
                    loss.backward()
                    optimizer.step()
                    loss_value = float(loss.detach()) * labels.shape[0]
                    state.seen += labels.shape[0]
                state.running_loss += loss_value
                state.step_in_epoch += 1  # physical batches consumed in this epoch
                logical_start = not getattr(optimizer, "_is_last_step_skipped", False) or labels_in.numel() == 0
                if not logical_start:
                    continue  # part of a logical batch: gradients accumulate, no step yet
                if setup is not None or labels_in.numel():
                    scheduler.step()
                    state.steps += 1
                if ledger is not None:
                    eps = epsilon_from_history(ledger.history, delta=privacy.delta, accountant=privacy.accountant)
                    state.curve.append([state.steps, round(eps, 6)])
                if on_step is not None:
                    on_step(state.steps, total)
                if sigterm.flag:
                    checkpoint(epoch_start)
                    raise TrainingInterrupted(
                        f"SIGTERM: checkpoint saved at step {state.steps} in {folder}; rerun with resume to continue"
                        if folder is not None else "SIGTERM: stopped; no checkpoint folder was configured")
            state.losses.append(round(state.running_loss / max(state.seen, 1), 6))
            state.running_loss, state.seen = 0.0, 0
            state.epoch += 1
            state.step_in_epoch = 0
            if validation is not None and not stopping:
                accuracy = _accuracy(model, validation, device=device, forward=forward)
                state.validation.append(round(accuracy, 6))
                if state.best_metric is None or accuracy > state.best_metric:
                    state.best_metric, state.best_epoch, state.bad_epochs = accuracy, state.epoch, 0
                    best_weights = {k: v.detach().to("cpu").clone() for k, v in unwrap(model).state_dict().items()}
                    if folder is not None:
                        from safetensors.torch import save_file

                        save_file({k: v.contiguous() for k, v in best_weights.items()}, str(folder / "best.safetensors"))
                else:
                    state.bad_epochs += 1
                    if settings.patience is not None and state.bad_epochs >= settings.patience:
                        stop_reason = (f"early stopping after epoch {state.epoch}: validation accuracy did not improve "
                                       f"for {settings.patience} epoch(s); best epoch {state.best_epoch}")
                        stopping = True
            checkpoint(sampler_gen.get_state())
    if best_weights is not None and state.best_epoch is not None and state.best_epoch != state.epoch:
        unwrap(model).load_state_dict(best_weights)
    result = TrainResult(
        loss_per_epoch=list(state.losses),
        steps=state.steps,
        stop_reason=stop_reason,
        seconds=round(time.perf_counter() - started, 3),
        epsilon_curve=[(int(s), float(e)) for s, e in state.curve],
        steps_per_epoch=per_epoch,
        lost_steps=lost,
        resumed_from_step=resumed_from,
        validation_accuracy=list(state.validation),
        best_epoch=state.best_epoch,
    )
    if setup is not None:
        result.noise_multiplier = sigma
        result.sample_rate = q
        result.history = ledger.history
        result.grad_sample_mode = setup.grad_sample_mode
    return result
