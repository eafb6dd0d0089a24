"""Book-keeping per-sample clipping: DP-SGD's clipped gradient from one forward and one backward pass.

After Bu et al., "Differentially Private Optimization on Large Model at Small Cost" (ICML 2023),
with flat clipping, so the result is exactly the gradient standard DP-SGD and Opacus' hooks mode
compute: ``sum_i c_i g_i`` over the samples i of a batch, ``g_i`` the per-sample gradient of all
trainable parameters and ``c_i = min(1, C / (||g_i|| + 1e-6))``, C the clipping norm.

The backward pass computes input gradients only (``bk_layers``); each layer keeps its input
``a`` and output gradient ``g`` (batch axis first, as Opacus' ``batch_first=True``). Afterwards each sample's squared norm is summed over layers:
for a Linear layer by the ghost norm ``<a a^T, g g^T>`` over the sequence axis (T x T Gram
matrices), or from the materialised per-sample gradient where that is cheaper (T^2 > d_in d_out);
for an Embedding by the Gram matrix of ``g`` restricted to positions with equal token ids.
Then each weight gradient is computed once from the clipped output gradients ``c_i g_i``, and
``p.grad`` holds the clipped sum that Opacus' ``DPOptimizerFastGradientClipping`` noises,
scales by the expected batch size and accounts.
"""

from __future__ import annotations

from collections import Counter

import torch
import torch.nn as nn

from ..errors import ModelError
from .bk_layers import SWAPS, unsupported_reason
from .trainable import trainable_modules

CLIP_EPS = 1e-6  # Opacus' flat clipping: C / (norm + 1e-6)


def bookkeeping_unsupported(model: nn.Module) -> str | None:
    """Why book-keeping clipping cannot train ``model``, or None when every trainable parameter
    belongs to a Linear, Embedding or LayerNorm layer and none is shared between layers."""
    owners: dict[int, str] = {}
    for name, module, own in trainable_modules(model):
        reason = unsupported_reason(module)
        if reason is not None:
            return f"{name or type(model).__name__}: {reason}"
        for p in own:
            if id(p) in owners:
                return f"{name}: parameter shared with {owners[id(p)]}"
            owners[id(p)] = name
    return None if owners else "no trainable parameters"


class _Grams:
    """T x T Gram matrices of the last few tensors seen (q, k and v share their input;
    word, position and token-type embeddings share their output gradient)."""

    def __init__(self, size: int = 2) -> None:
        self.size, self.items = size, []

    def of(self, x: torch.Tensor) -> torch.Tensor:
        key = (x.data_ptr(), tuple(x.shape), tuple(x.stride()), x.dtype)
        for k, _, gram in self.items:
            if k == key:
                return gram
        gram = torch.bmm(x, x.transpose(1, 2))
        self.items = [*self.items[-(self.size - 1):], (key, x, gram)]  # holding x: its address is not reused
        return gram


def _inner(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-sample inner products of two [batch, ...] tensors, [batch]."""
    return torch.linalg.vecdot(x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1))


def _storage(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


def _flat(t: torch.Tensor, batch: int, where: str) -> torch.Tensor:
    """``t`` as [batch, T, features] in float32 (T = product of the middle axes); token ids as [batch, T]."""
    if t.dim() == 0 or t.shape[0] != batch:
        lead = t.shape[0] if t.dim() else 0
        raise ModelError(f"book-keeping DP: layer {where} saw a leading axis of {lead} for a batch of {batch}; every "
                         f"layer input needs the batch axis first (for BERT pass per-example position_ids)")
    return t.reshape(batch, -1, t.shape[-1]).float() if t.is_floating_point() else t.reshape(batch, -1)


class _Slot:
    """What one layer keeps during a backward pass, and its share of the clipping."""

    def __init__(self, name: str, module: nn.Module, book: "BookKeeping") -> None:
        self.name, self.module, self.book = name, module, book
        self.original = type(module)  # the class ``release`` gives back
        self.calls: list[tuple] = []
        self.g_owned = False  # no other layer holds this slot's output gradient: it may be scaled in place

    def keep(self, *tensors) -> None:
        if not self.book.recording:
            raise RuntimeError("book-keeping DP: backward() outside the private loss; call backward() on the "
                               "loss that make_private's criterion returns")
        self.calls.append(tuple(t.detach() if t is not None else None for t in tensors))

    def _joined(self, batch: int) -> tuple[torch.Tensor, ...]:
        """The calls of this backward pass joined along the sequence axis (one call: as is)."""
        parts = [[_flat(t, batch, self.name) for t in call] for call in self.calls]
        return tuple(torch.cat(ts, dim=1) if len(ts) > 1 else ts[0] for ts in zip(*parts))

    def gradients(self) -> list[torch.Tensor]:
        """The output gradients this slot keeps for ``write``."""
        g = getattr(self, "g", None)
        return [] if g is None else [g]

    def _set(self, param, grad: torch.Tensor) -> None:
        grad = grad.to(param.dtype)
        param.grad = grad if param.grad is None else param.grad + grad


class _LinearSlot(_Slot):
    def norm2(self, batch: int, grams: _Grams) -> torch.Tensor:
        a, g = self._joined(batch)
        self.calls = []
        weight, bias = self.module.weight, self.module.bias
        out = torch.zeros(batch, device=g.device)
        self.a, self.g, self.per_sample, self.per_bias = a, g, None, None
        if weight.requires_grad:
            steps, d_in, d_out = a.shape[1], a.shape[2], g.shape[2]
            if steps == 1:
                out += a.square().sum((1, 2)) * g.square().sum((1, 2))
            elif steps * steps <= d_in * d_out:
                out += _inner(grams.of(a), grams.of(g))
            else:
                self.per_sample = torch.bmm(g.transpose(1, 2), a)
                out += self.per_sample.square().sum((1, 2))
                self.a = self.g = None
        if bias is not None and bias.requires_grad:
            self.per_bias = g.sum(1)
            out += self.per_bias.square().sum(1)
        return out

    def write(self, clip: torch.Tensor) -> None:
        weight, bias = self.module.weight, self.module.bias
        if weight.requires_grad:
            if self.per_sample is not None:
                grad = torch.einsum("b,boi->oi", clip, self.per_sample)
            else:  # scale the narrower of a, g (g in place when no other layer holds it); one product
                a, g = self.a, self.g
                if a.shape[-1] < g.shape[-1]:
                    a = a * clip[:, None, None]
                elif self.g_owned and g.is_contiguous():
                    g = g.mul_(clip[:, None, None])
                else:
                    g = g * clip[:, None, None]
                grad = g.reshape(-1, g.shape[-1]).t().mm(a.reshape(-1, a.shape[-1]))
            self._set(weight, grad)
        if self.per_bias is not None:
            self._set(bias, clip @ self.per_bias)
        self.a = self.g = self.per_sample = self.per_bias = None


class _EmbeddingSlot(_Slot):
    def norm2(self, batch: int, grams: _Grams) -> torch.Tensor:
        ids, g = self._joined(batch)
        self.calls = []
        same = ids[:, :, None] == ids[:, None, :]
        pad = self.module.padding_idx
        self.valid = None if pad is None else (ids != pad)
        if self.valid is not None:
            same &= self.valid[:, :, None]
        self.ids, self.g = ids, g
        return _inner(grams.of(g), same.to(g.dtype))

    def write(self, clip: torch.Tensor) -> None:
        weight, pad = self.module.weight, self.module.padding_idx
        scaled = self.g * clip[:, None, None]
        grad = torch.ops.aten.embedding_dense_backward(scaled, self.ids, weight.shape[0],
                                                       -1 if pad is None else pad, False)
        self._set(weight, grad)
        self.ids = self.g = self.valid = None


class _LayerNormSlot(_Slot):
    def norm2(self, batch: int, grams: _Grams) -> torch.Tensor:
        self.per = [None, None]  # per-sample gradients of weight and bias, [batch, features]
        for call in self.calls:
            for k, t in enumerate(call):
                if t is not None:
                    t = _flat(t, batch, self.name)[:, 0]
                    self.per[k] = t if self.per[k] is None else self.per[k] + t
        self.calls = []
        return sum(t.square().sum(1) for t in self.per if t is not None)

    def write(self, clip: torch.Tensor) -> None:
        for param, per in zip((self.module.weight, self.module.bias), self.per):
            if per is not None:
                self._set(param, clip @ per)
        self.per = [None, None]


_SLOTS = {nn.Linear: _LinearSlot, nn.Embedding: _EmbeddingSlot, nn.LayerNorm: _LayerNormSlot}


class BookKeeping:
    """Attaches book-keeping clipping at L2 norm ``max_grad_norm`` to ``model``'s trainable layers.

    ``backward(per_sample_losses)`` runs one backward pass and leaves in ``p.grad`` the clipped
    per-sample gradients summed over the batch; ``last_norms`` holds the per-sample gradient
    norms (before clipping). ``release()`` restores the layers' own classes.
    """

    def __init__(self, model: nn.Module, *, max_grad_norm: float) -> None:
        reason = bookkeeping_unsupported(model)
        if reason is not None:
            raise ModelError(f"book-keeping DP cannot train this model: {reason}; use grad_sample_mode ghost or hooks")
        self.max_grad_norm = float(max_grad_norm)
        self.recording = False
        self.last_norms: torch.Tensor | None = None
        self.slots: list[_Slot] = []
        self._guards = []
        for name, module, own in trainable_modules(model):
            kind = type(module)
            slot = _SLOTS[kind](name, module, self)
            module.__class__ = SWAPS[kind]
            module._bk_slot = slot
            self.slots.append(slot)
            for p in own:
                self._guards.append(p.register_hook(self._guard(name)))
        self.params = [p for p in model.parameters() if p.requires_grad]

    @staticmethod
    def _guard(name: str):
        def hook(grad):
            if grad is None:  # the book-keeping path returns no gradient for the weights
                return None
            raise RuntimeError(f"book-keeping DP: a parameter of {name} received an unclipped gradient (used "
                               f"outside its layer's forward); train this model with ghost or hooks mode")
        return hook

    def backward(self, per_sample_losses: torch.Tensor) -> None:
        """Backpropagate the sum of ``per_sample_losses`` ([batch]) and write the clipped sum to ``p.grad``."""
        batch = per_sample_losses.shape[0]
        self.recording = True
        try:
            per_sample_losses.sum().backward()
        finally:
            self.recording = False
        with torch.no_grad():
            self._clip(batch, device=per_sample_losses.device)

    def _clip(self, batch: int, *, device) -> None:
        active = [slot for slot in self.slots if slot.calls]
        grams = _Grams()
        try:
            norm2 = sum((slot.norm2(batch, grams) for slot in active), torch.zeros(batch, device=device))
        finally:
            for slot in self.slots:
                slot.calls = []
        del grams
        norms = norm2.sqrt()
        clip = (self.max_grad_norm / (norms + CLIP_EPS)).clamp(max=1.0)
        held = Counter(_storage(t) for slot in active for t in slot.gradients())
        for slot in active:
            slot.g_owned = all(held[_storage(t)] == 1 for t in slot.gradients())
            slot.write(clip)
        for p in self.params:
            if p.grad is None:  # a trainable layer this batch did not reach
                p.grad = torch.zeros_like(p)
        self.last_norms = norms.detach()

    def release(self) -> None:
        """Give every layer its own class back and remove the gradient guards."""
        for slot in self.slots:
            slot.module.__dict__.pop("_bk_slot", None)
            slot.module.__class__ = slot.original
        for handle in self._guards:
            handle.remove()
        self._guards = []


class BookKeepingLoss:
    """Cross-entropy per sample; ``backward()`` runs the book-keeping backward pass.
    ``detach()`` and ``item()`` give the batch mean, like a mean-reduced loss."""

    def __init__(self, book: BookKeeping, per_sample: torch.Tensor) -> None:
        self.book, self.per_sample = book, per_sample

    def backward(self) -> None:
        self.book.backward(self.per_sample)

    def detach(self) -> torch.Tensor:
        return self.per_sample.detach().mean()

    def item(self) -> float:
        return float(self.detach())


class BookKeepingCriterion:
    """``criterion(logits, labels)`` -> :class:`BookKeepingLoss` (cross-entropy)."""

    def __init__(self, book: BookKeeping) -> None:
        self.book = book
        self.loss = nn.CrossEntropyLoss(reduction="none")

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> BookKeepingLoss:
        return BookKeepingLoss(self.book, self.loss(logits, labels))
