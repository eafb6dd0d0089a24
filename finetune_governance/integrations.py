"""Governance inside a user's own Hugging Face training script: ``GovernanceCallback``.

At train begin it checks the datasheet's declarations and scans the training texts for PII
under the policy, and raises ``BlockedError`` on a blocking failure (reports are written
first). At train end it assesses the model on the evaluation dataset and writes the same
reports as ``governed-finetune run``. The callback cannot redact the trainer's data: PII the
policy wants redacted counts as residual PII, so a minimisation rule fails until the data is
cleaned before training (e.g. with ``governed-finetune run`` or the scan API).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from transformers import TrainerCallback

from .errors import BlockedError, DataError

PRE_TRAINING_STAGES = ("declare", "scan")


def _column(dataset: Any, name: str) -> list:
    try:
        values = dataset[name]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise DataError(f"dataset has no column '{name}'; pass the dataset with its raw text and label columns") from exc
    return [v for v in (values.tolist() if hasattr(values, "tolist") else values)]


class GovernanceCallback(TrainerCallback):
    """A ``TrainerCallback`` that gates and documents a fine-tune under ``policy``.

    ``train_dataset`` / ``eval_dataset``: column-indexable (a ``datasets.Dataset``, a pandas
    frame or a dict of lists) holding the raw text, label and sensitive-feature columns named
    in the datasheet. After training, ``evidence``, ``report_dir`` and ``exit_code`` are set.
    """

    def __init__(self, *, policy: str | Path, datasheet: Path, output_dir: Path, train_dataset: Any,
                 eval_dataset: Any = None, hash_key: bytes | None = None, run_id: str | None = None) -> None:
        from .api import new_run_id
        from .data.datasheet import load_datasheet
        from .policy import load_policy

        self.policy = load_policy(policy)
        self.datasheet_path = Path(datasheet)
        self.datasheet = load_datasheet(self.datasheet_path)
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.hash_key = hash_key
        self.report_dir = Path(output_dir) / (run_id or new_run_id())
        self.evidence = None
        self.exit_code: int | None = None

    # -- train begin: declarations and PII -------------------------------------------------
    def on_train_begin(self, args, state, control, **kwargs):
        from . import __version__
        from .api import _now, _pii_params, policy_evidence
        from .checks import evaluate
        from .environment import environment
        from .evidence import ResidualSummary, RunEvidence
        from .stages import SilentProgress, declare, scan_and_redact
        from .train.device import pick_device

        columns = self.datasheet.columns
        texts = [str(t) for t in _column(self.train_dataset, columns.text)]
        self.evidence = ev = RunEvidence(
            run_id=self.report_dir.name, tool_version=__version__, git_commit=None, started_at=_now(),
            command="GovernanceCallback (Hugging Face Trainer)",
            config={"trainer_args": {k: str(v) for k, v in sorted(args.to_dict().items())
                                     if k in ("learning_rate", "num_train_epochs", "per_device_train_batch_size",
                                              "seed", "weight_decay")}},
            environment=environment(pick_device("auto")), policy=policy_evidence(self.policy))
        ev.declarations = declare(self.datasheet, self.datasheet_path)
        ev.stages_run.append("declare")
        scan = scan_and_redact(texts, column=columns.text, params=_pii_params(self.policy), hash_key=self.hash_key,
                               progress=SilentProgress())
        ev.scan = scan.evidence
        ev.stages_run.append("scan")
        unredacted = sum(1 for a, b in zip(texts, scan.redacted) if a != b)
        if unredacted:
            ev.warnings.append(f"{unredacted} training record(s) hold PII the policy wants redacted or replaced; "
                               "the callback cannot change the trainer's data, so they count as residual PII")
            by_entity = {s.entity_type: s.records for s in scan.evidence.entities if s.action != "allow"}
            ev.scan.residual = ResidualSummary(records=unredacted, rate=round(unredacted / max(len(texts), 1), 6),
                                               by_entity=by_entity)
        early = [f for f in evaluate(self.policy, ev) if f.stage in PRE_TRAINING_STAGES]
        blocking = [f for f in early if f.blocking_failure]
        if blocking or scan.evidence.blocked_entities:
            ev.stopped_early = "blocking findings before training: " + ", ".join(f.rule_id for f in blocking) \
                if blocking else "the policy blocks entity types found by the scan"
            self._finish()
            raise BlockedError(f"governance: training stopped before it began ({ev.stopped_early}); "
                               f"see {self.report_dir / 'audit.html'}")
        return control

    # -- train end: assessment and reports ---------------------------------------------------
    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        from .evidence import PrivacyEvidence, TrainingEvidence

        if self.evidence is None:
            return control
        tokenizer = processing_class or kwargs.get("tokenizer")
        losses = [round(float(h["loss"]), 6) for h in state.log_history if "loss" in h]
        total = sum(p.numel() for p in model.parameters())
        self.evidence.training = TrainingEvidence(
            base_model=str(getattr(model.config, "_name_or_path", "") or type(model).__name__),
            base_model_sha256="(not recorded: model supplied by the user's Trainer)",
            architecture=type(model).__name__, parameters_total=total,
            parameters_trainable=sum(p.numel() for p in model.parameters() if p.requires_grad), frozen="user-defined",
            device=str(next(model.parameters()).device), epochs=int(round(args.num_train_epochs)),
            steps=int(state.global_step), batch_size=int(args.per_device_train_batch_size),
            learning_rate=float(args.learning_rate), max_length=int(getattr(tokenizer, "model_max_length", 0) or 0)
            if (getattr(tokenizer, "model_max_length", 0) or 0) < 10**6 else 512, seed=int(args.seed),
            loss_per_epoch=losses, stop_reason="Trainer finished", seconds=0.0, weight_decay=float(args.weight_decay))
        self.evidence.privacy = PrivacyEvidence(
            enabled=False, note="trained by the user's Trainer without DP-SGD; use governed-finetune run for DP")
        self.evidence.stages_run.append("train")
        if self.eval_dataset is not None and tokenizer is not None:
            self.evidence.assessment = self._assess(model, tokenizer)
            self.evidence.stages_run.append("assess")
        self._finish()
        return control

    def _assess(self, model, tokenizer):
        import torch

        from .assess import feature_fairness, performance
        from .data.fingerprint import sha256_file
        from .evidence import AssessmentEvidence

        columns = self.datasheet.columns
        texts = [str(t) for t in _column(self.eval_dataset, columns.text)]
        names = [model.config.id2label[i] for i in range(model.config.num_labels)]
        raw = _column(self.eval_dataset, columns.label)
        truth = [names[int(y)] if not isinstance(y, str) else y for y in raw]
        device = next(model.parameters()).device
        model.eval()
        predicted: list[str] = []
        with torch.no_grad():
            for start in range(0, len(texts), 64):
                enc = tokenizer(texts[start:start + 64], padding=True, truncation=True, return_tensors="pt").to(device)
                predicted += [names[int(i)] for i in model(**enc).logits.argmax(-1)]
        self.report_dir.mkdir(parents=True, exist_ok=True)
        path = self.report_dir / "predictions.csv"
        path.write_text("record,label,prediction\n" + "".join(f"{i},{t},{p}\n" for i, (t, p) in
                                                               enumerate(zip(truth, predicted))), encoding="utf-8")
        classes = sorted(set(names))
        favourable = self.datasheet.favourable_label or classes[-1]
        minimum = max([r.params.min_group_size for r in self.policy.rules_of("fairness")] or [30])
        perf = performance(truth, predicted, classes=classes)
        fairness = [feature_fairness(feature=f, groups=[str(g) for g in _column(self.eval_dataset, f)], y_true=truth,
                                     y_pred=predicted, favourable_label=favourable, min_group_size=minimum)
                    for f in columns.sensitive_features]
        return AssessmentEvidence(
            test_records=len(truth), favourable_label=favourable, accuracy=perf.accuracy, f1_macro=perf.f1_macro,
            per_class_f1=perf.per_class_f1, confusion_matrix=perf.confusion_matrix, fairness=fairness,
            min_group_size=minimum, predictions_path=path.name, predictions_sha256=sha256_file(path))

    def _finish(self) -> None:
        from .api import _now
        from .checks import evaluate
        from .gate import verdict
        from .report import write_reports

        ev = self.evidence
        ev.findings = evaluate(self.policy, ev)
        ev.verdict, ev.exit_code = verdict(ev.findings)
        ev.finished_at = _now()
        self.exit_code = ev.exit_code
        self.report_dir.mkdir(parents=True, exist_ok=True)
        write_reports(ev, self.report_dir)


__all__: Sequence[str] = ["GovernanceCallback"]
