"""Utility under privacy: accuracy lost against a reference: a previous run's ``audit.json``
(``--baseline``) or a non-private model trained in the same run (``reference: non_private``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..data.fingerprint import sha256_file
from ..errors import UsageError
from ..evidence import AssessmentEvidence, UtilityEvidence


def load_reference(path: Path) -> dict[str, Any]:
    """A previous run's audit.json (parsed), its structure checked where regression and utility
    rules read it (numbers are numbers, not booleans); one-line ``UsageError`` otherwise."""
    from .baseline import check_structure

    hint = "give a previous run's audit.json"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise UsageError(f"--baseline {path}: file not found; {hint}") from e
    except IsADirectoryError as e:
        raise UsageError(f"--baseline {path}: is a directory; {hint} (the file in the run folder)") from e
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError(f"--baseline {path}: not readable JSON ({type(e).__name__}); {hint}") from e
    if not isinstance(data, dict) or not isinstance(data.get("assessment"), dict) \
            or "accuracy" not in data["assessment"]:
        raise UsageError(f"--baseline {path}: no assessment.accuracy; give the audit.json of a run whose assessment ran")
    check_structure(data, path=path)
    return data


def _group_accuracies(fairness: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {
        f["feature"]: {g["group"]: float(g["accuracy"]) for g in f.get("groups", [])
                       if g.get("status") != "insufficient data" and g.get("accuracy") is not None}
        for f in fairness
    }


def compare_utility(
    assessment: AssessmentEvidence,
    *,
    reference_assessment: dict[str, Any],
    reference: str,
    reference_sha256: str,
    reference_run_id: str | None = None,
    in_run: bool = False,
    note: str | None = None,
) -> UtilityEvidence:
    """Overall accuracy drop (reference - now) and per-group drops, for groups with enough
    data in both runs; the spread is max - min of a feature's group drops (fractions)."""
    ref = reference_assessment
    before = _group_accuracies(ref.get("fairness", []))
    now = _group_accuracies([f.model_dump() for f in assessment.fairness])
    drops: dict[str, dict[str, float]] = {}
    spreads: list[float] = []
    for feature, groups in now.items():
        common = sorted(set(groups) & set(before.get(feature, {})))
        if not common:
            continue
        drops[feature] = {g: round(before[feature][g] - groups[g], 6) for g in common}
        if len(common) >= 2:
            spreads.append(max(drops[feature].values()) - min(drops[feature].values()))
    if note is None and ref.get("test_records") != assessment.test_records:
        note = (f"the reference was assessed on {ref.get('test_records')} records and this run on "
                f"{assessment.test_records}: compare only runs on the same held-out split")
    return UtilityEvidence(
        reference=reference, reference_sha256=reference_sha256, reference_run_id=reference_run_id,
        reference_accuracy=float(ref["accuracy"]), accuracy=assessment.accuracy,
        accuracy_drop=round(float(ref["accuracy"]) - assessment.accuracy, 6),
        group_drops=drops, group_drop_spread=round(max(spreads), 6) if spreads else None, note=note, in_run=in_run,
    )


def utility_against(assessment: AssessmentEvidence, *, reference: dict[str, Any], path: Path) -> UtilityEvidence:
    """Utility against a previous run's audit.json (``--baseline``)."""
    return compare_utility(assessment, reference_assessment=reference["assessment"], reference=str(path),
                           reference_sha256=sha256_file(Path(path)), reference_run_id=reference.get("run_id"))
