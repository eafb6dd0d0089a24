"""Privacy rules: DP-SGD used when required, epsilon and delta within the policy."""

from __future__ import annotations

from ..evidence import Finding, RunEvidence
from ..policy.schema import PrivacyRule
from ._base import EvidenceMissing, finding


def delta_limit(max_delta: float | str, records: int) -> float:
    """The largest allowed delta: the policy's number, or 1/N for '1/N' (N training records)."""
    return 1.0 / records if max_delta == "1/N" else float(max_delta)


def check_privacy(rule: PrivacyRule, evidence: RunEvidence) -> Finding:
    p = rule.params
    privacy = evidence.privacy
    if privacy is None:
        raise EvidenceMissing("training did not run")
    threshold = {"differential_privacy": p.differential_privacy, "max_epsilon": p.max_epsilon, "max_delta": p.max_delta}
    if not privacy.enabled:
        ok = p.differential_privacy != "required"
        return finding(rule, passed=ok, measured={"enabled": False}, threshold=threshold,
                       message="trained without differential privacy" + ("" if ok else " but the policy requires it"))
    n = evidence.dataset.train_records if evidence.dataset and evidence.dataset.train_records else 0
    if not n:
        raise EvidenceMissing("training record count unknown")
    measured = {"enabled": True, "epsilon": privacy.epsilon, "delta": privacy.delta, "poisson_sampling": privacy.poisson_sampling}
    limit = delta_limit(p.max_delta, n)
    if privacy.delta is None or privacy.epsilon is None:
        raise EvidenceMissing("epsilon or delta missing from the privacy evidence")
    if p.max_delta == "1/N" and not privacy.delta < limit or p.max_delta != "1/N" and privacy.delta > limit:
        return finding(rule, passed=False, measured=measured, threshold=threshold,
                       message=f"delta {privacy.delta:g} is not below the limit {limit:g}")
    if not privacy.poisson_sampling:
        return finding(rule, passed=False, measured=measured, threshold=threshold,
                       message="the epsilon guarantee needs Poisson sampling, which was not used")
    if p.max_epsilon is not None and privacy.epsilon > p.max_epsilon:
        return finding(rule, passed=False, measured=measured, threshold=threshold,
                       message=f"epsilon {privacy.epsilon:.3f} exceeds the maximum {p.max_epsilon}")
    return finding(rule, passed=True, measured=measured, threshold=threshold,
                   message=f"DP-SGD with epsilon {privacy.epsilon:.3f} at delta {privacy.delta:.2g}")
