"""The run config: data, model, training and output settings (YAML, validated once).

Relative paths in a config file are resolved against the file's folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import ConfigError
from .yamlio import load_model

#: the bundled example, used when ``run`` gets no --config and no --data
EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "support_tickets"
EXAMPLE_CONFIG = EXAMPLE_DIR / "run.yaml"
#: the resolved config a run saves in its run folder and its checkpoint folder (for ``--resume``)
SAVED_CONFIG = "run_config.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    path: Path = Field(description="CSV, JSONL or Parquet file, or an ImageFolder directory (one sub-folder per "
                                   "class) for image models.")
    datasheet: Path = Field(description="The dataset's declarations (YAML).")
    text_column: str | None = Field(default=None, description="Overrides the datasheet's text column.")
    label_column: str | None = Field(default=None, description="Overrides the datasheet's label column.")
    sensitive_features: list[str] | None = Field(default=None, description="Overrides the datasheet's list.")
    limit: int | None = Field(default=None, ge=2, description="Use only the first N records.")


class ModelConfig(_Strict):
    base: str = Field(default="minilm", description="'minilm' (bundled), a local Hugging Face checkpoint folder, "
                                                      "or 'torchvision:<name>' (e.g. torchvision:resnet18) for images.")
    max_length: int = Field(default=64, ge=8, le=512, description="Tokens per text (longer texts are truncated).")
    freeze: Literal["none", "embeddings", "all_but_head"] = "embeddings"
    freeze_layers: int = Field(default=0, ge=0, description="Also freeze the first N encoder layers.")
    head: Literal["auto", "cls_linear", "mean_pool"] = Field(
        default="auto", description="'auto': the checkpoint's own classification head; 'cls_linear': "
                                    "base encoder + [CLS] token + a linear layer; 'mean_pool': base encoder + "
                                    "masked mean of its states + a linear layer (best for sentence-embedding models).")
    weights: Path | None = Field(default=None, description="Local weights file for torchvision models.")
    image_size: int = Field(default=224, ge=16, le=1024, description="Image side in pixels (image models).")


class TrainingConfig(_Strict):
    epochs: int = Field(default=1, ge=1, le=1000)
    batch_size: int = Field(default=32, ge=1, description="Expected batch size (Poisson sampling under DP).")
    learning_rate: float = Field(default=5e-4, gt=0)
    weight_decay: float = Field(default=0.01, ge=0)
    seed: int = 13
    test_size: float = Field(default=0.2, gt=0, lt=1, description="Share of records held out for assessment.")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    grad_sample_mode: Literal["bookkeeping", "ghost", "hooks"] = Field(
        default="bookkeeping", description="Per-sample clipping under DP: book-keeping (one backward pass; models "
        "whose trainable layers are Linear, Embedding, LayerNorm), Opacus ghost clipping or hooks; a model the "
        "mode cannot train falls back to ghost, then hooks.")
    accountant: Literal["rdp", "prv"] = "rdp"
    delta: float | None = Field(default=None, gt=0, lt=1, description="DP delta; default 1/(10 N).")
    scheduler: Literal["constant", "linear"] = Field(default="constant", description="Learning-rate schedule.")
    validation_size: float = Field(default=0.0, ge=0, lt=1, description="Share of training records held out "
                                   "for early stopping (0: none).")
    patience: int | None = Field(default=None, ge=1, description="Early stopping: epochs without validation "
                                 "accuracy improvement before stopping.")
    checkpoint_dir: Path | None = Field(default=None, description="Checkpoints (each epoch, on SIGTERM); default "
                                        "<output root>/checkpoints/<plan hash>.")
    resume: bool = Field(default=False, description="Resume from the latest checkpoint of the same plan.")
    max_physical_batch_size: int | None = Field(default=None, ge=1, description="DP only: split larger logical "
                                                "(Poisson) batches into parts of at most this size (Opacus "
                                                "BatchMemoryManager); steps and epsilon are unchanged.")


class AssessmentConfig(_Strict):
    membership: Literal["auto", "always", "never"] = Field(
        default="auto", description="Membership-inference audit: 'auto' when a policy rule reads it "
                                    "(membership_inference, regression max_membership_auc_increase); "
                                    "'always'; 'never' (a rule that reads it is then not run).")


class OutputConfig(_Strict):
    root: Path = Field(default=Path("reports"), description="Reports go to <root>/<run-id>/.")
    save_model: bool = True


class RunConfig(_Strict):
    schema_version: Literal[1] = 1
    data: DataConfig
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    output: OutputConfig = OutputConfig()
    assessment: AssessmentConfig = AssessmentConfig()


def load_config(path: Path) -> RunConfig:
    """Read a run config; relative data, datasheet and output paths are taken from the config's folder."""
    config = load_model(path, RunConfig, error=ConfigError)
    base = path.resolve().parent
    data = config.data.model_copy(
        update={"path": _beside(base, config.data.path), "datasheet": _beside(base, config.data.datasheet)}
    )
    output = config.output.model_copy(update={"root": _beside(base, config.output.root)})
    return config.model_copy(update={"data": data, "output": output})


def saved_config_json(config: RunConfig) -> str:
    """The config as JSON with its paths made absolute, so a resume from another folder finds the same files."""
    data = config.data.model_copy(update={"path": config.data.path.resolve(),
                                          "datasheet": config.data.datasheet.resolve()})
    weights = config.model.weights.resolve() if config.model.weights is not None else None
    base = config.model.base
    if not base.startswith("torchvision:") and Path(base).exists():
        base = str(Path(base).resolve())
    model = config.model.model_copy(update={"weights": weights, "base": base})
    ckpt = config.training.checkpoint_dir
    training = config.training.model_copy(update={"checkpoint_dir": ckpt.resolve() if ckpt else None, "resume": False})
    output = config.output.model_copy(update={"root": config.output.root.resolve()})
    return config.model_copy(update={"data": data, "model": model, "training": training,
                                     "output": output}).model_dump_json(indent=2)


def load_saved_config(path: Path) -> RunConfig:
    """Read a config saved by :func:`saved_config_json`."""
    try:
        return RunConfig.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({type(exc).__name__})") from exc
    except ValueError as exc:
        first = str(exc).splitlines()[1:2] or [str(exc)[:120]]
        raise ConfigError(f"{path}: not a saved run config ({first[0].strip()})") from exc


def _beside(base: Path, value: Path) -> Path:
    return value if value.is_absolute() else Path(os.path.normpath(base / value))
