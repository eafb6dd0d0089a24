"""``governed-finetune verify`` (a run folder against its signed manifest) and ``diff`` (two runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("verify")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--public-key", type=click.Path(path_type=Path), default=None, envvar="FTG_VERIFY_KEY",
              help="Pin the signer: Ed25519 public key (PEM, OpenSSH, 64 hex digits or raw) [env FTG_VERIFY_KEY]. "
                   "Without it the key recorded in the manifest is trusted.")
@click.option("--require-signature", is_flag=True, help="Fail on an unsigned manifest.")
def verify_command(run_dir: Path, public_key: Path | None, require_signature: bool) -> None:
    """Check RUN_DIR's manifest signature and every file's sha256.

    Exit codes: 0 every file matches the (signed) manifest; 1 a file is altered, missing or
    added, or the signature does not match (the message names the first such file); 2 usage error.
    """
    from ..report.signing import verify_run

    result = verify_run(run_dir, public_key=public_key, require_signature=require_signature)
    if result.signed:
        who = "the pinned key" if result.pinned else "the key recorded in the manifest (pass --public-key to pin it)"
        click.echo(f"OK: {result.files} files match manifest.json; Ed25519 signature valid, key "
                   f"{result.key_fingerprint[:16]}, {who}.")
    else:
        click.echo(f"OK (UNSIGNED): {result.files} files match manifest.json, which is not signed; this detects "
                   f"accidental changes only. Sign runs with --signing-key or FTG_SIGNING_KEY.")


@click.command("diff")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--policy", default=None, metavar="NAME|PATH",
              help="Judge regressions by this policy's utility and regression rules instead of those B's run recorded.")
def diff_command(a: Path, b: Path, policy: str | None) -> None:
    """Print what changed from run A to run B (two audit.json files): verdict, rule statuses,
    metrics, epsilon, per-group results, hashes; then judge B against A by the policy's
    regression and utility rules.

    Exit codes: 0 no regression the policy names; 1 a blocking regression or utility rule fails
    (or cannot be evaluated) for B against A; 2 usage error.
    """
    from ..report.diff import diff_evidence, format_changes, load_audit, policy_regressions

    run_a, run_b = load_audit(a), load_audit(b)
    click.echo(format_changes(diff_evidence(run_a, run_b), a_id=run_a.run_id, b_id=run_b.run_id))
    rules = None
    if policy is not None:
        from ..policy import load_policy

        rules = [r.model_dump(mode="json") for r in load_policy(policy).rules]
    findings = policy_regressions(run_a, run_b, a_path=a, rules=rules)
    if not findings:
        click.echo("Regressions: the policy names none (no regression or baseline utility rule).")
        return
    failed = [f for f in findings if f.blocking_failure or f.status == "error"]
    for f in findings:
        click.echo(f"  {f.status.upper():8} {f.rule_id}: {f.message}")
    click.echo(f"Regressions: {len(failed)} blocking rule(s) fail" if failed else "Regressions: none beyond the limits")
    sys.exit(1 if failed else 0)
