"""Utility of DP on the bundled example: held-out accuracy at epsilon 8 vs non-private, same settings.

Both runs use examples/support_tickets/run.yaml unchanged (head, freeze, learning rate, epochs,
batch size, seed, split) through the run's own train stage; the only difference is DP-SGD
(the GDPR pack's rule: epsilon 8, delta below 1/N, clipping norm 1.0). The texts are the
unredacted example texts (the PII scan is skipped: this measures the training recipe only).
With ``--seeds 13,14,15`` both runs are repeated per training seed (model head, batch
order, Poisson sampling and noise; the train/test split stays that of run.yaml's seed) and the
means are reported as well. The last line printed is a JSON object with the accuracies and
their difference.

    python bench/dp_utility.py [--epochs N] [--limit N] [--seeds 13,14,15]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def measure(epochs: int | None, limit: int | None, seeds: list[int] | None = None) -> dict:
    from finetune_governance.config import EXAMPLE_CONFIG, load_config
    from finetune_governance.data.datasets import load_table
    from finetune_governance.data.datasheet import load_datasheet
    from finetune_governance.policy.schema import PrivacyParams
    from finetune_governance.stages import SilentProgress, split_indices, train_stage

    config = load_config(EXAMPLE_CONFIG)
    sheet = load_datasheet(config.data.datasheet)
    table = load_table(config.data.path, text_column=sheet.columns.text, label_column=sheet.columns.label,
                       limit=limit)
    training = config.training.model_copy(update={"epochs": epochs or config.training.epochs})
    out = tempfile.mkdtemp(prefix="dp_utility_")
    config = config.model_copy(update={"training": training,
                                       "output": config.output.model_copy(update={"root": Path(out)})})
    split = split_indices(table.labels, test_size=config.training.test_size, seed=config.training.seed)
    texts, labels, classes = table.texts, table.labels, table.classes
    test_texts, test_labels = [texts[i] for i in split.test], [labels[i] for i in split.test]
    summary: dict = {"benchmark": "dp_utility", "records": len(table), "train": len(split.train),
                     "test": len(split.test), "settings": config.model_dump(mode="json", include={"model", "training"})}
    dp_rule = PrivacyParams(differential_privacy="required", max_epsilon=8.0, max_delta="1/N", max_grad_norm=1.0)
    runs = [(seed, name, privacy) for seed in (seeds or [config.training.seed])
            for name, privacy in (("nonprivate", None), ("dp_eps8", dp_rule))]
    per_seed: dict[int, dict] = {}
    for seed, name, privacy in runs:
        started = time.perf_counter()
        seeded = config.model_copy(update={"training": config.training.model_copy(update={"seed": seed})})
        trained = train_stage([texts[i] for i in split.train], [labels[i] for i in split.train], classes=classes,
                              config=seeded, privacy=privacy, progress=SilentProgress())
        from finetune_governance.stages import encode
        from finetune_governance.train import predict_proba
        from finetune_governance.train.device import pick_device

        index = {c: i for i, c in enumerate(classes)}
        data = encode(trained.tokenizer, test_texts, [index[y] for y in test_labels], config.model.max_length)
        probs = predict_proba(trained.model, data, batch_size=64, device=pick_device(config.training.device))
        accuracy = float((probs.argmax(axis=1) == [index[y] for y in test_labels]).mean())
        row = {"accuracy": round(accuracy, 4), "steps": trained.evidence.steps,
               "seconds": round(time.perf_counter() - started, 1),
               "epsilon": trained.privacy.epsilon if trained.privacy else None,
               "delta": trained.privacy.delta if trained.privacy else None,
               "noise_multiplier": trained.privacy.noise_multiplier if trained.privacy else None}
        per_seed.setdefault(seed, {})[name] = row
        print(json.dumps({"seed": seed, name: row}), file=sys.stderr, flush=True)
    first = per_seed[next(iter(per_seed))]
    summary.update(first)  # the first seed's runs, under the keys a single-seed run prints
    summary["accuracy_drop"] = round(first["nonprivate"]["accuracy"] - first["dp_eps8"]["accuracy"], 4)
    summary["accuracy_ratio"] = round(first["dp_eps8"]["accuracy"] / max(first["nonprivate"]["accuracy"], 1e-9), 4)
    if len(per_seed) > 1:
        means = {name: round(sum(r[name]["accuracy"] for r in per_seed.values()) / len(per_seed), 4)
                 for name in ("nonprivate", "dp_eps8")}
        summary["seeds"] = {str(seed): {name: r[name]["accuracy"] for name in r} for seed, r in per_seed.items()}
        summary["mean_accuracy"] = means
        summary["mean_accuracy_drop"] = round(means["nonprivate"] - means["dp_eps8"], 4)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="override run.yaml's epochs (both runs)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N records")
    parser.add_argument("--seeds", default=None, help="comma-separated training seeds (default: run.yaml's)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    print(json.dumps(measure(args.epochs, args.limit, seeds)))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
