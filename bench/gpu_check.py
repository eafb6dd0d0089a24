"""Short MiniLM fine-tunes, non-private and DP-SGD (book-keeping, ghost, hooks), on whatever device is available.

Prints one JSON line: device, bf16 autocast used, seconds per step for each mode, epsilon spent.

    python bench/gpu_check.py [--records 512] [--batch 32] [--seq 128] [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import torch
    from torch.utils.data import TensorDataset

    from finetune_governance.train import PrivacySettings, TrainSettings, train_classifier
    from finetune_governance.train.device import pick_device
    from finetune_governance.train.models import load_text_classifier, resolve_text_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--freeze", default="embeddings", choices=["none", "embeddings", "all_but_head"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    device = pick_device("auto")
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 20000, (args.records, args.seq), generator=g)
    data = TensorDataset(ids, torch.ones_like(ids), (ids[:, 0] > 10500).long())
    out = {"check": "gpu_check", "device": device,
           "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
           "bf16_autocast": bool(device == "cuda" and torch.cuda.is_bf16_supported()),
           "records": args.records, "batch": args.batch, "seq": args.seq, "freeze": args.freeze}
    for mode in ("nonprivate", "bookkeeping", "ghost", "hooks"):
        torch.manual_seed(0)
        model, _ = load_text_classifier(resolve_text_model("minilm"), labels=["a", "b"], freeze=args.freeze)
        privacy = None if mode == "nonprivate" else PrivacySettings(
            target_epsilon=8.0, delta=1.0 / (10 * args.records), max_grad_norm=1.0, grad_sample_mode=mode)
        settings = TrainSettings(epochs=args.epochs, batch_size=args.batch, learning_rate=5e-4, weight_decay=0.01,
                                 seed=0, device=device)
        result = train_classifier(model, data, settings=settings, privacy=privacy, max_epsilon=8.0 if privacy else None)
        out[mode] = {"seconds_per_step": round(result.seconds / max(result.steps, 1), 4), "steps": result.steps,
                     "loss": result.loss_per_epoch[-1] if result.loss_per_epoch else None,
                     "epsilon": result.epsilon_curve[-1][1] if result.epsilon_curve else None,
                     "grad_sample_mode": result.grad_sample_mode}
    base = out["nonprivate"]["seconds_per_step"]
    out["ratios"] = {m: round(out[m]["seconds_per_step"] / base, 3) for m in ("bookkeeping", "ghost", "hooks") if base}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
