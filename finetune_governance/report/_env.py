"""The jinja2 environments for report templates (package files, strict undefined)."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from ._text import ci, display_path, fmt, pairs, readable, sig


def _md_cell(value: object) -> str:
    """A value safe inside a Markdown table cell (no HTML, no pipes, one line)."""
    text = str(value)
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("\n", " "), ("\r", " ")):
        text = text.replace(raw, safe)
    return text


@lru_cache(maxsize=2)
def environment(*, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("finetune_governance", "report/templates"),
        autoescape=html,
        extensions=["jinja2.ext.do"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=_md_cell, fmt=fmt, ci=ci, sig=sig, readable=readable, pairs=pairs, path=display_path)
    return env
