"""``governed-finetune plugins``: what is loaded, what each plugin provides, what failed."""

from __future__ import annotations

import json
import sys

import click


@click.command("plugins")
@click.option("--policy", default=None, metavar="NAME|PATH",
              help="Also load the modules this policy names under 'plugins:'.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
def plugins_command(policy: str | None, as_json: bool) -> None:
    """List loaded plugins (the core included) and the rules, recognizers (entity types),
    collectors and report sections each provides; with --policy, recognizers as that
    policy's countries and own recognizers load them. Exits 1 when a plugin failed to load (the gate of any
    run would fail closed)."""
    from ..plugins import plugin_host

    modules: list[str] = []
    countries, specs = None, []
    if policy is not None:
        from ..policy import load_policy

        resolved = load_policy(policy)
        modules, countries, specs = resolved.plugins, resolved.pii_params().countries, resolved.pii_params().recognizers
    host = plugin_host(modules)
    infos = host.describe(countries=countries, policy_recognizers=specs)
    families = host.families()
    if as_json:
        click.echo(json.dumps({
            "plugins": [{
                "name": i.name, "source": i.source, "module": i.module, "version": i.version,
                "rules": [{"family": f, "stage": families[f].stage, "summary": families[f].summary}
                          for f in i.families if f in families],
                "recognizers": i.recognizers, "collectors": i.collectors, "sections": i.sections,
            } for i in infos],
            "failures": [{"plugin": f.plugin, "phase": f.phase, "error": f.error} for f in host.failures],
        }, indent=2))
    else:
        for info in infos:
            version = f" {info.version}" if info.version else ""
            click.echo(f"{info.name}{version} ({info.source}: {info.module})")
            for name in info.families:
                click.echo(f"  rule family {name} [{families[name].stage}]: {families[name].summary}")
            if info.recognizers:
                click.echo(f"  recognizers: {', '.join(info.recognizers)}")
            for name in info.collectors:
                click.echo(f"  evidence collector: {name}")
            for name in info.sections:
                click.echo(f"  report section: {name}")
        for failure in host.failures:
            click.echo(f"FAILED {failure.message}")
    sys.exit(1 if host.failures else 0)
