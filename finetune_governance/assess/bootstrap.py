"""Percentile bootstrap of per-group rates, per-group impact ratios and fairness aggregates, seeded and recomputable.

Resample r is row r of ``numpy.random.default_rng(seed).integers(0, N, size=(n_boot, N))``
(record indices drawn with replacement); every figure, exclusions included, is recomputed
on it by ``group_counts``. The interval is the ((1 - level) / 2, (1 + level) / 2) quantile
pair (numpy linear interpolation) over the resamples in which the figure is defined, and it
is given only when at least ``level`` of the resamples define it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .group_counts import Encoded, GroupRules, aggregates, counts, group_ratios, rates

#: record indices held in memory per chunk of resamples (int64)
CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class Intervals:
    """Bootstrap intervals: aggregate -> [low, high], group -> rate or impact ratio -> [low, high],
    and how many resamples defined each aggregate."""

    aggregates: dict[str, list[float]] = field(default_factory=dict)
    groups: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    defined: dict[str, int] = field(default_factory=dict)


def _interval(values: np.ndarray, level: float) -> list[float] | None:
    valid = values[~np.isnan(values)]
    if len(values) == 0 or len(valid) < level * len(values):
        return None
    low, high = np.quantile(valid, [(1 - level) / 2, (1 + level) / 2])
    return [round(float(low), 6), round(float(high), 6)]


def bootstrap(enc: Encoded, rules: GroupRules, *, n_boot: int, level: float, seed: int) -> Intervals:
    """Intervals of every aggregate, per-group rate and per-group impact ratio over ``n_boot``
    resamples of the records."""
    n = len(enc.codes)
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_CELLS // max(n, 1))
    per_aggregate: dict[str, list[np.ndarray]] = {}
    per_rate: dict[str, list[np.ndarray]] = {}
    for start in range(0, n_boot, chunk):
        rows = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        stats = counts(enc, rows)
        for name, values in aggregates(stats, enc, rules).items():
            per_aggregate.setdefault(name, []).append(values)
        for name, values in {**rates(stats), **group_ratios(stats, enc, rules)}.items():
            per_rate.setdefault(name, []).append(values)
    out = Intervals()
    for name, parts in per_aggregate.items():
        values = np.concatenate(parts)
        out.defined[name] = int((~np.isnan(values)).sum())
        interval = _interval(values, level)
        if interval:
            out.aggregates[name] = interval
    for name, parts in per_rate.items():
        values = np.concatenate(parts)
        for index, group in enumerate(enc.names):
            interval = _interval(values[:, index], level)
            if interval:
                out.groups.setdefault(group, {})[name] = interval
    return out
