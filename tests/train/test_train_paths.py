"""Every training path on tiny models, with and without DP; budget stop; early stopping."""

from __future__ import annotations

import warnings

import pytest
import torch

from finetune_governance.train import (
    PrivacySettings, TrainSettings, epsilon_from_history, load_text_classifier, predict_proba, train_classifier,
)
from finetune_governance.train.privacy import with_one_more_step

warnings.filterwarnings("ignore")


def _settings(tmp_path=None, **kw) -> TrainSettings:
    base = dict(epochs=1, batch_size=16, learning_rate=1e-3, weight_decay=0.0, seed=3, device="cpu",
                checkpoint_dir=tmp_path / "ckpt" if tmp_path else None, plan="t")
    base.update(kw)
    return TrainSettings(**base)


DP = PrivacySettings(target_epsilon=4.0, delta=1e-3, max_grad_norm=1.0)


@pytest.mark.parametrize("head,freeze,mode", [
    ("auto", "embeddings", None), ("auto", "embeddings", "ghost"), ("auto", "all_but_head", "hooks"),
    ("cls_linear", "embeddings", None), ("cls_linear", "embeddings", "ghost"),
    ("auto", "embeddings", "bookkeeping"), ("auto", "none", "bookkeeping"), ("mean_pool", "all_but_head", "bookkeeping"),
])
def test_text_paths_train_and_predict(tiny_bert, token_data, tmp_path, head, freeze, mode):
    model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze=freeze, head=head)
    privacy = PrivacySettings(4.0, 1e-3, 1.0, grad_sample_mode=mode) if mode else None
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    result = train_classifier(model, token_data, settings=_settings(tmp_path), privacy=privacy, max_epsilon=4.0)
    assert result.steps == 6 and len(result.loss_per_epoch) == 1
    changed = {n for n, p in model.named_parameters() if not torch.equal(before[n], p.detach())}
    assert changed and any("embeddings" in n for n in changed) is (freeze == "none")
    if freeze == "all_but_head":
        assert all(n.startswith(("classifier", "head")) for n in changed)
    if mode:
        assert result.grad_sample_mode == mode and 0 < result.epsilon_curve[-1][1] <= 4.0
        assert result.epsilon_curve[-1][1] == pytest.approx(epsilon_from_history(result.history, delta=1e-3))
    probs = predict_proba(model, token_data, batch_size=32, device="cpu")
    assert probs.shape == (96, 2)
    assert (tmp_path / "ckpt" / "latest").is_file()


def test_budget_stops_before_the_step_that_would_exceed_it(tiny_bert, token_data):
    model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze="all_but_head")
    result = train_classifier(model, token_data, settings=_settings(epochs=3), privacy=DP, max_epsilon=2.0)
    assert 0 < result.steps < 18 and result.grad_sample_mode == "bookkeeping"  # the default where it applies
    assert result.stop_reason == f"stopped before step {result.steps + 1}: it would take epsilon above 2.0"
    spent = epsilon_from_history(result.history, delta=1e-3)
    after = epsilon_from_history(with_one_more_step(result.history, noise_multiplier=result.noise_multiplier,
                                                    sample_rate=result.sample_rate), delta=1e-3)
    assert spent <= 2.0 < after


def test_early_stopping_keeps_the_best_epoch(tiny_bert, token_data):
    model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze="all_but_head")
    result = train_classifier(model, token_data, settings=_settings(epochs=6, patience=1, learning_rate=0.0),
                              privacy=None, validation=token_data)
    # a zero learning rate never improves: epoch 1 is best, epoch 2 triggers the stop
    assert result.validation_accuracy and len(result.validation_accuracy) == 2
    assert result.best_epoch == 1 and result.stop_reason.startswith("early stopping after epoch 2")


def test_freeze_first_layers(tiny_bert):
    model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze="none", freeze_layers=1)
    assert not any(p.requires_grad for p in model.bert.encoder.layer[0].parameters())
    assert all(p.requires_grad for p in model.bert.encoder.layer[1].parameters())


def test_resume_refuses_a_checkpoint_of_another_plan(tiny_bert, token_data, tmp_path):
    from finetune_governance.train.checkpoint import CheckpointError

    model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze="all_but_head")
    train_classifier(model, token_data, settings=_settings(tmp_path), privacy=None)
    with pytest.raises(CheckpointError, match="different run plan"):
        train_classifier(model, token_data, settings=_settings(tmp_path, plan="other", resume=True), privacy=None)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        train_classifier(model, token_data, settings=_settings(tmp_path / "none", resume=True), privacy=None)


@pytest.mark.parametrize("dp", [None, DP])
def test_the_seed_makes_a_cpu_run_reproducible(tiny_bert, token_data, dp):
    from finetune_governance.train.device import seed_everything

    def run(seed: int):
        seed_everything(seed)  # as the run's train stage does before loading the model
        model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze="embeddings")
        result = train_classifier(model, token_data, settings=_settings(epochs=2, seed=seed), privacy=dp)
        return result, {n: p.detach().clone() for n, p in model.named_parameters()}

    (first, a), (second, b), (other, c) = run(5), run(5), run(6)
    assert first.loss_per_epoch == second.loss_per_epoch and first.epsilon_curve == second.epsilon_curve
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not all(torch.equal(a[n], c[n]) for n in a)


def test_unknown_text_model_is_one_clear_error(tmp_path):
    from finetune_governance.errors import ModelError
    from finetune_governance.train import resolve_text_model

    with pytest.raises(ModelError, match="'no-such-model': not a local folder"):
        resolve_text_model("no-such-model")
    with pytest.raises(ModelError, match="config.json not found"):
        resolve_text_model(str(tmp_path))


def test_evidence_lets_an_auditor_recompute_epsilon(tiny_bert, token_data):
    """Epsilon from the evidence fields alone, with Opacus' accountant and nothing of ours."""
    from opacus.accountants import create_accountant

    from finetune_governance.train.records import privacy_evidence

    model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze="embeddings")
    result = train_classifier(model, token_data, settings=_settings(epochs=2), privacy=DP, max_epsilon=4.0)
    record = privacy_evidence(DP, result, replaced_modules=[]).model_dump(mode="json")
    assert record["grad_sample_mode"] == "bookkeeping" and record["poisson_sampling"] is True
    accountant = create_accountant(mechanism=record["accountant"])
    accountant.history = [(h["noise_multiplier"], h["sample_rate"], h["steps"]) for h in record["history"]]
    assert sum(h["steps"] for h in record["history"]) == record["steps"] == 12
    assert round(accountant.get_epsilon(delta=record["delta"]), 6) == record["epsilon"] <= 4.0


def test_a_failure_before_the_loop_leaves_no_dp_on_the_model(tiny_bert, token_data, tmp_path):
    from finetune_governance.train.checkpoint import CheckpointError

    model, _ = load_text_classifier(tiny_bert, labels=["a", "b"], freeze="embeddings")
    classes = [type(m) for m in model.modules()]
    with pytest.raises(CheckpointError, match="no checkpoint to resume from"):
        train_classifier(model, token_data, settings=_settings(tmp_path, resume=True), privacy=DP, max_epsilon=4.0)
    assert [type(m) for m in model.modules()] == classes  # book-keeping's layer classes were given back
    result = train_classifier(model, token_data, settings=_settings(), privacy=None)
    assert result.steps == 6
