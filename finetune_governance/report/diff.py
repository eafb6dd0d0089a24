"""What changed between two runs' audit.json: verdicts, rule statuses, metrics, epsilon,
per-group results and hashes; and which changes are regressions the policy names.

Directions are fixed per figure (accuracy: higher is better, epsilon: lower is better); the
regressions that fail a gate are only those of the policy's ``utility`` and ``regression`` rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..evidence import Finding, RunEvidence

#: figure -> +1 when higher is better, -1 when lower is better, 0 when neither
_ASSESSMENT = {"accuracy": 1, "f1_macro": 1, "balanced_accuracy": 1, "precision_macro": 1, "recall_macro": 1,
               "roc_auc": 1, "expected_calibration_error": -1, "test_records": 0}
_PRIVACY = {"epsilon": -1, "delta": -1, "noise_multiplier": 0, "sample_rate": 0, "steps": 0, "max_grad_norm": 0,
            "target_epsilon": 0}
_FEATURE = {"demographic_parity_ratio": 1, "demographic_parity_difference": -1, "accuracy_difference": -1,
            "equalized_odds_difference": -1, "equal_opportunity_difference": -1, "impact_ratio": 1,
            "scoring_rate_impact_ratio": 1}
_GROUP = {"accuracy": 1, "selection_rate": 0, "true_positive_rate": 1, "false_positive_rate": -1, "impact_ratio": 1,
          "count": 0, "status": 0, "scoring_rate": 0, "scoring_rate_impact_ratio": 1, "in_ratios": 0}
_MEMBERSHIP = {"auc": -1, "tpr_at_1pct_fpr": -1}
_STATUS_RANK = {"pass": 3, "waived": 2, "warn": 2, "fail": 0, "error": 0, "not_run": 0}


@dataclass(frozen=True)
class Change:
    """One figure that differs between run A and run B."""

    path: str
    before: Any
    after: Any
    direction: str  # "better", "worse", "changed", "added", "removed"


def load_audit(path: Path) -> RunEvidence:
    """A run's audit.json as evidence; one-line errors naming the file otherwise."""
    try:
        return RunEvidence.model_validate_json(Path(path).read_bytes())
    except FileNotFoundError as e:
        raise UsageError(f"{path}: file not found; give a run's audit.json") from e
    except OSError as e:
        raise UsageError(f"{path}: not readable ({type(e).__name__})") from e
    except ValueError as e:
        first = e.errors()[0] if hasattr(e, "errors") and e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ())) or "document"
        raise UsageError(f"{path}: not an audit.json of this tool's schema (field {where}: "
                         f"{first.get('msg', 'invalid')})") from e


def _direction(before: Any, after: Any, better: int) -> str:
    if before is None:
        return "added"
    if after is None:
        return "removed"
    if better and isinstance(before, (int, float)) and isinstance(after, (int, float)):
        return "better" if (after - before) * better > 0 else "worse"
    return "changed"


def _compare(out: list[Change], prefix: str, a: Any, b: Any, fields: dict[str, int]) -> None:
    for name, better in fields.items():
        before = getattr(a, name, None) if a is not None else None
        after = getattr(b, name, None) if b is not None else None
        if before != after:
            out.append(Change(f"{prefix}{name}", before, after, _direction(before, after, better)))


def _status_direction(before: str | None, after: str | None) -> str:
    if before is None or after is None:
        return "added" if before is None else "removed"
    rank_a, rank_b = _STATUS_RANK.get(before, 0), _STATUS_RANK.get(after, 0)
    return "changed" if rank_a == rank_b else ("better" if rank_b > rank_a else "worse")


def diff_evidence(a: RunEvidence, b: RunEvidence) -> list[Change]:
    """Every compared figure that differs from run A to run B, in report order."""
    out: list[Change] = []
    if a.verdict != b.verdict:
        out.append(Change("verdict", a.verdict, b.verdict, _status_direction(a.verdict, b.verdict)))
    fa, fb = {f.rule_id: f for f in a.findings}, {f.rule_id: f for f in b.findings}
    for rule_id in list(fa) + [r for r in fb if r not in fa]:
        before, after = fa.get(rule_id), fb.get(rule_id)
        sa, sb = (before.status if before else None), (after.status if after else None)
        if sa != sb:
            out.append(Change(f"findings.{rule_id}.status", sa, sb, _status_direction(sa, sb)))
        elif before and after and before.measured != after.measured:
            out.append(Change(f"findings.{rule_id}.measured", before.measured, after.measured, "changed"))
    _compare(out, "privacy.", a.privacy, b.privacy, _PRIVACY)
    _compare(out, "assessment.", a.assessment, b.assessment, _ASSESSMENT)
    if a.assessment or b.assessment:
        feats_a = {f.feature: f for f in (a.assessment.fairness if a.assessment else [])}
        feats_b = {f.feature: f for f in (b.assessment.fairness if b.assessment else [])}
        for feature in list(feats_a) + [f for f in feats_b if f not in feats_a]:
            fa_, fb_ = feats_a.get(feature), feats_b.get(feature)
            _compare(out, f"fairness[{feature}].", fa_, fb_, _FEATURE)
            groups_a = {g.group: g for g in (fa_.groups if fa_ else [])}
            groups_b = {g.group: g for g in (fb_.groups if fb_ else [])}
            for group in list(groups_a) + [g for g in groups_b if g not in groups_a]:
                _compare(out, f"fairness[{feature}][{group}].", groups_a.get(group), groups_b.get(group), _GROUP)
        _compare(out, "membership.", a.assessment.membership if a.assessment else None,
                 b.assessment.membership if b.assessment else None, _MEMBERSHIP)
    for path, before, after in (
        ("policy.sha256", a.policy.sha256, b.policy.sha256),
        ("dataset.sha256", a.dataset.sha256 if a.dataset else None, b.dataset.sha256 if b.dataset else None),
        ("dataset.redacted_sha256", a.dataset.redacted_sha256 if a.dataset else None,
         b.dataset.redacted_sha256 if b.dataset else None),
        ("training.model_sha256", a.training.model_sha256 if a.training else None,
         b.training.model_sha256 if b.training else None),
    ):
        if before != after:
            out.append(Change(path, before, after, "changed"))
    return out


#: rule families ``diff`` applies to run B against run A
REGRESSION_FAMILIES = ("utility", "regression")


def policy_regressions(a: RunEvidence, b: RunEvidence, *, a_path: Path, rules: list[dict] | None = None) -> list[Finding]:
    """Run B judged against run A by the ``utility`` (baseline reference) and ``regression`` rules
    (default: those B's policy recorded). A rule whose figures a run lacks is ``not_run``."""
    from pydantic import TypeAdapter

    from ..assess import utility_against
    from ..assess.baseline import baseline_evidence
    from ..checks import evaluate
    from ..policy.schema import ResolvedPolicy, Rule

    adapter = TypeAdapter(Rule)
    parsed = [adapter.validate_python(r) for r in (rules if rules is not None else b.policy.rules)
              if r.get("check") in REGRESSION_FAMILIES]
    parsed = [r for r in parsed if r.check != "utility" or r.params.reference == "baseline"]
    if not parsed:
        return []
    reference = json.loads(a.model_dump_json())
    judged = b.model_copy(deep=True)
    judged.baseline = baseline_evidence(reference, path=a_path)
    if judged.assessment is not None and a.assessment is not None:
        judged.assessment.utility = utility_against(judged.assessment, reference=reference, path=a_path)
    elif judged.assessment is not None:
        judged.assessment.utility = None
    policy = ResolvedPolicy(name=b.policy.name, title=b.policy.title, version=b.policy.version, path=b.policy.path,
                            sha256=b.policy.sha256, sources=b.policy.sources, rules=parsed, disabled=[])
    return evaluate(policy, judged.model_copy(update={"findings": [f for f in b.findings
                                                                   if f.rule_id not in {r.id for r in parsed}]}))


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return "-" if value is None else str(value)


def format_changes(changes: list[Change], *, a_id: str, b_id: str) -> str:
    """The changes as aligned text lines, one per figure."""
    if not changes:
        return f"No differences between run {a_id} and run {b_id} in the compared figures."
    lines = [f"Changes from run {a_id} (A) to run {b_id} (B):"]
    width = max(len(c.path) for c in changes)
    marks = {"better": "+", "worse": "!", "changed": "~", "added": ">", "removed": "<"}
    for c in changes:
        lines.append(f"  {marks[c.direction]} {c.path.ljust(width)}  {_show(c.before)} -> {_show(c.after)}"
                     f"  ({c.direction})")
    lines.append("  (+ better, ! worse, ~ changed, > only in B, < only in A)")
    return "\n".join(lines)
