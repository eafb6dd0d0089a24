"""DP-SGD cost: seconds per step and peak memory, non-private vs each DP mode (hooks, ghost, bookkeeping).

Each (case, mode) runs in fresh subprocesses on the same model, the same fixed batches, the same
AdamW optimizer and the same number of torch threads. Time: median seconds per step over
``--steps`` timed steps after two warm-up steps (the first allocates AdamW's state), default
allocator; DP draws its noise from a generator of its own, as the training loop does.
Memory, in a second subprocess (first round only) on a CPU with glibc's mmap threshold at
128 KiB (``MALLOC_MMAP_THRESHOLD_``), so freed tensors go back to the OS and the peak RSS tracks
live memory rather than heap fragmentation: ``peak_mb`` is the process's peak RSS, ``step_mb`` its
rise over the RSS after model load and DP setup (activations, gradients, optimizer state,
per-sample buffers, noise). On a GPU: ``torch.cuda.max_memory_allocated``. The non-private
resnet18 keeps its BatchNorm layers (what one would train without DP); DP modes train the
GroupNorm model that ``ModuleValidator.fix`` makes. ``--rounds N`` repeats every case with the
mode order reversed each round and keeps each mode's fastest median, to damp other load.
The last line printed is a JSON object with every figure and the DP/non-private ratios.

    python bench/dp_bench.py [--steps 5] [--cases minilm-64-frozen,...] [--modes nonprivate,bookkeeping]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

CASES = {
    "minilm-64-frozen": dict(kind="text", seq=64, freeze="embeddings"),
    "minilm-64-full": dict(kind="text", seq=64, freeze="none"),
    "minilm-128-frozen": dict(kind="text", seq=128, freeze="embeddings"),
    "minilm-128-full": dict(kind="text", seq=128, freeze="none"),
    "minilm-128-frozen-3layers": dict(kind="text", seq=128, freeze="embeddings", freeze_layers=3),
    "minilm-128-head-only": dict(kind="text", seq=128, freeze="all_but_head"),
    "resnet18-64": dict(kind="image", size=64, freeze="none"),
}
MODES = ("nonprivate", "hooks", "ghost", "bookkeeping")
BATCH = 32
WARMUP = 2
MMAP_THRESHOLD = "131072"


def _rss_mb() -> float:
    """Current resident set size (MiB)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(case: str, mode: str, steps: int, device: str, threads: int) -> dict:
    """One (case, mode) in this process: per-step seconds, peak memory and its rise over setup."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from finetune_governance.train.device import autocast
    from finetune_governance.train.loop import image_forward, text_forward
    from finetune_governance.train.privacy import PrivacySettings, fix_for_dp, make_private

    warnings.simplefilter("ignore")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    spec = CASES[case]
    if spec["kind"] == "text":
        from finetune_governance.train.models import load_text_classifier, resolve_text_model

        model, _ = load_text_classifier(resolve_text_model("minilm"), labels=["a", "b"], freeze=spec["freeze"],
                                        freeze_layers=spec.get("freeze_layers", 0))
        ids = torch.randint(1000, 20000, (BATCH * 4, spec["seq"]))
        data = TensorDataset(ids, torch.ones_like(ids), torch.randint(0, 2, (BATCH * 4,)))
        forward = text_forward
    else:
        from finetune_governance.train.images import load_torchvision_classifier

        model, _ = load_torchvision_classifier("torchvision:resnet18", num_classes=10, weights=None)
        if mode != "nonprivate":
            model, _ = fix_for_dp(model)
        data = TensorDataset(torch.randn(BATCH * 4, 3, spec["size"], spec["size"]), torch.randint(0, 10, (BATCH * 4,)))
        forward = image_forward
    model.to(device).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    criterion = torch.nn.CrossEntropyLoss()
    loader = DataLoader(data, batch_size=BATCH)
    used = mode
    if mode != "nonprivate":
        setup = make_private(model, optimizer, loader, noise_multiplier=1.0, noise_generator=torch.Generator().manual_seed(1),
                             settings=PrivacySettings(target_epsilon=8.0, delta=1e-5, max_grad_norm=1.0,
                                                      grad_sample_mode=mode))
        model, optimizer, criterion, used = setup.model, setup.optimizer, setup.criterion, setup.grad_sample_mode
    batches = [data[i * BATCH:(i + 1) * BATCH] for i in range(4)]
    cuda = device.startswith("cuda")

    def step(batch) -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(device):
            logits, labels = forward(model, batch, device)
        loss = criterion(logits.float(), labels)
        loss.backward()
        optimizer.step()
        if cuda:
            torch.cuda.synchronize()

    base = torch.cuda.memory_allocated() / 2**20 if cuda else _rss_mb()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for i in range(WARMUP):
        step(batches[i % 4])
    times = []
    for i in range(steps):
        started = time.perf_counter()
        step(batches[(WARMUP + i) % 4])
        times.append(time.perf_counter() - started)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else _peak_rss_mb()
    return {"case": case, "mode": mode, "used_mode": used, "seconds_per_step": round(statistics.median(times), 4),
            "seconds_mean": round(statistics.fmean(times), 4), "peak_mb": round(peak, 1),
            "step_mb": round(peak - base, 1),
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad)}


def _child(case: str, mode: str, steps: int, device: str, threads: int, *, memory: bool) -> dict:
    env = dict(os.environ)
    if memory:
        env["MALLOC_MMAP_THRESHOLD_"] = MMAP_THRESHOLD
    done = subprocess.run([sys.executable, __file__, "--child", case, mode, "--steps", str(steps), "--device", device,
                           "--threads", str(threads)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"case": case, "mode": mode, "error": (done.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_case(case: str, mode: str, steps: int, device: str, threads: int, *, memory: bool) -> dict:
    """Time in one child (default allocator); memory in another (CPU: mmap threshold) unless ``memory`` is off."""
    row = _child(case, mode, steps, device, threads, memory=False)
    if "error" in row or not memory or device.startswith("cuda"):
        return row
    mem = _child(case, mode, 2, device, threads, memory=True)
    if "error" in mem:
        return {**row, "memory_error": mem["error"]}
    row["default_malloc_peak_mb"] = row["peak_mb"]
    row.update(peak_mb=mem["peak_mb"], step_mb=mem["step_mb"])
    return row


def utility(limit: int, epochs: int, device: str) -> dict:
    """Held-out accuracy on the bundled example, non-private vs DP at epsilon 8, same settings."""
    import torch

    from finetune_governance.config import EXAMPLE_DIR
    from finetune_governance.data.datasets import load_table
    from finetune_governance.stages import encode, split_indices
    from finetune_governance.train import PrivacySettings, TrainSettings, predict_proba, train_classifier
    from finetune_governance.train.models import load_text_classifier, resolve_text_model

    warnings.simplefilter("ignore")
    table = load_table(EXAMPLE_DIR / "tickets.csv", text_column="text", label_column="label", limit=limit)
    classes = table.classes
    split = split_indices(table.labels, test_size=0.2, seed=13)
    out = {"records": len(table), "train": len(split.train), "test": len(split.test), "epochs": epochs,
           "batch_size": 32, "learning_rate": 1e-3, "max_length": 64, "freeze": "embeddings", "max_grad_norm": 1.0}
    for label, dp in (("nonprivate", None), ("dp_eps8", PrivacySettings(8.0, 1.0 / (10 * len(split.train)), 1.0))):
        torch.manual_seed(13)
        model, tok = load_text_classifier(resolve_text_model("minilm"), labels=classes, freeze="embeddings")
        index = {c: i for i, c in enumerate(classes)}
        train = encode(tok, [table.texts[i] for i in split.train], [index[table.labels[i]] for i in split.train], 64)
        test = encode(tok, [table.texts[i] for i in split.test], [index[table.labels[i]] for i in split.test], 64)
        settings = TrainSettings(epochs=epochs, batch_size=32, learning_rate=1e-3, weight_decay=0.01, seed=13,
                                 device=device)
        result = train_classifier(model, train, settings=settings, privacy=dp, max_epsilon=8.0 if dp else None)
        probs = predict_proba(model, test, batch_size=64, device=device)
        truth = torch.tensor([index[table.labels[i]] for i in split.test]).numpy()
        out[label] = {"accuracy": round(float((probs.argmax(1) == truth).mean()), 4), "steps": result.steps,
                      "epsilon": result.epsilon_curve[-1][1] if result.epsilon_curve else None,
                      "noise_multiplier": result.noise_multiplier}
    return out


def ratios_of(rows: list[dict], cases: list[str]) -> dict:
    """DP / non-private ratios per case and mode: time (median step), peak memory, step memory."""
    out = {}
    for case in cases:
        by = {r["mode"]: r for r in rows if r["case"] == case and "error" not in r}
        base = by.get("nonprivate")
        if base is None:
            continue
        for mode in MODES[1:]:
            if mode in by:
                out[f"{case}/{mode}"] = {
                    "used_mode": by[mode]["used_mode"],
                    "time": round(by[mode]["seconds_per_step"] / base["seconds_per_step"], 3),
                    "peak_memory": round(by[mode]["peak_mb"] / base["peak_mb"], 3),
                    "step_memory": round(by[mode]["step_mb"] / max(base["step_mb"], 1.0), 3)}
    return out


def _fastest(rows: list[dict]) -> list[dict]:
    """Per (case, mode): the fastest round's time, the first round's memory (rounds damp other load)."""
    best: dict[tuple, dict] = {}
    for r in rows:
        key = (r["case"], r["mode"])
        if "error" in r:
            best.setdefault(key, r)
        elif key not in best or "error" in best[key]:
            best[key] = dict(r)
        elif r["seconds_per_step"] < best[key]["seconds_per_step"]:
            best[key].update(seconds_per_step=r["seconds_per_step"], seconds_mean=r["seconds_mean"], round=r["round"])
    return list(best.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per (case, mode), after 2 warm-up steps")
    parser.add_argument("--cases", default="minilm-64-frozen,minilm-64-full,minilm-128-frozen,minilm-128-full,resnet18-64")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--rounds", type=int, default=1, help="repeat all modes per case, order reversed each round")
    parser.add_argument("--no-memory", action="store_true", help="skip the separate memory runs")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch threads in every run (0: torch's default here)")
    parser.add_argument("--utility", action="store_true", help="also measure accuracy at epsilon 8 vs non-private")
    parser.add_argument("--utility-limit", type=int, default=1500)
    parser.add_argument("--utility-epochs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("CASE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    import torch

    from finetune_governance.train.device import pick_device

    device = pick_device(args.device)
    threads = args.threads or torch.get_num_threads()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], args.steps, device, threads)))
        return
    cases, modes = args.cases.split(","), args.modes.split(",")
    load_start = [round(x, 2) for x in os.getloadavg()]
    rows = []
    for case in cases:
        for r in range(args.rounds):
            for mode in (modes if r % 2 == 0 else modes[::-1]):
                rows.append({**run_case(case, mode, args.steps, device, threads, memory=not args.no_memory and r == 0),
                             "round": r})
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    best = _fastest(rows)
    summary = {"benchmark": "dp_bench", "device": device, "threads": threads, "batch": BATCH, "steps": args.steps,
               "warmup": WARMUP, "rounds": args.rounds, "load_average_start": load_start,
               "load_average_end": [round(x, 2) for x in os.getloadavg()], "results": best,
               "ratios": ratios_of(best, cases)}
    if args.utility:
        summary["utility"] = utility(args.utility_limit, args.utility_epochs, device)
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
