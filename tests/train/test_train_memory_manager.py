"""BatchMemoryManager: splitting logical batches changes neither the steps nor epsilon."""

from __future__ import annotations

import warnings

import pytest

from finetune_governance.train import PrivacySettings, TrainSettings, train_classifier, unwrap

from .resume_worker import tiny_data

warnings.filterwarnings("ignore")


def tiny_model():
    """The resume worker's tiny BERT without dropout, so splitting a batch cannot change the masks drawn."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, num_labels=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))


def _train(mode: str, physical: int | None):
    settings = TrainSettings(epochs=2, batch_size=32, learning_rate=1e-2, weight_decay=0.0, seed=3, device="cpu",
                             max_physical_batch_size=physical)
    privacy = PrivacySettings(target_epsilon=4.0, delta=1e-3, max_grad_norm=1.0, grad_sample_mode=mode)
    sizes: list[int] = []
    model = tiny_model()
    original = model.forward

    def counting(*args, **kwargs):
        sizes.append(int(kwargs["input_ids"].shape[0]))
        return original(*args, **kwargs)

    model.forward = counting
    result = train_classifier(model, tiny_data(), settings=settings, privacy=privacy, max_epsilon=4.0)
    return result, unwrap(model), sizes


@pytest.mark.parametrize("mode", ["hooks", "ghost", "bookkeeping"])
def test_physical_batches_keep_steps_epsilon_and_weights(mode):
    import torch

    whole, whole_model, whole_sizes = _train(mode, None)
    split, split_model, split_sizes = _train(mode, 8)
    assert max(split_sizes) <= 8 < max(whole_sizes)  # the manager really split the batches
    assert len(split_sizes) > len(whole_sizes)
    assert split.steps == whole.steps == 6
    assert split.history == whole.history and split.epsilon_curve == whole.epsilon_curve
    assert split.sample_rate == whole.sample_rate == pytest.approx(1 / 3)
    for (name, a), b in zip(whole_model.state_dict().items(), split_model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-5), name  # one noisy step per logical batch, same noise
