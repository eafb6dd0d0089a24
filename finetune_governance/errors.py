"""The error family that the CLI maps to exit codes.

Every error carries a one-line message that names the file, line or field at fault and
what is expected. Messages never contain raw data values (they could be PII).
"""

from __future__ import annotations


class GovernanceError(Exception):
    """Base class of every error this tool raises on purpose."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class UsageError(GovernanceError):
    """The command line or a run config asks for something impossible."""


class PolicyError(GovernanceError):
    """A policy file is missing, unreadable, or does not match the schema."""


class DatasheetError(GovernanceError):
    """A datasheet (the dataset's declarations) is missing or invalid."""


class DataError(GovernanceError):
    """The dataset cannot be used: missing column, empty, one class, bad encoding."""


class ConfigError(GovernanceError):
    """A run config file is invalid."""


class ModelError(GovernanceError):
    """A base model cannot be found or loaded."""


class BlockedError(GovernanceError):
    """A blocking rule stopped the run before training (e.g. PII marked `block`)."""

    exit_code = 1
