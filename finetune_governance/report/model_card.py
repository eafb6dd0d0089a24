"""model_card.md: a Hugging Face model card (YAML metadata + Model Cards for Model Reporting)."""

from __future__ import annotations

import yaml

from ..evidence import RunEvidence
from ._env import environment

#: Hub ids of bundled base models, for the card's ``base_model`` field
KNOWN_BASE_MODELS = {"minilm": "sentence-transformers/all-MiniLM-L6-v2"}


def card_metadata(evidence: RunEvidence) -> dict:
    """The YAML front matter: licence, base model, datasets, tags and model-index."""
    declarations = evidence.declarations.declarations if evidence.declarations else {}
    dataset_name = declarations.get("name") or "dataset"
    meta: dict = {
        "license": "other",
        "library_name": "transformers",
        "pipeline_tag": "text-classification",
        "tags": ["finetune-governance", f"policy-{evidence.policy.name}", f"verdict-{evidence.verdict}"]
        + (["differential-privacy", "opacus"] if evidence.privacy and evidence.privacy.enabled else []),
        "datasets": [str(dataset_name)],
    }
    if evidence.training:
        base = evidence.training.base_model
        meta["base_model"] = KNOWN_BASE_MODELS.get(base, base)
    if evidence.assessment:
        a = evidence.assessment
        meta["model-index"] = [{
            "name": f"{dataset_name}-{evidence.run_id}",
            "results": [{
                "task": {"type": "text-classification", "name": "Text Classification"},
                "dataset": {"name": str(dataset_name), "type": str(dataset_name), "split": "test"},
                "metrics": [
                    {"type": "accuracy", "value": a.accuracy, "name": "Accuracy"},
                    {"type": "f1", "value": a.f1_macro, "name": "Macro F1", "args": {"average": "macro"}},
                ],
            }],
        }]
    return meta


def render_model_card(evidence: RunEvidence) -> str:
    front = yaml.safe_dump(card_metadata(evidence), sort_keys=False, allow_unicode=True)
    body = environment(html=False).get_template("model_card.md.j2").render(ev=evidence)
    return f"---\n{front}---\n\n{body}"
