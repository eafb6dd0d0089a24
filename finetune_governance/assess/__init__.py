"""Post-training assessment: performance and fairness on the held-out split."""

from .fairness import feature_fairness
from .performance import Performance, performance

__all__ = ["Performance", "feature_fairness", "performance"]
