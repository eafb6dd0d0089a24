"""Record plugins in a run's evidence: what was loaded, collectors' output, report
sections, and every failure (which ``checks.evaluate`` turns into error findings)."""

from __future__ import annotations

from typing import Any

from ..evidence import PluginFailureRecord, PluginRecord, PluginSection, PluginsEvidence, RunEvidence
from .host import PluginHost, plugin_host
from .types import CollectorContext, PluginFailure, Stage


def record_plugin_failures(evidence: RunEvidence, failures: list[PluginFailure]) -> None:
    """Add ``failures`` to the evidence (once each); ``checks.evaluate`` turns them into error findings."""
    if evidence.plugins is None:
        evidence.plugins = PluginsEvidence()
    known = {(f.plugin, f.phase, f.error) for f in evidence.plugins.failures}
    for failure in failures:
        if (failure.plugin, failure.phase, failure.error) not in known:
            known.add((failure.plugin, failure.phase, failure.error))
            evidence.plugins.failures.append(PluginFailureRecord(plugin=failure.plugin, phase=failure.phase,
                                                                 error=failure.error))


def attach_plugins(evidence: RunEvidence, policy: Any, host: PluginHost | None = None) -> PluginHost:
    """Record the loaded plugins (and load-time failures) of ``policy``'s host in ``evidence``."""
    host = host or plugin_host(policy.plugins)
    params = policy.pii_params()
    loaded = [PluginRecord(name=i.name, source=i.source, module=i.module, version=i.version,
                           families=list(i.families), recognizers=list(i.recognizers),
                           collectors=list(i.collectors), sections=list(i.sections))
              for i in host.describe(countries=params.countries, policy_recognizers=params.recognizers)]
    failures = evidence.plugins.failures if evidence.plugins is not None else []
    evidence.plugins = PluginsEvidence(loaded=loaded, failures=list(failures))
    record_plugin_failures(evidence, host.failures)
    return host


def run_collectors(host: PluginHost, evidence: RunEvidence, *, stage: Stage, policy: Any,
                   texts: list[str] | None = None, labels: list[str] | None = None,
                   data_path: str | None = None) -> None:
    """Run the collectors of ``stage``; their output goes to ``evidence.extra``."""
    context = CollectorContext(stage=stage, policy=policy, evidence=evidence, texts=texts, labels=labels,
                               data_path=data_path)
    results, failures = host.run_collectors(context)
    evidence.extra.update(results)
    record_plugin_failures(evidence, failures)


def render_sections(host: PluginHost, evidence: RunEvidence) -> list[PluginFailure]:
    """Render the plugins' report sections into ``evidence.report_sections``; the failures
    (also recorded in the evidence) are returned so the caller can re-run the gate."""
    rendered, failures = host.render_sections(evidence.model_dump(mode="json"))
    evidence.report_sections = [PluginSection(plugin=r.plugin, name=r.name, title=r.title, html=r.html,
                                              markdown=r.markdown) for r in rendered]
    record_plugin_failures(evidence, failures)
    return failures
