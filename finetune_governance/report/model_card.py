"""model_card.md: a Hugging Face model card (YAML metadata + Model Cards for Model Reporting)."""

from __future__ import annotations

import re

import yaml

from ..evidence import RunEvidence
from ._env import environment

#: Hub ids of bundled base models, for the card's ``base_model`` field
KNOWN_BASE_MODELS = {"minilm": "sentence-transformers/all-MiniLM-L6-v2"}
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")


def _slug(text: str) -> str:
    """A Hub-style identifier from a free-text name (letters, digits, '.', '_', '-')."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:96]
    return slug or "dataset"


def _base_model(base: str) -> str | None:
    """The Hub id of the base model, or None for a local folder (named in the card body instead)."""
    if base in KNOWN_BASE_MODELS:
        return KNOWN_BASE_MODELS[base]
    return base if _HUB_ID.fullmatch(base) else None


def card_metadata(evidence: RunEvidence) -> dict:
    """The YAML front matter: licence, base model, datasets, tags and model-index (overall metrics)."""
    declarations = evidence.declarations.declarations if evidence.declarations else {}
    dataset_id = _slug(str(declarations.get("name") or "dataset"))
    meta: dict = {
        "license": "other",
        "license_name": "see-policy-and-datasheet",
        "library_name": "transformers",
        "pipeline_tag": "text-classification",
        "tags": ["finetune-governance", _slug(f"policy-{evidence.policy.name}"), f"verdict-{evidence.verdict}"]
        + (["differential-privacy", "opacus"] if evidence.privacy and evidence.privacy.enabled else []),
        "datasets": [dataset_id],
    }
    if evidence.training and _base_model(evidence.training.base_model):
        meta["base_model"] = _base_model(evidence.training.base_model)
    if evidence.assessment:
        a = evidence.assessment
        metrics = [{"type": "accuracy", "value": a.accuracy, "name": "Accuracy"},
                   {"type": "f1", "value": a.f1_macro, "name": "Macro F1", "args": {"average": "macro"}}]
        if a.balanced_accuracy is not None:
            metrics.append({"type": "balanced_accuracy", "value": a.balanced_accuracy, "name": "Balanced accuracy"})
        if a.roc_auc is not None:
            metrics.append({"type": "roc_auc", "value": a.roc_auc, "name": "ROC AUC"})
        meta["model-index"] = [{
            "name": _slug(f"{dataset_id}-{evidence.run_id}"),
            "results": [{
                "task": {"type": "text-classification", "name": "Text Classification"},
                "dataset": {"name": dataset_id, "type": dataset_id, "split": "test"},
                "metrics": metrics,
            }],
        }]
    return meta


def render_model_card(evidence: RunEvidence) -> str:
    """The card: YAML front matter, then the Model Cards for Model Reporting sections and privacy."""
    front = yaml.safe_dump(card_metadata(evidence), sort_keys=False, allow_unicode=True)
    body = environment(html=False).get_template("model_card.md.j2").render(ev=evidence)
    return f"---\n{front}---\n\n{body}"
