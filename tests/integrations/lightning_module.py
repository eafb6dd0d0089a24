"""A tiny Lightning text classifier (bag of token embeddings) for the callback tests."""

from __future__ import annotations

import lightning.pytorch as pl
import torch


class BagOfTokens(pl.LightningModule):
    """Mean of token embeddings -> linear layer; predicts an index into ``labels``."""

    def __init__(self, tokenizer, labels: list[str]) -> None:
        super().__init__()
        self.tokenizer, self.labels = tokenizer, labels
        self.embed = torch.nn.EmbeddingBag(tokenizer.vocab_size, 16, mode="mean")
        self.head = torch.nn.Linear(16, len(labels))

    def encode(self, texts: list[str]) -> torch.Tensor:
        return self.tokenizer(texts, truncation=True, max_length=32, padding="max_length",
                              return_tensors="pt")["input_ids"].to(self.device)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(ids))

    def training_step(self, batch, batch_idx):
        ids, y = batch
        loss = torch.nn.functional.cross_entropy(self(ids), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=0.05, weight_decay=0.01)

    def predict_labels(self, texts: list[str]) -> list[int]:
        return self(self.encode(texts)).argmax(-1).tolist()


def loader(module: BagOfTokens, frame, *, batch_size: int = 16) -> torch.utils.data.DataLoader:
    ids = module.encode(list(frame["text"]))
    y = torch.tensor([module.labels.index(v) for v in frame["label"]])
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(ids, y), batch_size=batch_size, shuffle=True)


def trainer(**kwargs) -> pl.Trainer:
    return pl.Trainer(accelerator="cpu", max_epochs=2, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, **kwargs)
