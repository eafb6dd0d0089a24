"""One assessment from labels, predictions, optional scores and sensitive features.

Shared by the training run (``stages.assess_stage``) and the model-agnostic ``audit``
command, so both write the same evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..evidence import AssessmentEvidence
from ..policy.schema import ResolvedPolicy
from .fairness import INTERSECTION_SEP, feature_fairness, group_label, intersect
from .performance import CALIBRATION_BINS, performance


@dataclass(frozen=True)
class FairnessSettings:
    """How groups are formed and measured; the strictest values over the policy's fairness rules."""

    min_group_size: int = 30
    exclude_below_share: float | None = None
    n_boot: int = 0
    intersections: bool = False
    exclude_unknown: bool = False
    seed: int = 0


def fairness_settings(policy: ResolvedPolicy, *, seed: int = 0) -> FairnessSettings:
    """Largest minimum group size, share cut-off and bootstrap count asked by any fairness rule."""
    rules = policy.rules_of("fairness")
    if not rules:
        return FairnessSettings(seed=seed)
    shares = [r.params.exclude_below_share for r in rules if r.params.exclude_below_share is not None]
    return FairnessSettings(
        min_group_size=max(r.params.min_group_size for r in rules),
        exclude_below_share=max(shares) if shares else None,
        n_boot=max(r.params.n_boot for r in rules),
        intersections=any(r.params.intersections for r in rules),
        exclude_unknown=any(r.params.exclude_unknown for r in rules),
        seed=seed,
    )


def assess_predictions(
    *,
    y_true: Sequence[str],
    y_pred: Sequence[str],
    classes: list[str],
    favourable_label: str,
    groups: dict[str, Sequence[Any]],
    settings: FairnessSettings,
    predictions_path: str,
    predictions_sha256: str,
    probabilities: Sequence[Sequence[float]] | None = None,
) -> AssessmentEvidence:
    """Performance, per-feature fairness and (when asked, with 2+ features) their intersection."""
    if favourable_label not in classes:
        raise ValueError(f"favourable label '{favourable_label}' is not one of the classes {classes}")
    perf = performance(y_true, y_pred, classes=classes, probabilities=probabilities, favourable_label=favourable_label)
    columns = {name: [group_label(v) for v in values] for name, values in groups.items()}
    common = dict(y_true=y_true, y_pred=y_pred, favourable_label=favourable_label,
                  min_group_size=settings.min_group_size, exclude_below_share=settings.exclude_below_share,
                  n_boot=settings.n_boot, seed=settings.seed, exclude_unknown=settings.exclude_unknown)
    fairness = [feature_fairness(feature=name, groups=values, **common) for name, values in columns.items()]
    if settings.intersections and len(columns) >= 2:
        fairness.append(feature_fairness(feature=INTERSECTION_SEP.join(columns), groups=intersect(columns),
                                         intersection_of=list(columns), **common))
    notes = []
    if len(classes) > 2:
        notes.append(f"multiclass: fairness rates are one-vs-rest on the favourable label '{favourable_label}'")
    if probabilities is None:
        notes.append("no scores: ROC AUC and calibration error not computed")
    return AssessmentEvidence(
        test_records=len(y_true), favourable_label=favourable_label, classes=list(classes),
        accuracy=perf.accuracy, balanced_accuracy=perf.balanced_accuracy, f1_macro=perf.f1_macro,
        precision_macro=perf.precision_macro, recall_macro=perf.recall_macro,
        per_class_f1=perf.per_class_f1, per_class_precision=perf.per_class_precision,
        per_class_recall=perf.per_class_recall, confusion_matrix=perf.confusion_matrix,
        roc_auc=perf.roc_auc, expected_calibration_error=perf.expected_calibration_error,
        calibration_bins=CALIBRATION_BINS if perf.expected_calibration_error is not None else None,
        fairness=fairness, min_group_size=settings.min_group_size,
        exclude_below_share=settings.exclude_below_share, n_boot=settings.n_boot,
        predictions_path=predictions_path, predictions_sha256=predictions_sha256, notes=notes,
    )
