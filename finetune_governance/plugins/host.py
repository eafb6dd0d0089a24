"""The plugin host: discover plugins, call their hooks, and record every failure.

Plugins come from three places, in this order: the core (``plugins/core.py``), the
``finetune_governance.plugins`` entry-point group of installed distributions (unless
``FTG_DISABLE_PLUGIN_AUTOLOAD`` is set), and the modules a policy names in ``plugins:``.
Each hook implementation is called on its own, so an exception is attributed to the
plugin that raised it; failures never stop the run, they become ``error`` findings
(``checks.evaluate``) and the gate fails closed.
"""

from __future__ import annotations

import importlib
import json
import os
from importlib import metadata
from typing import Any, Iterable, Sequence

import pluggy

from . import hookspec
from .types import (Collector, CollectorContext, PluginFailure, PluginInfo, PluginRecognizerError, PluginSource,
                    RenderedSection, ReportSection, RuleFamily)

ENTRY_POINT_GROUP = "finetune_governance.plugins"
AUTOLOAD_ENV = "FTG_DISABLE_PLUGIN_AUTOLOAD"
CORE = "core"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class PluginHost:
    """A pluggy ``PluginManager`` plus what each plugin provides and what failed."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(hookspec.PROJECT)
        self.manager.add_hookspecs(hookspec)
        self.infos: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []
        self._families: dict[str, tuple[str, RuleFamily]] | None = None

    def _fail(self, failure: PluginFailure) -> None:
        if failure not in self.failures:
            self.failures.append(failure)

    # -- loading --------------------------------------------------------------------------
    def register(self, plugin: object, *, name: str, source: PluginSource, module: str,
                 version: str | None = None) -> None:
        """Register ``plugin`` (a module or object with ``@hookimpl`` functions) under ``name``."""
        if name in self.infos or self.manager.is_registered(plugin):
            return
        try:
            self.manager.register(plugin, name=name)
        except Exception as exc:  # noqa: BLE001 - a malformed plugin is a failure, not a crash
            self._fail(PluginFailure(name, "register", _short(exc)))
            return
        self.infos[name] = PluginInfo(name=name, source=source, module=module, version=version)
        self._families = None

    def load_entry_points(self) -> None:
        """Every plugin of the ``finetune_governance.plugins`` entry-point group."""
        for entry in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            version = entry.dist.version if entry.dist is not None else None
            try:
                plugin = entry.load()
            except Exception as exc:  # noqa: BLE001 - an unimportable plugin fails the gate, not the tool
                self._fail(PluginFailure(entry.name, "import", _short(exc)))
                continue
            self.register(plugin, name=entry.name, source="entry-point", module=entry.value, version=version)

    def load_module(self, module: str, *, source: PluginSource = "policy") -> None:
        """Import ``module`` by dotted name and register it (a policy's ``plugins:``)."""
        if any(info.module == module for info in self.infos.values()):
            return
        try:
            plugin = importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001
            self._fail(PluginFailure(module, "import", _short(exc)))
            return
        self.register(plugin, name=module, source=source, module=module, version=_module_version(plugin))

    # -- calling hooks ----------------------------------------------------------------------
    def _call(self, hook: str, *, skip: tuple[str, ...] = (), **kwargs: Any) -> list[tuple[str, Any]]:
        """(plugin name, item) for every item every implementation returned, in
        registration order; an implementation that raises is recorded and skipped."""
        results: list[tuple[str, Any]] = []
        caller = getattr(self.manager.hook, hook)
        for impl in caller.get_hookimpls():  # in registration order: the core first
            if impl.plugin_name in skip:
                continue
            try:
                items = impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
            except Exception as exc:  # noqa: BLE001
                self._fail(PluginFailure(impl.plugin_name, hook, _short(exc)))
                continue
            results.extend((impl.plugin_name, item) for item in (items or ()))
        return results

    def families(self) -> dict[str, RuleFamily]:
        """Every rule family by name; a plugin may not take a name already provided."""
        if self._families is None:
            found: dict[str, tuple[str, RuleFamily]] = {}
            for plugin, family in self._call("governance_rule_families"):
                if family.name in found:
                    self._fail(PluginFailure(plugin, "governance_rule_families",
                                                       f"rule family '{family.name}' is already provided by "
                                                       f"'{found[family.name][0]}'"))
                    continue
                if plugin != CORE and "." not in family.name:
                    self._fail(PluginFailure(plugin, "governance_rule_families",
                                                       f"rule family '{family.name}' must be namespaced "
                                                       f"(e.g. '{plugin.split('.')[0]}.{family.name}')"))
                    continue
                found[family.name] = (plugin, family)
                _info_list(self.infos, plugin, "families").append(family.name)
            self._families = found
        return {name: family for name, (_, family) in self._families.items()}

    def family_owner(self, name: str) -> str | None:
        self.families()
        entry = (self._families or {}).get(name)
        return entry[0] if entry else None

    def recognizers(self, *, nlp_engine: Any, countries: Sequence[str] | None,
                    policy_recognizers: Sequence[Any] = ()) -> list[Any]:
        """Presidio recognizers from every plugin, the core's first; each plugin's entity
        types are recorded (afresh: they depend on the countries and the policy)."""
        found = []
        provided: dict[str, list[str]] = {}
        for plugin, recognizer in self._call("governance_recognizers", nlp_engine=nlp_engine, countries=countries,
                                             policy_recognizers=tuple(policy_recognizers)):
            found.append(recognizer if plugin == CORE else _guarded(recognizer, plugin=plugin))
            provided.setdefault(plugin, []).extend(getattr(recognizer, "supported_entities", []))
        for plugin, info in self.infos.items():
            info.recognizers = sorted(set(provided.get(plugin, ())))
        return found

    def collectors(self) -> list[tuple[str, Collector]]:
        found = self._call("governance_collectors")
        for plugin, collector in found:
            names = _info_list(self.infos, plugin, "collectors")
            if collector.name not in names:
                names.append(collector.name)
        return found

    def sections(self) -> list[tuple[str, ReportSection]]:
        found = self._call("governance_report_sections")
        for plugin, section in found:
            names = _info_list(self.infos, plugin, "sections")
            if section.name not in names:
                names.append(section.name)
        return found

    # -- per-run work (failures returned, not kept on the shared host) ------------------------
    def run_collectors(self, context: CollectorContext) -> tuple[dict[str, Any], list[PluginFailure]]:
        """Run the collectors of ``context.stage``; results keyed by collector name."""
        failures: list[PluginFailure] = []
        results: dict[str, Any] = {}
        for plugin, collector in self.collectors():
            if collector.stage != context.stage:
                continue
            try:
                value = collector.collect(context)
                json.dumps(value)  # evidence must serialise; a value that cannot is the plugin's failure
                if not isinstance(value, dict):
                    raise TypeError(f"collector returned {type(value).__name__}, expected a dict")
            except Exception as exc:  # noqa: BLE001
                failures.append(PluginFailure(plugin, f"collector:{collector.name}", _short(exc)))
                continue
            results[collector.name] = value
        return results, failures

    def render_sections(self, evidence: dict[str, Any]) -> tuple[list[RenderedSection], list[PluginFailure]]:
        """Render every plugin's report section from the evidence (autoescaped HTML)."""
        from jinja2 import Environment, StrictUndefined, select_autoescape

        failures: list[PluginFailure] = []
        html_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True),
                               undefined=StrictUndefined)
        rendered: list[RenderedSection] = []
        extra = evidence.get("extra") or {}
        for plugin, section in self.sections():
            try:
                html = html_env.from_string(section.html).render(evidence=evidence, extra=extra)
                markdown = html_env.from_string(section.markdown).render(evidence=evidence, extra=extra)
            except Exception as exc:  # noqa: BLE001
                failures.append(PluginFailure(plugin, f"report section:{section.name}", _short(exc)))
                continue
            rendered.append(RenderedSection(plugin=plugin, name=section.name, title=section.title, html=html,
                                            markdown=markdown))
        return rendered, failures

    def describe(self, *, countries: Sequence[str] | None = None,
                 policy_recognizers: Sequence[Any] = ()) -> list[PluginInfo]:
        """Every loaded plugin with what it provides (calls the hooks once to find out);
        recognizers as a policy with ``countries`` and ``policy_recognizers`` would load them."""
        self.families()
        self.recognizers(nlp_engine=None, countries=countries, policy_recognizers=policy_recognizers)
        self.collectors()
        self.sections()
        return list(self.infos.values())


def _guarded(recognizer: Any, *, plugin: str) -> Any:
    """``recognizer`` with its ``analyze`` raising ``PluginRecognizerError`` (naming the plugin,
    withholding the message, which may quote the scanned text) instead of whatever it raised."""
    if getattr(recognizer, "_ftg_guarded", False):
        return recognizer
    analyze = recognizer.analyze
    name = str(getattr(recognizer, "name", None) or type(recognizer).__name__)

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return analyze(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any failure of a plugin recognizer fails the scan closed
            raise PluginRecognizerError(plugin, name, f"{type(exc).__name__} (message withheld: it may quote "
                                                      "the scanned text)") from None

    recognizer.analyze = guarded
    recognizer._ftg_guarded = True
    return recognizer


def _info_list(infos: dict[str, PluginInfo], plugin: str, attr: str) -> list[str]:
    info = infos.get(plugin)
    return getattr(info, attr) if info is not None else []


def _module_version(module: object) -> str | None:
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    top = getattr(module, "__name__", "").split(".")[0]
    for dist in metadata.packages_distributions().get(top, []):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def autoload_enabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in ("1", "true", "yes")


def build_host(policy_plugins: Iterable[str] = (), *, entry_points: bool | None = None) -> PluginHost:
    """A fresh host: the core, installed entry-point plugins, then the policy's modules."""
    from . import core

    host = PluginHost()
    host.register(core, name=CORE, source="core", module=core.__name__, version=_core_version())
    if entry_points if entry_points is not None else autoload_enabled():
        host.load_entry_points()
    for module in policy_plugins:
        host.load_module(module)
    return host


_HOSTS: dict[tuple[tuple[str, ...], bool], PluginHost] = {}


def plugin_host(policy_plugins: Sequence[str] = ()) -> PluginHost:
    """The host for a policy's plugins, built once per process (loading imports modules)."""
    key = (tuple(policy_plugins), autoload_enabled())
    if key not in _HOSTS:
        _HOSTS[key] = build_host(policy_plugins)
    return _HOSTS[key]


def reset_hosts() -> None:
    """Forget cached hosts (after installing a plugin in the same process, e.g. in tests)."""
    _HOSTS.clear()


def _core_version() -> str:
    from .. import __version__

    return __version__
