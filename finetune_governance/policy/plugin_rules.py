"""Bind a policy's plugin rules to the families the loaded plugins provide.

A rule whose ``check`` is a namespaced family (``acme.house_metric``) is checked against
the plugin host when the policy loads: the family must exist (else a one-line error with
the closest name), its stage is taken from the family, and its ``params`` are validated by
the family's own model. When a plugin failed to load, its rules are kept unbound: the
failure becomes an ``error`` finding and the gate fails closed.
"""

from __future__ import annotations

import difflib

from pydantic import ValidationError

from ..errors import PolicyError
from .schema import PluginRule, ResolvedPolicy


def bind_plugin_rules(policy: ResolvedPolicy, *, where: dict[str, str]) -> ResolvedPolicy:
    """``policy`` with each plugin rule's stage and params taken from its family.

    ``where`` maps a rule id to ``file:line:column: key.path`` for errors."""
    rules = list(policy.rules)
    if not any(isinstance(rule, PluginRule) for rule in rules):
        return policy
    from ..plugins import plugin_host

    host = plugin_host(policy.plugins)
    families = host.families()
    for index, rule in enumerate(rules):
        if not isinstance(rule, PluginRule):
            continue
        at = where.get(rule.id, policy.path)
        family = families.get(rule.check)
        if family is None:
            if host.failures:
                continue  # the plugin that should provide it failed: an error finding, not a load error
            close = difflib.get_close_matches(rule.check, list(families), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            loaded = ", ".join(info.name for info in host.infos.values() if info.source != "core") or "none"
            raise PolicyError(f"{at}: rule family '{rule.check}' is not provided by any loaded plugin{hint}; "
                              f"loaded plugins: {loaded}; install the plugin or name its module under 'plugins:'")
        if rule.stage is not None and rule.stage != family.stage:
            raise PolicyError(f"{at}: stage must be '{family.stage}' for this check")
        params = rule.params
        if family.params_model is not None:
            try:
                params = family.params_model.model_validate(rule.params).model_dump(mode="json")
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                key = ".".join(str(p) for p in first["loc"]) or "(top level)"
                message = first["msg"].removeprefix("Value error, ")
                raise PolicyError(f"{at}: params.{key}: {message}") from None
        rules[index] = rule.model_copy(update={"stage": family.stage, "params": params})
    return policy.model_copy(update={"rules": rules})
