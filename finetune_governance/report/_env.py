"""The jinja2 environments for report templates (package files, strict undefined)."""

from __future__ import annotations

import json
from functools import lru_cache

import jinja2


def _md_cell(value: object) -> str:
    """A value safe inside a Markdown table cell (no HTML, no pipes, one line)."""
    text = str(value)
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("\n", " "), ("\r", " ")):
        text = text.replace(raw, safe)
    return text


def _fmt(value: object, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _ci(interval: object, digits: int = 4) -> str:
    """' [low, high]' for a recorded interval, '' when there is none."""
    if not isinstance(interval, (list, tuple)) or len(interval) != 2:
        return ""
    low, high = interval
    return f" [{_fmt(float(low), digits)}, {_fmt(float(high), digits)}]"


@lru_cache(maxsize=2)
def environment(*, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("finetune_governance", "report/templates"),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_cell
    env.filters["fmt"] = _fmt
    env.filters["ci"] = _ci
    return env
