"""Image models by name (random weights, small images), DP with BatchNorm replaced, bad input."""

from __future__ import annotations

import warnings

import pytest

from finetune_governance.errors import DataError, ModelError
from finetune_governance.train import PrivacySettings, TrainSettings
from finetune_governance.train.image_run import fine_tune_images
from finetune_governance.train.images import load_torchvision_classifier, scan_image_folder

from .conftest import write_image_folder

warnings.filterwarnings("ignore")
SETTINGS = TrainSettings(epochs=1, batch_size=8, learning_rate=1e-3, weight_decay=0.0, seed=0, device="cpu")


@pytest.mark.parametrize("name,freeze,dp", [
    ("resnet18", "none", False), ("resnet18", "none", True), ("mobilenet_v3_small", "all_but_head", True),
])
def test_torchvision_paths(image_folder, name, freeze, dp):
    privacy = PrivacySettings(target_epsilon=8.0, delta=1e-3, max_grad_norm=1.0) if dp else None
    run = fine_tune_images(image_folder, model=f"torchvision:{name}", image_size=32, freeze=freeze,
                           settings=SETTINGS, privacy=privacy)
    assert run.classes == ["cat", "dog"] and run.result.steps >= 1 and run.test_records == 5
    assert run.privacy.enabled is dp
    if dp:
        assert run.privacy.replaced_modules and all("BatchNorm2d -> GroupNorm" in r for r in run.privacy.replaced_modules)
        assert 0 < run.privacy.epsilon <= 8.0 and run.privacy.sample_rate and run.privacy.noise_multiplier
    if freeze == "all_but_head":
        assert run.training.parameters_trainable < run.training.parameters_total


@pytest.mark.parametrize("name,head", [("torchvision:resnet50", "fc"), ("torchvision:efficientnet_b0", "classifier.1")])
def test_heads_are_replaced(name, head):
    model, found = load_torchvision_classifier(name, num_classes=3, weights=None)
    assert found == head and model.get_submodule(head).out_features == 3


def test_weights_from_local_file(tmp_path):
    import torch
    from safetensors.torch import save_file
    from torchvision.models import get_model

    torch.manual_seed(1)
    reference = get_model("resnet18", weights=None)
    save_file(reference.state_dict(), str(tmp_path / "r18.safetensors"))
    model, _ = load_torchvision_classifier("torchvision:resnet18", num_classes=2, weights=tmp_path / "r18.safetensors")
    assert torch.equal(model.conv1.weight, reference.conv1.weight)


@pytest.fixture
def tiny_vit(tmp_path):
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=32)
    ViTForImageClassification(config).save_pretrained(tmp_path / "vit")
    return tmp_path / "vit"


@pytest.mark.parametrize("freeze,freeze_layers,dp,mode", [
    ("none", 0, True, "hooks"),  # ViTEmbeddings holds raw parameters (cls token, positions): hooks only
    ("embeddings", 0, True, "bookkeeping"), ("embeddings", 1, True, "bookkeeping"), ("none", 0, False, None),
])
def test_hf_image_classifier_from_folder(image_folder, tiny_vit, freeze, freeze_layers, dp, mode):
    import torch
    from transformers import ViTForImageClassification

    privacy = PrivacySettings(target_epsilon=8.0, delta=1e-3, max_grad_norm=1.0) if dp else None
    run = fine_tune_images(image_folder, model=str(tiny_vit), image_size=32, settings=SETTINGS, freeze=freeze,
                           freeze_layers=freeze_layers, privacy=privacy)
    assert run.result.steps >= 1 and run.privacy.enabled is dp and run.privacy.grad_sample_mode == mode
    before = ViTForImageClassification.from_pretrained(tiny_vit).state_dict()
    changed = {n for n, v in run.model.state_dict().items() if n in before and not torch.equal(before[n], v)}
    assert any(n.startswith("vit.embeddings") for n in changed) is (freeze == "none")
    assert any(n.startswith("vit.layers.0.") for n in changed) is (freeze_layers == 0)
    assert any(n.startswith("vit.layers.1.") for n in changed)


def test_bad_input_is_one_clear_error(tmp_path):
    with pytest.raises(ModelError, match="unknown torchvision architecture"):
        load_torchvision_classifier("torchvision:resnet19x", num_classes=2, weights=None)
    with pytest.raises(ModelError, match="torchvision models have no encoder layers"):
        fine_tune_images(write_image_folder(tmp_path / "two"), model="torchvision:resnet18", freeze_layers=2,
                         settings=SETTINGS)
    with pytest.raises(ModelError, match="weights file .* not found"):
        load_torchvision_classifier("torchvision:resnet18", num_classes=2, weights=tmp_path / "missing.pt")
    one = write_image_folder(tmp_path / "one", classes=("cat",))
    with pytest.raises(DataError, match="1 class folder"):
        scan_image_folder(one)
    mixed = write_image_folder(tmp_path / "mixed")
    (mixed / "cat" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="notes.txt: not an image file"):
        scan_image_folder(mixed)
    (mixed / "cat" / "notes.txt").unlink()
    (mixed / "dog" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png: cannot be decoded"):
        scan_image_folder(mixed)
