"""Post-training assessment: performance, fairness, membership inference, utility under privacy."""

from .assessment import (
    FairnessPlan, FairnessSettings, assess_predictions, fairness_plan, resolve_favourable_label, rule_settings,
)
from .calibration import expected_calibration_error
from .fairness import UNKNOWN, feature_fairness, group_label, intersect
from .membership import membership_audit, membership_skip_reason, per_example_loss
from .performance import Performance, performance
from .utility import compare_utility, load_reference, utility_against

__all__ = [
    "UNKNOWN", "FairnessPlan", "FairnessSettings", "compare_utility", "Performance", "assess_predictions",
    "fairness_plan", "resolve_favourable_label", "rule_settings",
    "expected_calibration_error", "feature_fairness", "group_label", "intersect",
    "load_reference", "membership_audit", "membership_skip_reason", "per_example_loss", "performance", "utility_against",
]
