"""DP-SGD cost: seconds per step and peak memory, non-private vs Opacus hooks vs ghost clipping.

Each (case, mode) runs in a fresh subprocess on the same model and the same fixed batches;
peak memory is the rise of ``ru_maxrss`` during the timed steps over the level after model
load and one warm-up step (CPU), or ``torch.cuda.max_memory_allocated`` on a GPU.
``--utility`` also fine-tunes MiniLM on the bundled example with and without DP (epsilon 8).
The last line printed is a JSON object with every figure and the DP/non-private ratios.

    python bench/dp_bench.py [--steps 3] [--cases minilm-64-frozen,...] [--utility]
"""

from __future__ import annotations

import argparse
import json
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
MODES = ("nonprivate", "hooks", "ghost")
BATCH = 32


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(case: str, mode: str, steps: int, device: str) -> dict:
    """One (case, mode) in this process: seconds per step (mean of ``steps``) and peak memory."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from finetune_governance.train.device import autocast
    from finetune_governance.train.loop import image_forward, text_forward
    from finetune_governance.train.privacy import PrivacySettings, fix_for_dp, make_private

    warnings.simplefilter("ignore")
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
        setup = make_private(model, optimizer, loader, noise_multiplier=1.0,
                             settings=PrivacySettings(target_epsilon=8.0, delta=1e-5, max_grad_norm=1.0,
                                                      grad_sample_mode=mode))
        model, optimizer, criterion, used = setup.model, setup.optimizer, setup.criterion, setup.grad_sample_mode
    batches = [data[i * BATCH:(i + 1) * BATCH] for i in range(4)]

    def step(batch) -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(device):
            logits, labels = forward(model, batch, device)
        loss = criterion(logits.float(), labels)
        loss.backward()
        optimizer.step()

    step(batches[0])  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    base = _rss_mb()
    started = time.perf_counter()
    for i in range(steps):
        step(batches[i % 4])
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - started) / steps
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else _rss_mb()
    return {"case": case, "mode": mode, "used_mode": used, "seconds_per_step": round(seconds, 4),
            "peak_mb": round(peak, 1), "peak_rise_mb": round(peak - (0 if device.startswith("cuda") else base), 1),
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad)}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per (case, mode)")
    parser.add_argument("--cases", default="minilm-64-frozen,minilm-64-full,minilm-128-frozen,minilm-128-full,resnet18-64")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--utility", action="store_true", help="also measure accuracy at epsilon 8 vs non-private")
    parser.add_argument("--utility-limit", type=int, default=1500)
    parser.add_argument("--utility-epochs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("CASE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    from finetune_governance.train.device import pick_device

    device = pick_device(args.device)
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], args.steps, device)))
        return
    rows = []
    for case in args.cases.split(","):
        for mode in args.modes.split(","):
            done = subprocess.run([sys.executable, __file__, "--child", case, mode, "--steps", str(args.steps),
                                   "--device", device], capture_output=True, text=True)
            if done.returncode != 0:
                rows.append({"case": case, "mode": mode, "error": done.stderr.strip().splitlines()[-1][:300]})
            else:
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    ratios = {}
    for case in args.cases.split(","):
        by = {r["mode"]: r for r in rows if r["case"] == case and "error" not in r}
        if "nonprivate" in by:
            for mode in ("hooks", "ghost"):
                if mode in by:
                    ratios[f"{case}/{mode}"] = {
                        "time": round(by[mode]["seconds_per_step"] / by["nonprivate"]["seconds_per_step"], 3),
                        "peak_memory": round(by[mode]["peak_mb"] / by["nonprivate"]["peak_mb"], 3)}
    import torch

    summary = {"benchmark": "dp_bench", "device": device, "threads": torch.get_num_threads(), "batch": BATCH,
               "steps": args.steps, "results": rows, "ratios": ratios}
    if args.utility:
        summary["utility"] = utility(args.utility_limit, args.utility_epochs, device)
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
