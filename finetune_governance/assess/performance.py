"""Held-out performance figures, computed from saved labels and predictions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Performance:
    """Overall figures on the held-out split (fractions in [0, 1])."""

    accuracy: float
    f1_macro: float
    per_class_f1: dict[str, float]
    confusion_matrix: list[list[int]]


def performance(y_true: Sequence[str], y_pred: Sequence[str], *, classes: list[str]) -> Performance:
    """Accuracy, macro F1, per-class F1 and the confusion matrix (rows: true, cols: predicted)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    per_class = f1_score(y_true, y_pred, labels=classes, average=None, zero_division=0)
    return Performance(
        accuracy=round(float(accuracy_score(y_true, y_pred)), 6),
        f1_macro=round(float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)), 6),
        per_class_f1={c: round(float(v), 6) for c, v in zip(classes, per_class)},
        confusion_matrix=confusion_matrix(y_true, y_pred, labels=classes).tolist(),
    )
