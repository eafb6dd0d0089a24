"""The lean optimizer steps exactly as Opacus' DPOptimizerFastGradientClipping does."""

from __future__ import annotations

import pytest
import torch
from opacus.optimizers import DPOptimizerFastGradientClipping

from finetune_governance.train.dp_optimizer import ClippedSumDPOptimizer
from finetune_governance.train.privacy import noise_only_step


def _params():
    torch.manual_seed(0)
    return [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(7))]


def _run(kind, *, physical: int, empty_last: bool = False, own_generator: bool = True):
    """Three logical steps of ``physical`` physical batches each; returns the parameters and the accountant calls."""
    params = _params()
    calls = []
    torch.manual_seed(11)  # noise from torch's global generator when the optimizer has none of its own
    optimizer = kind(torch.optim.AdamW(params, lr=0.1), noise_multiplier=1.3, max_grad_norm=0.7,
                     expected_batch_size=8, generator=torch.Generator().manual_seed(11) if own_generator else None)
    optimizer.attach_step_hook(lambda opt: calls.append(opt.noise_multiplier))
    g = torch.Generator().manual_seed(2)
    for step in range(3):
        if empty_last and step == 2:
            optimizer.zero_grad(set_to_none=True)
            noise_only_step(optimizer)
            continue
        for part in range(physical):
            optimizer.zero_grad(set_to_none=True)
            for p in params:
                p.grad = torch.randn(p.shape, generator=g)  # a clipped sum, as book-keeping leaves it
            if part < physical - 1:
                optimizer.signal_skip_step(do_skip=True)
            optimizer.step()
    return [p.detach() for p in params], calls


@pytest.mark.parametrize("physical,own_generator", [(1, True), (3, True), (1, False)])
def test_same_steps_as_opacus(physical, own_generator):
    ours, our_calls = _run(ClippedSumDPOptimizer, physical=physical, own_generator=own_generator)
    theirs, their_calls = _run(DPOptimizerFastGradientClipping, physical=physical, own_generator=own_generator)
    assert our_calls == their_calls == [1.3] * 3
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


def test_empty_poisson_batch_is_a_noisy_step():
    ours, calls = _run(ClippedSumDPOptimizer, physical=1, empty_last=True)
    theirs, _ = _run(DPOptimizerFastGradientClipping, physical=1, empty_last=True)
    assert calls == [1.3] * 3
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)
