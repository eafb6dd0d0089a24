"""Documentation rules: the run's evidence holds every item the documentation must contain.

The model card and audit report render the evidence, so an item whose evidence paths are
all present and non-empty is documented. Items outside a training run (``not_covered``)
make the finding a ``warn`` that lists them as not verified.
"""

from __future__ import annotations

from typing import Any

from ..evidence import Finding, RunEvidence
from ..policy.schema import DocumentationRule
from ._base import finding, outcome


class PerItem(list):
    """Values of a path read in every item of a list (``assessment.fairness.exclude_below_share``)."""


def resolve(data: Any, dotted: str) -> Any:
    """The value at a dotted path of a dumped record, or None. A list met before the path's
    end is read item by item: the result is a ``PerItem`` list of each item's value."""
    value = data
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        if isinstance(value, list):
            rest = ".".join(parts[depth:])
            return PerItem(resolve(item, rest) for item in value)
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _present(value: Any) -> bool:
    if isinstance(value, PerItem):  # every item must hold it
        return bool(value) and all(_present(v) for v in value)
    return value is not None and value != "" and value != [] and value != {}


def check_documentation(rule: DocumentationRule, evidence: RunEvidence) -> Finding:
    """Every item's evidence present; missing items fail, uncovered items are named."""
    data = evidence.model_dump(mode="json")
    p = rule.params
    measured: dict[str, Any] = {}
    missing: list[str] = []
    for item in p.items:
        absent = [path for path in item.evidence if not _present(resolve(data, path))]
        measured[item.id] = "present" if not absent else "missing: " + ", ".join(absent)
        if absent:
            missing.append(f"{item.id} ({item.title}: {', '.join(absent)})")
    if p.not_covered:
        measured["not_verified"] = [n.item for n in p.not_covered]
    threshold = {"items": len(p.items)}
    if missing:
        return finding(rule, passed=False, measured=measured, threshold=threshold,
                       message=f"{len(missing)} of {len(p.items)} documentation items missing: " + "; ".join(missing))
    if p.not_covered:
        return outcome(rule, status="warn", measured=measured, threshold=threshold,
                       message=f"all {len(p.items)} documentation items present; NOT VERIFIED by this tool "
                               f"(outside a training run): " + "; ".join(n.item for n in p.not_covered))
    return finding(rule, passed=True, measured=measured, threshold=threshold,
                   message=f"all {len(p.items)} documentation items present")
