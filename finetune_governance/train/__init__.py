"""Fine-tuning: model factories, the training loop, and differential privacy."""

from .loop import TrainResult, TrainSettings, predict_proba, train_classifier, unwrap
from .models import count_parameters, load_text_classifier, resolve_text_model
from .privacy import HistoryEntry, PrivacySettings, epsilon_from_history

__all__ = [
    "HistoryEntry", "PrivacySettings", "TrainResult", "TrainSettings", "count_parameters",
    "epsilon_from_history", "load_text_classifier", "predict_proba", "resolve_text_model",
    "train_classifier", "unwrap",
]
