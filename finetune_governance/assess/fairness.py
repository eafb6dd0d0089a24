"""Group fairness with Fairlearn's MetricFrame, one sensitive feature (or intersection) at a time.

Rates are one-vs-rest on the favourable label (accuracy is exact-match): selection rate is the share of a group
predicted as that label, TPR/FPR treat it as the positive class. A group is "insufficient
data" when it has fewer than ``min_group_size`` members, or no true positives or no true
negatives (TPR or FPR undefined); such groups are reported but left out of every ratio and
difference, as are groups under ``exclude_below_share`` of the records (NYC LL144: 2%).
Missing sensitive values form the explicit group "unknown".
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..evidence import FeatureFairness, GroupMetrics

UNKNOWN = "unknown"
CI_QUANTILES = (0.025, 0.975)
INTERSECTION_SEP = " & "


def group_label(value: Any) -> str:
    """A sensitive value as a group name; missing (None, NaN, empty) becomes "unknown"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN
    text = str(value).strip()
    return UNKNOWN if text == "" or text.lower() in ("nan", "none", "null", "<na>") else text


def intersect(columns: dict[str, Sequence[str]]) -> list[str]:
    """Row-wise intersection groups, e.g. "female & north"."""
    return [INTERSECTION_SEP.join(parts) for parts in zip(*columns.values())]


def _round(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def _rate(numerator, denominator) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def _tpr(y_true, y_pred) -> float:
    import numpy as np

    t, p = np.asarray(y_true), np.asarray(y_pred)
    return _rate(((t == 1) & (p == 1)).sum(), (t == 1).sum())


def _fpr(y_true, y_pred) -> float:
    import numpy as np

    t, p = np.asarray(y_true), np.asarray(y_pred)
    return _rate(((t == 0) & (p == 1)).sum(), (t == 0).sum())


def _positives(y_true, y_pred) -> float:
    import numpy as np

    return float((np.asarray(y_true) == 1).sum())


def _accuracy(y_true, y_pred, correct) -> float:
    """Share of exactly right predictions (multiclass), whatever the one-vs-rest encoding."""
    import numpy as np

    return float(np.mean(correct)) if len(correct) else float("nan")


def _frame(y_true, y_pred, correct, sensitive, *, n_boot: int, seed: int):
    from fairlearn.metrics import MetricFrame, count, selection_rate

    return MetricFrame(
        metrics={"count": count, "positives": _positives, "accuracy": _accuracy,
                 "selection_rate": selection_rate, "true_positive_rate": _tpr, "false_positive_rate": _fpr},
        y_true=y_true, y_pred=y_pred, sensitive_features=sensitive,
        sample_params={"accuracy": {"correct": correct}},
        n_boot=n_boot or None, ci_quantiles=list(CI_QUANTILES) if n_boot else None,
        random_state=seed if n_boot else None,
    )


_CI_METRICS = ("accuracy", "selection_rate", "true_positive_rate", "false_positive_rate")


def _interval(low: Any, high: Any) -> list[float] | None:
    lo, hi = _round(low), _round(high)
    return None if lo is None or hi is None else [lo, hi]


def _span(values) -> float | None:
    values = [v for v in values if not math.isnan(v)]
    return max(values) - min(values) if len(values) >= 2 else None


def feature_fairness(
    *,
    feature: str,
    groups: Sequence[Any],
    y_true: Sequence[str],
    y_pred: Sequence[str],
    favourable_label: str,
    min_group_size: int,
    exclude_below_share: float | None = None,
    n_boot: int = 0,
    seed: int = 0,
    intersection_of: Sequence[str] = (),
    exclude_unknown: bool = False,
) -> FeatureFairness:
    """Per-group figures (with bootstrap intervals when ``n_boot`` > 0) and the aggregates
    (demographic parity, equalized odds, equal opportunity, impact ratios) over the groups
    in the ratios. Rates and differences are fractions in [0, 1]. With ``exclude_unknown``
    the "unknown" group (and intersections with it) is reported but not in the ratios."""
    import numpy as np

    t = np.asarray([1 if y == favourable_label else 0 for y in y_true])
    p = np.asarray([1 if y == favourable_label else 0 for y in y_pred])
    correct = np.asarray([a == b for a, b in zip(y_true, y_pred)], dtype=float)
    sensitive = np.asarray([group_label(g) for g in groups], dtype=object)
    total = len(sensitive)
    frame = _frame(t, p, correct, sensitive, n_boot=n_boot, seed=seed)
    table = frame.by_group
    low, high = (frame.by_group_ci if n_boot else (None, None))

    rows: list[GroupMetrics] = []
    for group in table.index:
        n, positives = int(table.loc[group, "count"]), int(table.loc[group, "positives"])
        share = n / total if total else 0.0
        insufficient = None
        if n < min_group_size:
            insufficient = f"{n} members, fewer than the minimum {min_group_size}"
        elif positives == 0 or positives == n:
            insufficient = (f"no true '{favourable_label}'" if positives == 0
                            else f"every true label is '{favourable_label}'") + " (TPR or FPR undefined)"
        in_ratios, reason = insufficient is None, insufficient
        if exclude_unknown and UNKNOWN in str(group).split(INTERSECTION_SEP):
            in_ratios = False
            reason = (reason + "; " if reason else "") + "unknown category: counted, not in ratios"
        if exclude_below_share is not None and share < exclude_below_share:
            in_ratios = False
            reason = (reason + "; " if reason else "") + f"share {share:.4f} under {exclude_below_share}: not in ratios"
        ci = {}
        if n_boot:
            for metric in _CI_METRICS:
                interval = _interval(low.loc[group, metric], high.loc[group, metric])
                if interval:
                    ci[metric] = interval
        rows.append(GroupMetrics(
            group=str(group), count=n, share=_round(share), positives=positives,
            accuracy=_round(table.loc[group, "accuracy"]),
            selection_rate=_round(table.loc[group, "selection_rate"]),
            true_positive_rate=_round(table.loc[group, "true_positive_rate"]),
            false_positive_rate=_round(table.loc[group, "false_positive_rate"]),
            status="insufficient data" if insufficient else "ok",
            in_ratios=in_ratios, reason=reason, ci=ci,
        ))

    included = [r for r in rows if r.in_ratios]
    top = max((r.selection_rate or 0.0 for r in included), default=0.0)
    for r in rows:
        if top > 0 and r.selection_rate is not None:
            r.impact_ratio = _round(r.selection_rate / top)
    aggregates: dict[str, float | None] = dict.fromkeys(
        ["demographic_parity_ratio", "demographic_parity_difference", "accuracy_difference",
         "equal_opportunity_difference", "equalized_odds_difference", "impact_ratio"])
    agg_ci: dict[str, list[float]] = {}
    if len(included) >= 2:
        rates = [r.selection_rate for r in included]
        aggregates["demographic_parity_difference"] = max(rates) - min(rates)
        aggregates["demographic_parity_ratio"] = min(rates) / max(rates) if max(rates) > 0 else None
        aggregates["impact_ratio"] = aggregates["demographic_parity_ratio"]
        aggregates["accuracy_difference"] = _span([r.accuracy for r in included])
        tpr_gap = _span([r.true_positive_rate for r in included])
        fpr_gap = _span([r.false_positive_rate for r in included])
        aggregates["equal_opportunity_difference"] = tpr_gap
        aggregates["equalized_odds_difference"] = max(tpr_gap, fpr_gap)
        if n_boot:
            agg_ci = _aggregate_intervals(t, p, correct, sensitive, [r.group for r in included], n_boot=n_boot, seed=seed)
    return FeatureFairness(
        feature=feature,
        groups=rows,
        intersection_of=list(intersection_of),
        excluded_groups=[r.group for r in rows if not r.in_ratios],
        ci=agg_ci,
        **{k: _round(v) for k, v in aggregates.items()},
    )


def _aggregate_intervals(t, p, correct, sensitive, included: list[str], *, n_boot: int, seed: int) -> dict[str, list[float]]:
    """Bootstrap intervals of the differences and ratios, over the groups in the ratios."""
    import numpy as np

    mask = np.isin(sensitive, included)
    frame = _frame(t[mask], p[mask], correct[mask], sensitive[mask], n_boot=n_boot, seed=seed)
    d_low, d_high = frame.difference_ci()
    r_low, r_high = frame.ratio_ci()
    named = {
        "demographic_parity_difference": (d_low["selection_rate"], d_high["selection_rate"]),
        "demographic_parity_ratio": (r_low["selection_rate"], r_high["selection_rate"]),
        "accuracy_difference": (d_low["accuracy"], d_high["accuracy"]),
        "equal_opportunity_difference": (d_low["true_positive_rate"], d_high["true_positive_rate"]),
    }
    out = {}
    for name, (lo, hi) in named.items():
        interval = _interval(lo, hi)
        if interval:
            out[name] = interval
    return out
