"""Turn what training did into evidence records, and fingerprint a run plan for resume."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..evidence import PrivacyEvidence
from .loop import TrainResult
from .privacy import PrivacySettings, epsilon_from_history

POISSON_NOTE = ("The (epsilon, delta) guarantee assumes Poisson sampling of the training records, which was used; "
                "it covers each training record (record-level DP). Epsilon is recomputable from the history "
                "(noise multiplier, sample rate, steps per segment), delta and the accountant type.")


def plan_fingerprint(**parts: Any) -> str:
    """sha256 of the JSON of everything that must match for a checkpoint to be resumed."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def privacy_evidence(dp: PrivacySettings | None, result: TrainResult, *, replaced_modules: list[str]) -> PrivacyEvidence:
    """The DP record an auditor needs to recompute epsilon; a short note when DP is off."""
    if dp is None:
        return PrivacyEvidence(enabled=False, note="the policy does not require differential privacy")
    return PrivacyEvidence(
        enabled=True,
        mechanism="DP-SGD (Opacus)",
        accountant=dp.accountant,
        grad_sample_mode=result.grad_sample_mode or dp.grad_sample_mode,
        poisson_sampling=True,
        target_epsilon=dp.target_epsilon,
        delta=dp.delta,
        noise_multiplier=result.noise_multiplier,
        max_grad_norm=dp.max_grad_norm,
        sample_rate=result.sample_rate,
        steps=result.steps,
        epsilon=round(epsilon_from_history(result.history, delta=dp.delta, accountant=dp.accountant), 6),
        history=[{"noise_multiplier": h.noise_multiplier, "sample_rate": h.sample_rate, "steps": h.steps}
                 for h in result.history],
        epsilon_curve=[[float(s), e] for s, e in result.epsilon_curve],
        note=POISSON_NOTE,
        steps_per_epoch=result.steps_per_epoch,
        steps_accounted=sum(h.steps for h in result.history),
        lost_steps=result.lost_steps,
        resumed_from_step=result.resumed_from_step,
        replaced_modules=replaced_modules,
    )
