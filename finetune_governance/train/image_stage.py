"""The image path of a governed run: an ImageFolder as a table of file names, and its train stage.

The run treats each image file as one record whose "text" is its path relative to the folder
and whose label is its class folder. The scan reads file names and EXIF metadata
(``stages.scan_and_redact_images``); training and assessment load the pixels of the redacted copy.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

from ..errors import DataError, ModelError

def is_image_data(path: Path) -> bool:
    """An ImageFolder run is one whose data path is a folder."""
    return Path(path).is_dir()


def load_image_table(root: Path, *, text_column: str, label_column: str, sensitive_features, limit: int | None):
    """A ``TabularDataset`` of (relative file path, class name) for a validated ImageFolder."""
    import pandas as pd

    from ..data.datasets import TabularDataset
    from .images import scan_image_folder

    if sensitive_features:
        raise DataError(f"{root}: an image folder has no columns for the sensitive features "
                        f"{', '.join(sensitive_features)}; declare columns.sensitive_features: [] in its datasheet")
    data = scan_image_folder(Path(root))
    frame = pd.DataFrame({
        text_column: [p.relative_to(data.root).as_posix() for p in data.files],
        label_column: [data.classes[t] for t in data.targets],
    })
    if limit is not None:
        frame = frame.sample(n=min(limit, len(frame)), random_state=0).sort_index().reset_index(drop=True)
    return TabularDataset(path=Path(root), frame=frame, text_column=text_column, label_column=label_column,
                          sensitive_features=())


def check_model(config) -> None:
    """Fail on a model that cannot serve the data (unknown name, missing weights, text model on images)
    before a run writes anything."""
    from .images import NO_LAYERS_TO_FREEZE, TORCHVISION_PREFIX, _read_weights, torchvision_arch
    from .models import resolve_text_model

    base = config.model.base
    if is_image_data(config.data.path):
        if base.startswith(TORCHVISION_PREFIX):
            torchvision_arch(base)
            if config.model.freeze_layers:
                raise ModelError(NO_LAYERS_TO_FREEZE.format(n=config.model.freeze_layers))
        elif not (Path(base) / "config.json").is_file():
            raise ModelError(f"model '{base}': data {config.data.path} is an image folder; pass --model "
                             f"torchvision:<name> (e.g. torchvision:resnet18) or a Hugging Face image-classifier folder")
        if config.model.weights is not None:
            _read_weights(config.model.weights)
        return
    if base.startswith(TORCHVISION_PREFIX):
        raise ModelError(f"model '{base}': torchvision models train on images; pass --data <ImageFolder directory> "
                         f"(one sub-folder per class)")
    if config.model.weights is not None:
        raise ModelError(f"--weights {config.model.weights}: only torchvision:<name> models take a weights file")
    resolve_text_model(base)


def train_images(files: list[str], labels: list[str], *, classes: list[str], config, privacy, progress):
    """Fine-tune an image classifier on the training files (relative to ``config.data.path``), with
    DP-SGD when the policy requires it; returns a ``stages.Trained`` whose ``predict`` scores file lists."""
    from ..data.fingerprint import sha256_texts, sha256_tree
    from ..evidence import TrainingEvidence
    from ..stages import Trained, privacy_settings, split_indices
    from .device import pick_device, seed_everything
    from .image_run import build_image_model
    from .images import ImageData, ImageDataset, transforms
    from .loop import TrainSettings, image_forward, predict_proba, train_classifier, unwrap
    from .models import count_parameters, describe_freeze
    from .records import plan_fingerprint, privacy_evidence

    seed_everything(config.training.seed)
    device = pick_device(config.training.device)
    root = Path(config.data.path)
    index = {c: i for i, c in enumerate(classes)}
    dp = privacy_settings(privacy, config, len(files))
    progress.stage(f"Loading image model {config.model.base}")
    net, head, stats, source_hash, replaced = build_image_model(
        config.model.base, weights=config.model.weights, classes=classes, freeze=config.model.freeze, dp=dp is not None,
        freeze_layers=config.model.freeze_layers)
    kw = {"stats": stats} if stats else {}
    size = config.model.image_size

    def dataset(names: list[str], names_labels: list[str], *, train: bool) -> ImageDataset:
        data = ImageData(root=root, classes=classes, files=[root / n for n in names],
                         targets=[index[y] for y in names_labels])
        return ImageDataset(data, list(range(len(names))), transforms(size, train=train, **kw))

    validation = None
    if config.training.validation_size > 0:
        held = split_indices(labels, test_size=config.training.validation_size, seed=config.training.seed)
        validation = dataset([files[i] for i in held.test], [labels[i] for i in held.test], train=False)
        files, labels = [files[i] for i in held.train], [labels[i] for i in held.train]
    train = dataset(files, labels, train=True)
    total, trainable = count_parameters(net)
    plan = plan_fingerprint(model=config.model.model_dump(mode="json"), base=source_hash,
                            training=config.training.model_dump(mode="json", exclude={"resume", "device", "checkpoint_dir"}),
                            dp=dp.__dict__ if dp else None, images=sha256_tree(root),
                            data=sha256_texts([f"{f}\x00{y}" for f, y in zip(files, labels)]))
    checkpoints = config.training.checkpoint_dir or config.output.root / "checkpoints" / plan[:16]
    from ..config import saved_config_json

    settings = TrainSettings(
        epochs=config.training.epochs, batch_size=config.training.batch_size,
        learning_rate=config.training.learning_rate, weight_decay=config.training.weight_decay,
        seed=config.training.seed, device=device, scheduler=config.training.scheduler,
        patience=config.training.patience, checkpoint_dir=checkpoints, resume=config.training.resume, plan=plan,
        max_physical_batch_size=config.training.max_physical_batch_size, run_config=saved_config_json(config),
    )
    bar: dict[str, Callable[[int], None]] = {}

    def on_step(step: int, total_steps: int) -> None:
        if "advance" not in bar:
            bar["advance"] = progress.track("Training" + (" (DP-SGD)" if dp else ""), total_steps)
        bar["advance"](1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = train_classifier(net, train, settings=settings, privacy=dp,
                                  max_epsilon=dp.target_epsilon if dp else None, on_step=on_step,
                                  forward=image_forward, validation=validation)
    net = unwrap(net)

    def predict(names: list[str], names_labels: list[str]):
        return predict_proba(net, dataset(names, names_labels, train=False), batch_size=64, device=device,
                             forward=image_forward)

    evidence = TrainingEvidence(
        base_model=config.model.base, base_model_sha256=source_hash, architecture=type(net).__name__,
        parameters_total=total, parameters_trainable=trainable, device=device,
        frozen=describe_freeze(config.model.freeze, config.model.freeze_layers),
        epochs=settings.epochs, steps=result.steps, batch_size=settings.batch_size,
        learning_rate=settings.learning_rate, max_length=size, seed=settings.seed,
        loss_per_epoch=result.loss_per_epoch, stop_reason=result.stop_reason, seconds=result.seconds,
        head=head, scheduler=settings.scheduler, weight_decay=settings.weight_decay,
        validation_records=len(validation) if validation is not None else 0,
        validation_accuracy=result.validation_accuracy, best_epoch=result.best_epoch,
        checkpoint_dir=str(checkpoints), resumed_from_step=result.resumed_from_step,
    )
    return Trained(model=net, tokenizer=None, evidence=evidence,
                   privacy=privacy_evidence(dp, result, replaced_modules=replaced), predict=predict)


def save_model(trained, model_dir: Path) -> Path:
    """Save a fine-tuned model (Hugging Face folder, or safetensors weights for a torchvision model);
    returns the weights file."""
    model_dir.mkdir(parents=True, exist_ok=True)
    if hasattr(trained.model, "save_pretrained"):
        trained.model.save_pretrained(model_dir)
        if trained.tokenizer is not None:
            trained.tokenizer.save_pretrained(model_dir)
    else:
        from safetensors.torch import save_file

        save_file({k: v.detach().to("cpu").contiguous() for k, v in trained.model.state_dict().items()},
                  str(model_dir / "model.safetensors"))
    return model_dir / "model.safetensors"
