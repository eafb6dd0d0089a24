"""Read and validate a predictions file made by any framework (the ``audit`` command's input).

Columns: ``label`` and ``prediction`` (required); scores either as ``score_<label>`` for
every label (class probabilities) or, for binary tasks, one ``score`` column holding the
probability of the favourable label; the remaining columns (or those named) are sensitive
features, whose missing values become the group "unknown". Every problem is one line
naming the file, the line and the column; cell values are never echoed (they may be PII),
except label names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import DataError

LABEL, PREDICTION, SCORE = "label", "prediction", "score"
RESERVED = {"record", "id", LABEL, PREDICTION, SCORE}

MISSING_COLUMN = "{path}: missing column '{column}' (columns: {columns}); a predictions file needs label and prediction"


@dataclass(frozen=True)
class Predictions:
    """A validated predictions file; probabilities follow ``classes`` order."""

    path: Path
    records: list[int]
    y_true: list[str]
    y_pred: list[str]
    classes: list[str]
    probabilities: list[list[float]] | None
    groups: dict[str, list[str | None]]


def _line(row: int) -> int:
    return row + 2  # header is line 1


def _read(path: Path):
    import pandas as pd

    if not path.is_file():
        raise DataError(f"{path}: predictions file not found")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=True, na_values=[""], encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text; save the predictions as a UTF-8 CSV") from e
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{path}: not a readable CSV ({str(e).splitlines()[0][:120]})") from e


def _column(frame, path: Path, name: str) -> list[str]:
    if name not in frame.columns:
        raise DataError(MISSING_COLUMN.format(path=path, column=name, columns=", ".join(map(str, frame.columns))))
    values = frame[name]
    empty = values.isna() | (values.str.strip() == "")
    if empty.any():
        raise DataError(f"{path} line {_line(int(empty.idxmax()))}: empty or NaN {name}; every row needs a {name}")
    return [v.strip() for v in values]


def _floats(frame, path: Path, column: str):
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        raise DataError(f"{path} line {_line(int(np.argmax(bad)))}: column '{column}' must be a probability "
                        "between 0 and 1 (NaN or non-numeric found)")
    return values


def read_predictions(
    path: Path,
    *,
    favourable_label: str,
    labels: Sequence[str] | None = None,
    sensitive_features: Sequence[str] | None = None,
    label_column: str = LABEL,
) -> Predictions:
    """Validate and load ``path``. The label set is ``labels`` if given, else the labels of the
    ``score_<label>`` columns and those seen in the label column; every prediction and the
    favourable label must belong to it, and with scores every label needs its column."""
    import numpy as np

    path = Path(path)
    frame = _read(path)
    frame.columns = [str(c).strip() for c in frame.columns]
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
    if favourable_label not in known:
        raise DataError(f"{path}: favourable label '{favourable_label}' is not in the label set ({', '.join(classes)})")
    if len(classes) < 2:
        raise DataError(f"{path}: only one label ({classes[0]}); a classification audit needs at least two")

    probabilities = None
    if score_columns:
        missing = [c for c in classes if f"{SCORE}_{c}" not in frame.columns]
        if missing:
            raise DataError(MISSING_COLUMN.format(path=path, column=f"{SCORE}_{missing[0]}",
                                                  columns=", ".join(frame.columns)))
        probabilities = np.column_stack([_floats(frame, path, f"{SCORE}_{c}") for c in classes]).tolist()
    elif SCORE in frame.columns:
        if len(classes) != 2:
            raise DataError(f"{path}: one 'score' column is for binary tasks; give score_<label> columns for "
                            f"{len(classes)} labels")
        fav = _floats(frame, path, SCORE)
        fav_index = classes.index(favourable_label)
        probabilities = [[s if i == fav_index else 1.0 - s for i in range(2)] for s in fav]

    reserved = RESERVED | {label_column} | set(score_columns)
    if sensitive_features is None:
        sensitive_features = [c for c in frame.columns if c not in reserved]
    for name in sensitive_features:
        if name not in frame.columns:
            raise DataError(MISSING_COLUMN.format(path=path, column=name, columns=", ".join(frame.columns))
                            .replace("a predictions file needs label and prediction",
                                     "declared as a sensitive feature"))
    groups = {name: [None if v != v else v for v in frame[name].tolist()] for name in sensitive_features}
    records = ([int(v) for v in frame["record"]] if "record" in frame.columns and frame["record"].notna().all()
               and frame["record"].str.fullmatch(r"\d+").all() else list(range(len(frame))))
    return Predictions(path=path, records=records, y_true=y_true, y_pred=y_pred, classes=classes,
                       probabilities=probabilities, groups=groups)
