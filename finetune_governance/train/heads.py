"""A custom classification head: a Hugging Face encoder, [CLS] or mean pooling, one linear layer.

Sentence-embedding checkpoints such as the bundled MiniLM are trained for mean pooling,
so their [CLS] pooler is a weak feature; a linear head on mean-pooled states learns in a
few DP-SGD steps, and with the encoder frozen the noise is added to few parameters.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch.nn as nn
from transformers.modeling_outputs import SequenceClassifierOutput

HEAD_FILE = "governance_head.json"


class EncoderClassifier(nn.Module):
    """encoder -> [CLS] state or masked mean of the last hidden states -> dropout -> linear."""

    base_model_prefix = "encoder"

    def __init__(self, encoder: nn.Module, *, labels: list[str], pooling: str = "cls", dropout: float = 0.1) -> None:
        super().__init__()
        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', not {pooling!r}")
        self.encoder = encoder
        self.labels = list(labels)
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, len(labels))

    def forward(self, input_ids, attention_mask, position_ids=None, **_: object) -> SequenceClassifierOutput:
        states = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids
        ).last_hidden_state
        if self.pooling == "cls":
            pooled = states[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return SequenceClassifierOutput(logits=self.head(self.dropout(pooled)))

    def save_pretrained(self, directory: Path | str) -> None:
        """config.json of the encoder, every weight in model.safetensors, the head in JSON."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.encoder.config.save_pretrained(directory)
        save_file({k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()},
                  str(directory / "model.safetensors"))
        (directory / HEAD_FILE).write_text(json.dumps({"pooling": self.pooling, "labels": self.labels}, indent=2),
                                           encoding="utf-8")

    @classmethod
    def from_pretrained(cls, directory: Path | str) -> "EncoderClassifier":
        """Load a classifier saved by ``save_pretrained`` (tensors only, no pickle)."""
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel

        directory = Path(directory)
        meta = json.loads((directory / HEAD_FILE).read_text(encoding="utf-8"))
        config = AutoConfig.from_pretrained(directory, local_files_only=True)
        try:
            encoder = AutoModel.from_config(config, add_pooling_layer=False)
        except TypeError:  # encoders without a pooler option
            encoder = AutoModel.from_config(config)
        model = cls(encoder, labels=meta["labels"], pooling=meta["pooling"])
        model.load_state_dict(load_file(str(directory / "model.safetensors")))
        return model
