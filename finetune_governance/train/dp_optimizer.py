"""Opacus' optimizer for already clipped gradient sums, without its per-step copies.

``DPOptimizerFastGradientClipping`` deep-copies each ``p.grad`` into ``p.summed_grad``,
allocates a zero tensor and a noise tensor per parameter and adds them into a fourth. This
subclass takes ``p.grad`` over as the sum and adds the noise in place from buffers kept across
steps. Noise standard deviation, scaling by the expected batch size, the accountant hook and
the ``BatchMemoryManager`` protocol are Opacus' own, unchanged.

The noise is i.i.d. ``N(0, (noise_multiplier * max_grad_norm)^2)`` per coordinate, as Opacus'.
On a GPU it is Opacus' own draw (``torch.normal`` on the run's generator, the same values).
On a CPU, where drawing ~10 M normals on one core costs about as much as the clipping
itself, the parameters are split into ``CPU_NOISE_STREAMS`` contiguous groups of about equal
size, each drawn by a generator of its own in a thread of its own; each step seeds those
generators from the run's generator (``stream_seeds``), so a run's noise depends only on its
seed (and is restored with the run's generator on resume), not on the number of cores.
``secure_mode`` keeps Opacus' path whole.
"""

from __future__ import annotations

import threading

import torch
from opacus.optimizers import DPOptimizerFastGradientClipping
from opacus.optimizers.optimizer import _check_processed_flag, _mark_as_processed

CPU_NOISE_STREAMS = 2  # fixed: the noise values must not depend on the machine's core count
_SEED_BOUND = 2**62
_SERIAL_CHUNK = 32768  # at::internal::GRAIN_SIZE: element-wise ops this small run on the calling thread


def stream_seeds(generator: torch.Generator | None, streams: int) -> list[int]:
    """One seed per noise stream for this step, drawn from ``generator`` (torch's global one when None)."""
    return torch.randint(0, _SEED_BOUND, (streams,), generator=generator).tolist()


def split_evenly(sizes: list[int], parts: int) -> list[range]:
    """Consecutive index ranges over ``sizes`` whose sums are as close to equal as a cut allows."""
    total, bounds, acc, k = sum(sizes), [0], 0, 1
    for i, size in enumerate(sizes):
        if k < parts and acc + size / 2 > total * k / parts and i > bounds[-1]:
            bounds.append(i)
            k += 1
        acc += size
    bounds += [len(sizes)] * (parts + 1 - len(bounds))
    return [range(bounds[j], bounds[j + 1]) for j in range(parts)]


def _add_serially(total: torch.Tensor, noise: torch.Tensor) -> None:
    """``total += noise`` in slices below ATen's parallel grain size, so a helper thread opens no
    OpenMP team of its own (whose spinning workers would compete with the main thread's)."""
    if not total.is_contiguous():
        total.add_(noise)
        return
    flat, add = total.view(-1), noise.reshape(-1)
    for start in range(0, flat.numel(), _SERIAL_CHUNK):
        flat[start:start + _SERIAL_CHUNK].add_(add[start:start + _SERIAL_CHUNK])


class ClippedSumDPOptimizer(DPOptimizerFastGradientClipping):
    """DP-SGD step for parameters whose ``p.grad`` already holds the clipped per-sample sum."""

    _buffers: dict | None = None

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
        params = list(self.params)
        for p in params:
            _check_processed_flag(p.summed_grad)
        if std != 0 and params:
            sums = [p.summed_grad for p in params]
            if self._uses_streams(sums[0].device):
                self._noise_cpu_streams(sums, std)
            else:
                for s in sums:
                    s.add_(self._buffer(0, s).normal_(0.0, std, generator=self.generator))
        for p in params:
            p.grad = p.summed_grad.view_as(p)
            _mark_as_processed(p.summed_grad)

    @staticmethod
    def _uses_streams(device: torch.device) -> bool:
        return device.type == "cpu"

    def _noise_cpu_streams(self, sums: list[torch.Tensor], std: float) -> None:
        """Noise on ``CPU_NOISE_STREAMS`` generators seeded from the run's, one thread per stream."""
        seeds = stream_seeds(self.generator, CPU_NOISE_STREAMS)
        groups = split_evenly([s.numel() for s in sums], CPU_NOISE_STREAMS)

        def draw(k: int) -> None:
            gen = torch.Generator().manual_seed(seeds[k])
            for i in groups[k]:
                _add_serially(sums[i], self._buffer(k, sums[i]).normal_(0.0, std, generator=gen))

        errors: list[BaseException] = []

        def guarded(k: int) -> None:
            try:
                draw(k)
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)

        helpers = [threading.Thread(target=guarded, args=(k,), daemon=True) for k in range(1, CPU_NOISE_STREAMS)]
        for t in helpers:
            t.start()
        draw(0)
        for t in helpers:
            t.join()
        if errors:
            raise errors[0]

    def _buffer(self, stream: int, like: torch.Tensor) -> torch.Tensor:
        """Stream ``stream``'s noise buffer (kept across steps) as a tensor shaped like ``like``."""
        if self._buffers is None:
            self._buffers = {}
        need = like.numel()
        buf = self._buffers.get(stream)
        if buf is None or buf.numel() < need or buf.device != like.device or buf.dtype != like.dtype:
            size = max(need, max(q.numel() for q in self.params))
            buf = self._buffers[stream] = torch.empty(size, dtype=like.dtype, device=like.device)
        return buf[:need].view(like.shape)
