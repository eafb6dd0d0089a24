"""The baseline a run is compared with: a previous run's audit.json, reduced to the figures
regression rules read, with its path, sha256 and run id."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, StrictBool, StrictInt, StrictStr, ValidationError

from ..data.fingerprint import sha256_file
from ..errors import UsageError
from ..evidence import BaselineEvidence

#: fairness aggregates a regression rule may compare (feature-level figures of the evidence)
FAIRNESS_AGGREGATES = ("demographic_parity_ratio", "demographic_parity_difference", "accuracy_difference",
                       "impact_ratio", "scoring_rate_impact_ratio", "equalized_odds_difference",
                       "equal_opportunity_difference")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def baseline_evidence(data: dict[str, Any], *, path: Path) -> BaselineEvidence:
    """The figures of an audit.json (as parsed JSON) that regression rules compare; absent ones are None."""
    privacy = data.get("privacy") if isinstance(data.get("privacy"), dict) else None
    assessment = data.get("assessment") if isinstance(data.get("assessment"), dict) else {}
    membership = assessment.get("membership") if isinstance(assessment.get("membership"), dict) else {}
    fairness = {
        str(f["feature"]): {m: _number(f.get(m)) for m in FAIRNESS_AGGREGATES}
        for f in assessment.get("fairness") or [] if isinstance(f, dict) and "feature" in f
    }
    return BaselineEvidence(
        path=str(path), sha256=sha256_file(Path(path)), run_id=data.get("run_id"), verdict=data.get("verdict"),
        dp_enabled=bool(privacy.get("enabled")) if privacy is not None else None,
        epsilon=_number(privacy.get("epsilon")) if privacy else None,
        accuracy=_number(assessment.get("accuracy")), f1_macro=_number(assessment.get("f1_macro")),
        fairness=fairness, membership_auc=_number(membership.get("auc")),
    )


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


def check_structure(data: dict[str, Any], *, path: Path) -> None:
    """Raise a one-line ``UsageError`` naming the first key of ``data`` (a parsed audit.json) that
    regression and utility rules would misread: a missing feature name, a boolean or text where
    a number belongs, a fairness list that is not a list."""
    try:
        _AuditJson.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ").replace("Input should", "should")
        raise UsageError(f"--baseline {path}: {_where(first['loc'])}: {message[:1].lower() + message[1:]}; "
                         "give a previous run's audit.json") from e
