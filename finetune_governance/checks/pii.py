"""PII rules: no entity the policy blocks, no PII in a column whose values the reports show,
and little enough left after redaction. PII in columns the run does not read is named as a
warning (reported, not redacted)."""

from __future__ import annotations

from ..evidence import ColumnScan, Finding, RunEvidence
from ..policy.schema import PiiRule
from ..scan.columns import CLASS_FOLDER_COLUMN
from ._base import EvidenceMissing, finding, outcome

_ROLE = {"label": ("label column", "label names"), "sensitive_feature": ("sensitive-feature column", "group names")}
#: the finding of a run whose policy has no pii rule, when a column the reports show holds PII
READ_COLUMNS_RULE_ID = "core.pii.read-columns"


def _types(column: ColumnScan) -> str:
    return ", ".join(f"{e.entity_type} in {e.records} record(s)" for e in column.entities if e.action != "allow")


def read_columns_message(columns: list[ColumnScan]) -> str:
    """One line: which label/feature columns hold which PII, and how to fix it."""
    parts = [f"{_ROLE[c.role][0]} '{c.column}' holds PII ({_types(c)})" for c in columns]
    written = " and ".join(dict.fromkeys(_ROLE[c.role][1] for c in columns))
    fix = ("rename the class folders (a non-identifying name each)" if any(c.column == CLASS_FOLDER_COLUMN for c in columns)
           else "recode the column (map each value to a non-identifying code)")
    return "; ".join(parts) + f": its values are written into the reports and the model as {written}; {fix} and run again"


def read_columns_stop_reason(columns: list[ColumnScan]) -> str:
    """Why a run (or audit) stopped: the label/feature ``columns`` holding PII, by name."""
    return "PII in column(s) whose values the reports would show: " + ", ".join(f"'{c.column}'" for c in columns)


def _unread_note(columns: list[ColumnScan]) -> str:
    if not columns:
        return ""
    return ("; warning: PII in column(s) the run does not read (reported, not redacted): "
            + "; ".join(f"'{c.column}' {_types(c)}" for c in columns))


def _read_columns_measured(columns: list[ColumnScan]) -> dict[str, list[str]]:
    return {c.column: [e.entity_type for e in c.entities if e.action != "allow"] for c in columns}


def check_pii(rule: PiiRule, evidence: RunEvidence) -> Finding:
    scan = evidence.scan
    if scan is None:
        raise EvidenceMissing("the PII scan did not run")
    p = rule.params
    threshold = {"blocked_entities": 0, "read_columns_with_pii": 0, "max_residual_rate": p.max_residual_rate}
    read = scan.read_columns_with_pii
    if scan.blocked_entities or read:
        counts = {e.entity_type: e.count for e in scan.entities if e.entity_type in scan.blocked_entities}
        measured: dict = {"blocked_entities": counts}
        messages = ["the policy blocks " + ", ".join(f"{k} ({v} found)" for k, v in counts.items())] if counts else []
        if read:
            measured["read_columns_with_pii"] = _read_columns_measured(read)
            messages.append(read_columns_message(read))
        return finding(rule, passed=False, measured=measured, threshold=threshold, message="; ".join(messages))
    if scan.residual is None:
        raise EvidenceMissing("the redacted data was not re-scanned")
    rate = scan.residual.rate
    measured = {"records_with_pii": scan.records_with_pii, "residual_rate": rate, "residual_records": scan.residual.records}
    unread = scan.unread_columns_with_pii
    note = _unread_note(unread)
    if unread:
        measured["unread_columns_with_pii"] = _read_columns_measured(unread)
    if rate > p.max_residual_rate:
        return finding(rule, passed=False, measured=measured, threshold=threshold,
                       message=f"{scan.residual.records} record(s) still hold PII after redaction "
                               f"(rate {rate:.4f} > {p.max_residual_rate})" + note)
    message = f"{scan.records_with_pii} record(s) with PII redacted; residual rate {rate:.4f}" + note
    return outcome(rule, status="warn" if note else "pass", measured=measured, threshold=threshold, message=message)


def read_columns_finding(evidence: RunEvidence) -> Finding | None:
    """For a policy without a pii rule: a blocking finding when a label or sensitive-feature
    column holds PII (the reports would show it whatever the policy says), else None."""
    read = evidence.scan.read_columns_with_pii if evidence.scan is not None else []
    if not read:
        return None
    return Finding(rule_id=READ_COLUMNS_RULE_ID, title="No PII in the columns whose values the reports show",
                   cites=["finetune-governance: no raw PII in any report"], severity="block", stage="scan",
                   status="fail", measured={"read_columns_with_pii": _read_columns_measured(read)},
                   threshold={"read_columns_with_pii": 0}, message=read_columns_message(read))
