"""Governance inside a user's own Hugging Face training script: ``GovernanceCallback``.

At train begin it checks the datasheet's declarations and scans the training texts for PII
under the policy, and raises ``BlockedError`` on a blocking failure (reports are written
first). At train end it assesses the model on the evaluation dataset and writes the same
reports as ``governed-finetune run``. The shared work is ``session.GovernanceSession``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from transformers import TrainerCallback

from ..evidence import TrainingEvidence
from .session import GovernanceSession, SessionResults, SessionSettings, column

_RECORDED_ARGS = ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "seed", "weight_decay")


class GovernanceCallback(SessionResults, TrainerCallback):
    """A ``TrainerCallback`` that gates and documents a fine-tune under ``policy``.

    ``train_dataset`` / ``eval_dataset``: column-indexable (a ``datasets.Dataset``, a pandas
    frame or a dict of lists) holding the raw text, label and sensitive-feature columns named
    in the datasheet. ``mlflow=True`` logs the verdict, metrics and reports to the active
    MLflow run; ``waivers`` a waivers YAML applied as in ``run --waivers``. After training,
    ``evidence``, ``report_dir`` and ``exit_code`` are set.
    """

    def __init__(self, *, policy: str | Path, datasheet: Path, output_dir: Path, train_dataset: Any,
                 eval_dataset: Any = None, hash_key: bytes | None = None, run_id: str | None = None,
                 mlflow: bool = False, waivers: Path | None = None) -> None:
        self.session = GovernanceSession(SessionSettings(
            policy=policy, datasheet=Path(datasheet), output_dir=Path(output_dir), run_id=run_id,
            hash_key=hash_key, mlflow=mlflow, waivers=Path(waivers) if waivers is not None else None))
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset

    def on_train_begin(self, args, state, control, **kwargs):
        config = {"trainer_args": {k: str(v) for k, v in sorted(args.to_dict().items()) if k in _RECORDED_ARGS}}
        self.session.begin(self.train_dataset, command="GovernanceCallback (Hugging Face Trainer)", config=config)
        return control

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.session.evidence is None:
            return control
        tokenizer = processing_class or kwargs.get("tokenizer")
        self.session.record_training(_training_evidence(args, state, model, tokenizer), framework="Trainer")
        if self.eval_dataset is not None and tokenizer is not None:
            names = [model.config.id2label[i] for i in range(model.config.num_labels)]
            texts = [str(t) for t in column(self.eval_dataset, self.session.datasheet.columns.text)]
            raw = column(self.eval_dataset, self.session.datasheet.columns.label)
            truth = [names[int(y)] if not isinstance(y, str) else y for y in raw]
            predicted, probabilities = _predict(model, tokenizer, texts, names)
            self.session.assess(self.eval_dataset, predicted, classes=names, truth=truth, probabilities=probabilities)
        self.session.finish()
        return control


def _training_evidence(args, state, model, tokenizer) -> TrainingEvidence:
    max_length = int(getattr(tokenizer, "model_max_length", 0) or 0)
    return TrainingEvidence(
        base_model=str(getattr(model.config, "_name_or_path", "") or type(model).__name__),
        base_model_sha256="(not recorded: model supplied by the user's Trainer)",
        architecture=type(model).__name__, parameters_total=sum(p.numel() for p in model.parameters()),
        parameters_trainable=sum(p.numel() for p in model.parameters() if p.requires_grad), frozen="user-defined",
        device=str(next(model.parameters()).device), epochs=int(round(args.num_train_epochs)),
        steps=int(state.global_step), batch_size=int(args.per_device_train_batch_size),
        learning_rate=float(args.learning_rate), max_length=max_length if max_length < 10**6 else 512,
        seed=int(args.seed), loss_per_epoch=[round(float(h["loss"]), 6) for h in state.log_history if "loss" in h],
        stop_reason="Trainer finished", seconds=0.0, weight_decay=float(args.weight_decay))


def _predict(model, tokenizer, texts: list[str], names: list[str]) -> tuple[list[str], list[list[float]]]:
    """Predicted label names and class probabilities (softmax, ``names`` order) for ``texts``."""
    import torch

    device = next(model.parameters()).device
    model.eval()
    predicted: list[str] = []
    probabilities: list[list[float]] = []
    with torch.no_grad():
        for start in range(0, len(texts), 64):
            enc = tokenizer(texts[start:start + 64], padding=True, truncation=True, return_tensors="pt").to(device)
            probs = torch.softmax(model(**enc).logits.float(), dim=-1).cpu()
            predicted += [names[int(i)] for i in probs.argmax(-1)]
            probabilities += probs.tolist()
    return predicted, probabilities


__all__: Sequence[str] = ["GovernanceCallback"]
