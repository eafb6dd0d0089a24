"""Scan (and optionally redact) a whole file in chunks: bounded memory, one evidence record.

The text column is scanned record by record and redacted; every other column holding text
(the label and sensitive-feature columns among them) is scanned by distinct value per
chunk (``columns.py``) and reported per column, never redacted."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Sequence

from ..errors import DataError
from ..evidence import ResidualSummary, ScanEvidence
from ..policy.schema import PiiParams
from .columns import ColumnTally, allowed_in_columns, as_text, not_scanned_limitation, role_of, text_column_scan
from .distinct import DistinctTexts
from .pii import Tally, to_hits
from .redact import redact_and_verify
from ..data.datasets import FORMATS
from .stream import as_strings, iter_frames


class _Writer:
    """Append redacted frames to a CSV, JSONL or Parquet file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = FORMATS.get(path.suffix.lower())
        if self.kind is None:
            raise DataError(f"--redact-to {path}: unsupported file type '{path.suffix}'; use .csv, .jsonl or .parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._parquet = None
        self._first = True

    def write(self, frame) -> None:
        if self.kind == "csv":
            frame.to_csv(self.path, mode="w" if self._first else "a", header=self._first, index=False)
        elif self.kind == "jsonl":
            with self.path.open("w" if self._first else "a", encoding="utf-8") as handle:
                frame.to_json(handle, orient="records", lines=True, force_ascii=False)
                handle.write("\n" if len(frame) else "")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)
        self._first = False

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()


def scan_file(
    path: Path,
    *,
    text_column: str,
    params: PiiParams,
    hash_key: bytes | None,
    redact_to: Path | None = None,
    workers: int = 2,
    chunk_records: int = 10_000,
    analyzer_and_info=None,
    on_progress: Callable[[int], None] | None = None,
    plugins: tuple[str, ...] = (),
    label_column: str | None = None,
    sensitive_features: Sequence[str] = (),
) -> ScanEvidence:
    """Scan ``path`` chunk by chunk, redact into ``redact_to`` and verify the redaction as ``run``
    does (``redact_and_verify``: re-scan what changed, redact again, up to three passes); scan
    the other columns by distinct value (``label_column`` and ``sensitive_features``, when
    named, are the columns a run reads and whose values its reports show).

    When the policy blocks an entity type that was found, ``redact_to`` is removed: data
    the policy forbids is never handed on.
    """
    from .engine import cached_analyzer
    from .plan import plan_entities
    from .scanner import Scanner, ScanSettings

    started = time.perf_counter()
    analyzer, info = analyzer_and_info or cached_analyzer(recognizers=params.recognizers, countries=params.countries,
                                                          plugins=plugins)
    plan = plan_entities(params, info)

    def action_for(entity: str) -> str:
        return params.actions.get(entity, params.default_action)

    writer = _Writer(redact_to) if redact_to is not None else None
    tally, first, unique = Tally(), 0, DistinctTexts()
    residual_records, residual_by, passes = 0, defaultdict(int), 1
    allowed = {e for e in plan.entities if action_for(e) == "allow"}
    settings = ScanSettings.of_policy(params, plan.entities)
    columns: dict[str, ColumnTally] = {}  # the other columns holding text, in order of appearance
    no_text: dict[str, None] = {}
    try:
        with Scanner(analyzer, settings, workers=workers) as scanner:
            for frame in iter_frames(path, text_column=text_column, chunk_records=chunk_records):
                for name in (str(c) for c in frame.columns if str(c) != text_column):
                    role = role_of(name, label_column=label_column, sensitive_features=sensitive_features)
                    values = as_strings(frame[name].tolist()) if name in columns else as_text(frame[name].tolist(), role=role)
                    if values is None:  # no text in this chunk (yet): numbers, booleans, nested values
                        no_text[name] = None
                        continue
                    columns.setdefault(name, ColumnTally(name, role)).add(values, scanner, first_record=first)
                texts = as_strings(frame[text_column].tolist())
                unique.add(texts)
                hits = to_hits(scanner.scan(texts), first_record=first)
                tally.add(texts, hits, first_record=first)
                verified = redact_and_verify(texts, hits, rescan=lambda batch, _: to_hits(scanner.scan(batch)),
                                             action_for=action_for, allowed=allowed, hash_key=hash_key,
                                             first_record=first)
                redacted = verified.texts
                passes = max(passes, verified.passes)
                for record_hits in verified.hits:
                    kinds = {h.entity_type for h in record_hits} - allowed
                    residual_records += bool(kinds)
                    for kind in kinds:
                        residual_by[kind] += 1
                if writer is not None:
                    frame = frame.copy()
                    frame[text_column] = redacted
                    writer.write(frame)
                first += len(texts)
                if on_progress is not None:
                    on_progress(len(texts))
    finally:
        if writer is not None:
            writer.close()
    if first == 0:
        raise DataError(f"{path}: no records; expected a header and at least one record")
    summaries = tally.summaries(action_for=action_for, threshold_for=params.threshold_for)
    blocked = [s.entity_type for s in summaries if s.action == "block"]
    limitations = list(plan.limitations) + not_scanned_limitation(n for n in no_text if n not in columns)
    if blocked and redact_to is not None and redact_to.exists():
        redact_to.unlink()
        limitations.append("redacted output removed: the policy blocks entity types that were found")
    return ScanEvidence(
        column=text_column,
        records_scanned=first,
        unique_texts=len(unique),
        spacy_model=info.spacy_model,
        presidio_version=info.presidio_version,
        entities_scanned=list(plan.entities),
        score_threshold=params.score_threshold,
        limitations=limitations,
        entities=summaries,
        records_with_pii=tally.records_with_hits,
        blocked_entities=blocked,
        residual=None if blocked else ResidualSummary(
            records=residual_records, rate=round(residual_records / max(first, 1), 6), by_entity=dict(residual_by)),
        redaction_passes=passes,
        seconds=round(time.perf_counter() - started, 3),
        columns=[text_column_scan(text_column, records=first, distinct=len(unique),
                                  records_with_pii=tally.records_with_hits, entities=summaries)]
        + [c.summary(allowed=allowed_in_columns(params.actions), threshold_for=params.threshold_for)
           for c in columns.values()],
    )
