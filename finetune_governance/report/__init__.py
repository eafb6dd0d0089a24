"""Renderers of one run's evidence: audit.json, audit.html, model_card.md, junit.xml.

No renderer computes a number the evidence does not hold.
"""

from __future__ import annotations

from pathlib import Path

from ..data.fingerprint import sha256_file
from ..evidence import RunEvidence
from .html import render_html
from .junit import render_junit
from .model_card import render_model_card

REPORT_FILES = ("audit.json", "audit.html", "model_card.md", "junit.xml")


def write_reports(evidence: RunEvidence, out_dir: Path) -> None:
    """Hash the run's artifacts into the evidence, then write every report."""
    evidence.artifacts = {
        str(p.relative_to(out_dir)): sha256_file(p)
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and p.name not in REPORT_FILES and p.name != "run.log"
    }
    (out_dir / "audit.json").write_text(evidence.model_dump_json(indent=2), encoding="utf-8")
    (out_dir / "audit.html").write_text(render_html(evidence), encoding="utf-8")
    (out_dir / "model_card.md").write_text(render_model_card(evidence), encoding="utf-8")
    (out_dir / "junit.xml").write_text(render_junit(evidence), encoding="utf-8")


__all__ = ["REPORT_FILES", "render_html", "render_junit", "render_model_card", "write_reports"]
