"""Display helpers shared by the renderers: rounding for display, readable values, and paths.

They format what the evidence holds; none computes a figure (full precision stays in audit.json).
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath, PurePosixPath
from urllib.parse import quote


def fmt(value: object, digits: int = 4) -> str:
    """Fixed decimals for a float, 'n/a' for None, JSON for containers, str otherwise."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def ci(interval: object, digits: int = 4) -> str:
    """' [low, high]' for a recorded interval, '' when there is none."""
    if not isinstance(interval, (list, tuple)) or len(interval) != 2:
        return ""
    low, high = interval
    return f" [{fmt(float(low), digits)}, {fmt(float(high), digits)}]"


def sig(value: float, digits: int = 4) -> str:
    """A number rounded to ``digits`` significant digits for reading: 7.990962 -> '7.991',
    4.1666666666666665e-05 -> '4.167e-05', 1825.0 -> '1825' (no trailing zeros)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0:
        return "0"
    size = abs(value)
    if size < 1e-3:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{exponent}"
    decimals = max(0, digits - 1 - math.floor(math.log10(size)))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def readable(value: object, *, none: str = "n/a") -> str:
    """One value as plain words: yes/no, rounded numbers, lists joined, mappings as 'key: value; ...'."""
    if value is None:
        return none
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return sig(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(readable(v, none=none) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {readable(v, none=none)}" for k, v in value.items()) if value else "none"
    return " ".join(str(value).split())


def pairs(value: object, *, none: str = "n/a", skip_none: bool = False) -> list[tuple[str | None, str]]:
    """A mapping as (key, readable value) rows (``skip_none``: without the keys whose value is None, such
    as limits a rule does not set); any other value as one row without a key."""
    if isinstance(value, dict):
        rows = [(str(k), readable(v, none=none)) for k, v in value.items() if not (skip_none and v is None)]
        return rows or [(None, "none")]
    return [(None, readable(value, none=none))]


def display_path(path: str | None, working_dir: str | None) -> str:
    """A path for a report: relative to the run's working directory when under it (or given relative),
    else only the file name; never an absolute local path."""
    if not path:
        return "n/a"
    relative = relative_path(path, working_dir)
    return relative if relative is not None else PurePath(path).name


def relative_path(path: str, working_dir: str | None) -> str | None:
    """``path`` relative to ``working_dir`` (POSIX separators), or None when it is outside it."""
    p = PurePath(path)
    if not p.is_absolute():
        return PurePosixPath(*p.parts).as_posix() if p.parts else None
    if working_dir is None:
        return None
    try:
        return PurePosixPath(*p.relative_to(PurePath(working_dir)).parts).as_posix()
    except ValueError:
        return None


def uri_reference(path: str) -> str:
    """A relative POSIX path as a URI reference (percent-encoded, '/' kept)."""
    return quote(path, safe="/")
