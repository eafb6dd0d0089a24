"""Utility under privacy: accuracy lost against a reference: a previous run's ``audit.json``
(``--baseline``) or a non-private model trained in the same run (``reference: non_private``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, StrictBool, StrictInt, StrictStr

from ..data.fingerprint import sha256_file
from ..errors import UsageError
from ..evidence import AssessmentEvidence, UtilityEvidence


def _finite_number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("should be a finite number (not a boolean, text or NaN)")
    return value


Number = Annotated[float, PlainValidator(_finite_number)]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Group(_Loose):
    group: StrictStr
    accuracy: Number | None = None
    status: StrictStr | None = None


class _Feature(_Loose):
    feature: StrictStr
    groups: list[_Group] = []
    demographic_parity_ratio: Number | None = None
    demographic_parity_difference: Number | None = None
    accuracy_difference: Number | None = None
    impact_ratio: Number | None = None
    scoring_rate_impact_ratio: Number | None = None
    equalized_odds_difference: Number | None = None
    equal_opportunity_difference: Number | None = None


class _Membership(_Loose):
    auc: Number | None = None


class _Assessment(_Loose):
    accuracy: Number
    f1_macro: Number | None = None
    test_records: StrictInt | None = None
    fairness: list[_Feature] = []
    membership: _Membership | None = None


class _Privacy(_Loose):
    enabled: StrictBool | None = None
    epsilon: Number | None = None


class _AuditJson(_Loose):
    run_id: StrictStr | None = None
    verdict: StrictStr | None = None
    privacy: _Privacy | None = None
    assessment: _Assessment


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_reference(path: Path) -> dict[str, Any]:
    """A previous run's audit.json (parsed), its structure checked where regression and utility
    rules read it (numbers are numbers, not booleans); one-line ``UsageError`` otherwise."""
    from pydantic import ValidationError

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
    try:
        _AuditJson.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ").replace("Input should", "should")
        raise UsageError(f"--baseline {path}: {_where(first['loc'])}: {message[:1].lower() + message[1:]}; {hint}") from e
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
