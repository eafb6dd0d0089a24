"""Policies: the schema, loading with ``extends``, the bundled packs, and waivers."""

from .loader import bundled_policies, load_policy, read_policy
from .schema import Policy, ResolvedPolicy
from .waivers import Waiver, WaiverSet, apply_waivers, load_waivers

__all__ = [
    "Policy", "ResolvedPolicy", "Waiver", "WaiverSet", "apply_waivers", "bundled_policies", "load_policy",
    "load_waivers", "read_policy",
]
