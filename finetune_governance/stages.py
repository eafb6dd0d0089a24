"""The stages of a run. Each records what happened into the evidence; none decides.

declare -> scan+redact -> train -> assess. ``api.run`` wires them; reports and the
gate come after.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from .config import RunConfig
from .data.datasheet import Datasheet
from .data.fingerprint import sha256_file, sha256_texts
from .evidence import AssessmentEvidence, DeclarationEvidence, PrivacyEvidence, ScanEvidence, TrainingEvidence
from .policy.schema import PiiParams, PrivacyParams

log = logging.getLogger("finetune_governance")


class Progress(Protocol):
    """How stages report progress (the CLI shows rich bars; the API default is silent)."""

    def stage(self, message: str) -> None: ...

    def track(self, description: str, total: int) -> Callable[[int], None]: ...

    def done(self) -> None: ...


class SilentProgress:
    def stage(self, message: str) -> None:
        log.info(message)

    def track(self, description: str, total: int) -> Callable[[int], None]:
        return lambda n: None

    def done(self) -> None:
        return None


def declare(datasheet: Datasheet, path: Path) -> DeclarationEvidence:
    """Record the datasheet's declarations and its hash."""
    return DeclarationEvidence(
        datasheet_path=str(path), datasheet_sha256=sha256_file(path), declarations=datasheet.model_dump(mode="json")
    )


@dataclass(frozen=True)
class ScanOutcome:
    evidence: ScanEvidence
    redacted: list[str]


def scan_and_redact(
    texts: list[str],
    *,
    column: str,
    params: PiiParams,
    hash_key: bytes | None,
    progress: Progress,
) -> ScanOutcome:
    """Scan ``texts``, apply the policy's actions, and re-scan the redacted texts."""
    from .scan import build_analyzer, redact_texts, residual, scan_texts, summarise

    started = time.perf_counter()
    progress.stage("Building the offline Presidio engine")
    analyzer, info = build_analyzer(recognizers=params.recognizers)
    entities = [e for e in (params.entities or info.supported_entities) if e in info.supported_entities
                or any(r.entity == e for r in params.recognizers)]
    entities = sorted(set(entities) | {r.entity for r in params.recognizers})
    missing = sorted(set(params.entities or ()) - set(entities))
    limitations = list(info.limitations) + [f"{e}: no recognizer available, not scanned" for e in missing]

    def action_for(entity: str) -> str:
        return params.actions.get(entity, params.default_action)

    unique = len({t for t in texts if t})
    advance = progress.track("Scanning for PII", unique)
    hits = scan_texts(texts, analyzer=analyzer, entities=entities, score_threshold=params.score_threshold, on_progress=advance)
    summaries = summarise(texts, hits, action_for=action_for)
    blocked = [s.entity_type for s in summaries if s.action == "block"]
    evidence = ScanEvidence(
        column=column,
        records_scanned=len(texts),
        unique_texts=unique,
        spacy_model=info.spacy_model,
        presidio_version=info.presidio_version,
        entities_scanned=entities,
        score_threshold=params.score_threshold,
        limitations=limitations,
        entities=summaries,
        records_with_pii=sum(1 for h in hits if h),
        blocked_entities=blocked,
        seconds=0.0,
    )
    if blocked:
        evidence.seconds = round(time.perf_counter() - started, 3)
        return ScanOutcome(evidence=evidence, redacted=list(texts))
    progress.stage("Redacting and re-scanning")
    redacted = redact_texts(texts, hits, action_for=action_for, hash_key=hash_key)
    changed = [i for i, (a, b) in enumerate(zip(texts, redacted)) if a != b]
    advance = progress.track("Re-scanning redacted records", len({redacted[i] for i in changed}))
    rescanned = scan_texts([redacted[i] for i in changed], analyzer=analyzer, entities=entities,
                           score_threshold=params.score_threshold, on_progress=advance)
    allowed = {s.entity_type for s in summaries if s.action == "allow"} | {
        e for e in entities if action_for(e) == "allow"
    }
    evidence.residual = residual(rescanned, ignore=allowed, total=len(texts))
    evidence.seconds = round(time.perf_counter() - started, 3)
    return ScanOutcome(evidence=evidence, redacted=redacted)


def redacted_fingerprint(texts: list[str]) -> str:
    return sha256_texts(texts)


@dataclass(frozen=True)
class Split:
    train: list[int]
    test: list[int]


def split_indices(labels: list[str], *, test_size: float, seed: int) -> Split:
    """Stratified split of record indices (plain random when a class is too small)."""
    from sklearn.model_selection import train_test_split

    indices = list(range(len(labels)))
    try:
        train, test = train_test_split(indices, test_size=test_size, random_state=seed, stratify=labels)
    except ValueError:
        train, test = train_test_split(indices, test_size=test_size, random_state=seed)
    return Split(train=sorted(train), test=sorted(test))



@dataclass(frozen=True)
class Trained:
    """A fine-tuned model, its tokenizer, and what training recorded."""

    model: object
    tokenizer: object
    evidence: TrainingEvidence
    privacy: PrivacyEvidence


def privacy_settings(params: PrivacyParams | None, config: RunConfig, train_records: int):
    """DP settings when the policy requires DP, else None. Delta defaults to 1/(10 N)."""
    from .train import PrivacySettings

    if params is None or params.differential_privacy != "required":
        return None
    delta = config.training.delta or 1.0 / (10 * train_records)
    if params.max_delta != "1/N":
        delta = min(delta, float(params.max_delta))
    return PrivacySettings(
        target_epsilon=float(params.max_epsilon),
        delta=delta,
        max_grad_norm=params.max_grad_norm,
        grad_sample_mode=config.training.grad_sample_mode,
        accountant=config.training.accountant,
    )


def encode(tokenizer, texts: list[str], labels: list[int], max_length: int):
    """A TensorDataset of (input_ids, attention_mask, labels), padded to ``max_length``."""
    import torch
    from torch.utils.data import TensorDataset

    enc = tokenizer(texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
    return TensorDataset(enc["input_ids"], enc["attention_mask"], torch.tensor(labels, dtype=torch.long))


def train_stage(
    texts: list[str],
    labels: list[str],
    *,
    classes: list[str],
    config: RunConfig,
    privacy: PrivacyParams | None,
    progress: Progress,
) -> Trained:
    """Fine-tune the base model on (redacted) texts, with DP-SGD when the policy requires it."""
    import warnings

    from .data.fingerprint import sha256_tree
    from .train import (
        TrainSettings, count_parameters, load_text_classifier, resolve_text_model, train_classifier, unwrap,
    )
    from .train.device import pick_device, seed_everything

    seed_everything(config.training.seed)
    device = pick_device(config.training.device)
    base = resolve_text_model(config.model.base)
    progress.stage(f"Loading base model {config.model.base}")
    model, tokenizer = load_text_classifier(
        base, labels=classes, freeze=config.model.freeze, freeze_layers=config.model.freeze_layers
    )
    total, trainable = count_parameters(model)
    index = {c: i for i, c in enumerate(classes)}
    dataset = encode(tokenizer, texts, [index[y] for y in labels], config.model.max_length)
    dp = privacy_settings(privacy, config, len(texts))
    settings = TrainSettings(
        epochs=config.training.epochs,
        batch_size=config.training.batch_size,
        learning_rate=config.training.learning_rate,
        weight_decay=config.training.weight_decay,
        seed=config.training.seed,
        device=device,
    )
    bar: dict[str, Callable[[int], None]] = {}

    def on_step(step: int, total_steps: int) -> None:
        if "advance" not in bar:
            bar["advance"] = progress.track("Training" + (" (DP-SGD)" if dp else ""), total_steps)
        bar["advance"](1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Opacus' secure-RNG and hook notices; DP facts are recorded below
        result = train_classifier(
            model, dataset, settings=settings, privacy=dp,
            max_epsilon=dp.target_epsilon if dp else None, on_step=on_step,
        )
    model = unwrap(model)
    frozen = config.model.freeze + (f" + first {config.model.freeze_layers} layers" if config.model.freeze_layers else "")
    evidence = TrainingEvidence(
        base_model=str(config.model.base),
        base_model_sha256=sha256_tree(base),
        architecture=type(model).__name__,
        parameters_total=total,
        parameters_trainable=trainable,
        frozen=frozen,
        device=device,
        epochs=settings.epochs,
        steps=result.steps,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        max_length=config.model.max_length,
        seed=settings.seed,
        loss_per_epoch=result.loss_per_epoch,
        stop_reason=result.stop_reason,
        seconds=result.seconds,
    )
    if dp is None:
        privacy_evidence = PrivacyEvidence(enabled=False, note="the policy does not require differential privacy")
    else:
        from .train import epsilon_from_history

        privacy_evidence = PrivacyEvidence(
            enabled=True,
            mechanism="DP-SGD (Opacus)",
            accountant=dp.accountant,
            grad_sample_mode=dp.grad_sample_mode,
            poisson_sampling=True,
            target_epsilon=dp.target_epsilon,
            delta=dp.delta,
            noise_multiplier=result.noise_multiplier,
            max_grad_norm=dp.max_grad_norm,
            sample_rate=result.sample_rate,
            steps=result.steps,
            epsilon=round(epsilon_from_history(result.history, delta=dp.delta, accountant=dp.accountant), 6),
            history=[{"noise_multiplier": h.noise_multiplier, "sample_rate": h.sample_rate, "steps": h.steps}
                     for h in result.history],
            epsilon_curve=[[float(s), e] for s, e in result.epsilon_curve],
            note="The (epsilon, delta) guarantee assumes Poisson sampling of the training records, "
                 "which was used; it covers each training record (record-level DP).",
        )
    return Trained(model=model, tokenizer=tokenizer, evidence=evidence, privacy=privacy_evidence)


def assess_stage(
    trained: Trained,
    texts: list[str],
    labels: list[str],
    *,
    records: list[int],
    groups: dict[str, list[str]],
    classes: list[str],
    favourable_label: str,
    min_group_size: int,
    config: RunConfig,
    out_dir: Path,
) -> AssessmentEvidence:
    """Predict the held-out split, save the predictions, and measure performance and fairness."""
    import csv

    from .assess import feature_fairness, performance
    from .train import predict_proba
    from .train.device import pick_device

    index = {c: i for i, c in enumerate(classes)}
    dataset = encode(trained.tokenizer, texts, [index[y] for y in labels], config.model.max_length)
    probs = predict_proba(trained.model, dataset, batch_size=64, device=pick_device(config.training.device))
    predicted = [classes[int(i)] for i in probs.argmax(axis=1)]
    path = out_dir / "predictions.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record", "label", "prediction", *[f"score_{c}" for c in classes], *groups])
        for row, (record, label, pred) in enumerate(zip(records, labels, predicted)):
            writer.writerow([record, label, pred, *[f"{p:.6f}" for p in probs[row]], *[groups[g][row] for g in groups]])
    perf = performance(labels, predicted, classes=classes)
    fairness = [
        feature_fairness(feature=name, groups=values, y_true=labels, y_pred=predicted,
                         favourable_label=favourable_label, min_group_size=min_group_size)
        for name, values in groups.items()
    ]
    return AssessmentEvidence(
        test_records=len(labels),
        favourable_label=favourable_label,
        accuracy=perf.accuracy,
        f1_macro=perf.f1_macro,
        per_class_f1=perf.per_class_f1,
        confusion_matrix=perf.confusion_matrix,
        fairness=fairness,
        min_group_size=min_group_size,
        predictions_path=path.name,
        predictions_sha256=sha256_file(path),
    )
