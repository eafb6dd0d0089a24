"""``governed-finetune scan``: scan (and redact) a dataset without training, with the same evidence.

Only rules of the ``declare`` and ``scan`` stages are evaluated; the reports are the
same files ``run`` writes.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from ..policy.schema import ResolvedPolicy

SCAN_STAGES = ("declare", "scan")


def scan_only(policy: ResolvedPolicy) -> ResolvedPolicy:
    """A copy of ``policy`` holding only the rules a scan can evaluate."""
    return policy.model_copy(update={"rules": [r for r in policy.rules if r.stage in SCAN_STAGES]})


def run_scan(
    *,
    policy: str | Path,
    data: Path,
    datasheet: Path | None,
    text_column: str | None,
    redact_to: Path | None,
    output: Path,
    run_id: str | None,
    hash_key: bytes | None,
    workers: int = 2,
    progress=None,
):
    """Scan ``data``, write audit.json and the other reports to ``output/<run-id>``; the evidence."""
    from .. import __version__
    from ..api import _now, new_run_id, policy_evidence
    from ..checks import evaluate
    from ..data.datasheet import load_datasheet
    from ..environment import environment, git_commit, git_dirty
    from ..errors import UsageError
    from ..evidence import RunEvidence
    from ..gate import verdict
    from ..policy import load_policy
    from ..report import write_reports
    from ..scan.filescan import scan_file
    from ..plugins import PluginRecognizerError
    from ..plugins.record import attach_plugins, record_plugin_failures
    from ..stages import declare

    resolved = scan_only(load_policy(policy))
    sheet_path = datasheet or (data.parent / "datasheet.yaml")
    sheet = load_datasheet(sheet_path) if (datasheet is not None or sheet_path.is_file()) else None
    column = text_column or (sheet.columns.text if sheet is not None else "text")
    if redact_to is not None and redact_to.resolve() == Path(data).resolve():
        raise UsageError(f"--redact-to {redact_to}: must differ from --data; the scan never overwrites its input")
    if redact_to is not None and Path(data).is_dir() and redact_to.exists() and any(redact_to.iterdir()):
        raise UsageError(f"--redact-to {redact_to}: for an image folder, give a new or empty folder")
    run_id = run_id or new_run_id()
    out_dir = output / run_id
    evidence = RunEvidence(
        run_id=run_id, tool_version=__version__, git_commit=git_commit(), git_dirty=git_dirty(), started_at=_now(),
        command=" ".join(["governed-finetune", *sys.argv[1:]]) if sys.argv else "scan",
        config={"data": str(data), "text_column": column, "redact_to": str(redact_to) if redact_to else None},
        environment=environment("cpu"), policy=policy_evidence(resolved),
    )
    if sheet is not None:
        evidence.declarations = declare(sheet, sheet_path)
        evidence.stages_run.append("declare")
    if progress is not None:
        progress.stage("Scanning for PII and secrets")
    attach_plugins(evidence, resolved)
    existed = redact_to is not None and redact_to.exists()
    try:
        if Path(data).is_dir():
            from ..scan.images import scan_image_folder

            evidence.config["text_column"] = None
            evidence.scan, _ = scan_image_folder(Path(data), resolved.pii_params(), hash_key=hash_key,
                                                 redact_to=redact_to, workers=workers, plugins=tuple(resolved.plugins))
        else:
            evidence.scan = scan_file(Path(data), text_column=column, params=resolved.pii_params(), hash_key=hash_key,
                                      redact_to=redact_to, workers=workers, plugins=tuple(resolved.plugins),
                                      label_column=sheet.columns.label if sheet is not None else None,
                                      sensitive_features=sheet.columns.sensitive_features if sheet is not None else ())
        evidence.stages_run.append("scan")
    except PluginRecognizerError as exc:  # an incomplete scan: no redacted output, an error finding, exit 1
        record_plugin_failures(evidence, [exc.failure])
        evidence.stopped_early = f"the PII scan did not complete: {exc}"
        if redact_to is not None and not existed and redact_to.exists():
            shutil.rmtree(redact_to) if redact_to.is_dir() else redact_to.unlink()
    out_dir.mkdir(parents=True, exist_ok=False)
    evidence.findings = evaluate(resolved, evidence)
    evidence.verdict, evidence.exit_code = verdict(evidence.findings)
    evidence.finished_at = _now()
    write_reports(evidence, out_dir)
    return evidence, out_dir


@click.command("scan")
@click.option("--policy", required=True, metavar="NAME|PATH", help="Policy file, or a bundled pack by name.")
@click.option("--data", required=True, type=click.Path(path_type=Path),
              help="Dataset: a CSV, JSONL or Parquet file, or an ImageFolder directory (<class>/<image>).")
@click.option("--datasheet", type=click.Path(path_type=Path), default=None,
              help="The dataset's declarations (default: datasheet.yaml beside the data, when present).")
@click.option("--text-column", default=None, help="Column holding the text (default: the datasheet's, else 'text').")
@click.option("--redact-to", type=click.Path(path_type=Path), default=None,
              help="Write the redacted dataset here (same columns; .csv, .jsonl or .parquet; a folder for images).")
@click.option("--output", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Reports root; the scan writes <output>/<run-id>/.")
@click.option("--run-id", default=None, help="Name of the report folder (default: UTC time + random suffix).")
@click.option("--workers", type=click.IntRange(min=1), default=min(2, os.cpu_count() or 1), show_default=True,
              help="Processes that analyse text.")
def scan_command(policy, data, datasheet, text_column, redact_to, output, run_id, workers) -> None:
    """Scan a dataset for PII and secrets (and redact it) without training.

    The text column is scanned and redacted; every other column holding text is scanned
    and reported per column, not redacted. PII in the datasheet's label or sensitive-feature
    columns fails the PII rule: a run would write those values into its reports.

    Writes to <output>/<run-id>/ the same reports as `run`: audit.json, audit.html,
    model_card.md, junit.xml, sarif.json, cyclonedx.json and manifest.json (sha256 of every
    file; check it with `verify`, compare runs with `diff`). Only the policy's declaration
    and PII rules are evaluated. Keyed hashing reads FTG_HASH_KEY.
    """
    key = os.environ.get("FTG_HASH_KEY")
    evidence, out_dir = run_scan(policy=policy, data=data, datasheet=datasheet, text_column=text_column,
                                 redact_to=redact_to, output=output, run_id=run_id,
                                 hash_key=key.encode() if key else None, workers=workers)
    scan = evidence.scan
    if scan is not None:
        click.echo(f"Scanned {scan.records_scanned} records: {scan.records_with_pii} with PII or secrets "
                   f"({', '.join(f'{e.entity_type} {e.count}' for e in scan.entities) or 'none'})")
    else:
        click.echo(f"Scan stopped: {evidence.stopped_early}")
    for f in evidence.findings:
        if f.status != "pass":
            click.echo(f"  {f.status.upper():8} {f.rule_id}: {f.message}")
    click.echo(f"Verdict: {evidence.verdict.upper()}")
    click.echo(f"Report: {out_dir / 'audit.html'}")
    sys.exit(evidence.exit_code)
