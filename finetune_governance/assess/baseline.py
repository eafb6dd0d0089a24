"""The baseline a run is compared with: a previous run's audit.json, reduced to the figures
regression rules read, with its path, sha256 and run id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data.fingerprint import sha256_file
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
