"""The EU AI Act pack's documentation rule says the model card contains the Annex IV items: every
evidence path of every item is visible in a full run's model_card.md."""

from __future__ import annotations

import json
from pathlib import PurePath

from finetune_governance.checks.documentation import resolve
from finetune_governance.policy import load_policy
from finetune_governance.report._env import _md_cell
from finetune_governance.report._text import fmt, sig
from finetune_governance.report.fairness_text import percent

ANNEX_IV_RULE = "eu-ai-act.annex-iv.documentation"
#: mappings whose keys are data (package, class and label names), not field names
KEYED = {"environment.packages", "dataset.label_counts", "assessment.per_class_f1"}
#: fields the card shows in another form, on purpose: the evidence's group reason is reworded from
#: the group's own fields (each of which is checked); the epsilon curve is plotted in audit.html and
#: counted in the card; ci_resamples are shown only when fewer than n_boot
SHOWN_OTHERWISE = {"reason", "epsilon_curve", "ci_resamples"}


def _forms(value: object) -> set[str]:
    """How a report may print one scalar."""
    if isinstance(value, bool):
        return {"yes" if value else "no", str(value).lower()}
    if isinstance(value, int):
        return {str(value), f"{value:,}"}
    if isinstance(value, float):
        return {fmt(value, d) for d in (2, 3, 4, 6, 8)} | {sig(value), str(value), percent(value)}
    text = str(value)
    return {_md_cell(text), _md_cell(PurePath(text).name), _md_cell(" ".join(text.split()))}


def missing(value: object, text: str, path: str) -> list[str]:
    """The parts of ``value`` (at ``path``) not visible in ``text``."""
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if key in SHOWN_OTHERWISE:
                continue
            if path in KEYED and not _forms(key) & {f for f in _forms(key) if f in text}:
                out.append(f"{path} key {key!r}")
            out += missing(item, text, f"{path}.{key}")
        return out
    if isinstance(value, list):
        return [m for i, item in enumerate(value) for m in missing(item, text, f"{path}[{i}]")]
    if value is None or value == "":
        return []
    return [] if any(form in text for form in _forms(value)) else [f"{path} = {value!r}"]


def test_every_annex_iv_item_of_the_eu_pack_is_in_the_model_card(real_run):
    rule = next(r for r in load_policy("eu-ai-act-high-risk").rules if r.id == ANNEX_IV_RULE)
    evidence = json.loads((real_run / "audit.json").read_text(encoding="utf-8"))
    card = (real_run / "model_card.md").read_text(encoding="utf-8")
    body = card.split("\n---\n", 1)[1]  # the card a reader sees, not only its metadata
    absent, gaps = [], []
    for item in rule.params.items:
        for path in item.evidence:
            value = resolve(evidence, path)
            if value is None or value == "":
                absent.append(f"{item.id}: {path}")  # the run itself lacks it
            # an empty list (a scan that recorded no limitation) has nothing to show; the card says "none"
            gaps += [f"{item.id}: {m}" for m in missing(value, body, path)]
    assert not absent, absent
    assert not gaps, gaps
