"""Load a policy file, resolve ``extends`` (bundled names or paths) and ``disable``.

Every error is one line naming ``file:line:column`` and the key path: schema violations
(from ``yamlio``), duplicate rule ids, unknown or cyclic parents, and disabled rules that
no parent defines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import PolicyError
from ..yamlio import load_model_with_node, position, read_yaml
from .plugin_rules import bind_plugin_rules
from .schema import DisabledRule, Integrations, Policy, ResolvedPolicy, Rule

#: bundled packs are package data (``finetune_governance/packs``, also reachable in a source
#: checkout as the top-level ``policies/`` link), so an installed wheel has them too
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "packs"


def bundled_policies() -> dict[str, Path]:
    """Names of the bundled policy packs and their files."""
    if not BUNDLED_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(BUNDLED_DIR.glob("*.yaml"), key=lambda p: p.stem)}


def _lookup(name_or_path: str, relative_to: Path | None) -> Path | None:
    candidate = Path(name_or_path)
    if relative_to is not None and not candidate.is_absolute():
        beside = relative_to.parent / candidate
        for option in (beside, beside.with_suffix(".yaml")):
            if option.is_file():
                return option
    if candidate.is_file():
        return candidate
    return bundled_policies().get(name_or_path)


def find_policy(name_or_path: str, *, relative_to: Path | None = None) -> Path:
    """A path as given (or relative to a child policy), else a bundled pack by name."""
    found = _lookup(name_or_path, relative_to)
    if found is not None:
        return found
    names = ", ".join(bundled_policies()) or "none installed"
    raise PolicyError(f"policy '{name_or_path}' not found: give a file path or a bundled name ({names})")


def read_policy(path: Path) -> Policy:
    """Validate one policy file (no ``extends`` resolution)."""
    return _read(path)[0]


def _read(path: Path) -> tuple[Policy, yaml.Node]:
    policy, node = load_model_with_node(path, Policy, error=PolicyError)
    seen: set[str] = set()
    for index, rule in enumerate(policy.rules):
        if rule.id in seen:
            raise PolicyError(f"{position(path, node, ('rules', index, 'id'))}: rule id '{rule.id}' appears twice "
                              f"in this file; give each rule its own id")
        seen.add(rule.id)
    disabled = [item.id for item in policy.disable]
    for index, rid in enumerate(disabled):
        if rid in seen:
            raise PolicyError(f"{position(path, node, ('disable', index, 'id'))}: rule '{rid}' is both defined "
                              f"and disabled in this file")
    return policy, node


@dataclass
class _Merge:
    """What resolving ``extends`` has gathered so far, parents first."""

    sources: list[Path] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)
    disabled: dict[str, str] = field(default_factory=dict)
    #: where each disable entry was written, for errors about unknown ids
    disabled_at: dict[str, str] = field(default_factory=dict)
    #: where each rule's ``check`` was written, for errors about plugin rules
    rule_at: dict[str, str] = field(default_factory=dict)
    #: plugin modules named by the policies, parents first
    plugins: list[str] = field(default_factory=list)
    #: integration settings, a child's value replacing its parents'
    integrations: dict[str, bool] = field(default_factory=dict)


def load_policy(name_or_path: str | Path) -> ResolvedPolicy:
    """Load a policy and its parents; later rules replace earlier ones with the same id."""
    path = find_policy(str(name_or_path))
    merge = _Merge()
    top = _merge(path, stack=[], merge=merge)
    unknown = [rid for rid in merge.disabled if rid not in merge.rules]
    if unknown:
        raise PolicyError(f"{merge.disabled_at[unknown[0]]}: rule '{unknown[0]}' is not defined by this policy "
                          f"or its parents, so it cannot be disabled")
    active = [rule for rid, rule in merge.rules.items() if rid not in merge.disabled]
    resolved = ResolvedPolicy(
        name=top.name,
        title=top.title,
        version=top.version,
        path=str(path),
        sha256=policy_digest(merge.sources),
        sources=[str(s) for s in merge.sources],
        plugins=merge.plugins,
        rules=active,
        disabled=[DisabledRule(id=rid, reason=reason) for rid, reason in merge.disabled.items()],
        integrations=Integrations(**merge.integrations),
    )
    return bind_plugin_rules(resolved, where=merge.rule_at)


def _merge(path: Path, *, stack: list[Path], merge: _Merge) -> Policy:
    resolved = path.resolve()
    policy, node = _read(path)
    for index, parent in enumerate(policy.extends):
        where = position(path, node, ("extends", index))
        parent_path = _lookup(parent, path)
        if parent_path is None:
            names = ", ".join(bundled_policies()) or "none installed"
            raise PolicyError(f"{where}: parent policy '{parent}' not found: give a path relative to this file "
                              f"or a bundled name ({names})")
        if parent_path.resolve() == resolved or parent_path.resolve() in stack:
            chain = " -> ".join(p.name for p in [*stack, resolved, parent_path.resolve()])
            raise PolicyError(f"{where}: extends cycle ({chain}); a policy cannot extend itself or a child")
        _merge(parent_path, stack=[*stack, resolved], merge=merge)
    if resolved not in [s.resolve() for s in merge.sources]:
        merge.sources.append(path)
    merge.integrations.update(policy.integrations.model_dump(exclude_none=True))
    for module in policy.plugins:
        if module not in merge.plugins:
            merge.plugins.append(module)
    for index, rule in enumerate(policy.rules):
        merge.rule_at[rule.id] = position(path, node, ("rules", index, "check"))
        merge.rules.pop(rule.id, None)  # an override moves to its new position
        merge.rules[rule.id] = rule
        merge.disabled.pop(rule.id, None)
    for index, item in enumerate(policy.disable):
        merge.disabled[item.id] = item.reason
        merge.disabled_at[item.id] = position(path, node, ("disable", index, "id"))
    return policy


def policy_digest(files: list[Path]) -> str:
    """sha256 over the bytes of every contributing file, in order."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def rule_sources(policy: ResolvedPolicy) -> dict[str, tuple[str, int, int]]:
    """Rule id -> (policy file, line, column), 1-based, of the ``id`` that defines each active rule;
    a child's override wins over its parent's definition (sources are parents first)."""
    active = {rule.id for rule in policy.rules}
    found: dict[str, tuple[str, int, int]] = {}
    for source in policy.sources:
        _, node = read_yaml(Path(source), error=PolicyError)
        rules = dict((k.value, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)).get("rules") \
            if isinstance(node, yaml.MappingNode) else None
        for item in rules.value if isinstance(rules, yaml.SequenceNode) else []:
            if not isinstance(item, yaml.MappingNode):
                continue
            for key, value in item.value:
                if isinstance(key, yaml.ScalarNode) and key.value == "id" and value.value in active:
                    found[value.value] = (source, key.start_mark.line + 1, key.start_mark.column + 1)
    return found
