"""Image classifiers: torchvision models by name or Hugging Face folders, and ImageFolder data.

``torchvision:<name>`` builds the architecture with no download: weights come from a local
file (``weights``: safetensors, or a state dict read with ``torch.load(weights_only=True)``)
or stay random. The last ``Linear`` layer (the head) is replaced for the number of classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError, ModelError

TORCHVISION_PREFIX = "torchvision:"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
NO_LAYERS_TO_FREEZE = ("freeze_layers={n}: torchvision models have no encoder layers to freeze; use freeze: "
                       "all_but_head, or a Hugging Face image-classifier folder")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def torchvision_names() -> list[str]:
    """Classification architectures torchvision can build."""
    from torchvision.models import list_models
    import torchvision.models as tvm

    return sorted(list_models(module=tvm))


def torchvision_arch(name: str) -> str:
    """The architecture in ``torchvision:<name>``; a clear error when torchvision has none by that name."""
    arch = name.removeprefix(TORCHVISION_PREFIX)
    names = torchvision_names()
    if arch not in names:
        close = [n for n in names if n.startswith(arch[:4])][:6] or names[:6]
        raise ModelError(f"model '{name}': unknown torchvision architecture; try one of: {', '.join(close)}")
    return arch


def _read_weights(path: Path) -> dict:
    import torch

    if not path.is_file():
        raise ModelError(f"weights file {path} not found; pass --weights PATH to a local file, or none for random init")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        raise ModelError(f"weights file {path}: cannot read ({type(exc).__name__}); expected a safetensors file "
                         f"or a torch state dict of tensors") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ModelError(f"weights file {path}: expected a state dict (name -> tensor)")
    return state


def replace_head(model, num_classes: int) -> str:
    """Swap the last ``Linear`` layer for a fresh one with ``num_classes`` outputs; returns its name."""
    import torch.nn as nn

    last = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not last:
        raise ModelError(f"{type(model).__name__}: no Linear head to replace")
    name = last[-1]
    parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
    leaf = name.rsplit(".", 1)[-1]
    old = getattr(parent, leaf) if not leaf.isdigit() else parent[int(leaf)]
    new = nn.Linear(old.in_features, num_classes)
    if leaf.isdigit():
        parent[int(leaf)] = new
    else:
        setattr(parent, leaf, new)
    return name


def load_torchvision_classifier(name: str, *, num_classes: int, weights: Path | None):
    """``torchvision:<name>`` with local or no weights and a head for ``num_classes``.
    Returns (model, head module name)."""
    from torchvision.models import get_model

    arch = torchvision_arch(name)
    state = _read_weights(weights) if weights is not None else None
    model = get_model(arch, weights=None)
    if state is not None:
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise ModelError(f"weights file {weights}: does not match torchvision '{arch}': "
                             f"{str(exc).splitlines()[0][:160]}") from exc
    head = replace_head(model, num_classes)
    return model, head


def load_hf_image_classifier(path: Path, *, labels: list[str]):
    """A Hugging Face image classifier from a local folder with a fresh head for ``labels``;
    returns (model, (mean, std)) for the transforms."""
    import json

    from transformers import AutoModelForImageClassification

    if not (path / "config.json").is_file():
        raise ModelError(f"model '{path}': {path / 'config.json'} not found; expected a Hugging Face checkpoint folder")
    try:
        model = AutoModelForImageClassification.from_pretrained(
            path, num_labels=len(labels), id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)}, ignore_mismatched_sizes=True, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelError(f"model '{path}': cannot load: {str(exc).splitlines()[0][:200]}") from exc
    stats = (IMAGENET_MEAN, IMAGENET_STD)
    pre = path / "preprocessor_config.json"
    if pre.is_file():
        cfg = json.loads(pre.read_text(encoding="utf-8"))
        stats = (tuple(cfg.get("image_mean", IMAGENET_MEAN)), tuple(cfg.get("image_std", IMAGENET_STD)))
    return model, stats


def freeze_image_model(model, freeze: str, *, head: str, freeze_layers: int = 0) -> None:
    """'all_but_head' freezes every parameter outside the head. A Hugging Face image classifier
    (ViT, ...) also takes 'embeddings' (patch and position embeddings) and ``freeze_layers`` (the
    first N encoder layers), as text models do; a torchvision CNN has neither: 'embeddings' leaves it
    all trainable and ``freeze_layers`` is refused."""
    from .models import apply_freeze

    hf_base = getattr(model, getattr(model, "base_model_prefix", ""), None) if hasattr(model, "config") else None
    if hf_base is None and freeze_layers:
        raise ModelError(NO_LAYERS_TO_FREEZE.format(n=freeze_layers))
    if hf_base is not None and freeze != "all_but_head":
        apply_freeze(model, freeze, freeze_layers=freeze_layers)
        return
    if freeze == "all_but_head":
        for name, param in model.named_parameters():
            param.requires_grad_(name.startswith(head + "."))


def transforms(size: int, *, train: bool, stats=(IMAGENET_MEAN, IMAGENET_STD)):
    """Train: random resized crop + horizontal flip; eval: resize + centre crop. Both normalise."""
    from torchvision import transforms as T

    norm = [T.ToTensor(), T.Normalize(*stats)]
    if train:
        return T.Compose([T.RandomResizedCrop(size, scale=(0.6, 1.0)), T.RandomHorizontalFlip(), *norm])
    return T.Compose([T.Resize(int(size * 1.14)), T.CenterCrop(size), *norm])


@dataclass(frozen=True)
class ImageData:
    """An ImageFolder's files and labels (class index per file)."""

    root: Path
    classes: list[str]
    files: list[Path]
    targets: list[int]


def scan_image_folder(root: Path) -> ImageData:
    """Validate an ImageFolder (one sub-folder per class, image files only) and list it."""
    from PIL import Image, UnidentifiedImageError

    if not root.is_dir():
        raise DataError(f"{root}: not a folder; expected an ImageFolder with one sub-folder per class")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(f"{root}: {len(classes)} class folder(s); a classifier needs at least two sub-folders")
    files, targets = [], []
    for index, name in enumerate(classes):
        found = sorted(p for p in (root / name).rglob("*") if p.is_file() and not p.name.startswith("."))
        for path in found:
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(f"{path}: not an image file (expected {', '.join(IMAGE_SUFFIXES)}); "
                                f"move it out of the image folder")
            try:
                with Image.open(path) as img:
                    img.verify()
            except (UnidentifiedImageError, OSError) as exc:
                raise DataError(f"{path}: cannot be decoded as an image ({type(exc).__name__})") from exc
            files.append(path)
            targets.append(index)
        if not found:
            raise DataError(f"{root / name}: class folder holds no images")
    return ImageData(root=root, classes=classes, files=files, targets=targets)


class ImageDataset:
    """(image tensor, label) pairs for a subset of an ImageFolder's files."""

    def __init__(self, data: ImageData, indices: list[int], transform) -> None:
        self.data, self.indices, self.transform = data, list(indices), transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        import torch
        from PIL import Image

        k = self.indices[i]
        with Image.open(self.data.files[k]) as img:
            x = self.transform(img.convert("RGB"))
        return x, torch.tensor(self.data.targets[k], dtype=torch.long)
