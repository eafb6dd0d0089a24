"""Build a RunConfig from a config file and command-line overrides."""

from __future__ import annotations

from pathlib import Path

from .config import EXAMPLE_CONFIG, SAVED_CONFIG, DataConfig, RunConfig, load_config, load_saved_config
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
    weights: Path | None = None,
    resume: Path | None = None,
) -> RunConfig:
    """The config file (default: the bundled example) with every given override applied; with ``resume``,
    the saved config of the run to resume, unchanged."""
    if resume is not None:
        given = {"--config": config_path, "--data": data, "--datasheet": datasheet, "--text-column": text_column,
                 "--label-column": label_column, "--sensitive-feature": sensitive_features, "--model": model,
                 "--epochs": epochs, "--limit": limit, "--output": output, "--weights": weights}
        clashing = [flag for flag, value in given.items() if value is not None]
        if clashing:
            raise UsageError(f"--resume {resume}: the run's saved settings are used; drop {', '.join(clashing)}")
        return resume_config(resume)
    if config_path is None and not EXAMPLE_CONFIG.is_file():  # an installed wheel has no bundled example
        if data is None:
            raise UsageError("give --config RUN.yaml or --data FILE: the bundled example (examples/support_tickets) "
                             "ships with the source checkout, not with an installed package")
        sheet = datasheet or _default_datasheet(data)
        if not sheet.is_file():
            raise UsageError(f"--data {data}: no datasheet given and {sheet} not found; pass --datasheet PATH")
        config = RunConfig(data=DataConfig(path=data, datasheet=sheet))
    else:
        config = load_config(config_path or EXAMPLE_CONFIG)
    data_cfg = config.data
    if data is not None:
        sheet = datasheet or _default_datasheet(data)
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
    if model is not None or weights is not None:
        changed = {"base": model, "weights": weights}
        updates["model"] = config.model.model_copy(update={k: v for k, v in changed.items() if v is not None})
    if epochs is not None:
        updates["training"] = config.training.model_copy(update={"epochs": epochs})
    if output is not None:
        updates["output"] = config.output.model_copy(update={"root": output})
    return RunConfig.model_validate(config.model_copy(update=updates).model_dump())


def _default_datasheet(data: Path) -> Path:
    """datasheet.yaml inside an image folder, else beside the data file (or folder)."""
    inside = data / "datasheet.yaml"
    return inside if data.is_dir() and inside.is_file() else data.parent / "datasheet.yaml"


def resume_config(path: Path) -> RunConfig:
    """The saved config of a killed or stopped run, set to resume. ``path`` is the run's report folder,
    its checkpoint folder, or a ``ckpt-*`` folder inside that."""
    from .train.checkpoint import LATEST, LEDGER

    if path.is_dir() and (path / "state.json").is_file() and (path.parent / SAVED_CONFIG).is_file():
        path = path.parent  # a single checkpoint inside the checkpoint folder
    saved = path / SAVED_CONFIG
    if not saved.is_file():
        raise UsageError(f"--resume {path}: no {SAVED_CONFIG} there; expected a run's report folder or its "
                         f"checkpoint folder")
    config = load_saved_config(saved)
    training: dict = {"resume": True}
    if (path / LATEST).is_file() or (path / LEDGER).is_file():
        training["checkpoint_dir"] = path.resolve()
    return config.model_copy(update={"training": config.training.model_copy(update=training)})
