"""Charts for audit.html as inline SVG (matplotlib, no pyplot state, text drawn as paths).

Charts plot numbers the evidence holds; they compute none. Data strings (group names) become
glyph outlines, and matplotlib escapes the comments it writes, so no data string is markup.
"""

from __future__ import annotations

import io
import re

from markupsafe import Markup

from ..evidence import FeatureFairness

_COLOURS = ("#1f5fa8", "#b3261e", "#1b7f3b", "#a15c00", "#6a3d9a")


def _svg(fig, salt: str) -> Markup:
    """The figure as an inline <svg> element (no XML prolog, no doctype, no date)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": salt, "font.size": 9}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return Markup(text)


def _label(text: str, limit: int = 40) -> str:
    """A data string as plain tick-label text: no mathtext, bounded length."""
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "\u2026"
    return text.replace("$", r"\$")


def _whisker(ax, y: float, interval: list[float] | None, *, size: float) -> None:
    """A recorded [low, high] interval as a capped horizontal line at ``y`` (drawn as recorded: a
    percentile interval need not contain the estimate)."""
    if not interval:
        return
    low, high = interval
    ax.hlines([y], [low], [high], colors="#202124", linewidth=1, zorder=3)
    ax.vlines([low, high], [y - size] * 2, [y + size] * 2, colors="#202124", linewidth=1, zorder=3)


def epsilon_curve(points: list[list[float]], *, target: float | None = None, salt: str = "eps") -> Markup:
    """Epsilon spent against training step, with the target as a dashed line."""
    if len(points) < 2:
        return Markup("")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 2.6))
    ax = fig.add_subplot()
    ax.plot([p[0] for p in points], [p[1] for p in points], color=_COLOURS[0], linewidth=1.8, label="epsilon spent")
    if target is not None:
        ax.axhline(target, color=_COLOURS[1], linestyle="--", linewidth=1, label="target epsilon")
    ax.set_xlabel("training step")
    ax.set_ylabel("epsilon")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", frameon=False)
    return _svg(fig, salt)


def group_chart(feature: FeatureFairness, *, metrics: tuple[str, ...] = ("accuracy", "selection_rate"),
                interval: str | None = None, salt: str = "groups") -> Markup:
    """Per-group bars of each metric, with the evidence's bootstrap intervals (described by
    ``interval``) as whiskers; groups left out of the ratios are marked in their labels."""
    groups = [g for g in feature.groups if any(getattr(g, m) is not None for m in metrics)]
    if not groups:
        return Markup("")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 0.5 + 0.28 * len(groups) * len(metrics) + 0.6))
    ax = fig.add_subplot()
    height = 0.8 / len(metrics)
    for k, metric in enumerate(metrics):
        ys, values = [], []
        for i, g in enumerate(groups):
            value = getattr(g, metric)
            if value is None:
                continue
            ys.append(i + (k - (len(metrics) - 1) / 2) * height)
            values.append(value)
            _whisker(ax, ys[-1], g.ci.get(metric), size=height * 0.35)
        ax.barh(ys, values, height=height * 0.9, color=_COLOURS[k % len(_COLOURS)], alpha=0.85,
                label=metric.replace("_", " "), zorder=2)
    ax.set_yticks(range(len(groups)), [_label(g.group, 30) + ("" if g.in_ratios else " (not in ratios)")
                                       for g in groups])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel(f"fraction; whiskers: {interval}" if interval else "fraction (no intervals recorded)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return _svg(fig, salt)


def aggregate_chart(feature: FeatureFairness, names: dict[str, str], *, interval: str | None = None,
                    salt: str = "aggregates") -> Markup:
    """Each aggregate of ``names`` (key -> label) as a dot with its recorded interval as whiskers:
    ratios (1 = parity) and differences (0 = parity) on one 0-1 axis."""
    rows = [(key, label, getattr(feature, key), feature.ci.get(key)) for key, label in names.items()
            if getattr(feature, key) is not None]
    if not rows:
        return Markup("")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 0.6 + 0.32 * len(rows) + 0.5))
    ax = fig.add_subplot()
    for i, (key, _, value, ci) in enumerate(rows):
        colour = _COLOURS[0] if key.endswith("ratio") else _COLOURS[2]
        _whisker(ax, i, ci, size=0.18)
        ax.plot([value], [i], "o", color=colour, markersize=5, zorder=4)
    ax.set_yticks(range(len(rows)), [_label(r[1], 44) for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.05)
    ax.set_xlabel("ratios: 1 = parity; differences: 0 = parity"
                  + (f"; whiskers: {interval}" if interval else "; no intervals recorded"))
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, salt)
