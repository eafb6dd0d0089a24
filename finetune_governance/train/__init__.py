"""Fine-tuning: model factories, the training loop, differential privacy and checkpoints."""

from .loop import (
    TrainingInterrupted, TrainResult, TrainSettings, image_forward, predict_proba, text_forward, train_classifier,
    unwrap,
)
from .models import count_parameters, load_text_classifier, resolve_text_model
from .privacy import HistoryEntry, PrivacySettings, epsilon_from_history

__all__ = [
    "HistoryEntry", "PrivacySettings", "TrainResult", "TrainSettings", "TrainingInterrupted", "count_parameters",
    "epsilon_from_history", "image_forward", "load_text_classifier", "predict_proba", "resolve_text_model",
    "text_forward", "train_classifier", "unwrap",
]
