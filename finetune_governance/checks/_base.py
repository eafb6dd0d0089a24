"""Shared helpers for checks: building findings from a rule and an outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..evidence import Finding, RunEvidence


class EvidenceMissing(Exception):
    """The stage whose evidence a rule reads did not run."""


@dataclass(frozen=True)
class CheckSpec:
    """A rule family's check, what it verifies, and the evidence it reads (for ``policy explain``)."""

    function: Callable[[Any, RunEvidence], Finding]
    summary: str
    reads: tuple[str, ...]


def finding(rule: Any, *, passed: bool, measured: Any, threshold: Any, message: str) -> Finding:
    """A pass, or a fail (block) / warn (warn) finding for ``rule``."""
    status = "pass" if passed else ("fail" if rule.severity == "block" else "warn")
    return outcome(rule, status=status, measured=measured, threshold=threshold, message=message)


def outcome(rule: Any, *, status: str, measured: Any = None, threshold: Any = None, message: str) -> Finding:
    """A finding with an explicit status (e.g. ``warn`` for a pass with items not verified)."""
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
