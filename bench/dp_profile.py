"""Where a DP-SGD step's time goes: forward, backward, clipping, noise and optimizer, non-private vs book-keeping.

One process, the same MiniLM model and fixed batches as ``dp_bench.py``; each mode is set up on
a fresh model and run for ``--steps`` timed steps after two warm-up steps, the modes alternating
in blocks of two steps (``--blocks`` times each) so that other load on the machine hits both
alike. Per mode it reports median milliseconds per phase: ``forward`` (model and loss),
``backward`` (``loss.backward()``; for book-keeping this includes ``clip``: the per-sample norms
and the clipped weight gradients computed after the autograd pass), ``optimizer`` (for DP:
``noise`` plus scaling, accounting and AdamW), and minor page faults per phase (memory freshly
mapped by the process). The last line printed is a JSON object.

    python bench/dp_profile.py [--case minilm-64-frozen] [--blocks 6]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dp_bench import BATCH, CASES  # noqa: E402


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _timed(cls, name: str, into: list) -> None:
    """Wrap ``cls.name`` so each call's seconds are appended to ``into``."""
    original = getattr(cls, name)

    def wrapper(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            into.append(time.perf_counter() - started)

    setattr(cls, name, wrapper)


def _setup(case: str, mode: str):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from finetune_governance.train.models import load_text_classifier, resolve_text_model
    from finetune_governance.train.privacy import PrivacySettings, make_private

    spec = CASES[case]
    torch.manual_seed(0)
    model, _ = load_text_classifier(resolve_text_model("minilm"), labels=["a", "b"], freeze=spec["freeze"],
                                    freeze_layers=spec.get("freeze_layers", 0))
    ids = torch.randint(1000, 20000, (BATCH * 4, spec["seq"]))
    data = TensorDataset(ids, torch.ones_like(ids), torch.randint(0, 2, (BATCH * 4,)))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    criterion = torch.nn.CrossEntropyLoss()
    if mode != "nonprivate":
        setup = make_private(model, optimizer, DataLoader(data, batch_size=BATCH), noise_multiplier=1.0,
                             noise_generator=torch.Generator().manual_seed(1),
                             settings=PrivacySettings(target_epsilon=8.0, delta=1e-5, max_grad_norm=1.0,
                                                      grad_sample_mode=mode))
        model, optimizer, criterion = setup.model, setup.optimizer, setup.criterion
    return model, optimizer, criterion, [data[i * BATCH:(i + 1) * BATCH] for i in range(4)]


def profile(case: str, blocks: int, threads: int) -> dict:
    import torch

    from finetune_governance.train import bookkeeping, dp_optimizer
    from finetune_governance.train.loop import text_forward

    warnings.simplefilter("ignore")
    torch.set_num_threads(threads)
    clip: list[float] = []
    noise: list[float] = []
    _timed(bookkeeping.BookKeeping, "_clip", clip)
    _timed(dp_optimizer.ClippedSumDPOptimizer, "add_noise", noise)
    modes = ("nonprivate", "bookkeeping")
    runs = {mode: _setup(case, mode) for mode in modes}
    rows: dict[str, list[dict]] = {mode: [] for mode in modes}

    def step(mode: str, index: int) -> dict:
        model, optimizer, criterion, batches = runs[mode]
        clip.clear()
        noise.clear()
        f0, t0 = _faults(), time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        logits, labels = text_forward(model, batches[index % 4], "cpu")
        loss = criterion(logits.float(), labels)
        f1, t1 = _faults(), time.perf_counter()
        loss.backward()
        f2, t2 = _faults(), time.perf_counter()
        optimizer.step()
        f3, t3 = _faults(), time.perf_counter()
        return {"step": t3 - t0, "forward": t1 - t0, "backward": t2 - t1, "optimizer": t3 - t2,
                "clip": sum(clip), "noise": sum(noise),
                "faults_forward": f1 - f0, "faults_backward": f2 - f1, "faults_optimizer": f3 - f2}

    for mode in modes:
        for i in range(2):
            step(mode, i)
    for block in range(blocks):
        for mode in (modes if block % 2 == 0 else modes[::-1]):
            for i in range(2):
                rows[mode].append(step(mode, 2 * block + i))
    out: dict = {"benchmark": "dp_profile", "case": case, "threads": threads, "batch": BATCH,
                 "steps_per_mode": 2 * blocks, "load_average": list(os.getloadavg())}
    for mode in modes:
        keys = rows[mode][0].keys()
        out[mode] = {k: (round(statistics.median(r[k] for r in rows[mode]) * 1000, 1) if not k.startswith("faults")
                         else int(statistics.median(r[k] for r in rows[mode]))) for k in keys}
        if mode == "nonprivate":
            for k in ("clip", "noise"):
                out[mode].pop(k)
    base, dp = out["nonprivate"], out["bookkeeping"]
    out["ratio_step"] = round(dp["step"] / base["step"], 3)
    out["extra_ms"] = {k: round(dp[k] - base[k], 1) for k in ("step", "forward", "backward", "optimizer")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="minilm-64-frozen", choices=[c for c, s in CASES.items() if s["kind"] == "text"])
    parser.add_argument("--blocks", type=int, default=6, help="blocks of two timed steps per mode")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    result = profile(args.case, args.blocks, args.threads)
    for mode in ("nonprivate", "bookkeeping"):
        print(mode, {k: v for k, v in result[mode].items()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
