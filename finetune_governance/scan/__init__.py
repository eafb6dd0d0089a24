"""PII scanning (offline Presidio) and redaction."""

from .engine import EngineInfo, build_analyzer
from .pii import Hit, mask_value, residual, scan_texts, summarise
from .redact import redact_texts

__all__ = ["EngineInfo", "Hit", "build_analyzer", "mask_value", "redact_texts", "residual", "scan_texts", "summarise"]
