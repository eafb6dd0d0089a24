"""Run a tiny DP fine-tune in its own process; optionally signal itself after step N.

Used by test_train_resume.py: ``python resume_worker.py CKPT OUT.json [--resume] [--kill-at N --signal KILL|TERM]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import warnings
from pathlib import Path


def tiny_model():
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32, num_labels=2)
    return BertForSequenceClassification(config)


def tiny_data(n: int = 96):
    import torch
    from torch.utils.data import TensorDataset

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 64, (n, 8), generator=g)
    return TensorDataset(ids, torch.ones_like(ids), (ids[:, 0] > 32).long())


def main() -> None:
    import torch

    from finetune_governance.train import PrivacySettings, TrainSettings, train_classifier, unwrap

    parser = argparse.ArgumentParser()
    parser.add_argument("ckpt", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--kill-at", type=int, default=0)
    parser.add_argument("--signal", choices=["KILL", "TERM"], default="KILL")
    parser.add_argument("--mode", choices=["bookkeeping", "ghost", "hooks"], default="bookkeeping")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    sig = signal.SIGKILL if args.signal == "KILL" else signal.SIGTERM

    def on_step(step: int, total: int) -> None:
        if args.kill_at and step == args.kill_at and not args.resume:
            os.kill(os.getpid(), sig)

    model = tiny_model()
    settings = TrainSettings(epochs=3, batch_size=16, learning_rate=1e-2, weight_decay=0.0, seed=7, device="cpu",
                             scheduler="linear", checkpoint_dir=args.ckpt, resume=args.resume, plan="tiny")
    privacy = PrivacySettings(target_epsilon=3.0, delta=1e-3, max_grad_norm=1.0, grad_sample_mode=args.mode)
    from finetune_governance.train.loop import TrainingInterrupted

    try:
        result = train_classifier(model, tiny_data(), settings=settings, privacy=privacy, max_epsilon=3.0,
                                  on_step=on_step)
    except TrainingInterrupted as exc:
        args.out.write_text(json.dumps({"interrupted": str(exc)}), encoding="utf-8")
        raise SystemExit(exc.exit_code) from None
    weights = {k: v.flatten()[:4].tolist() for k, v in unwrap(model).state_dict().items() if v.dtype.is_floating_point}
    from finetune_governance.train import epsilon_from_history

    args.out.write_text(json.dumps({
        "steps": result.steps, "lost": result.lost_steps, "resumed_from": result.resumed_from_step,
        "history": [[h.noise_multiplier, h.sample_rate, h.steps] for h in result.history],
        "epsilon": epsilon_from_history(result.history, delta=1e-3), "curve": result.epsilon_curve,
        "losses": result.loss_per_epoch, "weights": weights, "stop": result.stop_reason, "mode": result.grad_sample_mode,
    }), encoding="utf-8")


if __name__ == "__main__":
    main()
