"""``governed-finetune policy``: list, show, validate and explain policies."""

from __future__ import annotations

import difflib
from pathlib import Path

import click
import yaml

from ..errors import PolicyError
from ..policy import bundled_policies, load_policy
from ..policy.schema import ResolvedPolicy

SEVERITY_MEANING = {"block": "a failure fails the gate (exit 1)", "warn": "a failure is reported, the gate still passes"}


@click.group("policy")
def policy_command() -> None:
    """Inspect and validate policy packs (bundled names or YAML files)."""


@policy_command.command("list")
def list_command() -> None:
    """The bundled policy packs."""
    for name, path in bundled_policies().items():
        policy = load_policy(path)
        click.echo(f"{name:22} v{policy.version:6} {len(policy.rules):3} rules  {policy.title}")


def _dump(policy: ResolvedPolicy) -> str:
    data = policy.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


@policy_command.command("show")
@click.argument("name_or_path")
def show_command(name_or_path: str) -> None:
    """The resolved policy (after extends and disable) as YAML."""
    click.echo(_dump(load_policy(name_or_path)), nl=False)


@policy_command.command("validate")
@click.argument("paths", nargs=-1, required=True)
def validate_command(paths: tuple[str, ...]) -> None:
    """Validate policy files (and their parents). Exit 0 when all are valid, else 2."""
    failed = 0
    for path in paths:
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            click.echo(f"error: {exc.message}", err=True)
            failed += 1
            continue
        click.echo(f"ok: {path} ({len(policy.rules)} rules, {len(policy.disabled)} disabled)")
    if failed:
        raise click.exceptions.Exit(2)


def _find_rule(rule_id: str, sources: dict[str, Path]):
    """(rule, policy names that define it) for ``rule_id`` in ``sources``."""
    found, where, known = None, [], set()
    for name, path in sources.items():
        policy = load_policy(path)
        for rule in policy.rules:
            known.add(rule.id)
            if rule.id == rule_id:
                found = found or rule
                where.append(name)
    if found is None:
        close = difflib.get_close_matches(rule_id, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        scope = ", ".join(sources)
        raise PolicyError(f"rule '{rule_id}' is not defined in {scope}{hint}; "
                          f"'governed-finetune policy show NAME' lists a policy's rules")
    return found, where


@policy_command.command("explain")
@click.argument("rule_id")
@click.option("--policy", "policy", default=None, metavar="NAME|PATH",
              help="Look in this policy (default: every bundled pack).")
def explain_command(rule_id: str, policy: str | None) -> None:
    """What a rule checks, the clauses it cites, and the evidence it reads."""
    from ..plugins import plugin_host

    sources = {policy: Path(policy)} if policy else bundled_policies()
    if policy and not Path(policy).is_file():
        sources = {policy: Path(load_policy(policy).path)}
    rule, where = _find_rule(rule_id, sources)
    host = plugin_host(load_policy(policy).plugins if policy else ())
    spec = host.families().get(rule.check)
    owner = host.family_owner(rule.check)
    click.echo(f"{rule.id}: {rule.title}")
    click.echo(f"  defined in: {', '.join(where)}")
    click.echo(f"  cites:      {'; '.join(rule.cites)}")
    click.echo(f"  severity:   {rule.severity} ({SEVERITY_MEANING[rule.severity]})")
    click.echo(f"  stage:      {rule.stage}")
    click.echo(f"  family:     {rule.check}" + (f" (from plugin {owner})" if owner and owner != "core" else ""))
    if spec is not None:
        click.echo(f"  checks:     {spec.summary}")
        click.echo(f"  reads:      {', '.join(spec.reads)}")
    if rule.description:
        click.echo(f"  why:        {' '.join(rule.description.split())}")
    dumped = rule.params if isinstance(rule.params, dict) else rule.params.model_dump(mode="json", exclude_none=True)
    params = yaml.safe_dump(dumped, sort_keys=False,
                            allow_unicode=True, width=100)
    click.echo("  parameters:")
    for line in params.splitlines():
        click.echo(f"    {line}")


@policy_command.command("schema")
@click.option("--write", is_flag=True, help="Write policies/policy.schema.json instead of printing it.")
def schema_command(write: bool) -> None:
    """The JSON Schema of policy files (for editors)."""
    from ..policy.jsonschema import SCHEMA_FILE, render_json_schema

    text = render_json_schema()
    if write:
        SCHEMA_FILE.write_text(text, encoding="utf-8")
        click.echo(f"wrote {SCHEMA_FILE}")
    else:
        click.echo(text, nl=False)
