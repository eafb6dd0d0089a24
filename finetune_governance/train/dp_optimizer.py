"""Opacus' optimizer for already clipped gradient sums, without its per-step copies.

``DPOptimizerFastGradientClipping`` deep-copies each ``p.grad`` into ``p.summed_grad``,
allocates a zero tensor and a noise tensor per parameter and adds them into a fourth. This
subclass takes ``p.grad`` over as the sum and adds the noise in place. The noise is drawn with
Opacus' own call on the same generator, in the same order, so its values are Opacus' values;
with a generator of its own, it is drawn by a helper thread that starts when a logical step
begins (``zero_grad`` after a completed step), so that drawing (a serial kernel) overlaps the
forward pass, and the step waits for it. Noise standard deviation, scaling by the expected batch size, the accountant
hook and the ``BatchMemoryManager`` protocol are Opacus' own, unchanged.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import torch
from opacus.optimizers import DPOptimizerFastGradientClipping
from opacus.optimizers.optimizer import _check_processed_flag, _mark_as_processed


class ClippedSumDPOptimizer(DPOptimizerFastGradientClipping):
    """DP-SGD step for parameters whose ``p.grad`` already holds the clipped per-sample sum."""

    _drawer: ThreadPoolExecutor | None = None
    _pending: tuple[float, Future] | None = None

    @property
    def _std(self) -> float:
        return getattr(self, "_adjusted_noise_multiplier", self.noise_multiplier) * self.max_grad_norm

    def zero_grad(self, set_to_none: bool = False) -> None:
        super().zero_grad(set_to_none)
        if not self._is_last_step_skipped:  # a logical step begins: its noise can be drawn now
            self._prefetch()

    def _prefetch(self) -> None:
        if self._pending is not None or self.secure_mode or self._std == 0 or self.generator is None:
            return  # (without a generator of its own the noise would race the forward pass for torch's)
        if self._drawer is None:
            self._drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dp-noise")
        std = self._std
        self._pending = (std, self._drawer.submit(self._draw, std))

    def _draw(self, std: float) -> list[torch.Tensor]:
        """One noise tensor per parameter, in order: ``torch.normal(0, std, size, generator=...)``'s values."""
        return [torch.normal(mean=0.0, std=std, size=p.shape, device=p.device, dtype=p.dtype,
                             generator=self.generator) for p in self.params]

    def accumulate(self) -> None:
        for p in self.params:
            if p.summed_grad is None:
                p.summed_grad, p.grad = p.grad, None  # ownership, no copy
            else:
                p.summed_grad.add_(p.grad)

    def add_noise(self) -> None:
        if self.secure_mode:
            return super().add_noise()
        std, noise = self._std, None
        if self._pending is not None:
            drawn_std, future = self._pending
            self._pending = None
            noise = future.result()
            if drawn_std != std:  # the noise multiplier changed since: these draws cannot be used
                raise RuntimeError("the noise multiplier changed within a step; create a new optimizer")
        if noise is None and std != 0:
            noise = self._draw(std)
        for k, p in enumerate(self.params):
            _check_processed_flag(p.summed_grad)
            if noise is not None:
                p.summed_grad.add_(noise[k])
                noise[k] = None
            p.grad = p.summed_grad.view_as(p)
            _mark_as_processed(p.summed_grad)

    def close(self) -> None:
        """Stop the noise-drawing thread (a later step draws in the calling thread)."""
        if self._pending is not None:
            self._pending[1].result()
            self._pending = None
        if self._drawer is not None:
            self._drawer.shutdown(wait=True)
            self._drawer = None
