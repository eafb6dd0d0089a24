"""A governance session inside a user's own training loop, independent of the framework.

``GovernanceSession.begin`` runs the pre-training stages (declarations, PII scan of the text
column, and of the other columns by distinct value) on the training data and raises
``BlockedError`` on a blocking finding (after writing the reports);
``record_training`` and ``assess`` add what the framework trained and predicted; ``finish``
evaluates the policy and writes the same reports as ``governed-finetune run``. The framework
callbacks (``huggingface.py``, ``lightning.py``) only translate their hooks into these calls.

A session cannot redact the framework's data: PII the policy wants redacted counts as residual
PII, so a minimisation rule fails until the data is cleaned before training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import BlockedError, DataError
from ..evidence import AssessmentEvidence, PrivacyEvidence, RunEvidence, TrainingEvidence

PRE_TRAINING_STAGES = ("declare", "scan")
NO_DP_NOTE = "trained by the user's {framework} without DP-SGD; use governed-finetune run for DP"


def column(dataset: Any, name: str) -> list:
    """Values of column ``name`` of a column-indexable dataset (``datasets.Dataset``, pandas, dict of lists)."""
    try:
        values = dataset[name]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise DataError(f"dataset has no column '{name}'; pass the dataset with its raw text and label "
                        "columns") from exc
    return list(values.tolist() if hasattr(values, "tolist") else values)


def column_names(dataset: Any) -> list[str]:
    """The column names of ``dataset`` (``datasets.Dataset``, pandas, dict of lists); [] when it has none."""
    for attr in ("column_names", "columns"):
        names = getattr(dataset, attr, None)
        if names is not None and not callable(names):
            return [str(n) for n in names]
    return [str(k) for k in dataset.keys()] if isinstance(dataset, dict) else []


@dataclass(frozen=True)
class SessionSettings:
    """What a session needs besides the data: where reports go and how they are made."""

    policy: str | Path
    datasheet: Path
    output_dir: Path
    run_id: str | None = None
    hash_key: bytes | None = None  # secret key for keyed hashing of PII
    mlflow: bool = False  # log verdict, metrics and reports to the active MLflow run at finish
    waivers: Path | None = None  # a waivers YAML (policy/waivers.py), applied at finish as in run


class GovernanceSession:
    """The state of one governed fine-tune run by a user's own training loop.

    After ``finish``: ``evidence``, ``report_dir`` and ``exit_code`` are set, and
    ``mlflow_run_id`` when MLflow logging was asked for.
    """

    def __init__(self, settings: SessionSettings) -> None:
        from ..api import new_run_id
        from ..data.datasheet import load_datasheet
        from ..policy import load_policy

        self.settings = settings
        self.policy = load_policy(settings.policy)
        self.datasheet_path = Path(settings.datasheet)
        self.datasheet = load_datasheet(self.datasheet_path)
        if settings.waivers is not None:
            from ..policy.waivers import load_waivers

            load_waivers(settings.waivers)  # a bad waivers file is an input error before training
        from ..assess import resolve_favourable_label

        # every fairness rule needs a favourable label (its own or the datasheet's): checked before training
        resolve_favourable_label(self.policy, declared=self.datasheet.favourable_label,
                                 declared_as=f"favourable_label in the datasheet {self.datasheet_path}")
        self.report_dir = Path(settings.output_dir) / (settings.run_id or new_run_id())
        self.evidence: RunEvidence | None = None
        self.exit_code: int | None = None
        self.mlflow_run_id: str | None = None
        self.mlflow = settings.mlflow or bool(self.policy.integrations.mlflow)  # the policy may ask for it
        if self.mlflow:
            from .mlflow_log import require_mlflow

            require_mlflow()  # a missing mlflow is an input error before training

    # -- before training -------------------------------------------------------------------
    def begin(self, train_dataset: Any, *, command: str, config: dict[str, Any]) -> RunEvidence:
        """Declarations and PII scan of ``train_dataset``; raises ``BlockedError`` on a blocking finding."""
        from .. import __version__
        from ..api import _now, policy_evidence
        from ..checks import evaluate
        from ..checks.pii import read_columns_stop_reason
        from ..environment import environment, git_commit, git_dirty
        from ..evidence import ResidualSummary
        from ..plugins import PluginRecognizerError
        from ..plugins.record import attach_plugins, record_plugin_failures, run_collectors
        from ..stages import SilentProgress, declare, scan_and_redact
        from ..train.device import pick_device

        columns = self.datasheet.columns
        texts = [str(t) for t in column(train_dataset, columns.text)]
        self.evidence = ev = RunEvidence(
            run_id=self.report_dir.name, tool_version=__version__, git_commit=git_commit(), git_dirty=git_dirty(),
            started_at=_now(),
            command=command, config=config, environment=environment(pick_device("auto")),
            policy=policy_evidence(self.policy))
        self.plugins = attach_plugins(ev, self.policy)
        ev.declarations = declare(self.datasheet, self.datasheet_path)
        ev.stages_run.append("declare")
        run_collectors(self.plugins, ev, stage="declare", policy=self.policy)
        from ..scan.columns import columns_to_scan

        other, not_text = columns_to_scan(((name, column(train_dataset, name)) for name in column_names(train_dataset)),
                                          text_column=columns.text, label_column=columns.label,
                                          sensitive_features=columns.sensitive_features)
        try:
            scan = scan_and_redact(texts, column=columns.text, params=self.policy.pii_params(),
                                   hash_key=self.settings.hash_key, progress=SilentProgress(),
                                   plugins=tuple(self.policy.plugins), other_columns=other, not_text_columns=not_text)
        except PluginRecognizerError as exc:  # an incomplete scan stops training, like a blocking finding
            record_plugin_failures(ev, [exc.failure])
            ev.stopped_early = f"the PII scan did not complete: {exc}"
            self.finish()
            raise BlockedError(f"governance: training stopped before it began ({ev.stopped_early}); "
                               f"see {self.report_dir / 'audit.html'}") from None
        ev.scan = scan.evidence
        ev.stages_run.append("scan")
        run_collectors(self.plugins, ev, stage="scan", policy=self.policy)
        unredacted = sum(1 for a, b in zip(texts, scan.redacted) if a != b)
        if unredacted:
            ev.warnings.append(f"{unredacted} training record(s) hold PII the policy wants redacted or replaced; "
                               "the callback cannot change the trainer's data, so they count as residual PII")
            by_entity = {s.entity_type: s.records for s in scan.evidence.entities if s.action != "allow"}
            ev.scan.residual = ResidualSummary(records=unredacted, rate=round(unredacted / max(len(texts), 1), 6),
                                               by_entity=by_entity)
        early = [f for f in evaluate(self.policy, ev, self.plugins)
                 if f.stage in PRE_TRAINING_STAGES or f.stage == "plugins"]  # a broken plugin stops training too
        if self.settings.waivers is not None:  # an active waiver lets training start, as it lets the gate pass
            import datetime as dt

            from ..policy.waivers import apply_waivers, load_waivers

            early, _ = apply_waivers(early, load_waivers(self.settings.waivers),
                                     today=dt.datetime.fromisoformat(ev.started_at).date())
        blocking = [f for f in early if f.blocking_failure]
        # PII in the label or a feature column stops training even when waived: the reports would show it
        if blocking or scan.evidence.blocked_entities or scan.evidence.read_columns_with_pii:
            ev.stopped_early = ("blocking findings before training: " + ", ".join(f.rule_id for f in blocking)
                                if blocking else "the policy blocks entity types found by the scan"
                                if scan.evidence.blocked_entities else read_columns_stop_reason(scan.evidence.read_columns_with_pii))
            self.finish()
            raise BlockedError(f"governance: training stopped before it began ({ev.stopped_early}); "
                               f"see {self.report_dir / 'audit.html'}")
        return ev

    # -- after training --------------------------------------------------------------------
    def record_training(self, training: TrainingEvidence, *, framework: str) -> None:
        """Record what the user's framework trained (no DP: the framework ran a plain optimizer)."""
        ev = self._started()
        ev.training = training
        ev.privacy = PrivacyEvidence(enabled=False, note=NO_DP_NOTE.format(framework=framework))
        ev.stages_run.append("train")
        from ..plugins.record import run_collectors

        run_collectors(self.plugins, ev, stage="train", policy=self.policy)

    def assess(self, eval_dataset: Any, predicted: Sequence[str], *, classes: Sequence[str],
               truth: Sequence[str] | None = None,
               probabilities: Sequence[Sequence[float]] | None = None) -> AssessmentEvidence:
        """Performance and fairness of ``predicted`` (label names, one per record of ``eval_dataset``),
        by the same assessment as ``governed-finetune run`` and ``audit``.

        ``truth`` defaults to the datasheet's label column of ``eval_dataset``; ``classes`` are
        the label names in the model's output order; ``probabilities`` (optional, one row per
        record, one column per class in ``classes`` order) add ROC AUC, calibration error and
        scoring rates.
        """
        from ..assess import assess_predictions, fairness_plan, resolve_favourable_label
        from ..assess.predictions import write_predictions
        from ..data.fingerprint import sha256_file

        ev = self._started()
        columns = self.datasheet.columns
        truth = [str(t) for t in (truth if truth is not None else column(eval_dataset, columns.label))]
        predicted = [str(p) for p in predicted]
        classes = list(dict.fromkeys(str(c) for c in classes))
        if len(predicted) != len(truth):
            raise DataError(f"the prediction function returned {len(predicted)} predictions for "
                            f"{len(truth)} evaluation records; expected one per record")
        outside = sorted(set(truth + predicted) - set(classes))
        if outside:
            raise DataError(f"label '{outside[0]}' is not one of the classes ({', '.join(classes)})")
        probs = _checked_probabilities(probabilities, rows=len(truth), classes=classes)
        favourable = resolve_favourable_label(self.policy, declared=self.datasheet.favourable_label, classes=classes,
                                              declared_as=f"favourable_label in the datasheet {self.datasheet_path}")
        groups = {f: column(eval_dataset, f) for f in columns.sensitive_features}
        self.report_dir.mkdir(parents=True, exist_ok=True)
        path = self.report_dir / "predictions.csv"
        write_predictions(path, records=list(range(len(truth))), y_true=truth, y_pred=predicted, classes=classes,
                          probabilities=probs, groups=groups)
        seed = ev.training.seed if ev.training is not None and ev.training.seed >= 0 else 0
        ev.assessment = assess_predictions(
            y_true=truth, y_pred=predicted, classes=classes, favourable_label=favourable, groups=groups,
            settings=fairness_plan(self.policy, seed=seed, favourable_label=favourable), probabilities=probs,
            score_source="the model's probability of the favourable label (given to the callback)",
            predictions_path=path.name, predictions_sha256=sha256_file(path))
        ev.assessment.membership_not_run = ("a framework callback sees no predictions on the training split; use "
                                            "governed-finetune run, or audit with a 'member' column")
        ev.stages_run.append("assess")
        return ev.assessment

    def finish(self, *, mlflow_run_id: str | None = None, mlflow_tracking_uri: str | None = None) -> int:
        """Evaluate the policy, write every report, log to MLflow when asked; returns the exit code.

        MLflow: to run ``mlflow_run_id`` at ``mlflow_tracking_uri`` when given (e.g. Lightning's
        ``MLFlowLogger`` run), else to the active run (one is started if none is active).
        """
        from ..api import _now, decide
        from ..plugins.record import attach_plugins, run_collectors
        from ..report import write_reports

        ev = self._started()
        host = attach_plugins(ev, self.policy)
        if "assess" in ev.stages_run:
            run_collectors(host, ev, stage="assess", policy=self.policy)
        decide(self.policy, ev, host, waivers=self.settings.waivers)
        ev.finished_at = _now()
        self.exit_code = ev.exit_code
        self.report_dir.mkdir(parents=True, exist_ok=True)
        write_reports(ev, self.report_dir)
        if self.mlflow:
            from .mlflow_log import log_run_to_mlflow

            self.mlflow_run_id = log_run_to_mlflow(ev, self.report_dir, run_id=mlflow_run_id,
                                                   tracking_uri=mlflow_tracking_uri)
        return ev.exit_code

    def _started(self) -> RunEvidence:
        if self.evidence is None:
            raise RuntimeError("GovernanceSession.begin() must run before training is recorded")
        return self.evidence


def _checked_probabilities(probabilities, *, rows: int, classes: list[str]):
    """``probabilities`` as a float array [rows, classes], or None; one-line errors otherwise."""
    if probabilities is None:
        return None
    import numpy as np

    probs = np.asarray(probabilities, dtype=float)
    if probs.shape != (rows, len(classes)):
        raise DataError(f"probabilities have shape {tuple(probs.shape)}; expected ({rows}, {len(classes)}): one row "
                        "per evaluation record, one column per class in the classes order")
    if not np.isfinite(probs).all() or (probs < 0).any() or (probs > 1).any():
        raise DataError("probabilities must be finite numbers between 0 and 1 (softmax outputs, not logits)")
    return probs


__all__ = ["GovernanceSession", "SessionSettings", "column", "column_names"]


class SessionResults:
    """What a framework callback exposes of its ``session``: the evidence, the report folder
    and the gate's exit code (None before the reports are written)."""

    session: GovernanceSession

    @property
    def evidence(self) -> RunEvidence | None:
        return self.session.evidence

    @property
    def report_dir(self) -> Path:
        return self.session.report_dir

    @property
    def exit_code(self) -> int | None:
        return self.session.exit_code
