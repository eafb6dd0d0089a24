"""The extension points: pluggy hook specifications every plugin (and the core) implements.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match
the specifications below. Each hook returns a list; the host gathers the lists of every
plugin, and a hook that raises is recorded against the plugin that raised it (the gate
then fails closed). The core registers its own checks and recognizers through these same
hooks (``plugins/core.py``), so a plugin has exactly the power the core has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import pluggy

if TYPE_CHECKING:
    from .types import Collector, ReportSection, RuleFamily

PROJECT = "finetune_governance"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def governance_rule_families() -> "list[RuleFamily]":
    """Rule families a policy can name in ``check:``: each a check function from
    (rule, evidence) to a Finding, the stage it reads, and its parameter model.
    Plugin family names are namespaced (``acme.worst_group_accuracy``)."""


@hookspec
def governance_recognizers(nlp_engine: Any, countries: Sequence[str] | None,
                           policy_recognizers: "Sequence[Any]") -> "list[Any]":
    """Presidio ``EntityRecognizer`` objects to add to the scan's analyzer.
    ``countries`` (ISO alpha-2, lower case) is the policy's filter, or None for all;
    ``policy_recognizers`` are the ``RecognizerSpec`` declarations of the policy's ``pii``
    rule (the core builds them; a plugin may read or ignore them). ``nlp_engine`` is None
    when the host only lists what each plugin detects. An implementation may take any
    subset of these arguments."""


@hookspec
def governance_collectors() -> "list[Collector]":
    """Evidence collectors run after a stage; what they return is stored in the
    evidence under ``extra.<collector name>`` for checks and reports to read."""


@hookspec
def governance_report_sections() -> "list[ReportSection]":
    """Extra report sections: a jinja2 HTML fragment for audit.html and a Markdown
    section for model_card.md, both rendered from the evidence alone."""
