"""What kind of model a run produced (modality, task, library, how to load it), read from the evidence:
the dataset's format and the base model's name and head. Shared by the model card and CycloneDX."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..evidence import RunEvidence

TORCHVISION_PREFIX = "torchvision:"
#: Hub ids of bundled base models, for the card's ``base_model`` field
KNOWN_BASE_MODELS = {"minilm": "sentence-transformers/all-MiniLM-L6-v2"}
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")

Kind = Literal["encoder_head", "hf_text", "torchvision", "hf_image", "predictions"]


@dataclass(frozen=True)
class ModelFacts:
    """The task and form of the run's model."""

    kind: Kind
    modality: Literal["text", "image"] | None
    task: str | None = None  # Hugging Face task id (pipeline_tag), e.g. text-classification
    task_name: str | None = None
    library: str | None = None  # Hugging Face library_name


def model_facts(ev: RunEvidence) -> ModelFacts:
    """Image when the data is an ImageFolder or the base a torchvision model; text when a text model
    trained or text was scanned; otherwise (a predictions-only audit) neither."""
    base = ev.training.base_model if ev.training else ""
    image = (ev.dataset is not None and ev.dataset.format == "imagefolder") or base.startswith(TORCHVISION_PREFIX)
    if image:
        torchvision = base.startswith(TORCHVISION_PREFIX)
        return ModelFacts(kind="torchvision" if torchvision else "hf_image", modality="image",
                          task="image-classification", task_name="Image Classification",
                          library="pytorch" if torchvision else "transformers")
    if ev.training is not None or (ev.scan is not None and not audited_predictions(ev)):
        custom = ev.training is not None and ev.training.head in ("cls_linear", "mean_pool")
        return ModelFacts(kind="encoder_head" if custom else "hf_text", modality="text", task="text-classification",
                          task_name="Text Classification", library="pytorch" if custom else "transformers")
    return ModelFacts(kind="predictions", modality=None)


def hub_base_model(base: str) -> str | None:
    """The Hub id of the base model, or None for a local folder or a torchvision architecture."""
    if base in KNOWN_BASE_MODELS:
        return KNOWN_BASE_MODELS[base]
    return base if _HUB_ID.fullmatch(base) else None


def audited_predictions(ev: RunEvidence) -> bool:
    """True for `governed-finetune audit`: predictions made outside the tool were assessed; no model
    was trained, loaded or seen."""
    return ev.training is None and (ev.config.get("mode") == "audit"
                                    or (ev.assessment is not None and "train" not in ev.stages_run))
