"""Membership inference: can an attacker tell training records from held-out ones by loss?

Two attacks, both scoring "member" when the model's loss on a record is unusually low:

- ``loss``: the loss-threshold attack (Yeom et al. 2018), score = -loss.
- ``class-calibrated loss``: the loss standardised by the mean and spread of non-member
  losses of the record's true class (difficulty calibration in the spirit of Watson et al.
  2022, with the class as the difficulty reference). The calibration statistics come from
  one half of the non-members and are evaluated on the other half (and the reverse), so a
  record never calibrates its own score.

Each reports ROC AUC (0.5 = chance) and the true positive rate at 1% false positive rate.
"""

from __future__ import annotations

from typing import Sequence

from ..evidence import AttackResult, MembershipEvidence

TARGET_FPR = 0.01


def per_example_loss(probabilities, label_index: Sequence[int]):
    """Cross-entropy of each record's true class, in nats (numpy, [N])."""
    import numpy as np

    probs = np.asarray(probabilities, dtype=float)
    idx = np.asarray(label_index, dtype=int)
    return -np.log(np.clip(probs[np.arange(len(idx)), idx], 1e-12, 1.0))


def attack_scores(member_scores, non_member_scores) -> tuple[float, float]:
    """(ROC AUC, TPR at 1% FPR) of an attack whose higher score means "member"."""
    import numpy as np
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.r_[np.ones(len(member_scores)), np.zeros(len(non_member_scores))]
    s = np.r_[np.asarray(member_scores, dtype=float), np.asarray(non_member_scores, dtype=float)]
    fpr, tpr, _ = roc_curve(y, s)
    return float(roc_auc_score(y, s)), float(tpr[fpr <= TARGET_FPR + 1e-12].max())


def _standardise(losses, labels, ref_losses, ref_labels):
    import numpy as np

    losses, labels = np.asarray(losses, dtype=float), np.asarray(labels)
    ref_losses, ref_labels = np.asarray(ref_losses, dtype=float), np.asarray(ref_labels)
    out = np.empty_like(losses)
    overall = (ref_losses.mean(), ref_losses.std() + 1e-12)
    for cls in np.unique(labels):
        ref = ref_losses[ref_labels == cls]
        mean, std = (ref.mean(), ref.std() + 1e-12) if len(ref) >= 2 else overall
        out[labels == cls] = (losses[labels == cls] - mean) / std
    return out


def calibrated_attack_scores(member_losses, member_labels, non_member_losses, non_member_labels, *, seed: int = 0):
    """(AUC, TPR at 1% FPR) of the class-calibrated loss attack, cross-fitted on two halves."""
    import numpy as np

    n = len(non_member_losses)
    order = np.random.default_rng(seed).permutation(n)
    halves = (order[: n // 2], order[n // 2:])
    nm_losses, nm_labels = np.asarray(non_member_losses, dtype=float), np.asarray(non_member_labels)
    results = []
    for ref, held in (halves, halves[::-1]):
        members = -_standardise(member_losses, member_labels, nm_losses[ref], nm_labels[ref])
        others = -_standardise(nm_losses[held], nm_labels[held], nm_losses[ref], nm_labels[ref])
        results.append(attack_scores(members, others))
    return float(np.mean([r[0] for r in results])), float(np.mean([r[1] for r in results]))


def membership_skip_reason(policy, mode: str) -> str | None:
    """Why the membership audit is skipped (``None``: run it). ``mode`` is the run config's
    ``assessment.membership``: auto runs it when a rule of ``policy`` (a ``ResolvedPolicy``) reads it."""
    if mode == "always":
        return None
    asking = [r.id for r in policy.rules if r.check == "membership_inference" or (
        r.check == "regression" and r.params.max_membership_auc_increase is not None)]
    if mode == "never":
        return "skipped: the run config sets assessment.membership: never" + (
            f" (rules that read it: {', '.join(asking)})" if asking else "")
    if not asking:
        return ("skipped: no policy rule reads it (assessment.membership: auto); set assessment.membership: "
                "always to run it anyway")
    return None


def membership_audit(
    *,
    member_losses: Sequence[float],
    member_labels: Sequence[str],
    non_member_losses: Sequence[float],
    non_member_labels: Sequence[str],
    seed: int = 0,
) -> MembershipEvidence:
    """Run both attacks; the headline figures are the strongest attack's."""
    if len(member_losses) < 2 or len(non_member_losses) < 4:
        raise ValueError("membership inference needs at least 2 members and 4 non-members")
    auc, tpr = attack_scores([-x for x in member_losses], [-x for x in non_member_losses])
    c_auc, c_tpr = calibrated_attack_scores(member_losses, member_labels, non_member_losses, non_member_labels,
                                            seed=seed)
    attacks = [
        AttackResult(name="loss", description="loss-threshold attack: lower loss => member",
                     auc=round(auc, 6), tpr_at_1pct_fpr=round(tpr, 6)),
        AttackResult(name="class-calibrated loss",
                     description="loss standardised per true class against held-out non-members (cross-fitted)",
                     auc=round(c_auc, 6), tpr_at_1pct_fpr=round(c_tpr, 6)),
    ]
    n_non = len(non_member_losses)
    note = (f"{len(member_losses)} training members against {n_non} held-out non-members; AUC 0.5 is chance. "
            "An empirical lower bound on leakage, not a proof of privacy.")
    if n_non < 100:
        note += f" With {n_non} non-members the lowest non-zero FPR is {1 / n_non:.3f}, so TPR at 1% FPR is coarse."
    return MembershipEvidence(
        members=len(member_losses), non_members=n_non, attacks=attacks,
        auc=max(a.auc for a in attacks), tpr_at_1pct_fpr=max(a.tpr_at_1pct_fpr for a in attacks), note=note,
    )


def write_losses(path, *, members: tuple[Sequence[int], Sequence[str], Sequence[float]],
                 non_members: tuple[Sequence[int], Sequence[str], Sequence[float]]) -> None:
    """The per-record losses (nats) behind the attack: record, member (1/0), label, loss."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record", "member", "label", "loss"])
        for flag, (records, labels, losses) in ((1, members), (0, non_members)):
            for record, label, loss in zip(records, labels, losses):
                writer.writerow([record, flag, label, f"{loss:.6f}"])
