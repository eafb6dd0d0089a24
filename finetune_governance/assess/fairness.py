"""Group fairness with Fairlearn's MetricFrame, one sensitive feature at a time.

Selection rate is the share of a group predicted as the favourable label. Groups with
fewer than ``min_group_size`` members get the status "insufficient data" and are left
out of the aggregate ratios and differences, but are still reported.
"""

from __future__ import annotations

from typing import Sequence

from ..evidence import FeatureFairness, GroupMetrics


def _round(value: float | None) -> float | None:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 6)


def feature_fairness(
    *,
    feature: str,
    groups: Sequence[str],
    y_true: Sequence[str],
    y_pred: Sequence[str],
    favourable_label: str,
    min_group_size: int,
) -> FeatureFairness:
    """Per-group count, accuracy and selection rate, and parity aggregates over large groups."""
    import numpy as np
    from fairlearn.metrics import MetricFrame, count, selection_rate
    from sklearn.metrics import accuracy_score

    y_true_fav = np.asarray([1 if y == favourable_label else 0 for y in y_true])
    y_pred_fav = np.asarray([1 if y == favourable_label else 0 for y in y_pred])
    sensitive = np.asarray([str(g) for g in groups])
    frame = MetricFrame(
        metrics={"count": count, "accuracy": accuracy_score, "selection_rate": selection_rate},
        y_true=y_true_fav,
        y_pred=y_pred_fav,
        sensitive_features=sensitive,
    )
    table = frame.by_group
    rows: list[GroupMetrics] = []
    large: list[str] = []
    for group in table.index:
        n = int(table.loc[group, "count"])
        ok = n >= min_group_size
        if ok:
            large.append(str(group))
        rows.append(
            GroupMetrics(
                group=str(group),
                count=n,
                accuracy=_round(table.loc[group, "accuracy"]),
                selection_rate=_round(table.loc[group, "selection_rate"]),
                status="ok" if ok else "insufficient data",
            )
        )
    ratio = difference = acc_diff = None
    if len(large) >= 2:
        rates = table.loc[large, "selection_rate"].astype(float)
        accuracies = table.loc[large, "accuracy"].astype(float)
        difference = float(rates.max() - rates.min())
        ratio = float(rates.min() / rates.max()) if rates.max() > 0 else None
        acc_diff = float(accuracies.max() - accuracies.min())
    return FeatureFairness(
        feature=feature,
        groups=rows,
        demographic_parity_ratio=_round(ratio),
        demographic_parity_difference=_round(difference),
        accuracy_difference=_round(acc_diff),
        excluded_groups=[r.group for r in rows if r.status != "ok"],
    )
