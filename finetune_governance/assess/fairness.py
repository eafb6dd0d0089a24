"""Group fairness with Fairlearn's MetricFrame, one sensitive feature (or intersection) at a time.

Rates are one-vs-rest on the favourable label (accuracy is exact-match): selection rate is
the share of a group predicted as that label, TPR/FPR treat it as the positive class, the
scoring rate is the share scoring above the median score of all records (NYC LL144).

A group with fewer than ``min_group_size`` members is "insufficient data": reported, left
out of every aggregate. A group with only one true outcome (no true favourable label, or
nothing else) keeps its selection rate and accuracy in the ratios; only what needs both
outcomes is void for it (TPR or FPR, and equal opportunity / equalized odds), status
"insufficient data for error rates". Groups under ``exclude_below_share`` of the records
(NYC LL144: 2%), and with ``exclude_unknown`` the unknown group, are reported but left out of
the ratios. Missing sensitive values form the explicit group "unknown". Aggregates and their
bootstrap intervals come from ``group_counts`` and ``bootstrap``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..evidence import FeatureFairness, GroupMetrics

UNKNOWN = "unknown"
INTERSECTION_SEP = " & "
#: what a group with no true favourable outcome (TPR) or no other outcome (FPR) cannot enter
_NEEDS_POSITIVES = ("true_positive_rate", "equal_opportunity_difference", "equalized_odds_difference")
_NEEDS_NEGATIVES = ("false_positive_rate", "equalized_odds_difference")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def group_label(value: Any) -> str:
    """A sensitive value as a group name; missing (None, NaN, pandas NA, empty) becomes "unknown".

    Text such as "None" or "NA" is a real value, kept as it is."""
    if _missing(value):
        return UNKNOWN
    text = str(value).strip()
    return UNKNOWN if text == "" else text


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


def _accuracy(y_true, y_pred, correct) -> float:
    """Share of exactly right predictions (multiclass), whatever the one-vs-rest encoding."""
    import numpy as np

    return float(np.mean(correct)) if len(correct) else float("nan")


def _frame(y_true, y_pred, correct, sensitive):
    from fairlearn.metrics import MetricFrame, count, selection_rate

    return MetricFrame(
        metrics={"count": count, "accuracy": _accuracy, "selection_rate": selection_rate,
                 "true_positive_rate": _tpr, "false_positive_rate": _fpr},
        y_true=y_true, y_pred=y_pred, sensitive_features=sensitive,
        sample_params={"accuracy": {"correct": correct}},
    )


def _void(n: int, positives: int, favourable_label: str) -> dict[str, str]:
    """The metrics void for a group of ``n`` members with ``positives`` true favourable outcomes."""
    void: dict[str, str] = {}
    if positives == 0:
        void.update(dict.fromkeys(_NEEDS_POSITIVES, f"no true '{favourable_label}' among {n} members (TPR undefined)"))
    if positives == n:
        why = f"every true label of the {n} members is '{favourable_label}' (FPR undefined)"
        void.update({m: (f"{void[m]}; {why}" if m in void else why) for m in _NEEDS_NEGATIVES})
    return void


def _group_reason(n: int, share: float, *, group: str, void: dict[str, str], rules,
                  in_ratios: bool) -> str | None:
    parts = []
    if n < rules.min_group_size:
        parts.append(f"{n} members, fewer than the minimum {rules.min_group_size}: left out of every aggregate")
    elif void:
        parts.append(f"{', '.join(void)} void: " + "; ".join(dict.fromkeys(void.values())))
    if rules.exclude_unknown and UNKNOWN in group.split(INTERSECTION_SEP):
        parts.append("unknown category: counted, not in ratios")
    if rules.exclude_below_share is not None and share < rules.exclude_below_share:
        parts.append(f"share {share:.4f} under {rules.exclude_below_share}: not in ratios")
    return "; ".join(parts) or (None if in_ratios else "not in ratios")


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
    ci_level: float = 0.95,
    scores: Sequence[float] | None = None,
) -> FeatureFairness:
    """Per-group figures (Fairlearn ``MetricFrame``), the aggregates over the groups each one
    admits (module docstring), and with ``n_boot`` > 0 percentile bootstrap intervals at
    ``ci_level`` of every aggregate, per-group rate and impact ratio (``bootstrap``, seeded by ``seed``).
    ``scores`` (one per record, higher = more favourable) give scoring rates. Rates and
    differences are fractions in [0, 1]."""
    import numpy as np

    from .bootstrap import bootstrap
    from .group_counts import GroupRules, aggregates, counts, encode, group_ratios, in_ratios

    t = np.asarray([1 if y == favourable_label else 0 for y in y_true])
    p = np.asarray([1 if y == favourable_label else 0 for y in y_pred])
    correct = np.asarray([a == b for a, b in zip(y_true, y_pred)], dtype=int)
    sensitive = np.asarray([group_label(g) for g in groups], dtype=object)
    total = len(sensitive)
    names = sorted(set(sensitive.tolist()))
    rules = GroupRules(min_group_size=min_group_size, exclude_below_share=exclude_below_share,
                       exclude_unknown=exclude_unknown)
    enc = encode(sensitive, t, p, correct, scores,
                 unknown=[UNKNOWN in name.split(INTERSECTION_SEP) for name in names])
    stats = counts(enc, np.arange(total)[None, :])
    estimate = aggregates(stats, enc, rules)
    admitted = in_ratios(stats, enc, rules)[0]
    table = _frame(t, p, correct, sensitive).by_group
    intervals = bootstrap(enc, rules, n_boot=n_boot, level=ci_level, seed=seed) if n_boot else None

    rows: list[GroupMetrics] = []
    for index, group in enumerate(enc.names):
        n, positives = int(stats["n"][0, index]), int(stats["positives"][0, index])
        share = n / total if total else 0.0
        void = _void(n, positives, favourable_label) if n >= min_group_size else {}
        rows.append(GroupMetrics(
            group=group, count=n, share=_round(share), positives=positives,
            accuracy=_round(table.loc[group, "accuracy"]), selection_rate=_round(table.loc[group, "selection_rate"]),
            true_positive_rate=_round(table.loc[group, "true_positive_rate"]),
            false_positive_rate=_round(table.loc[group, "false_positive_rate"]),
            scoring_rate=None if scores is None else _round(stats["above_median"][0, index] / n),
            status="insufficient data" if n < min_group_size else (
                "insufficient data for error rates" if void else "ok"),
            in_ratios=bool(admitted[index]), void_metrics=void,
            reason=_group_reason(n, share, group=group, void=void, rules=rules, in_ratios=bool(admitted[index])),
            ci=intervals.groups.get(group, {}) if intervals else {},
        ))
    for ratio, values in group_ratios(stats, enc, rules).items():  # a group left out of the ratios has none
        for row, value in zip(rows, values[0]):
            if not np.isnan(value):
                setattr(row, ratio, _round(value))
            else:
                row.ci.pop(ratio, None)  # nor an interval (the reports say n/a)
    return FeatureFairness(
        feature=feature, groups=rows, intersection_of=list(intersection_of),
        excluded_groups=[r.group for r in rows if not r.in_ratios],
        ci=intervals.aggregates if intervals else {},
        ci_resamples=intervals.defined if intervals else {},
        median_score=None if scores is None else _round(stats["median"][0]),
        favourable_label=favourable_label, min_group_size=min_group_size, exclude_below_share=exclude_below_share,
        exclude_unknown=exclude_unknown, n_boot=n_boot, ci_level=ci_level if n_boot else None,
        bootstrap_seed=seed if n_boot else None,
        **{name: _round(values[0]) for name, values in estimate.items()},
    )
