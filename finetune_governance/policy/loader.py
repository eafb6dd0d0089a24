"""Load a policy file, resolve ``extends`` (bundled names or paths) and ``disable``."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import PolicyError
from ..yamlio import load_model
from .schema import DisabledRule, Policy, ResolvedPolicy, Rule

#: bundled packs live in the repository's top-level ``policies/`` folder
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "policies"


def bundled_policies() -> dict[str, Path]:
    """Names of the bundled policy packs and their files."""
    if not BUNDLED_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(BUNDLED_DIR.glob("*.yaml"))}


def find_policy(name_or_path: str, *, relative_to: Path | None = None) -> Path:
    """A path as given (or relative to a child policy), else a bundled pack by name."""
    candidate = Path(name_or_path)
    if relative_to is not None and not candidate.is_absolute():
        beside = relative_to.parent / candidate
        if beside.is_file():
            return beside
        if beside.with_suffix(".yaml").is_file():
            return beside.with_suffix(".yaml")
    if candidate.is_file():
        return candidate
    bundled = bundled_policies()
    if name_or_path in bundled:
        return bundled[name_or_path]
    where = f"{relative_to}: extends: " if relative_to else ""
    names = ", ".join(bundled) or "none installed"
    raise PolicyError(f"{where}policy '{name_or_path}' not found: give a file path or a bundled name ({names})")


def read_policy(path: Path) -> Policy:
    """Validate one policy file (no ``extends`` resolution)."""
    return load_model(path, Policy, error=PolicyError)


def load_policy(name_or_path: str | Path) -> ResolvedPolicy:
    """Load a policy and its parents; later rules replace earlier ones with the same id."""
    path = find_policy(str(name_or_path))
    sources: list[Path] = []
    rules: dict[str, Rule] = {}
    disabled: dict[str, str] = {}
    _merge(path, stack=[], sources=sources, rules=rules, disabled=disabled)
    top = read_policy(path)
    unknown = [rid for rid in disabled if rid not in rules]
    if unknown:
        raise PolicyError(f"{path}: disable: rule '{unknown[0]}' is not defined by this policy or its parents")
    active = [rule for rid, rule in rules.items() if rid not in disabled]
    return ResolvedPolicy(
        name=top.name,
        title=top.title,
        version=top.version,
        path=str(path),
        sha256=policy_digest(sources),
        sources=[str(s) for s in sources],
        rules=active,
        disabled=[DisabledRule(id=rid, reason=reason) for rid, reason in disabled.items()],
    )


def _merge(
    path: Path,
    *,
    stack: list[Path],
    sources: list[Path],
    rules: dict[str, Rule],
    disabled: dict[str, str],
) -> None:
    resolved = path.resolve()
    if resolved in stack:
        chain = " -> ".join(p.name for p in [*stack, resolved])
        raise PolicyError(f"{path}: extends: cycle detected ({chain})")
    policy = read_policy(path)
    for parent in policy.extends:
        _merge(find_policy(parent, relative_to=path), stack=[*stack, resolved], sources=sources, rules=rules, disabled=disabled)
    if resolved not in [s.resolve() for s in sources]:
        sources.append(path)
    for rule in policy.rules:
        rules.pop(rule.id, None)  # an override moves to its new position
        rules[rule.id] = rule
        disabled.pop(rule.id, None)
    for item in policy.disable:
        disabled[item.id] = item.reason


def policy_digest(files: list[Path]) -> str:
    """sha256 over the bytes of every contributing file, in order."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()
