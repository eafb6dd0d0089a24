"""Load tabular datasets (CSV, JSONL, Parquet) and check the columns a run needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class TabularDataset:
    """A loaded dataset and the roles of its columns. Labels are strings."""

    path: Path
    frame: pd.DataFrame
    text_column: str
    label_column: str
    sensitive_features: tuple[str, ...]

    @property
    def texts(self) -> list[str]:
        return self.frame[self.text_column].tolist()

    @property
    def labels(self) -> list[str]:
        return self.frame[self.label_column].tolist()

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))

    def __len__(self) -> int:
        return len(self.frame)


def data_format(path: Path) -> str:
    """'csv', 'jsonl' or 'parquet' for an existing data file; a one-line DataError otherwise."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path}: unsupported file type '{path.suffix}'; expected .csv, .jsonl or .parquet")
    return kind


def _read(path: Path) -> pd.DataFrame:
    kind = data_format(path)
    try:
        if kind == "csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        if kind == "jsonl":
            return pd.read_json(path, lines=True, dtype=False, encoding="utf-8")
        return pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 (byte offset {exc.start}); re-encode the file as UTF-8") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty; expected a header and at least one record") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).splitlines()[0][:160]
        raise DataError(f"{path}: cannot parse as {kind}: {detail}") from exc
    except ValueError as exc:
        raise DataError(f"{path}: cannot parse as {kind}: {str(exc).splitlines()[0][:160]}") from exc


def _row_hint(kind: str, index: int) -> str:
    return f"line {index + 2}" if kind == "csv" else f"line {index + 1}" if kind == "jsonl" else f"row {index}"


def load_table(
    path: Path,
    *,
    text_column: str,
    label_column: str,
    sensitive_features: list[str] | tuple[str, ...] = (),
    limit: int | None = None,
) -> TabularDataset:
    """Load ``path`` and validate the named columns; every failure is one line."""
    frame = _read(path)
    kind = FORMATS[path.suffix.lower()]
    wanted = [("text column", text_column), ("label column", label_column)]
    wanted += [("sensitive feature", feature) for feature in sensitive_features]
    available = [str(c) for c in frame.columns]
    for role, column in wanted:
        if column not in frame.columns:
            raise DataError(f"{path}: {role} '{column}' not found; columns are: {', '.join(available) or '(none)'}")
    if limit is not None:
        frame = frame.head(limit)
    if len(frame) == 0:
        raise DataError(f"{path}: no records; the dataset must hold at least one labelled record")
    frame = frame.reset_index(drop=True).copy()
    frame[text_column] = frame[text_column].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    labels = frame[label_column].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip())
    empty = labels[labels == ""]
    if len(empty):
        raise DataError(f"{path}: {_row_hint(kind, int(empty.index[0]))}: label column '{label_column}' is empty; every record needs a label")
    frame[label_column] = labels
    if labels.nunique() < 2:
        raise DataError(
            f"{path}: label column '{label_column}' has a single class; a classifier needs at least two"
        )
    for feature in sensitive_features:
        frame[feature] = frame[feature].map(
            lambda v: "unknown" if v is None or (isinstance(v, float) and pd.isna(v)) or str(v).strip() == "" else str(v)
        )
    return TabularDataset(
        path=path,
        frame=frame,
        text_column=text_column,
        label_column=label_column,
        sensitive_features=tuple(sensitive_features),
    )
