"""The stages of a run. Each records what happened into the evidence; none decides.

declare -> scan+redact -> train -> assess. ``api.run`` wires them; reports and the
gate come after.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

from .config import RunConfig
from .data.datasheet import Datasheet
from .data.fingerprint import sha256_file, sha256_texts
from .evidence import (
    AssessmentEvidence, DeclarationEvidence, PrivacyEvidence, ScanEvidence, TrainingEvidence, UtilityEvidence,
)
from .policy.schema import PiiParams, PrivacyParams

if TYPE_CHECKING:
    from .scan.columns import ColumnValues

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
    plugins: tuple[str, ...] = (),
    other_columns: Sequence[ColumnValues] = (),
    not_text_columns: Sequence[str] = (),
) -> ScanOutcome:
    """Scan ``texts``, apply the policy's actions, and re-scan the redacted texts; scan
    ``other_columns`` (label, sensitive features, any other text column) by distinct value
    into the per-column breakdown (never redacted).

    ``plugins``: the policy's plugin modules, whose recognizers join the analyzer;
    ``not_text_columns``: columns holding no text, recorded as not scanned."""
    import os

    from .scan import residual, scan_texts, summarise
    from .scan.columns import allowed_in_columns, not_scanned_limitation, scan_columns, text_column_scan
    from .scan.engine import cached_analyzer
    from .scan.redact import redact_and_verify
    from .scan.plan import plan_entities
    from .scan.scanner import Scanner, ScanSettings

    started = time.perf_counter()
    progress.stage("Building the offline Presidio engine")
    analyzer, info = cached_analyzer(recognizers=params.recognizers, countries=params.countries, plugins=plugins)
    plan = plan_entities(params, info)
    entities = list(plan.entities)
    limitations = list(plan.limitations) + not_scanned_limitation(not_text_columns)
    workers = min(2, os.cpu_count() or 1)

    def action_for(entity: str) -> str:
        return params.actions.get(entity, params.default_action)

    unique = len({t for t in texts if t})
    advance = progress.track("Scanning for PII", len(texts))
    hits = scan_texts(texts, analyzer=analyzer, entities=entities, score_threshold=params.score_threshold,
                      score_thresholds=params.score_thresholds, on_progress=advance, workers=workers)
    summaries = summarise(texts, hits, action_for=action_for, threshold_for=params.threshold_for)
    blocked = [s.entity_type for s in summaries if s.action == "block"]
    with_pii = sum(1 for h in hits if h)
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
        records_with_pii=with_pii,
        blocked_entities=blocked,
        seconds=0.0,
        columns=[text_column_scan(column, records=len(texts), distinct=unique, records_with_pii=with_pii,
                                  entities=summaries)],
    )
    if other_columns:
        progress.stage(f"Scanning {len(other_columns)} other column(s) by distinct value")
        settings = ScanSettings.of_policy(params, entities)
        with Scanner(analyzer, settings, workers=workers) as scanner:
            evidence.columns += scan_columns(other_columns, scanner, allowed=allowed_in_columns(params.actions),
                                             threshold_for=params.threshold_for)
    if blocked:
        evidence.seconds = round(time.perf_counter() - started, 3)
        return ScanOutcome(evidence=evidence, redacted=list(texts))
    progress.stage("Redacting and re-scanning")
    allowed = {s.entity_type for s in summaries if s.action == "allow"} | {
        e for e in entities if action_for(e) == "allow"
    }

    def rescan(batch: list[str], passno: int) -> list[list]:
        advance = progress.track(f"Re-scanning redacted records (pass {passno})", len(batch))
        return scan_texts(batch, analyzer=analyzer, entities=entities, score_threshold=params.score_threshold,
                          score_thresholds=params.score_thresholds, on_progress=advance, workers=workers)

    verified = redact_and_verify(texts, hits, rescan=rescan, action_for=action_for, allowed=allowed,
                                 hash_key=hash_key)
    redacted = verified.texts
    evidence.redaction_passes = verified.passes
    evidence.residual = residual(verified.hits, ignore=allowed, total=len(texts))
    evidence.seconds = round(time.perf_counter() - started, 3)
    return ScanOutcome(evidence=evidence, redacted=redacted)


def scan_and_redact_images(
    root: Path,
    files: list[str],
    *,
    params: PiiParams,
    hash_key: bytes | None,
    progress: Progress,
    redact_to: Path,
    plugins: tuple[str, ...] = (),
) -> ScanOutcome:
    """Scan an ImageFolder's file names and metadata, write the redacted copy (renamed,
    metadata stripped) to ``redact_to`` and re-scan it; ``redacted`` maps each of ``files``
    (paths relative to ``root``) to its path under ``redact_to``. Nothing is written when the
    policy blocks a type that was found."""
    from .scan.images import scan_image_folder

    progress.stage("Scanning image file names and metadata, writing the redacted copy")
    evidence, plan = scan_image_folder(root, params, hash_key=hash_key, redact_to=redact_to,
                                       workers=min(2, os.cpu_count() or 1), plugins=plugins)
    if evidence.blocked_entities:
        return ScanOutcome(evidence=evidence, redacted=list(files))
    base = Path(root).resolve()
    renamed = {Path(a.source).resolve().relative_to(base).as_posix(): f"{a.class_name}/{a.target_name}"
               for a in plan.actions}
    return ScanOutcome(evidence=evidence, redacted=[renamed[f] for f in files])


def redacted_fingerprint(texts: list[str]) -> str:
    return sha256_texts(texts)


@dataclass(frozen=True)
class Split:
    train: list[int]
    test: list[int]
    stratified: bool = True  # False: a class was too small to stratify, so the split is plain random


def split_indices(labels: list[str], *, test_size: float, seed: int) -> Split:
    """Stratified split of record indices (plain random when a class is too small)."""
    from sklearn.model_selection import train_test_split

    indices = list(range(len(labels)))
    try:
        train, test = train_test_split(indices, test_size=test_size, random_state=seed, stratify=labels)
    except ValueError:
        train, test = train_test_split(indices, test_size=test_size, random_state=seed)
        return Split(train=sorted(train), test=sorted(test), stratified=False)
    return Split(train=sorted(train), test=sorted(test))



@dataclass(frozen=True)
class Trained:
    """A fine-tuned model, its tokenizer, and what training recorded."""

    model: object
    tokenizer: object
    evidence: TrainingEvidence
    privacy: PrivacyEvidence
    predict: Callable | None = None  # (records, labels) -> class probabilities; None: tokenise texts


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
    """Fine-tune the base model on (redacted) texts, with DP-SGD when the policy requires it.

    With ``training.validation_size`` a stratified share of the training records is held out
    for early stopping (not trained on). Checkpoints go to ``training.checkpoint_dir``
    (default ``<output root>/checkpoints/<plan hash>``); ``training.resume`` continues there."""
    import warnings

    from .train.image_stage import is_image_data

    if is_image_data(config.data.path):
        from .train.image_stage import train_images

        return train_images(texts, labels, classes=classes, config=config, privacy=privacy, progress=progress)
    from .config import saved_config_json
    from .data.fingerprint import sha256_tree
    from .train import (
        TrainSettings, count_parameters, load_text_classifier, resolve_text_model, train_classifier, unwrap,
    )
    from .train.device import pick_device, seed_everything
    from .train.models import describe_freeze
    from .train.privacy import fix_for_dp
    from .train.records import plan_fingerprint, privacy_evidence as build_privacy_evidence

    seed_everything(config.training.seed)
    device = pick_device(config.training.device)
    base = resolve_text_model(config.model.base)
    progress.stage(f"Loading base model {config.model.base}")
    model, tokenizer = load_text_classifier(
        base, labels=classes, freeze=config.model.freeze, freeze_layers=config.model.freeze_layers,
        head=config.model.head,
    )
    index = {c: i for i, c in enumerate(classes)}
    validation = None
    if config.training.validation_size > 0:
        held = split_indices(labels, test_size=config.training.validation_size, seed=config.training.seed)
        validation = encode(tokenizer, [texts[i] for i in held.test], [index[labels[i]] for i in held.test],
                            config.model.max_length)
        texts, labels = [texts[i] for i in held.train], [labels[i] for i in held.train]
    dataset = encode(tokenizer, texts, [index[y] for y in labels], config.model.max_length)
    dp = privacy_settings(privacy, config, len(texts))
    replaced: list[str] = []
    if dp is not None:
        model, replaced = fix_for_dp(model)
    total, trainable = count_parameters(model)
    plan = plan_fingerprint(model=config.model.model_dump(mode="json"), base=sha256_tree(base),
                            training=config.training.model_dump(mode="json", exclude={"resume", "device", "checkpoint_dir"}),
                            dp=dp.__dict__ if dp else None, data=sha256_texts([f"{t}\x00{y}" for t, y in zip(texts, labels)]))
    checkpoints = config.training.checkpoint_dir or config.output.root / "checkpoints" / plan[:16]
    settings = TrainSettings(
        epochs=config.training.epochs,
        batch_size=config.training.batch_size,
        learning_rate=config.training.learning_rate,
        weight_decay=config.training.weight_decay,
        seed=config.training.seed,
        device=device,
        scheduler=config.training.scheduler,
        patience=config.training.patience,
        checkpoint_dir=checkpoints,
        resume=config.training.resume,
        plan=plan,
        max_physical_batch_size=config.training.max_physical_batch_size,
        run_config=saved_config_json(config),
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
            max_epsilon=dp.target_epsilon if dp else None, on_step=on_step, validation=validation,
        )
    model = unwrap(model)
    frozen = describe_freeze(config.model.freeze, config.model.freeze_layers)
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
        head=config.model.head,
        scheduler=settings.scheduler,
        weight_decay=settings.weight_decay,
        validation_records=len(validation) if validation is not None else 0,
        validation_accuracy=result.validation_accuracy,
        best_epoch=result.best_epoch,
        checkpoint_dir=str(checkpoints),
        resumed_from_step=result.resumed_from_step,
    )
    privacy_evidence = build_privacy_evidence(dp, result, replaced_modules=replaced)
    return Trained(model=model, tokenizer=tokenizer, evidence=evidence, privacy=privacy_evidence)


def assess_stage(
    trained: Trained,
    texts: list[str],
    labels: list[str],
    *,
    records: list[int],
    groups: dict[str, list],
    classes: list[str],
    favourable_label: str | None,
    settings,
    config: RunConfig,
    out_dir: Path,
    members: tuple[list[int], list[str], list[str]] | None = None,
    baseline: Path | None = None,
) -> AssessmentEvidence:
    """Predict the held-out split, save predictions and scores, and measure performance and
    fairness (``settings``: an ``assess.FairnessPlan``). With ``members`` (record indices,
    texts and labels of training records) also run the membership-inference audit, saving
    the per-record losses; with ``baseline`` (a previous audit.json) compare utility."""
    from .assess import load_reference, membership_audit, per_example_loss
    from .assess import utility_against
    from .assess.membership import write_losses

    index = {c: i for i, c in enumerate(classes)}

    def probabilities(batch_texts: list[str], batch_labels: list[str]):
        return _probabilities(trained, batch_texts, batch_labels, classes, config)

    evidence, probs = _assess_model(trained, texts, labels, records=records, groups=groups, classes=classes,
                                    favourable_label=favourable_label, settings=settings, config=config,
                                    path=out_dir / "predictions.csv")
    if members is not None and (len(members[0]) < 2 or len(records) < 4):
        evidence.membership_not_run = (f"skipped: {len(members[0])} members and {len(records)} non-members; "
                                       "the audit needs at least 2 and 4")
    elif members is not None:
        member_records, member_texts, member_labels = members
        member_loss = per_example_loss(probabilities(member_texts, member_labels), [index[y] for y in member_labels])
        test_loss = per_example_loss(probs, [index[y] for y in labels])
        evidence.membership = membership_audit(
            member_losses=member_loss.tolist(), member_labels=member_labels,
            non_member_losses=test_loss.tolist(), non_member_labels=labels, seed=config.training.seed,
        )
        write_losses(out_dir / "membership_losses.csv", members=(member_records, member_labels, member_loss),
                     non_members=(records, labels, test_loss))
    if baseline is not None:
        evidence.utility = utility_against(evidence, reference=load_reference(baseline), path=baseline)
    return evidence


def _probabilities(trained: Trained, texts: list[str], labels: list[str], classes: list[str], config: RunConfig):
    """Class probabilities of ``trained`` for ``texts`` (numpy, [N, classes]); image models
    bring their own ``predict`` (the records are image paths)."""
    from .train import predict_proba
    from .train.device import pick_device

    if trained.predict is not None:
        return trained.predict(texts, labels)
    index = {c: i for i, c in enumerate(classes)}
    dataset = encode(trained.tokenizer, texts, [index[y] for y in labels], config.model.max_length)
    return predict_proba(trained.model, dataset, batch_size=64, device=pick_device(config.training.device))


def _assess_model(trained: Trained, texts: list[str], labels: list[str], *, records: list[int], groups: dict[str, list],
                  classes: list[str], favourable_label: str | None, settings, config: RunConfig, path: Path):
    """Predict ``texts``, save predictions and scores to ``path``, and assess them."""
    from .assess import assess_predictions
    from .assess.predictions import write_predictions

    probs = _probabilities(trained, texts, labels, classes, config)
    predicted = [classes[int(i)] for i in probs.argmax(axis=1)]
    write_predictions(path, records=records, y_true=labels, y_pred=predicted, classes=classes, probabilities=probs,
                      groups=groups)
    evidence = assess_predictions(
        y_true=labels, y_pred=predicted, classes=classes, favourable_label=favourable_label, groups=groups,
        settings=settings, probabilities=probs, predictions_path=path.name, predictions_sha256=sha256_file(path),
        score_source="the model's probability of the favourable label (score_<label> in the predictions)",
    )
    return evidence, probs


REFERENCE_PREDICTIONS = "reference_predictions.csv"


def non_private_reference(
    trained: Trained,
    assessment: AssessmentEvidence,
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    *,
    records: list[int],
    groups: dict[str, list],
    classes: list[str],
    favourable_label: str,
    settings,
    config: RunConfig,
    out_dir: Path,
    progress: Progress,
) -> UtilityEvidence:
    """Utility under privacy against an in-run reference: the same config (split, seed, head,
    freezing, epochs) trained without DP and assessed on the same held-out split, its
    predictions saved as ``reference_predictions.csv``. A run without DP is its own reference."""
    from .assess import compare_utility

    if not trained.privacy.enabled:
        return compare_utility(
            assessment, reference_assessment=assessment.model_dump(mode="json"), reference="in-run: this run",
            reference_sha256=assessment.predictions_sha256, in_run=True,
            note="this run trained without DP, so it is its own non-private reference (no second training)")
    explicit = config.training.checkpoint_dir
    training = config.training.model_copy(update={
        "resume": False, "checkpoint_dir": explicit / "non-private-reference" if explicit else None})
    reference_config = config.model_copy(update={"training": training})
    progress.stage("Reference: fine-tuning the same settings without DP")
    reference = train_stage(train[0], train[1], classes=classes, config=reference_config, privacy=None,
                            progress=progress)
    path = out_dir / REFERENCE_PREDICTIONS
    ref_assessment, _ = _assess_model(reference, test[0], test[1], records=records, groups=groups, classes=classes,
                                      favourable_label=favourable_label, settings=settings, config=config, path=path)
    note = (f"in-run non-private reference: {reference.evidence.steps} steps without DP "
            f"({reference.evidence.seconds:.1f} s), macro F1 {ref_assessment.f1_macro:.4f}; "
            f"predictions in {REFERENCE_PREDICTIONS}")
    if trained.privacy.replaced_modules:
        note += "; the DP model's " + ", ".join(trained.privacy.replaced_modules) + " were replaced for Opacus, " \
                "the reference keeps the originals"
    return compare_utility(assessment, reference_assessment=ref_assessment.model_dump(mode="json"),
                           reference="in-run non-private reference", reference_sha256=sha256_file(path),
                           in_run=True, note=note)
