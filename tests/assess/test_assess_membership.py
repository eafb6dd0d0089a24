"""Membership inference: attack arithmetic, and the contrast between an overfit and a DP model."""

from __future__ import annotations

import numpy as np
import pytest

from finetune_governance.assess.membership import attack_scores, membership_audit, per_example_loss


def test_per_example_loss_is_cross_entropy_of_true_class():
    probs = [[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]
    loss = per_example_loss(probs, [0, 0, 0])
    assert loss == pytest.approx([np.log(2), -np.log(0.9), -np.log(0.2)])


def test_attack_scores_by_hand():
    # members score 3, 2, 1; non-members 2.5, 0, -1, ... : 8 of 9 member/non-member pairs ordered right
    auc, tpr = attack_scores([3.0, 2.0, 1.0], [2.5, 0.0, -1.0])
    assert auc == pytest.approx(7 / 9)  # pairs right: 3>all (3), 2>0,-1 (2), 1>0,-1 (2)
    assert tpr == pytest.approx(1 / 3)  # at FPR 0 only the member scoring 3 is caught
    assert attack_scores([1.0, 1.0], [1.0, 1.0])[0] == pytest.approx(0.5)


def test_audit_separates_members_and_reports_both_attacks():
    rng = np.random.default_rng(0)
    members = rng.exponential(0.1, 300).tolist()
    others = rng.exponential(1.0, 300).tolist()
    labels = ["a", "b"] * 150
    ev = membership_audit(member_losses=members, member_labels=labels, non_member_losses=others,
                          non_member_labels=labels)
    assert [a.name for a in ev.attacks] == ["loss", "class-calibrated loss"]
    assert ev.auc > 0.85 and ev.auc == max(a.auc for a in ev.attacks)
    assert ev.members == 300 and ev.non_members == 300


def _train(x, y, *, dp: bool, seed: int = 0):
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(x.shape[1], 128), nn.ReLU(), nn.Linear(128, 2))
    data = TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    if dp:
        import warnings

        from opacus import PrivacyEngine

        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        loader = DataLoader(data, batch_size=50)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, optimizer, loader = PrivacyEngine().make_private(
                module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=4.0, max_grad_norm=1.0)  # epsilon about 1.1 at delta 1e-3
        epochs = 10
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        loader = DataLoader(data, batch_size=50, shuffle=True)
        epochs = 150
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for xb, yb in loader:
            if len(yb) == 0:
                continue
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    model.eval()

    def probs(features):
        with torch.no_grad():
            return torch.softmax(model(torch.tensor(features, dtype=torch.float32)).double(), dim=-1).numpy()

    return probs


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_overfit_model_leaks_membership_and_dp_model_does_not():
    """Random labels: anything the model learns about members is memorisation."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 20))
    y = rng.integers(0, 2, 400)
    train, held = slice(0, 200), slice(200, 400)
    results = {}
    for dp in (False, True):
        probs = _train(x[train], y[train], dp=dp)
        results[dp] = membership_audit(
            member_losses=per_example_loss(probs(x[train]), y[train]).tolist(), member_labels=y[train].tolist(),
            non_member_losses=per_example_loss(probs(x[held]), y[held]).tolist(), non_member_labels=y[held].tolist(),
        )
    overfit, private = results[False], results[True]
    assert overfit.auc > 0.8, overfit
    assert private.auc < 0.68, private
    assert overfit.auc - private.auc > 0.15
    assert overfit.tpr_at_1pct_fpr > private.tpr_at_1pct_fpr
