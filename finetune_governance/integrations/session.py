"""A governance session inside a user's own training loop, independent of the framework.

``GovernanceSession.begin`` runs the pre-training stages (declarations, PII scan) on the
training data and raises ``BlockedError`` on a blocking finding (after writing the reports);
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


@dataclass(frozen=True)
class SessionSettings:
    """What a session needs besides the data: where reports go and how they are made."""

    policy: str | Path
    datasheet: Path
    output_dir: Path
    run_id: str | None = None
    hash_key: bytes | None = None  # secret key for keyed hashing of PII
    mlflow: bool = False  # log verdict, metrics and reports to the active MLflow run at finish


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
        from ..api import _now, _pii_params, policy_evidence
        from ..checks import evaluate
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
        try:
            scan = scan_and_redact(texts, column=columns.text, params=_pii_params(self.policy),
                                   hash_key=self.settings.hash_key, progress=SilentProgress(),
                                   plugins=tuple(self.policy.plugins))
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
        blocking = [f for f in early if f.blocking_failure]
        if blocking or scan.evidence.blocked_entities:
            ev.stopped_early = ("blocking findings before training: " + ", ".join(f.rule_id for f in blocking)
                                if blocking else "the policy blocks entity types found by the scan")
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
               truth: Sequence[str] | None = None) -> AssessmentEvidence:
        """Performance and fairness of ``predicted`` (label names, one per record of ``eval_dataset``).

        ``truth`` defaults to the datasheet's label column of ``eval_dataset``; ``classes`` are
        the label names in the model's output order.
        """
        from ..assess import feature_fairness, performance
        from ..data.fingerprint import sha256_file

        ev = self._started()
        columns = self.datasheet.columns
        truth = [str(t) for t in (truth if truth is not None else column(eval_dataset, columns.label))]
        predicted = [str(p) for p in predicted]
        if len(predicted) != len(truth):
            raise DataError(f"the prediction function returned {len(predicted)} predictions for "
                            f"{len(truth)} evaluation records; expected one per record")
        self.report_dir.mkdir(parents=True, exist_ok=True)
        path = self.report_dir / "predictions.csv"
        path.write_text("record,label,prediction\n" + "".join(
            f"{i},{t},{p}\n" for i, (t, p) in enumerate(zip(truth, predicted))), encoding="utf-8")
        ordered = sorted(set(classes))
        favourable = self.datasheet.favourable_label or ordered[-1]
        minimum = max([r.params.min_group_size for r in self.policy.rules_of("fairness")] or [30])
        perf = performance(truth, predicted, classes=ordered)
        fairness = [feature_fairness(feature=f, groups=[str(g) for g in column(eval_dataset, f)], y_true=truth,
                                     y_pred=predicted, favourable_label=favourable, min_group_size=minimum)
                    for f in columns.sensitive_features]
        ev.assessment = AssessmentEvidence(
            test_records=len(truth), favourable_label=favourable, accuracy=perf.accuracy, f1_macro=perf.f1_macro,
            per_class_f1=perf.per_class_f1, confusion_matrix=perf.confusion_matrix, fairness=fairness,
            min_group_size=minimum, predictions_path=path.name, predictions_sha256=sha256_file(path))
        ev.stages_run.append("assess")
        return ev.assessment

    def finish(self, *, mlflow_run_id: str | None = None, mlflow_tracking_uri: str | None = None) -> int:
        """Evaluate the policy, write every report, log to MLflow when asked; returns the exit code.

        MLflow: to run ``mlflow_run_id`` at ``mlflow_tracking_uri`` when given (e.g. Lightning's
        ``MLFlowLogger`` run), else to the active run (one is started if none is active).
        """
        from ..api import _now
        from ..checks import evaluate, plugin_failure_finding
        from ..gate import verdict
        from ..plugins.record import attach_plugins, render_sections, run_collectors
        from ..report import write_reports

        ev = self._started()
        host = attach_plugins(ev, self.policy)
        if "assess" in ev.stages_run:
            run_collectors(host, ev, stage="assess", policy=self.policy)
        ev.findings = evaluate(self.policy, ev, host)
        ev.findings += [plugin_failure_finding(f) for f in render_sections(host, ev)]
        ev.verdict, ev.exit_code = verdict(ev.findings)
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


__all__ = ["GovernanceSession", "SessionSettings", "column"]


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
