"""Autograd paths for book-keeping clipping: input gradients as usual, no weight gradients.

Each trainable ``nn.Linear``, ``nn.Embedding`` and ``nn.LayerNorm`` is given a subclass (its
``__class__`` is swapped, so its state dict and ``isinstance`` checks do not change) whose
forward, while gradients are enabled, runs an autograd function. Its backward returns the
gradient for the layer input only and hands the slot what the per-sample gradients need:
the layer input and output gradient (Linear, Embedding), or the per-sample gradients
themselves, ``[batch, features]`` (LayerNorm). Outside training (no grad) the layers run
their own forward unchanged.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class _LinearFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, slot):
        ctx.slot = slot
        ctx.save_for_backward(x, weight)
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        grad_x = g.matmul(weight.to(g.dtype)) if ctx.needs_input_grad[0] else None
        ctx.slot.keep(x, g)
        return grad_x, None, None, None


class _EmbeddingFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, ids, weight, padding_idx, slot):
        ctx.slot = slot
        ctx.save_for_backward(ids)
        return F.embedding(ids, weight, padding_idx)

    @staticmethod
    def backward(ctx, g):
        (ids,) = ctx.saved_tensors
        ctx.slot.keep(ids, g)
        return None, None, None, None


class _LayerNormFn(torch.autograd.Function):
    """Layer norm over the last axis (PyTorch's own kernels); backward also hands the slot the
    per-sample gradients of weight and bias (sums over every axis but batch and features)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps, slot):
        shape = (x.shape[-1],)
        out, mean, rstd = torch.native_layer_norm(x, shape, weight, bias, eps)
        ctx.slot, ctx.shape, ctx.has_bias = slot, shape, bias is not None
        ctx.save_for_backward(x, mean, rstd, weight)
        return out

    @staticmethod
    def backward(ctx, g):
        x, mean, rstd, weight = ctx.saved_tensors
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.native_layer_norm_backward(g, x, ctx.shape, mean, rstd, weight, None,
                                                               [True, False, False])[0]
        batch, width = g.shape[0], g.shape[-1]
        per_weight = per_bias = None
        if ctx.needs_input_grad[1]:
            per_weight = torch.sub(x, mean).mul_(rstd).mul_(g).reshape(batch, -1, width).sum(1)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            per_bias = g.reshape(batch, -1, width).sum(1)
        ctx.slot.keep(per_weight, per_bias)
        return grad_x, None, None, None, None


def _slot(module):
    return module.__dict__.get("_bk_slot") if torch.is_grad_enabled() else None


class BKLinear(nn.Linear):
    def forward(self, x):
        slot = _slot(self)
        return super().forward(x) if slot is None else _LinearFn.apply(x, self.weight, self.bias, slot)


class BKEmbedding(nn.Embedding):
    def forward(self, ids):
        slot = _slot(self)
        return super().forward(ids) if slot is None else _EmbeddingFn.apply(ids, self.weight, self.padding_idx, slot)


class BKLayerNorm(nn.LayerNorm):
    def forward(self, x):
        slot = _slot(self)
        if slot is None:
            return super().forward(x)
        if torch.is_autocast_enabled(x.device.type):
            x = x.float()  # autocast runs layer_norm in float32; the native kernel it calls here is not cast
        return _LayerNormFn.apply(x, self.weight, self.bias, self.eps, slot)


SWAPS: dict[type, type] = {nn.Linear: BKLinear, nn.Embedding: BKEmbedding, nn.LayerNorm: BKLayerNorm}


def unsupported_reason(module: nn.Module) -> str | None:
    """Why book-keeping cannot cover ``module`` (a module with trainable parameters of its own),
    or None when it can."""
    kind = type(module)
    if kind not in SWAPS:
        return f"{kind.__name__} has no book-keeping path"
    if isinstance(module, nn.Embedding) and (module.max_norm is not None or module.sparse
                                             or module.scale_grad_by_freq):
        return "Embedding with max_norm, sparse or scale_grad_by_freq"
    if isinstance(module, nn.LayerNorm) and (module.weight is None or len(module.normalized_shape) != 1):
        return "LayerNorm without affine weight or over more than the last axis"
    return None
