"""Read and validate a predictions file made by any framework (the ``audit`` command's input),
and write the predictions a run or an audit saves.

Columns: ``label`` and ``prediction`` (required); class probabilities as ``score_<label>``
for every label, and/or one ``score`` column: the model's score for the favourable label
(any scale; for a binary task, values in [0, 1] are also read as its probability); an
optional ``member`` column (1: a training record, 0: held-out) for the membership-inference
audit; the remaining columns (or those named) are sensitive features. Only empty cells are
missing ("None", "NA" or "null" are values); a missing sensitive value is the group "unknown".
Every problem is one line naming the file, the line and the column; cell values are never
echoed (they may be PII), except label names.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import DataError

LABEL, PREDICTION, SCORE, MEMBER, RECORD = "label", "prediction", "score", "member", "record"
RESERVED = {RECORD, "id", LABEL, PREDICTION, SCORE, MEMBER}
#: largest allowed distance of a row's class probabilities from summing to 1
SUM_TOLERANCE = 0.01

MISSING_COLUMN = "{path}: missing column '{column}' (columns: {columns}); a predictions file needs label and prediction"


@dataclass(frozen=True)
class Predictions:
    """A validated predictions file; probabilities follow ``classes`` order.

    ``scores``: the ``score`` column (any scale), else None. ``members``: the ``member``
    column (1/0) when present."""

    path: Path
    records: list[int]
    y_true: list[str]
    y_pred: list[str]
    classes: list[str]
    probabilities: list[list[float]] | None
    groups: dict[str, list[str | None]]
    scores: list[float] | None = None
    members: list[int] | None = None


def _line(row: int) -> int:
    return row + 2  # header is line 1


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows; every row must have the header's field count (a shifted row is an error)."""
    if path.is_dir():
        raise DataError(f"{path}: is a directory; --predictions takes a CSV file (e.g. a run's predictions.csv)")
    if not path.is_file():
        raise DataError(f"{path}: predictions file not found")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, strict=True)
            parsed = [(reader.line_num, row) for row in reader if row]
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text; save the predictions as a UTF-8 CSV") from e
    except csv.Error as e:
        raise DataError(f"{path}: not a readable CSV ({e}); check the quoting") from e
    if not parsed:
        raise DataError(f"{path}: empty; a predictions file needs a header (label, prediction, ...) and rows")
    header = [c.strip() for c in parsed[0][1]]
    if any("\x00" in c for c in header):
        raise DataError(f"{path}: not a text CSV (NUL bytes in the header)")
    duplicated = next((c for i, c in enumerate(header) if c in header[:i]), None)
    if duplicated is not None:
        raise DataError(f"{path}: column '{duplicated}' appears twice in the header; name each column once")
    for line, row in parsed[1:]:
        if len(row) != len(header):
            raise DataError(f"{path} line {line}: {len(row)} fields, the header has {len(header)}; "
                            "every row needs one value per column (quote values holding commas)")
    return header, [row for _, row in parsed[1:]]


def _read(path: Path):
    import pandas as pd

    header, rows = _rows(path)
    return pd.DataFrame(rows, columns=header, dtype=str)


def _column(frame, path: Path, name: str) -> list[str]:
    if name not in frame.columns:
        raise DataError(MISSING_COLUMN.format(path=path, column=name, columns=", ".join(map(str, frame.columns))))
    values = [v.strip() for v in frame[name]]
    empty = next((row for row, v in enumerate(values) if v == ""), None)
    if empty is not None:
        raise DataError(f"{path} line {_line(empty)}: empty {name}; every row needs a {name}")
    return values


def _numbers(frame, path: Path, column: str, *, probability: bool):
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(frame[column].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if probability:
        bad |= (values < 0) | (values > 1)
    if bad.any():
        what = "a probability between 0 and 1" if probability else "a finite number"
        raise DataError(f"{path} line {_line(int(np.argmax(bad)))}: column '{column}' must be {what} "
                        "(empty, NaN or non-numeric found)")
    return values


def _probabilities(frame, path: Path, classes: list[str], score_columns: list[str]):
    import numpy as np

    missing = [c for c in classes if f"{SCORE}_{c}" not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column '{SCORE}_{missing[0]}': with score_<label> columns every label "
                        f"needs one ({', '.join(f'{SCORE}_{c}' for c in classes)}), or give one '{SCORE}' column "
                        "(binary tasks)")
    extra = [c for c in score_columns if c[len(SCORE) + 1:] not in classes]
    if extra:
        raise DataError(f"{path}: column '{extra[0]}' scores a label outside the label set ({', '.join(classes)})")
    probs = np.column_stack([_numbers(frame, path, f"{SCORE}_{c}", probability=True) for c in classes])
    off = np.abs(probs.sum(axis=1) - 1.0) > SUM_TOLERANCE
    if off.any():
        raise DataError(f"{path} line {_line(int(np.argmax(off)))}: the score_<label> columns sum to "
                        f"{probs[int(np.argmax(off))].sum():.3f}; class probabilities must sum to 1")
    return probs.tolist()


def _members(frame, path: Path) -> list[int] | None:
    if MEMBER not in frame.columns:
        return None
    values = [v.strip() for v in frame[MEMBER]]
    bad = next((row for row, v in enumerate(values) if v not in ("0", "1")), None)
    if bad is not None:
        raise DataError(f"{path} line {_line(bad)}: column '{MEMBER}' must be 1 (a training record) or 0 (held-out)")
    return [int(v) for v in values]


def _records(frame, path: Path) -> list[int]:
    if RECORD not in frame.columns or not frame[RECORD].str.fullmatch(r"\d+").all():
        return list(range(len(frame)))
    records = [int(v) for v in frame[RECORD]]
    seen: dict[int, int] = {}
    for row, record in enumerate(records):
        if record in seen:
            raise DataError(f"{path} line {_line(row)}: record {record} already on line {_line(seen[record])}; "
                            "record ids must be unique")
        seen[record] = row
    return records


def read_predictions(
    path: Path,
    *,
    favourable_label: str | None,
    labels: Sequence[str] | None = None,
    sensitive_features: Sequence[str] | None = None,
    label_column: str = LABEL,
) -> Predictions:
    """Validate and load ``path``. The label set is ``labels`` if given, else the labels of the
    ``score_<label>`` columns and those seen in the label column; every true label, prediction
    and the favourable label must belong to it, and with scores every label needs its column."""
    path = Path(path)
    frame = _read(path)
    if frame.empty:
        raise DataError(f"{path}: no rows; the predictions file has a header only")
    y_true = _column(frame, path, label_column)
    y_pred = _column(frame, path, PREDICTION)
    score_columns = [c for c in frame.columns if c.startswith(SCORE + "_")]
    scored = [c[len(SCORE) + 1:] for c in score_columns]
    classes = list(labels) if labels else scored + sorted(set(y_true) - set(scored))
    known = set(classes)
    for name, values in ((label_column, y_true), (PREDICTION, y_pred)):
        for row, value in enumerate(values):
            if value not in known:
                raise DataError(f"{path} line {_line(row)}: {name} '{value}' is not in the label set "
                                f"({', '.join(classes)})")
    if favourable_label is not None and favourable_label not in known:
        raise DataError(f"{path}: favourable label '{favourable_label}' is not in the label set ({', '.join(classes)})")
    if len(classes) < 2:
        raise DataError(f"{path}: only one label ({classes[0]}); a classification audit needs at least two")

    probabilities = _probabilities(frame, path, classes, score_columns) if score_columns else None
    scores = None
    if SCORE in frame.columns:
        raw = _numbers(frame, path, SCORE, probability=False)
        scores = raw.tolist()
        if probabilities is None and len(classes) == 2 and ((raw >= 0) & (raw <= 1)).all():
            if favourable_label is None:
                raise DataError(f"{path}: a '{SCORE}' column scores the favourable label; name it (--favourable-label "
                                "or the datasheet's favourable_label)")
            fav_index = classes.index(favourable_label)
            probabilities = [[s if i == fav_index else 1.0 - s for i in range(2)] for s in scores]

    reserved = RESERVED | {label_column} | set(score_columns)
    if sensitive_features is None:
        sensitive_features = [c for c in frame.columns if c not in reserved]
    for name in sensitive_features:
        if name not in frame.columns:
            raise DataError(MISSING_COLUMN.format(path=path, column=name, columns=", ".join(frame.columns))
                            .replace("a predictions file needs label and prediction",
                                     "declared as a sensitive feature"))
    groups = {name: [None if v.strip() == "" else v for v in frame[name]] for name in sensitive_features}
    return Predictions(path=path, records=_records(frame, path), y_true=y_true, y_pred=y_pred, classes=classes,
                       probabilities=probabilities, groups=groups, scores=scores, members=_members(frame, path))


def write_predictions(path: Path, *, records: Sequence[int], y_true: Sequence[str], y_pred: Sequence[str],
                      classes: Sequence[str], probabilities: Sequence[Sequence[float]] | None = None,
                      scores: Sequence[float] | None = None,
                      groups: dict[str, Sequence[str]]) -> None:
    """The saved predictions: record, label, prediction, score_<label> (6 decimals) when
    probabilities are given, score when raw scores are, and the group of each sensitive
    feature ("unknown" when missing). No free text."""
    from .fairness import group_label

    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([RECORD, LABEL, PREDICTION, *(f"{SCORE}_{c}" for c in classes if probabilities is not None),
                         *([SCORE] if scores is not None else []), *groups])
        for row in range(len(y_true)):
            writer.writerow([
                records[row], y_true[row], y_pred[row],
                *([f"{float(p):.6f}" for p in probabilities[row]] if probabilities is not None else []),
                *([repr(float(scores[row]))] if scores is not None else []),
                *(group_label(values[row]) for values in groups.values())])
