"""Per-group counts and the fairness aggregates built on them, vectorised over resamples.

One function computes both the estimate (the records as they are) and every bootstrap
resample (the records drawn with replacement), so an interval is always an interval of the
figure that was reported. Arrays are shaped (resamples, groups); undefined values are NaN.

Which groups enter which aggregate:

- selection-rate and accuracy aggregates (demographic parity, impact ratios, scoring-rate
  impact ratio, accuracy difference): groups with at least ``min_group_size`` members,
  not under ``exclude_below_share`` of the records, and not unknown when ``exclude_unknown``;
- equal opportunity: those of them with a true favourable outcome (TPR defined);
- equalized odds: those with both true outcomes (TPR and FPR defined).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: aggregates over the selection-rate groups, then those that need true outcomes
AGGREGATES = ("demographic_parity_ratio", "demographic_parity_difference", "accuracy_difference", "impact_ratio",
              "scoring_rate_impact_ratio", "equal_opportunity_difference", "equalized_odds_difference")
#: per-group rates with a bootstrap interval
GROUP_RATES = ("accuracy", "selection_rate", "true_positive_rate", "false_positive_rate", "scoring_rate")
#: per-group ratios to the highest rate of the groups in the ratios: ratio -> the rate it divides
GROUP_RATIOS = {"impact_ratio": "selection_rate", "scoring_rate_impact_ratio": "scoring_rate"}


@dataclass(frozen=True)
class GroupRules:
    """Which groups enter the ratios (see the module docstring)."""

    min_group_size: int
    exclude_below_share: float | None = None
    exclude_unknown: bool = False


@dataclass(frozen=True)
class Encoded:
    """Records coded for counting: group index, and a cell id of (group, true, predicted, correct)."""

    names: list[str]
    codes: np.ndarray
    cells: np.ndarray
    unknown: np.ndarray
    scores: np.ndarray | None


def encode(groups: Sequence[str], truth, predicted, correct, scores=None, *, unknown: Sequence[bool]) -> Encoded:
    """``groups`` are names; ``truth``/``predicted``/``correct`` 0/1 per record (favourable one-vs-rest);
    ``unknown[g]`` whether group name ``g`` (in sorted order) is or contains the unknown category."""
    names, codes = np.unique(np.asarray(groups, dtype=object), return_inverse=True)
    t, p, c = (np.asarray(x, dtype=np.int64) for x in (truth, predicted, correct))
    return Encoded(names=[str(n) for n in names], codes=codes.astype(np.int64),
                   cells=codes * 8 + t * 4 + p * 2 + c, unknown=np.asarray(unknown, dtype=bool),
                   scores=None if scores is None else np.asarray(scores, dtype=float))


def counts(enc: Encoded, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per-group counts of each resample; ``rows`` (B, N) are record indices (one resample a row)."""
    b, n = rows.shape
    g = len(enc.names)
    cells = enc.cells[rows] + (np.arange(b) * 8 * g)[:, None]
    c = np.bincount(cells.ravel(), minlength=b * 8 * g).reshape(b, g, 2, 2, 2)  # group, true, predicted, correct
    out = {
        "n": c.sum(axis=(2, 3, 4)), "positives": c[:, :, 1].sum(axis=(2, 3)), "selected": c[:, :, :, 1].sum(axis=(2, 3)),
        "true_positives": c[:, :, 1, 1].sum(axis=2), "false_positives": c[:, :, 0, 1].sum(axis=2),
        "correct": c[..., 1].sum(axis=(2, 3)),
    }
    if enc.scores is not None:
        scores = enc.scores[rows]
        median = np.median(scores, axis=1)
        above = scores > median[:, None]
        codes = enc.codes[rows] + (np.arange(b) * g)[:, None]
        out["above_median"] = np.bincount(codes[above], minlength=b * g).reshape(b, g)
        out["median"] = median
    return out


def _rate(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def rates(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-group rates (B, G): NaN where the group is absent or the rate undefined."""
    n, positives = stats["n"], stats["positives"]
    out = {
        "accuracy": _rate(stats["correct"], n), "selection_rate": _rate(stats["selected"], n),
        "true_positive_rate": _rate(stats["true_positives"], positives),
        "false_positive_rate": _rate(stats["false_positives"], n - positives),
    }
    if "above_median" in stats:
        out["scoring_rate"] = _rate(stats["above_median"], n)
    return out


def in_ratios(stats: dict[str, np.ndarray], enc: Encoded, rules: GroupRules) -> np.ndarray:
    """(B, G) mask of the groups in the selection-rate aggregates."""
    n = stats["n"]
    mask = n >= max(rules.min_group_size, 1)
    if rules.exclude_unknown:
        mask &= ~enc.unknown[None, :]
    if rules.exclude_below_share is not None:
        mask &= n / n.sum(axis=1, keepdims=True) >= rules.exclude_below_share
    return mask


def group_ratios(stats: dict[str, np.ndarray], enc: Encoded, rules: GroupRules) -> dict[str, np.ndarray]:
    """Each group's impact ratios (B, G): its rate over the highest rate of the groups in the
    ratios; NaN for a group left out of them, or when that highest rate is 0."""
    r = rates(stats)
    mask = in_ratios(stats, enc, rules)
    out = {}
    for ratio, rate in GROUP_RATIOS.items():
        if rate not in r:
            continue
        top = np.where(mask, r[rate], -np.inf).max(axis=1, keepdims=True)
        ok = mask & (top > 0) & ~np.isnan(r[rate])
        out[ratio] = np.where(ok, r[rate] / np.where(top > 0, top, 1.0), np.nan)
    return out


def _span(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    high = np.where(mask, values, -np.inf).max(axis=1)
    low = np.where(mask, values, np.inf).min(axis=1)
    return np.where(mask.sum(axis=1) >= 2, high - low, np.nan)


def _ratio(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    high = np.where(mask, values, -np.inf).max(axis=1)
    low = np.where(mask, values, np.inf).min(axis=1)
    ok = (mask.sum(axis=1) >= 2) & (high > 0)
    return np.where(ok, low / np.where(ok, high, 1.0), np.nan)


def aggregates(stats: dict[str, np.ndarray], enc: Encoded, rules: GroupRules) -> dict[str, np.ndarray]:
    """Each aggregate per resample (B,); NaN where fewer than two groups qualify."""
    r = rates(stats)
    mask = in_ratios(stats, enc, rules)
    has_positive = mask & (stats["positives"] > 0)
    both = has_positive & (stats["n"] - stats["positives"] > 0)
    parity = _ratio(r["selection_rate"], mask)
    out = {
        "demographic_parity_ratio": parity, "impact_ratio": parity,
        "demographic_parity_difference": _span(r["selection_rate"], mask),
        "accuracy_difference": _span(r["accuracy"], mask),
        "equal_opportunity_difference": _span(r["true_positive_rate"], has_positive),
        "equalized_odds_difference": np.fmax(_span(r["true_positive_rate"], both),
                                             _span(r["false_positive_rate"], both)),
    }
    if "scoring_rate" in r:
        out["scoring_rate_impact_ratio"] = _ratio(r["scoring_rate"], mask)
    return out
