"""Renderers of one run's evidence: audit.json, audit.html, model_card.md, junit.xml, sarif.json,
cyclonedx.json; and the signed manifest of every file of the run.

No renderer computes a number the evidence does not hold.
"""

from __future__ import annotations

from pathlib import Path

from ..data.fingerprint import sha256_file
from ..evidence import RunEvidence
from .cyclonedx import render_cyclonedx
from .html import render_html
from .junit import render_junit
from .model_card import render_model_card
from .sarif import render_sarif
from .signing import MANIFEST, SIGNATURE, resolve_key, signing_evidence, write_manifest

#: report file -> renderer, in the order they are written
RENDERERS = {
    "audit.html": render_html,
    "model_card.md": render_model_card,
    "junit.xml": render_junit,
    "sarif.json": render_sarif,
    "cyclonedx.json": render_cyclonedx,
}
REPORT_FILES = ("audit.json", *RENDERERS, MANIFEST, SIGNATURE)


def write_reports(evidence: RunEvidence, out_dir: Path, *, signing_key: Path | None = None) -> None:
    """Hash the run's artifacts into the evidence, write every report, then the manifest of every
    file, signed when a key is given here, by ``signing.signing_key`` or by ``FTG_SIGNING_KEY``.
    Evidence without a working directory gets the current one."""
    evidence.signing, key = signing_evidence(resolve_key(signing_key))  # a bad key fails before any write
    if evidence.working_dir is None:  # reports show paths under it relative to it
        evidence.working_dir = str(Path.cwd())
    evidence.artifacts = {
        p.relative_to(out_dir).as_posix(): sha256_file(p)
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and p.name not in REPORT_FILES and p.name != "run.log"
    }
    (out_dir / "audit.json").write_text(evidence.model_dump_json(indent=2), encoding="utf-8")
    for name, render in RENDERERS.items():
        (out_dir / name).write_text(render(evidence), encoding="utf-8")
    write_manifest(out_dir, run_id=evidence.run_id, signing=evidence.signing, key=key)


__all__ = ["REPORT_FILES", "RENDERERS", "render_cyclonedx", "render_html", "render_junit", "render_model_card",
           "render_sarif", "write_reports"]
