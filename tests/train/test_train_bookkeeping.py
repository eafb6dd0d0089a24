"""Book-keeping clipping gives the clipped, summed gradient that Opacus' hooks mode gives."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn as nn

from finetune_governance.errors import ModelError
from finetune_governance.train import PrivacySettings, load_text_classifier, text_forward
from finetune_governance.train.bookkeeping import BookKeeping, BookKeepingCriterion, bookkeeping_unsupported
from finetune_governance.train.privacy import choose_mode, make_private

warnings.filterwarnings("ignore")


def _padded_batch(n: int = 12, length: int = 10):
    """Token ids with padding (id 0, mask 0) after a per-row length between 3 and ``length``."""
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(1000, 1100, (n, length), generator=g)  # a small id range: repeated tokens per row
    lengths = torch.randint(3, length + 1, (n,), generator=g)
    lengths[0] = length - 2  # no row reaches the full length: text_forward trims the batch
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    ids = ids * mask
    return ids, mask, (ids[:, 1] % 2).long()


def _model(tiny_bert, freeze: str, head: str):
    model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze=freeze, head=head)
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
    return model


def _private_grads(model, batch, mode: str, max_grad_norm: float) -> dict[str, torch.Tensor]:
    """p.grad after Opacus' pre-step (clip, zero noise, divide by the expected batch size)."""
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(*batch), batch_size=len(batch[0]))
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    setup = make_private(model, optimizer, loader, noise_multiplier=0.0,
                         settings=PrivacySettings(8.0, 1e-5, max_grad_norm, grad_sample_mode=mode))
    assert setup.grad_sample_mode == mode
    setup.optimizer.zero_grad(set_to_none=True)
    logits, labels = text_forward(setup.model, batch, "cpu")
    setup.criterion(logits, labels).backward()
    assert setup.optimizer.pre_step()
    inner = getattr(setup.model, "_module", setup.model)
    grads = {n: p.grad.detach().clone() for n, p in inner.named_parameters() if p.requires_grad}
    setup.release()
    return grads


@pytest.mark.parametrize("freeze,head", [("none", "auto"), ("embeddings", "auto"), ("none", "mean_pool")])
def test_clipped_sum_equals_opacus_hooks(tiny_bert, freeze, head):
    torch.manual_seed(0)
    base = _model(tiny_bert, freeze, head)
    batch = _padded_batch()
    probe = copy.deepcopy(base)
    book = BookKeeping(probe, max_grad_norm=1e9)
    logits, labels = text_forward(probe, batch, "cpu")
    BookKeepingCriterion(book)(logits, labels).backward()
    norms = book.last_norms
    clip_at = float(norms.median())  # about half the samples are clipped
    assert (norms > clip_at).sum() >= 4 and (norms < clip_at).sum() >= 4

    ours = _private_grads(copy.deepcopy(base), batch, "bookkeeping", clip_at)
    theirs = _private_grads(copy.deepcopy(base), batch, "hooks", clip_at)
    assert ours.keys() == theirs.keys() and len(ours) > 4
    assert any("embeddings" in n for n in ours) is (freeze == "none")
    for name in ours:
        assert torch.allclose(ours[name], theirs[name], rtol=1e-4, atol=1e-7), name


def test_unclipped_gradient_equals_autograd(tiny_bert):
    """With a clipping norm above every sample's norm the sum is the plain (sum-reduced) gradient."""
    torch.manual_seed(0)
    base = _model(tiny_bert, "none", "auto")
    batch = _padded_batch()
    plain = copy.deepcopy(base)
    logits, labels = text_forward(plain, batch, "cpu")
    nn.functional.cross_entropy(logits, labels, reduction="sum").backward()
    ours = copy.deepcopy(base)
    book = BookKeeping(ours, max_grad_norm=1e9)
    logits, labels = text_forward(ours, batch, "cpu")
    BookKeepingCriterion(book)(logits, labels).backward()
    for (name, a), b in zip(plain.named_parameters(), ours.parameters()):
        assert torch.allclose(a.grad, b.grad, rtol=1e-4, atol=1e-6), name
    assert plain.bert.embeddings.word_embeddings.weight.grad[0].abs().sum() == 0  # padding row: no gradient
    book.release()
    assert type(ours.bert.encoder.layer[0].attention.self.query) is nn.Linear


def test_position_ids_without_batch_axis_are_refused(tiny_bert):
    model = _model(tiny_bert, "none", "auto")
    ids, mask, labels = _padded_batch()
    book = BookKeeping(model, max_grad_norm=1.0)
    logits = model(input_ids=ids, attention_mask=mask).logits  # HF's shared [1, L] position ids
    with pytest.raises(ModelError, match="position_ids"):
        BookKeepingCriterion(book)(logits, labels).backward()


def test_modes_fall_back_for_layers_without_a_bookkeeping_path():
    from torchvision.models import resnet18

    from finetune_governance.train.privacy import fix_for_dp

    net, _ = fix_for_dp(resnet18(num_classes=3))
    assert "Conv2d" in bookkeeping_unsupported(net)
    assert choose_mode(net, "bookkeeping") == "ghost"
    head_only = resnet18(num_classes=3)
    for name, p in head_only.named_parameters():
        p.requires_grad_(name.startswith("fc."))
    assert choose_mode(head_only, "bookkeeping") == "bookkeeping"
    tied = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10))
    tied[1].weight = tied[0].weight
    assert "shared" in bookkeeping_unsupported(tied)


def test_backward_outside_the_private_loss_fails_loudly(tiny_bert):
    model = _model(tiny_bert, "embeddings", "auto")
    BookKeeping(model, max_grad_norm=1.0)
    logits, labels = text_forward(model, _padded_batch(), "cpu")
    with pytest.raises(RuntimeError, match="outside the private loss"):
        nn.functional.cross_entropy(logits, labels).backward()


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_text_forward_numbers_positions_as_the_model_does(kind):
    """The per-example position ids equal the model's own (RoBERTa counts from its padding index)."""
    from transformers import BertConfig, BertForSequenceClassification, RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(0)
    shape = dict(vocab_size=2000, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                 max_position_embeddings=40, pad_token_id=1 if kind == "roberta" else 0)
    model = (RobertaForSequenceClassification(RobertaConfig(**shape)) if kind == "roberta"
             else BertForSequenceClassification(BertConfig(**shape))).eval()
    ids, mask, labels = _padded_batch()
    ids = torch.where(mask.bool(), ids, torch.full_like(ids, shape["pad_token_id"]))
    ours, _ = text_forward(model, (ids, mask, labels), "cpu")
    length = int(mask.sum(1).max())
    theirs = model(input_ids=ids[:, :length], attention_mask=mask[:, :length]).logits
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_autocast_path_runs_and_matches_float32():
    """The book-keeping layers under bf16 autocast (CPU here, CUDA on a GPU): same clipped sum within bf16 precision."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=2000, hidden_size=32, num_hidden_layers=2,
                                                     num_attention_heads=2, intermediate_size=64,
                                                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    batch = _padded_batch()
    grads = {}
    for bf16 in (False, True):
        copy_ = copy.deepcopy(model)
        book = BookKeeping(copy_, max_grad_norm=0.5)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits, labels = text_forward(copy_, batch, "cpu")
        BookKeepingCriterion(book)(logits.float(), labels).backward()
        grads[bf16] = {n: p.grad for n, p in copy_.named_parameters()}
        assert all(g.dtype == torch.float32 for g in grads[bf16].values())
    for name, exact in grads[False].items():
        if exact.norm() > 1e-4:  # (key biases have no gradient: softmax ignores a shift)
            assert (grads[True][name] - exact).norm() <= 0.05 * exact.norm(), name
