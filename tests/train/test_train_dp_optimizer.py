"""The lean optimizer steps as Opacus' DPOptimizerFastGradientClipping does; its CPU noise is
i.i.d. with Opacus' standard deviation, drawn from streams seeded by the run's generator."""

from __future__ import annotations

import pytest
import torch
from opacus.optimizers import DPOptimizerFastGradientClipping

from finetune_governance.train.dp_optimizer import CPU_NOISE_STREAMS, ClippedSumDPOptimizer, split_evenly, stream_seeds
from finetune_governance.train.privacy import noise_only_step

SIGMA, CLIP, BATCH = 1.3, 0.7, 8


def _params(shapes=((5, 3), (7,))):
    torch.manual_seed(0)
    return [torch.nn.Parameter(torch.randn(*shape)) for shape in shapes]


def _run(kind, *, physical: int, empty_last: bool = False, own_generator: bool = True, sigma: float = SIGMA,
         shapes=((5, 3), (7,)), inner=None, seed: int = 11):
    """Three logical steps of ``physical`` physical batches each; returns the parameters and the accountant calls."""
    params = _params(shapes)
    calls = []
    torch.manual_seed(seed)  # noise from torch's global generator when the optimizer has none of its own
    base = (inner or (lambda ps: torch.optim.AdamW(ps, lr=0.1)))(params)
    optimizer = kind(base, noise_multiplier=sigma, max_grad_norm=CLIP, expected_batch_size=BATCH,
                     generator=torch.Generator().manual_seed(seed) if own_generator else None)
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


@pytest.mark.parametrize("physical,empty_last", [(1, False), (3, False), (1, True)])
def test_without_noise_the_steps_are_opacus_steps(physical, empty_last):
    ours, our_calls = _run(ClippedSumDPOptimizer, physical=physical, empty_last=empty_last, sigma=0.0)
    theirs, their_calls = _run(DPOptimizerFastGradientClipping, physical=physical, empty_last=empty_last, sigma=0.0)
    assert our_calls == their_calls == [0.0] * 3
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


@pytest.mark.parametrize("physical,own_generator,empty_last", [(1, True, False), (3, True, False), (1, False, False),
                                                               (1, True, True)])
def test_one_stream_path_draws_opacus_noise(monkeypatch, physical, own_generator, empty_last):
    """The path a GPU takes: Opacus' own draw on the run's generator, the same values."""
    monkeypatch.setattr(ClippedSumDPOptimizer, "_uses_streams", staticmethod(lambda device: False))
    ours, our_calls = _run(ClippedSumDPOptimizer, physical=physical, own_generator=own_generator, empty_last=empty_last)
    theirs, their_calls = _run(DPOptimizerFastGradientClipping, physical=physical, own_generator=own_generator,
                               empty_last=empty_last)
    assert our_calls == their_calls == [SIGMA] * 3
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


def _noise_of_one_step(*, seed: int = 11, shapes=((300, 200), (50,), (400, 100)), sigma: float = SIGMA):
    """The noise one CPU step adds: zero gradients, SGD at lr = batch size, so p_after - p_before = -noise."""
    params = _params(shapes)
    before = [p.detach().clone() for p in params]
    optimizer = ClippedSumDPOptimizer(torch.optim.SGD(params, lr=BATCH), noise_multiplier=sigma, max_grad_norm=CLIP,
                                      expected_batch_size=BATCH, generator=torch.Generator().manual_seed(seed))
    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    return [b - p.detach() for b, p in zip(before, params)]


def test_cpu_noise_has_opacus_distribution():
    noise = torch.cat([n.flatten() for n in _noise_of_one_step()])
    std = SIGMA * CLIP
    assert noise.numel() == 100_050
    assert abs(float(noise.mean())) < 4 * std / noise.numel() ** 0.5
    assert float(noise.std()) == pytest.approx(std, rel=0.01)
    # the two streams' halves are independent draws, not copies of one another
    first, second = _noise_of_one_step()[0].flatten()[:40_000], _noise_of_one_step()[2].flatten()[:40_000]
    assert abs(float(torch.corrcoef(torch.stack([first, second]))[0, 1])) < 0.03


def test_cpu_noise_is_the_documented_draw_and_depends_only_on_the_seed():
    shapes = ((300, 200), (50,), (400, 100))
    got = _noise_of_one_step(shapes=shapes)
    seeds = stream_seeds(torch.Generator().manual_seed(11), CPU_NOISE_STREAMS)
    groups = split_evenly([torch.Size(s).numel() for s in shapes], CPU_NOISE_STREAMS)
    assert [list(g) for g in groups] == [[0], [1, 2]]
    for k, group in enumerate(groups):
        gen = torch.Generator().manual_seed(seeds[k])
        for i in group:
            assert torch.allclose(got[i], torch.empty(shapes[i]).normal_(0.0, SIGMA * CLIP, generator=gen),
                                  rtol=0, atol=1e-6)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = _noise_of_one_step(shapes=shapes)
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(a, b) for a, b in zip(got, single))
    other = _noise_of_one_step(shapes=shapes, seed=12)
    assert not torch.equal(got[0], other[0])


def test_noise_error_in_a_helper_stream_reaches_the_caller(monkeypatch):
    params = _params(((4, 4), (4, 4)))
    optimizer = ClippedSumDPOptimizer(torch.optim.SGD(params, lr=1.0), noise_multiplier=SIGMA, max_grad_norm=CLIP,
                                      expected_batch_size=BATCH, generator=torch.Generator().manual_seed(1))
    for p in params:
        p.grad = torch.zeros_like(p)

    def broken(self, stream, like):
        if stream == 1:
            raise RuntimeError("stream 1 failed")
        return torch.empty_like(like)

    monkeypatch.setattr(ClippedSumDPOptimizer, "_buffer", broken)
    with pytest.raises(RuntimeError, match="stream 1 failed"):
        optimizer.step()


@pytest.mark.parametrize("sizes,parts,expected", [
    ([5, 5, 5, 5], 2, [[0, 1], [2, 3]]),
    ([100, 1], 2, [[0], [1]]),
    ([1], 2, [[0], []]),
    ([1, 1, 1, 1, 1, 1], 3, [[0, 1], [2, 3], [4, 5]]),
    ([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2, [[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]),
])
def test_split_evenly(sizes, parts, expected):
    assert [list(r) for r in split_evenly(sizes, parts)] == expected

