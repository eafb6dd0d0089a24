"""Shared helpers for checks: building findings from a rule and an outcome."""

from __future__ import annotations

from typing import Any

from ..evidence import Finding


class EvidenceMissing(Exception):
    """The stage whose evidence a rule reads did not run."""


def finding(rule: Any, *, passed: bool, measured: Any, threshold: Any, message: str) -> Finding:
    """A pass, or a fail (block) / warn (warn) finding for ``rule``."""
    status = "pass" if passed else ("fail" if rule.severity == "block" else "warn")
    return Finding(
        rule_id=rule.id,
        title=rule.title,
        cites=list(rule.cites),
        severity=rule.severity,
        stage=rule.stage,
        status=status,
        measured=measured,
        threshold=threshold,
        message=message,
    )
