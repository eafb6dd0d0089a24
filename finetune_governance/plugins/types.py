"""Data objects plugins hand to the host, and what the host records about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel

Stage = Literal["declare", "scan", "train", "assess"]
PluginSource = Literal["core", "entry-point", "policy", "registered"]


@dataclass(frozen=True)
class RuleFamily:
    """A rule family: ``check(rule, evidence) -> Finding``, what it verifies and reads.

    ``params_model`` validates a rule's ``params`` when the policy is loaded (core families
    are validated by the policy schema itself and leave it None).
    """

    name: str
    check: Callable[[Any, Any], Any]
    summary: str
    reads: tuple[str, ...]
    stage: Stage = "assess"
    params_model: type[BaseModel] | None = None


@dataclass(frozen=True)
class CollectorContext:
    """What a collector may read: the resolved policy, the evidence so far, and the run's
    data (texts after redaction when the scan has run; raw texts before)."""

    stage: Stage
    policy: Any
    evidence: Any
    texts: list[str] | None = None
    labels: list[str] | None = None
    data_path: str | None = None


@dataclass(frozen=True)
class Collector:
    """Runs after ``stage``; returns a JSON-serialisable dict stored as ``extra[name]``."""

    name: str
    stage: Stage
    collect: Callable[[CollectorContext], dict[str, Any]]


@dataclass(frozen=True)
class ReportSection:
    """A report section: ``html`` is a jinja2 fragment for audit.html and ``markdown`` a
    jinja2 section for model_card.md; both see ``evidence`` (the audit.json dict) and
    ``extra``, and every value is HTML-escaped (``|safe`` only for the plugin's own markup)."""

    name: str
    title: str
    html: str
    markdown: str = ""


@dataclass(frozen=True)
class RenderedSection:
    """A plugin's report section rendered for one run."""

    plugin: str
    name: str
    title: str
    html: str
    markdown: str


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that failed to import, or a hook of it that raised."""

    plugin: str
    phase: str  # import, governance_rule_families, collector:<name>, ...
    error: str

    @property
    def message(self) -> str:
        return f"plugin '{self.plugin}' failed in {self.phase}: {self.error}"


class PluginRecognizerError(Exception):
    """A plugin's PII recognizer raised during a scan. It carries no scanned text: the
    recognizer's own message is withheld because it may quote the record it was reading.
    (Picklable, so it crosses from the scan's worker processes to the run.)"""

    def __init__(self, plugin: str, recognizer: str, error: str) -> None:
        super().__init__(plugin, recognizer, error)
        self.plugin, self.recognizer, self.error = plugin, recognizer, error

    def __str__(self) -> str:
        return f"plugin '{self.plugin}' recognizer '{self.recognizer}' raised {self.error}"

    @property
    def failure(self) -> PluginFailure:
        return PluginFailure(self.plugin, f"recognizer:{self.recognizer}", self.error)


@dataclass
class PluginInfo:
    """One loaded plugin and what it provides (``governed-finetune plugins``)."""

    name: str
    source: PluginSource
    module: str
    version: str | None = None
    families: list[str] = field(default_factory=list)
    recognizers: list[str] = field(default_factory=list)
    collectors: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
