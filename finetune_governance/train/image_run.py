"""Governed image fine-tuning through the Python API (ImageFolder in, evidence out)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from ..evidence import PrivacyEvidence, TrainingEvidence
from .images import (
    TORCHVISION_PREFIX, ImageDataset, freeze_image_model, load_hf_image_classifier, load_torchvision_classifier,
    scan_image_folder, transforms,
)
from .loop import TrainResult, TrainSettings, image_forward, predict_proba, train_classifier, unwrap
from .models import count_parameters, describe_freeze
from .privacy import PrivacySettings, fix_for_dp
from .records import privacy_evidence


@dataclass(frozen=True)
class ImageRun:
    """The fine-tuned model, its classes, what training did, and held-out accuracy (fraction)."""

    model: object
    classes: list[str]
    result: TrainResult
    training: TrainingEvidence
    privacy: PrivacyEvidence
    test_accuracy: float
    test_records: int


def build_image_model(model: str, *, weights: Path | None, classes: list[str], freeze: str, dp: bool,
                      freeze_layers: int = 0):
    """(model, head name, normalisation stats or None, source hash, DP-replaced modules) for
    ``torchvision:<name>`` or a Hugging Face image-classifier folder, frozen as asked."""
    from ..data.fingerprint import sha256_file, sha256_tree

    stats = None
    if model.startswith(TORCHVISION_PREFIX):
        net, head = load_torchvision_classifier(model, num_classes=len(classes), weights=weights)
        source_hash = sha256_file(weights) if weights else "random-init"
    else:
        net, stats = load_hf_image_classifier(Path(model), labels=classes)
        head = "classifier"
        source_hash = sha256_tree(Path(model))
    replaced: list[str] = []
    if dp:
        net, replaced = fix_for_dp(net)
    freeze_image_model(net, freeze, head=head, freeze_layers=freeze_layers)
    return net, head, stats, source_hash, replaced


def fine_tune_images(
    data_dir: Path,
    *,
    model: str = "torchvision:resnet18",
    weights: Path | None = None,
    image_size: int = 224,
    freeze: str = "none",
    freeze_layers: int = 0,
    settings: TrainSettings,
    privacy: PrivacySettings | None = None,
    test_size: float = 0.2,
    validation_size: float = 0.0,
) -> ImageRun:
    """Fine-tune an image classifier on an ImageFolder, with DP-SGD when ``privacy`` is given.

    ``model``: ``torchvision:<name>`` (weights from ``weights`` or random) or a local Hugging Face
    image-classifier folder. Under DP, BatchNorm layers are replaced (``ModuleValidator.fix``) and
    the replacements are listed in the privacy evidence.
    """
    from ..stages import split_indices
    from .device import seed_everything

    seed_everything(settings.seed)
    data = scan_image_folder(Path(data_dir))
    net, head, stats, source_hash, replaced = build_image_model(model, weights=weights, classes=data.classes,
                                                                freeze=freeze, dp=privacy is not None,
                                                                freeze_layers=freeze_layers)
    labels = [str(t) for t in data.targets]
    split = split_indices(labels, test_size=test_size, seed=settings.seed)
    train_idx, validation = split.train, None
    kw = {"stats": stats} if stats else {}
    if validation_size > 0:
        held = split_indices([labels[i] for i in train_idx], test_size=validation_size, seed=settings.seed)
        validation = ImageDataset(data, [train_idx[i] for i in held.test], transforms(image_size, train=False, **kw))
        train_idx = [train_idx[i] for i in held.train]
    train = ImageDataset(data, train_idx, transforms(image_size, train=True, **kw))
    test = ImageDataset(data, split.test, transforms(image_size, train=False, **kw))
    total, trainable = count_parameters(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = train_classifier(net, train, settings=settings, privacy=privacy,
                                  max_epsilon=privacy.target_epsilon if privacy else None,
                                  forward=image_forward, validation=validation)
    net = unwrap(net)
    probs = predict_proba(net, test, batch_size=64, device=settings.device, forward=image_forward)
    truth = [data.targets[i] for i in split.test]
    accuracy = float((probs.argmax(axis=1) == truth).mean()) if truth else 0.0
    training = TrainingEvidence(
        base_model=model, base_model_sha256=source_hash, architecture=type(net).__name__,
        parameters_total=total, parameters_trainable=trainable, frozen=describe_freeze(freeze, freeze_layers), device=settings.device,
        epochs=settings.epochs, steps=result.steps, batch_size=settings.batch_size,
        learning_rate=settings.learning_rate, max_length=image_size, seed=settings.seed,
        loss_per_epoch=result.loss_per_epoch, stop_reason=result.stop_reason, seconds=result.seconds,
        head=head, scheduler=settings.scheduler, weight_decay=settings.weight_decay,
        validation_records=len(validation) if validation is not None else 0,
        validation_accuracy=result.validation_accuracy, best_epoch=result.best_epoch,
        checkpoint_dir=str(settings.checkpoint_dir) if settings.checkpoint_dir else None,
        resumed_from_step=result.resumed_from_step,
    )
    return ImageRun(model=net, classes=data.classes, result=result, training=training,
                    privacy=privacy_evidence(privacy, result, replaced_modules=replaced),
                    test_accuracy=round(accuracy, 6), test_records=len(truth))
