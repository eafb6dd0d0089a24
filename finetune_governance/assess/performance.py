"""Held-out performance figures, computed from saved labels, predictions and scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .calibration import expected_calibration_error

CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Performance:
    """Overall figures on the held-out split (fractions in [0, 1]).

    ``roc_auc`` is set for binary tasks with scores (the favourable label is the positive
    class); ``expected_calibration_error`` whenever class probabilities are given.
    """

    accuracy: float
    balanced_accuracy: float
    f1_macro: float
    precision_macro: float
    recall_macro: float
    per_class_f1: dict[str, float]
    per_class_precision: dict[str, float]
    per_class_recall: dict[str, float]
    confusion_matrix: list[list[int]]
    roc_auc: float | None = None
    expected_calibration_error: float | None = None


def _r(value: float) -> float:
    return round(float(value), 6)


def performance(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    *,
    classes: list[str],
    probabilities: Sequence[Sequence[float]] | None = None,
    favourable_label: str | None = None,
) -> Performance:
    """Accuracy, balanced accuracy, macro and per-class precision/recall/F1, confusion matrix
    (rows: true, columns: predicted, in ``classes`` order), and, given ``probabilities``
    (one column per class, in ``classes`` order), ECE and (binary tasks) ROC AUC."""
    import numpy as np
    from sklearn.metrics import (
        accuracy_score, balanced_accuracy_score, confusion_matrix, precision_recall_fscore_support, roc_auc_score,
    )

    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, average=None, zero_division=0
    )
    auc = ece = None
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype=float)
        predicted_index = np.asarray([classes.index(p) for p in y_pred])
        confidence = probs[np.arange(len(probs)), predicted_index]
        ece = _r(expected_calibration_error(confidence, np.asarray(y_true) == np.asarray(y_pred),
                                            bins=CALIBRATION_BINS))
        if len(classes) == 2 and favourable_label in classes:
            positive = np.asarray([y == favourable_label for y in y_true])
            if 0 < positive.sum() < len(positive):
                auc = _r(roc_auc_score(positive, probs[:, classes.index(favourable_label)]))
    return Performance(
        accuracy=_r(accuracy_score(y_true, y_pred)),
        balanced_accuracy=_r(balanced_accuracy_score(y_true, y_pred)),
        f1_macro=_r(np.mean(f1)),
        precision_macro=_r(np.mean(precision)),
        recall_macro=_r(np.mean(recall)),
        per_class_f1={c: _r(v) for c, v in zip(classes, f1)},
        per_class_precision={c: _r(v) for c, v in zip(classes, precision)},
        per_class_recall={c: _r(v) for c, v in zip(classes, recall)},
        confusion_matrix=confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        roc_auc=auc,
        expected_calibration_error=ece,
    )
