"""Extension points: write organisation-specific checks, recognizers, evidence collectors
and report sections as plugins.

A plugin is a module with ``@hookimpl`` functions (see ``hookspec``), installed with an
entry point in the ``finetune_governance.plugins`` group or named in a policy's
``plugins:`` list. Example: ``examples/plugin/``.
"""

from ..checks._base import EvidenceMissing, finding, outcome
from .hookspec import hookimpl
from .host import ENTRY_POINT_GROUP, PluginHost, build_host, plugin_host, reset_hosts
from .types import (Collector, CollectorContext, PluginFailure, PluginInfo, PluginRecognizerError, RenderedSection,
                    ReportSection, RuleFamily)

__all__ = [
    "ENTRY_POINT_GROUP", "Collector", "CollectorContext", "EvidenceMissing", "PluginFailure", "PluginHost",
    "PluginInfo", "PluginRecognizerError", "RenderedSection", "ReportSection", "RuleFamily", "build_host", "finding", "hookimpl",
    "outcome", "plugin_host", "reset_hosts",
]
