"""Read the text column of a large file in chunks, so a scan runs in bounded memory."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..data.datasets import data_format
from ..errors import DataError


def as_strings(values) -> list[str]:
    """Each value as a string; missing ones (None, NaN) as ""."""
    return ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]


def iter_text_chunks(path: Path, *, text_column: str, chunk_records: int = 10_000) -> Iterator[list[str]]:
    """Successive lists of at most ``chunk_records`` texts from ``path`` (CSV, JSONL, Parquet).

    Raises ``DataError`` (one line, no data values) for a missing file or column, an
    unsupported type, or bytes that are not UTF-8.
    """
    for frame in iter_frames(path, text_column=text_column, chunk_records=chunk_records, only_text=True):
        yield as_strings(frame[text_column].tolist())


def iter_frames(path: Path, *, text_column: str, chunk_records: int = 10_000, only_text: bool = False):
    """Successive pandas frames of at most ``chunk_records`` rows (every column unless ``only_text``)."""
    import pandas as pd

    path = Path(path)
    kind = data_format(path)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            handle = pq.ParquetFile(path)
            names = handle.schema_arrow.names
            _require(path, text_column, names)
            for batch in handle.iter_batches(batch_size=chunk_records, columns=[text_column] if only_text else None):
                yield batch.to_pandas()
            return
        if kind == "csv":
            reader = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", chunksize=chunk_records)
        else:
            reader = pd.read_json(path, lines=True, dtype=False, encoding="utf-8", chunksize=chunk_records)
        with reader:
            for frame in reader:
                _require(path, text_column, [str(c) for c in frame.columns])
                yield frame
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 (byte offset {exc.start}); re-encode the file as UTF-8") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty; expected a header and at least one record") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot parse as {kind}: {str(exc).splitlines()[0][:160]}") from exc
    except ValueError as exc:
        raise DataError(f"{path}: cannot parse as {kind}: {str(exc).splitlines()[0][:160]}") from exc


def _require(path: Path, column: str, names: list[str]) -> None:
    if column not in names:
        raise DataError(f"{path}: text column '{column}' not found; columns are: {', '.join(names) or '(none)'}")
