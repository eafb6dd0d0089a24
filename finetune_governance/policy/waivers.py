"""Waivers: a reviewed exception to one rule, with a justification, an approver and an expiry.

A waivers file is data, never a code edit::

    schema_version: 1
    waivers:
      - rule_id: gdpr.fairness.parity
        justification: Groups rebalanced in the next data release (TICKET-123).
        approver: Jane Doe (DPO)
        expires: 2026-12-31

``apply_waivers`` is pure: an active waiver (expiry on or after the run's date) turns a
``fail`` or ``warn`` into ``waived``; an expired one changes nothing but is reported on the
finding and as a warning. ``error`` and ``not_run`` findings are never waived: a check
that could not run has nothing to excuse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pydantic import Field

from ..errors import PolicyError
from ..evidence import Finding
from ..yamlio import load_model_with_node, position
from ._strict import StrictModel

#: statuses a waiver can turn into ``waived``
WAIVABLE = frozenset({"fail", "warn"})


class Waiver(StrictModel):
    """One approved exception to one rule."""

    rule_id: str = Field(min_length=1, description="The id of the rule waived.")
    justification: str = Field(min_length=10, description="Why the failure is accepted, and until what changes.")
    approver: str = Field(min_length=2, description="Who approved the waiver (name and role).")
    expires: dt.date = Field(description="Last day the waiver applies (ISO date, inclusive).")
    reference: str | None = Field(default=None, description="Ticket or decision record.")


class WaiverFile(StrictModel):
    """A waivers file as written."""

    schema_version: int = Field(ge=1, le=1, description="Version of the waivers format (1).")
    waivers: list[Waiver] = Field(default_factory=list)


@dataclass(frozen=True)
class WaiverSet:
    """The waivers of one file, with the file's path and sha256 for the evidence."""

    waivers: tuple[Waiver, ...]
    path: str
    sha256: str


def load_waivers(path: Path) -> WaiverSet:
    """Read and validate a waivers file; one waiver per rule id."""
    from ..data.fingerprint import sha256_file

    parsed, node = load_model_with_node(Path(path), WaiverFile, error=PolicyError)
    seen: set[str] = set()
    for index, waiver in enumerate(parsed.waivers):
        if waiver.rule_id in seen:
            raise PolicyError(f"{position(Path(path), node, ('waivers', index, 'rule_id'))}: a second waiver for "
                              f"'{waiver.rule_id}'; keep one waiver per rule")
        seen.add(waiver.rule_id)
    return WaiverSet(waivers=tuple(parsed.waivers), path=str(path), sha256=sha256_file(Path(path)))


def _record(waiver: Waiver, waivers: WaiverSet, state: str) -> dict[str, str]:
    record = {
        "rule_id": waiver.rule_id, "justification": waiver.justification, "approver": waiver.approver,
        "expires": waiver.expires.isoformat(), "state": state, "file": waivers.path, "file_sha256": waivers.sha256,
    }
    if waiver.reference:
        record["reference"] = waiver.reference
    return record


def apply_waivers(
    findings: Sequence[Finding], waivers: WaiverSet, *, today: dt.date
) -> tuple[list[Finding], list[str]]:
    """Findings with the waivers applied, and the warnings to record in the evidence.

    ``today`` is the run's date (waivers expire at the end of their ``expires`` day).
    """
    by_rule = {w.rule_id: w for w in waivers.waivers}
    known = {f.rule_id for f in findings}
    warnings = [f"waiver for '{w.rule_id}' ({waivers.path}) names no rule of this policy; it has no effect"
                for w in waivers.waivers if w.rule_id not in known]
    out: list[Finding] = []
    for finding in findings:
        waiver = by_rule.get(finding.rule_id)
        if waiver is None:
            out.append(finding)
            continue
        if waiver.expires < today:
            note = f"waiver by {waiver.approver} expired on {waiver.expires.isoformat()}; not applied"
            warnings.append(f"expired waiver for '{finding.rule_id}' (approver {waiver.approver}, expired "
                            f"{waiver.expires.isoformat()}); the rule is evaluated as if unwaived")
            out.append(finding.model_copy(update={"waiver": _record(waiver, waivers, "expired"),
                                                  "message": f"{finding.message} [{note}]"}))
        elif finding.status in WAIVABLE:
            note = (f"waived by {waiver.approver} until {waiver.expires.isoformat()}: {waiver.justification} "
                    f"(was {finding.status})")
            out.append(finding.model_copy(update={"status": "waived", "waiver": _record(waiver, waivers, "applied"),
                                                  "message": f"{finding.message} [{note}]"}))
        elif finding.status in ("error", "not_run"):
            warnings.append(f"waiver for '{finding.rule_id}' not applied: a check that did not produce a "
                            f"result ({finding.status}) cannot be waived")
            out.append(finding.model_copy(update={"waiver": _record(waiver, waivers, "refused"),
                                                  "message": f"{finding.message} [waiver not applied: "
                                                             f"{finding.status} findings cannot be waived]"}))
        else:
            out.append(finding.model_copy(update={"waiver": _record(waiver, waivers, "unused")}))
    return out, warnings
