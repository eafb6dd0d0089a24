"""Governance inside a user's own PyTorch Lightning script: ``GovernanceCallback`` for ``Trainer``.

Same behaviour as the Hugging Face callback: at fit start the datasheet's declarations are
checked and the training texts scanned for PII under the policy (a blocking finding raises
``BlockedError`` before the first step, after the reports are written); at fit end the model is
assessed on the evaluation data through the user's ``predict`` function and the same reports
as ``governed-finetune run`` are written. Importing this module imports Lightning.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Sequence

import lightning.pytorch as pl

from ..errors import UsageError
from ..evidence import TrainingEvidence
from .session import GovernanceSession, SessionResults, SessionSettings, column

#: ``predict(module, texts) -> one label per text``: a label name, or an index into ``labels``
Predict = Callable[[pl.LightningModule, list[str]], Sequence[Any]]
#: ``predict_proba(module, texts) -> [len(texts), len(labels)]`` class probabilities, ``labels`` order
PredictProba = Callable[[pl.LightningModule, list[str]], Any]


class GovernanceCallback(SessionResults, pl.Callback):
    """A Lightning ``Callback`` that gates and documents a fine-tune under ``policy``.

    ``train_dataset`` / ``eval_dataset``: column-indexable (a pandas frame, a dict of lists, a
    ``datasets.Dataset``) with the raw text, label and sensitive-feature columns named in the
    datasheet. ``predict`` maps the trained module and a list of raw texts to predictions
    (label names, or indices into ``labels``, the class names in the model's output order);
    without ``eval_dataset`` and ``predict`` the assessment does not run and the policy's
    assessment rules fail as not run. ``seed`` (the one given to ``seed_everything``),
    ``max_length`` (tokens) and ``base_model`` are recorded in the evidence. ``loss_metric``:
    the name under which the module logs its training loss (``self.log``), recorded per epoch.
    ``mlflow=True`` logs the verdict, metrics and reports to the Trainer's ``MLFlowLogger`` run
    when it has one, else to the active MLflow run. ``predict_proba`` (optional) maps the module
    and texts to class probabilities in ``labels`` order (ROC AUC, calibration, scoring rates);
    ``waivers`` is a waivers YAML applied as in ``run --waivers``.
    """

    def __init__(self, *, policy: str | Path, datasheet: Path, output_dir: Path, train_dataset: Any,
                 eval_dataset: Any = None, predict: Predict | None = None, labels: Sequence[str] | None = None,
                 seed: int | None = None, max_length: int = 0, base_model: str | None = None,
                 loss_metric: str = "train_loss", hash_key: bytes | None = None, run_id: str | None = None,
                 mlflow: bool = False, predict_proba: PredictProba | None = None,
                 waivers: Path | None = None) -> None:
        if eval_dataset is not None and predict is None:
            raise UsageError("GovernanceCallback: eval_dataset needs predict=, a function (module, texts) -> labels")
        self.session = GovernanceSession(SessionSettings(
            policy=policy, datasheet=Path(datasheet), output_dir=Path(output_dir), run_id=run_id,
            hash_key=hash_key, mlflow=mlflow, waivers=Path(waivers) if waivers is not None else None))
        if predict_proba is not None and labels is None:
            raise UsageError("GovernanceCallback: predict_proba needs labels=[class names] in the model's output order")
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.predict, self.labels, self.predict_proba = predict, list(labels) if labels is not None else None, \
            predict_proba
        self.seed, self.max_length, self.base_model, self.loss_metric = seed, max_length, base_model, loss_metric
        self._losses: list[float] = []
        self._started = 0.0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._losses, self._started = [], time.monotonic()
        config = {"lightning": {"max_epochs": str(trainer.max_epochs), "max_steps": str(trainer.max_steps),
                                "precision": str(trainer.precision), "accelerator": type(trainer.accelerator).__name__}}
        self.session.begin(self.train_dataset, command="GovernanceCallback (PyTorch Lightning Trainer)",
                           config=config)
        if self.seed is None:
            self.session.evidence.warnings.append(
                "the Lightning callback was given no seed=; the evidence records seed -1 and the run is not "
                "reproducible from it")

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        loss = trainer.callback_metrics.get(self.loss_metric)
        if loss is not None:
            self._losses.append(round(float(loss), 6))

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.session.evidence is None:
            return
        self.session.record_training(self._training_evidence(trainer, pl_module), framework="Lightning Trainer")
        if self.eval_dataset is not None and self.predict is not None:
            columns = self.session.datasheet.columns
            texts = [str(t) for t in column(self.eval_dataset, columns.text)]
            was_training = pl_module.training
            pl_module.eval()
            import torch

            with torch.no_grad():
                predicted = [self._name(p) for p in self.predict(pl_module, texts)]
                probabilities = self.predict_proba(pl_module, texts) if self.predict_proba is not None else None
            pl_module.train(was_training)
            if probabilities is not None and hasattr(probabilities, "detach"):
                probabilities = probabilities.detach().float().cpu().numpy()
            truth = [self._name(t) for t in column(self.eval_dataset, columns.label)]
            classes = self.labels or sorted(set(truth) | set(predicted))
            self.session.assess(self.eval_dataset, predicted, classes=classes, truth=truth,
                                probabilities=probabilities)
        run_id, uri = _mlflow_logger_run(trainer) if self.session.mlflow else (None, None)
        self.session.finish(mlflow_run_id=run_id, mlflow_tracking_uri=uri)

    def _name(self, value: Any) -> str:
        """A prediction or label as a class name: indices map through ``labels``."""
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, str):
            return value
        if self.labels is None:
            raise UsageError("GovernanceCallback: predictions or labels are indices; pass labels=[class names] "
                             "in the model's output order")
        return self.labels[int(value)]

    def _training_evidence(self, trainer: pl.Trainer, module: pl.LightningModule) -> TrainingEvidence:
        params = list(module.parameters())
        group = trainer.optimizers[0].param_groups[0] if trainer.optimizers else {}
        loader = trainer.train_dataloader
        stop = "Lightning Trainer finished" + (" (stopped by a callback)" if trainer.should_stop else "")
        return TrainingEvidence(
            base_model=self.base_model or type(module).__name__,
            base_model_sha256="(not recorded: model supplied by the user's LightningModule)",
            architecture=type(module).__name__, parameters_total=sum(p.numel() for p in params),
            parameters_trainable=sum(p.numel() for p in params if p.requires_grad), frozen="user-defined",
            device=str(module.device), epochs=int(trainer.current_epoch), steps=int(trainer.global_step),
            batch_size=int(getattr(loader, "batch_size", None) or 0), learning_rate=float(group.get("lr", 0.0)),
            max_length=int(self.max_length), seed=int(self.seed if self.seed is not None else -1),
            loss_per_epoch=self._losses, stop_reason=stop, seconds=round(time.monotonic() - self._started, 3),
            weight_decay=float(group["weight_decay"]) if "weight_decay" in group else None)


def _mlflow_logger_run(trainer: pl.Trainer) -> tuple[str | None, str | None]:
    """The run id and tracking URI of the Trainer's ``MLFlowLogger``, or (None, None)."""
    from lightning.pytorch.loggers import MLFlowLogger

    for logger in trainer.loggers:
        if isinstance(logger, MLFlowLogger):
            return logger.run_id, logger.experiment.tracking_uri
    return None, None


__all__: Sequence[str] = ["GovernanceCallback", "Predict", "PredictProba"]
