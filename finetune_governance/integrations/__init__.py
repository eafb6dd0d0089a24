"""The tool inside the platforms teams already use.

``GovernanceCallback`` (Hugging Face ``Trainer``), ``LightningGovernanceCallback`` (PyTorch
Lightning ``Trainer``), ``GovernanceSession`` (any other training loop) and
``log_run_to_mlflow``. Each is imported on first use, so this package imports without
Lightning or MLflow installed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "GovernanceCallback": ("huggingface", "GovernanceCallback"),
    "LightningGovernanceCallback": ("lightning", "GovernanceCallback"),
    "GovernanceSession": ("session", "GovernanceSession"),
    "SessionSettings": ("session", "SessionSettings"),
    "log_run_to_mlflow": ("mlflow_log", "log_run_to_mlflow"),
    "mlflow_payload": ("mlflow_log", "mlflow_payload"),
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    return getattr(import_module(f"{__name__}.{module}"), attribute)


__all__ = sorted(_EXPORTS)
