"""PII in the values an audit writes into its reports: label names and group names.

A predictions-only audit reads no training text, but its reports show the label set and the
sensitive-feature groups (per-group tables, impact ratios, the model card). Those values are
scanned by distinct value, as a run scans its label and sensitive-feature columns
(``scan.columns``); PII there fails ``core.pii.read-columns`` (the pii rule itself is disabled
in an audit) and the audit withholds the values: no assessment, no copy of the predictions.
"""

from __future__ import annotations

import time
from typing import Sequence

from ..evidence import ScanEvidence
from ..policy.schema import PiiParams
from .predictions import LABEL, Predictions

COLUMN = "(none: predictions only; label and group names scanned)"
LIMITATION = ("predictions-only audit: no training text was scanned; only the label and sensitive-feature values "
              "that the reports show")


def scan_written_values(preds: Predictions, params: PiiParams, *, plugins: Sequence[str] = ()) -> ScanEvidence:
    """The label column and each sensitive-feature column of ``preds``, scanned by distinct value
    with the policy's entity types, thresholds, countries and recognizers. Raises
    ``PluginRecognizerError`` when a plugin's recognizer fails."""
    from ..scan.columns import ColumnValues, allowed_in_columns, scan_columns
    from ..scan.engine import cached_analyzer
    from ..scan.plan import plan_entities
    from ..scan.scanner import Scanner, ScanSettings

    started = time.perf_counter()
    analyzer, info = cached_analyzer(recognizers=params.recognizers, countries=params.countries, plugins=tuple(plugins))
    plan = plan_entities(params, info)
    columns = [ColumnValues(LABEL, "label", list(preds.y_true))]
    columns += [ColumnValues(name, "sensitive_feature", ["" if v is None else v for v in values])
                for name, values in preds.groups.items()]
    settings = ScanSettings.of_policy(params, plan.entities)
    with Scanner(analyzer, settings, workers=1) as scanner:
        scanned = scan_columns(columns, scanner, allowed=allowed_in_columns(params.actions),
                               threshold_for=params.threshold_for)
    return ScanEvidence(
        column=COLUMN, records_scanned=len(preds.y_true), unique_texts=0, spacy_model=info.spacy_model,
        presidio_version=info.presidio_version, entities_scanned=list(plan.entities),
        score_threshold=params.score_threshold, limitations=[*plan.limitations, LIMITATION], entities=[],
        records_with_pii=0, blocked_entities=[], seconds=round(time.perf_counter() - started, 3), columns=scanned,
    )
