"""``governed-finetune audit``: govern predictions made outside this tool."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("audit")
@click.option("--policy", required=True, metavar="NAME|PATH", help="Policy file, or a bundled pack by name.")
@click.option("--predictions", required=True, type=click.Path(path_type=Path),
              help="CSV with label, prediction, optional score and/or score_<label>, optional member (1/0), and "
                   "sensitive feature columns.")
@click.option("--datasheet", type=click.Path(path_type=Path), default=None,
              help="The dataset's declarations (YAML): checked by the declaration rules; gives the favourable label "
                   "and the sensitive features.")
@click.option("--favourable-label", default=None,
              help="The favourable outcome's label (overrides the datasheet; a fairness rule's favourable_label wins).")
@click.option("--labels", default=None, help="The label set, comma-separated (default: from score_<label> columns "
                                             "or the label column).")
@click.option("--sensitive-feature", "sensitive_features", multiple=True,
              help="A sensitive feature column (repeatable; default: the datasheet's, else every other column).")
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="A previous approved run's audit.json, for the utility and regression rules.")
@click.option("--waivers", type=click.Path(path_type=Path), default=None,
              help="A waivers YAML: approved, expiring exceptions to rules (as for run).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the bootstrap resampling and the membership attack's cross-fitting.")
@click.option("--output", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Reports root; the audit writes <output>/<run-id>/.")
@click.option("--run-id", default=None, help="Name of the report folder (default: UTC time + random suffix).")
def audit_command(policy, predictions, datasheet, favourable_label, labels, sensitive_features, baseline, waivers,
                  seed, output, run_id) -> None:
    """Check declarations and assess performance and fairness of predictions from any framework.

    Rules of the scan and train stages are not applicable and are recorded as disabled.
    Exit codes as for run: 0 pass, 1 a blocking rule fails, 2 input error.
    """
    from ..assess.audit import AuditRequest, audit
    from ..cli import _print_summary

    request = AuditRequest(
        policy=policy, predictions=predictions, output=output, datasheet=datasheet,
        favourable_label=favourable_label, labels=[x.strip() for x in labels.split(",")] if labels else None,
        sensitive_features=list(sensitive_features) or None, baseline=baseline, waivers=waivers, seed=seed,
        run_id=run_id,
    )
    outcome = audit(request)
    _print_summary(outcome)
    sys.exit(outcome.exit_code)
