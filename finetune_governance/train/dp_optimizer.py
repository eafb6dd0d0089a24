"""Opacus' optimizer for already clipped gradient sums, without its per-step copies.

``DPOptimizerFastGradientClipping`` deep-copies each ``p.grad`` into ``p.summed_grad``,
allocates a zero tensor and a noise tensor per parameter and adds them into a fourth. This
subclass takes ``p.grad`` over as the sum, draws the noise with the same call on the same
generator (so the same values) into one buffer kept across steps, and adds it in place.
Noise standard deviation, scaling by the expected batch size, the accountant hook and the
``BatchMemoryManager`` protocol are Opacus' own, unchanged.
"""

from __future__ import annotations

import torch
from opacus.optimizers import DPOptimizerFastGradientClipping
from opacus.optimizers.optimizer import _check_processed_flag, _mark_as_processed


class ClippedSumDPOptimizer(DPOptimizerFastGradientClipping):
    """DP-SGD step for parameters whose ``p.grad`` already holds the clipped per-sample sum."""

    _noise: torch.Tensor | None = None

    def accumulate(self) -> None:
        for p in self.params:
            if p.summed_grad is None:
                p.summed_grad, p.grad = p.grad, None  # ownership, no copy
            else:
                p.summed_grad.add_(p.grad)

    def add_noise(self) -> None:
        if self.secure_mode:
            return super().add_noise()
        std = getattr(self, "_adjusted_noise_multiplier", self.noise_multiplier) * self.max_grad_norm
        for p in self.params:
            _check_processed_flag(p.summed_grad)
            if std != 0:
                p.summed_grad.add_(self._draw(p.summed_grad, std))
            p.grad = p.summed_grad.view_as(p)
            _mark_as_processed(p.summed_grad)

    def _draw(self, like: torch.Tensor, std: float) -> torch.Tensor:
        """Gaussian noise shaped like ``like``: ``torch.normal(0, std, size, generator=...)``'s values."""
        need = like.numel()
        if self._noise is None or self._noise.numel() < need or self._noise.device != like.device \
                or self._noise.dtype != like.dtype:
            size = max(need, max(q.numel() for q in self.params))
            self._noise = torch.empty(size, dtype=like.dtype, device=like.device)
        return self._noise[:need].view(like.shape).normal_(0.0, std, generator=self.generator)
