"""Policies: the schema, loading with ``extends``, and the bundled packs."""

from .loader import bundled_policies, load_policy, read_policy
from .schema import Policy, ResolvedPolicy

__all__ = ["Policy", "ResolvedPolicy", "bundled_policies", "load_policy", "read_policy"]
