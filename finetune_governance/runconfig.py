"""Build a RunConfig from a config file and command-line overrides."""

from __future__ import annotations

from pathlib import Path

from .config import EXAMPLE_CONFIG, RunConfig, load_config
from .errors import UsageError


def build_config(
    *,
    config_path: Path | None,
    data: Path | None,
    datasheet: Path | None,
    text_column: str | None = None,
    label_column: str | None = None,
    sensitive_features: list[str] | None = None,
    model: str | None = None,
    epochs: int | None = None,
    limit: int | None = None,
    output: Path | None = None,
) -> RunConfig:
    """The config file (default: the bundled example) with every given override applied."""
    config = load_config(config_path or EXAMPLE_CONFIG)
    data_cfg = config.data
    if data is not None:
        sheet = datasheet or data.parent / "datasheet.yaml"
        if not sheet.is_file():
            raise UsageError(f"--data {data}: no datasheet given and {sheet} not found; pass --datasheet PATH")
        data_cfg = data_cfg.model_copy(update={"path": data, "datasheet": sheet, "text_column": None,
                                                "label_column": None, "sensitive_features": None, "limit": None})
    elif datasheet is not None:
        data_cfg = data_cfg.model_copy(update={"datasheet": datasheet})
    overrides = {"text_column": text_column, "label_column": label_column,
                 "sensitive_features": sensitive_features, "limit": limit}
    data_cfg = data_cfg.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    updates: dict = {"data": data_cfg}
    if model is not None:
        updates["model"] = config.model.model_copy(update={"base": model})
    if epochs is not None:
        updates["training"] = config.training.model_copy(update={"epochs": epochs})
    if output is not None:
        updates["output"] = config.output.model_copy(update={"root": output})
    return RunConfig.model_validate(config.model_copy(update=updates).model_dump())
