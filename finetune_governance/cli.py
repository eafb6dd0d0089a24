"""The ``governed-finetune`` command line: parse, call the API, map errors to exit codes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import GovernanceError

EXIT_USAGE = 2


def _fail(message: str, code: int = EXIT_USAGE) -> "click.exceptions.Exit":
    click.echo(f"error: {message}", err=True)
    return click.exceptions.Exit(code)


class GovernedGroup(click.Group):
    """Turns every GovernanceError into one line and its exit code; never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GovernanceError as exc:
            raise _fail(exc.message, exc.exit_code) from None
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            raise _fail("interrupted", 130) from None
        except BrokenPipeError:  # output piped into a reader that stopped early (e.g. `| head`)
            sys.stderr.close()
            raise click.exceptions.Exit(0) from None
        except Exception as exc:  # noqa: BLE001 - a crash must still be one line and fail closed
            if os.environ.get("FTG_DEBUG"):
                raise
            raise _fail(f"internal error ({type(exc).__name__}); no report claims a pass. "
                        f"Set FTG_DEBUG=1 for the traceback.", 1) from None


@click.group(cls=GovernedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="governed-finetune")
def main() -> None:
    """Fine-tune a pre-trained model under a compliance policy, and prove it.

    A run checks the dataset's declarations, scans and redacts PII (Presidio), fine-tunes
    (with Opacus differential privacy when the policy requires it), assesses accuracy and
    fairness (Fairlearn), and writes to <output>/<run-id>/: audit.json (the evidence),
    audit.html, model_card.md, junit.xml, sarif.json, cyclonedx.json, predictions.csv,
    membership_losses.csv, model/, run.log, and manifest.json (sha256 of every file; signed
    as manifest.json.sig with --signing-key). Check a run folder with `verify`; compare two
    runs with `diff`.

    Exit codes: 0 every blocking rule passes; 1 a blocking rule fails or a check errors;
    2 usage or input error.
    """


@main.command("run")
@click.option("--policy", "policy", required=True, metavar="NAME|PATH",
              help="Policy file, or a bundled pack by name (e.g. gdpr, baseline).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Run config YAML (data, model, training, output). Default: the bundled example, "
                   "or one built from --data.")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Your dataset (CSV, JSONL or Parquet) instead of the config's.")
@click.option("--datasheet", type=click.Path(path_type=Path), default=None,
              help="The dataset's declarations (YAML). Default with --data: datasheet.yaml beside the data.")
@click.option("--text-column", default=None, help="Column holding the text (overrides the datasheet).")
@click.option("--label-column", default=None, help="Column holding the label (overrides the datasheet).")
@click.option("--sensitive-feature", "sensitive_features", multiple=True,
              help="A sensitive feature column for fairness (repeatable; overrides the datasheet).")
@click.option("--model", default=None, help="Base model: 'minilm' (bundled) or a local Hugging Face checkpoint folder.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs (overrides the config).")
@click.option("--limit", type=click.IntRange(min=2), default=None, help="Use only the first N records (for a quick try).")
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Reports root; the run writes <output>/<run-id>/.")
@click.option("--weights", type=click.Path(path_type=Path), default=None,
              help="Local weights file (safetensors or a state dict) for a torchvision:<name> model.")
@click.option("--resume", type=click.Path(path_type=Path), default=None, metavar="RUN_DIR|CHECKPOINT_DIR",
              help="Resume a killed or interrupted run from its last checkpoint, with its saved settings.")
@click.option("--run-id", default=None, help="Name of the run folder (default: UTC time + random suffix).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--waivers", type=click.Path(path_type=Path), default=None,
              help="Waivers YAML (rule id, justification, approver, expiry): an active waiver turns a fail into "
                   "'waived'; expired ones are reported and have no effect.")
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="A previous approved run's audit.json: the policy's utility rules fail on regressions against it.")
@click.option("--signing-key", type=click.Path(path_type=Path), default=None, envvar="FTG_SIGNING_KEY",
              help="Ed25519 private key (PEM, OpenSSH or raw 32 bytes) that signs the run's manifest "
                   "[env FTG_SIGNING_KEY]. Without one the manifest is written unsigned and says so.")
@click.option("--mlflow", "mlflow", is_flag=True, envvar="FTG_MLFLOW",
              help="Log the verdict, key metrics, epsilon and the report files to the active MLflow run (one is "
                   "started if none is; the tracking server comes from MLFLOW_TRACKING_URI) [env FTG_MLFLOW=1]. "
                   "A policy with integrations: {mlflow: true} asks for this too.")
def run_command(policy, config_path, data, datasheet, text_column, label_column, sensitive_features,
                model, epochs, limit, output, weights, resume, run_id, quiet, waivers, baseline, signing_key,
                mlflow) -> None:
    """Run a governed fine-tune and write its reports.

    With no --config and no --data, runs on the bundled example
    (examples/support_tickets). Keyed hashing of PII reads its key from FTG_HASH_KEY.
    """
    from .api import RunRequest, run
    from .runconfig import build_config

    config = build_config(
        config_path=config_path, data=data, datasheet=datasheet, text_column=text_column,
        label_column=label_column, sensitive_features=list(sensitive_features) or None, model=model,
        epochs=epochs, limit=limit, output=output, weights=weights, resume=resume,
    )
    key = os.environ.get("FTG_HASH_KEY")
    request = RunRequest(policy=policy, config=config, hash_key=key.encode() if key else None, run_id=run_id,
                         waivers=waivers, baseline=baseline)
    progress = None
    if not quiet:
        from .progress import RichProgress

        progress = RichProgress()
    from .report.signing import load_private_key, signing_key as signing_with

    if signing_key is not None:
        load_private_key(signing_key)  # a bad key is an input error before anything runs
    from .policy import load_policy

    mlflow = mlflow or bool(load_policy(policy).integrations.mlflow)  # the policy may ask for MLflow logging
    if mlflow:
        from .integrations.mlflow_log import require_mlflow

        require_mlflow()  # a missing mlflow is an input error before anything runs
    with signing_with(signing_key):
        outcome = run(request, progress=progress)
    _print_summary(outcome)
    if mlflow:
        _log_to_mlflow(outcome)
    sys.exit(outcome.exit_code)


def _log_to_mlflow(outcome) -> None:
    """Log the finished run to MLflow; a logging failure exits 2 unless the gate already failed (1)."""
    from .integrations.mlflow_log import log_run_to_mlflow

    try:
        mlflow_run = log_run_to_mlflow(outcome.evidence, outcome.report_dir)
    except Exception as exc:  # noqa: BLE001 - MLflow raises many types; the gate's verdict stands
        raise _fail(f"the run finished ({outcome.evidence.verdict}) but logging it to MLflow failed "
                    f"({type(exc).__name__}: {exc})", outcome.exit_code or EXIT_USAGE) from None
    click.echo(f"MLflow: logged to run {mlflow_run}")


def _print_summary(outcome) -> None:
    ev = outcome.evidence
    counts: dict[str, int] = {}
    for f in ev.findings:
        counts[f.status] = counts.get(f.status, 0) + 1
    click.echo("")
    for f in ev.findings:
        if f.status != "pass":
            click.echo(f"  {f.status.upper():8} {f.rule_id}: {f.message}")
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    click.echo(f"Verdict: {ev.verdict.upper()} ({summary})")
    if ev.privacy and ev.privacy.enabled:
        click.echo(f"Privacy: epsilon {ev.privacy.epsilon:.3f} at delta {ev.privacy.delta:.2g}")
    if ev.assessment:
        click.echo(f"Test accuracy: {ev.assessment.accuracy:.4f} (macro F1 {ev.assessment.f1_macro:.4f})")
    click.echo(f"Report: {outcome.report_dir / 'audit.html'}")
    if ev.signing is not None:
        click.echo(f"Manifest: {'signed' if ev.signing.signed else 'UNSIGNED'} ({ev.signing.note})")


from .commands.scan import scan_command  # noqa: E402
main.add_command(scan_command)
from .commands.audit import audit_command  # noqa: E402
main.add_command(audit_command)
from .commands.policy import policy_command  # noqa: E402
main.add_command(policy_command)
from .commands.report import diff_command, verify_command  # noqa: E402
main.add_command(verify_command)
main.add_command(diff_command)
from .commands.plugins import plugins_command  # noqa: E402
main.add_command(plugins_command)

if __name__ == "__main__":  # pragma: no cover
    main()
