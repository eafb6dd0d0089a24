"""audit.html: a self-contained report for a compliance reviewer (jinja2, autoescaped)."""

from __future__ import annotations

from markupsafe import Markup, escape

from ..evidence import RunEvidence
from ._env import environment


def line_chart(points: list[list[float]], *, width: int = 560, height: int = 180, label: str = "") -> Markup:
    """An inline SVG polyline of (x, y) points; only geometry, no computed figures."""
    if len(points) < 2:
        return Markup("")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y1 = min(xs), max(xs), max(ys) or 1.0
    pad = 36

    def sx(x: float) -> float:
        return pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad + -(y / y1) * (height - 2 * pad)

    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"/>'
        f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{path}"/>'
        f'<text x="{pad}" y="{pad - 8}" font-size="11">{escape(f"{y1:.3g}")}</text>'
        f'<text x="{width - pad}" y="{height - pad + 16}" font-size="11" text-anchor="end">{escape(f"{x1:g}")}</text>'
        f'<text x="{pad}" y="{height - pad + 16}" font-size="11">{escape(f"{x0:g}")}</text></svg>'
    )


def render_html(evidence: RunEvidence) -> str:
    template = environment(html=True).get_template("audit.html.j2")
    blocking = [f for f in evidence.findings if f.blocking_failure or f.status == "error"]
    return template.render(ev=evidence, blocking=blocking, line_chart=line_chart)
