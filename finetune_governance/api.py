"""The public Python entry point: ``run()`` a governed fine-tune end to end."""

from __future__ import annotations

import logging
import secrets
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .checks import evaluate, plugin_failure_finding
from .checks.pii import read_columns_stop_reason
from .config import RunConfig
from .data.datasets import FORMATS, load_table
from .data.datasheet import load_datasheet
from .data.fingerprint import sha256_file, sha256_texts, sha256_tree
from .environment import environment, git_commit, git_dirty
from .evidence import DatasetEvidence, PolicyEvidence, RunEvidence
from .gate import verdict
from .policy import load_policy
from .plugins import PluginRecognizerError
from .plugins.record import attach_plugins, record_plugin_failures, render_sections, run_collectors
from .policy.schema import ResolvedPolicy
from .assess import fairness_plan, resolve_favourable_label
from .report import write_reports
from .stages import (Progress, SilentProgress, assess_stage, declare, scan_and_redact, scan_and_redact_images,
                     split_indices, train_stage)

log = logging.getLogger("finetune_governance")
#: the language the PII scan analyses text in (scan/engine.py builds an English-only analyzer)
SCAN_LANGUAGE = "en"


@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs; built by the CLI or by a user's own code."""

    policy: str | Path
    config: RunConfig
    hash_key: bytes | None = None
    run_id: str | None = None
    baseline: Path | None = None  # a previous approved run's audit.json, for the utility rules
    waivers: Path | None = None  # a waivers YAML (policy/waivers.py): approved, expiring exceptions to rules
    signing_key: Path | None = None  # Ed25519 private key that signs the manifest (else signing.signing_key / env)
    command: str = field(default_factory=lambda: shlex.join(["governed-finetune", *sys.argv[1:]]))
    working_dir: Path = field(default_factory=Path.cwd)  # reports show paths under it relative to it


@dataclass(frozen=True)
class RunOutcome:
    evidence: RunEvidence
    report_dir: Path
    exit_code: int


def new_run_id() -> str:
    """Sortable and unique: UTC time plus 6 random hex digits."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def policy_evidence(policy: ResolvedPolicy) -> PolicyEvidence:
    from .evidence import SourceLocation
    from .policy.loader import rule_sources

    return PolicyEvidence(
        name=policy.name, title=policy.title, version=policy.version, path=policy.path, sha256=policy.sha256,
        sources=policy.sources, rules=[r.model_dump(mode="json") for r in policy.rules],
        disabled=[d.model_dump() for d in policy.disabled],
        rule_sources={rid: SourceLocation(path=path, line=line, column=column)
                      for rid, (path, line, column) in rule_sources(policy).items()},
    )


def decide(policy: ResolvedPolicy, evidence: RunEvidence, host, *, waivers: Path | None = None) -> None:
    """Evaluate ``policy`` on ``evidence`` into its findings (plugin report sections rendered, the
    waivers file applied as of the run's start date), then the verdict and exit code."""
    view = None
    if waivers is not None:
        from .policy.waivers import apply_waivers, load_waivers

        waiver_set, run_day = load_waivers(waivers), datetime.fromisoformat(evidence.started_at).date()
        view = lambda found: apply_waivers(found, waiver_set, today=run_day)[0]  # noqa: E731
    evidence.findings = evaluate(policy, evidence, host, view=view)
    evidence.findings += [plugin_failure_finding(f) for f in render_sections(host, evidence)]
    if waivers is not None:
        evidence.findings, waiver_notes = apply_waivers(evidence.findings, waiver_set, today=run_day)
        evidence.warnings.extend(waiver_notes)
    evidence.verdict, evidence.exit_code = verdict(evidence.findings)


def _privacy_params(policy: ResolvedPolicy):
    rules = policy.rules_of("privacy")
    return rules[0].params if rules else None


def table_columns(dataset) -> tuple[list, list[str]]:
    """The dataset's columns besides the text column to scan (``ColumnValues``), and those
    holding no text (not scanned)."""
    from .scan.columns import columns_to_scan

    frame = dataset.frame
    return columns_to_scan(((c, frame[c].tolist()) for c in frame.columns), text_column=dataset.text_column,
                           label_column=dataset.label_column, sensitive_features=dataset.sensitive_features)


def withhold_read_values(evidence: RunEvidence, columns) -> None:
    """Mask the label names in the dataset evidence when the label column holds PII (group
    names are only written by the assessment, which then does not run)."""
    from .scan.columns import masked_names

    if evidence.dataset is not None and any(c.role == "label" for c in columns):
        masked = masked_names(evidence.dataset.classes)
        evidence.dataset.classes = [masked[c] for c in evidence.dataset.classes]
        evidence.dataset.label_counts = {masked[k]: v for k, v in evidence.dataset.label_counts.items()}


def reads_baseline(policy: ResolvedPolicy) -> bool:
    """True when a rule of ``policy`` compares the run with a ``--baseline`` run."""
    return bool(policy.rules_of("regression")) or any(
        r.params.reference == "baseline" for r in policy.rules_of("utility"))


def _member_sample(train: list[int], non_members: int, *, seed: int, cap: int = 1000) -> list[int]:
    """Training records for the membership audit: about as many as the non-members (sorted)."""
    import random

    size = min(len(train), max(non_members, 100), cap)
    return sorted(random.Random(seed).sample(train, size))


def run(request: RunRequest, *, progress: Progress | None = None) -> RunOutcome:
    """Declare, scan and redact, train, assess, check and report. Input errors raise
    a ``GovernanceError`` before anything is written."""
    progress = progress or SilentProgress()
    config = request.config
    policy = load_policy(request.policy)
    if request.waivers is not None:
        from .policy.waivers import load_waivers

        load_waivers(request.waivers)  # a bad waivers file is an input error before anything runs
    if request.baseline is not None:
        from .assess import load_reference

        load_reference(request.baseline)  # a bad --baseline is an input error before anything runs
    if request.signing_key is not None:
        from .report.signing import load_private_key

        load_private_key(request.signing_key)  # a bad key is an input error before anything runs
    datasheet = load_datasheet(config.data.datasheet)
    columns = datasheet.columns
    text_column = config.data.text_column or columns.text
    label_column = config.data.label_column or columns.label
    features = config.data.sensitive_features if config.data.sensitive_features is not None else columns.sensitive_features
    from .train.image_stage import check_model, is_image_data, load_image_table

    images = is_image_data(config.data.path)  # an ImageFolder: records are image files, scanned by name
    dataset = (load_image_table if images else load_table)(
        config.data.path, text_column=text_column, label_column=label_column, sensitive_features=features,
        limit=config.data.limit)
    check_model(config)  # an unknown model or missing weights file is an input error before anything runs
    classes = dataset.classes
    # every fairness rule needs a favourable label (its own or the datasheet's), one of the labels; none is assumed
    favourable = resolve_favourable_label(policy, declared=datasheet.favourable_label, classes=classes,
                                          declared_as=f"favourable_label in the datasheet {config.data.datasheet}")

    run_id = request.run_id or new_run_id()
    out_dir = config.output.root / run_id
    out_dir.mkdir(parents=True, exist_ok=False)
    from .config import SAVED_CONFIG, saved_config_json

    (out_dir / SAVED_CONFIG).write_text(saved_config_json(config), encoding="utf-8")  # for `run --resume RUN_DIR`
    handler = logging.FileHandler(out_dir / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # the run log is the file; the console shows progress only
    # an image run trains on a redacted copy (renamed, metadata stripped), removed afterwards
    workdir = Path(tempfile.mkdtemp(prefix="ftg-redacted-images-")) if dataset.path.is_dir() else None
    try:
        return _run_stages(request, progress, policy, datasheet, dataset, classes, favourable, run_id, out_dir,
                           workdir)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        log.removeHandler(handler)
        handler.close()
        progress.done()


def _run_stages(request, progress, policy, datasheet, dataset, classes, favourable, run_id, out_dir,
                workdir: Path | None = None) -> RunOutcome:
    config: RunConfig = request.config
    from .train.device import pick_device

    evidence = RunEvidence(
        run_id=run_id,
        tool_version=__version__,
        git_commit=git_commit(), git_dirty=git_dirty(),
        started_at=_now(),
        command=request.command,
        config=config.model_dump(mode="json"),
        environment=environment(pick_device(config.training.device)),
        policy=policy_evidence(policy),
        working_dir=str(Path(request.working_dir).resolve()),
    )
    host = attach_plugins(evidence, policy)
    if request.baseline is not None:
        from .assess.baseline import baseline_evidence
        from .assess.utility import load_reference

        evidence.baseline = baseline_evidence(load_reference(request.baseline), path=request.baseline)
        if not reads_baseline(policy):
            evidence.warnings.append(
                f"--baseline {request.baseline} was given, but policy '{policy.name}' has no rule that reads it "
                "(a regression rule, or a utility rule with reference: baseline): it is recorded, not checked")
    log.info("run %s: policy %s (%s), data %s, %d records", run_id, policy.name, policy.sha256[:12],
             dataset.path, len(dataset))

    progress.stage("Stage 1/4: checking declarations")
    evidence.declarations = declare(datasheet, config.data.datasheet)
    evidence.stages_run.append("declare")
    run_collectors(host, evidence, stage="declare", policy=policy, data_path=str(dataset.path))

    split = split_indices(dataset.labels, test_size=config.training.test_size, seed=config.training.seed)
    evidence.dataset = DatasetEvidence(
        path=str(dataset.path), sha256=sha256_tree(dataset.path) if dataset.path.is_dir() else sha256_file(dataset.path),
        format="imagefolder" if dataset.path.is_dir() else FORMATS[dataset.path.suffix.lower()],
        records=len(dataset), text_column=dataset.text_column, label_column=dataset.label_column,
        sensitive_features=list(dataset.sensitive_features), classes=classes,
        label_counts={c: dataset.labels.count(c) for c in classes},
        train_records=len(split.train), test_records=len(split.test), split_seed=config.training.seed,
        split_method="stratified" if split.stratified else "random",
        language=None if dataset.path.is_dir() else SCAN_LANGUAGE,
    )

    progress.stage("Stage 2/4: scanning for PII and redacting")
    try:
        if workdir is not None:
            scan = scan_and_redact_images(dataset.path, dataset.texts, params=policy.pii_params(),
                                          hash_key=request.hash_key, progress=progress, redact_to=workdir / "images",
                                          plugins=tuple(policy.plugins))
        else:
            other, not_text = table_columns(dataset)
            scan = scan_and_redact(dataset.texts, column=dataset.text_column, params=policy.pii_params(),
                                   hash_key=request.hash_key, progress=progress, plugins=tuple(policy.plugins),
                                   other_columns=other, not_text_columns=not_text)
    except PluginRecognizerError as exc:  # the scan is incomplete: record it, train nothing, fail the gate
        scan = None
        record_plugin_failures(evidence, [exc.failure])
        evidence.stopped_early = f"the PII scan did not complete: {exc}"
    read_pii = scan.evidence.read_columns_with_pii if scan is not None else []
    if read_pii:  # their values would be written into the reports: withhold them from here on
        withhold_read_values(evidence, read_pii)
    if scan is not None:
        evidence.scan = scan.evidence
        evidence.stages_run.append("scan")
        run_collectors(host, evidence, stage="scan", policy=policy, data_path=str(dataset.path),
                       texts=None if scan.evidence.blocked_entities else scan.redacted,
                       labels=None if any(c.role == "label" for c in read_pii) else dataset.labels)
        log.info("scan: %d of %d records with PII; entities %s", scan.evidence.records_with_pii, len(dataset),
                 {e.entity_type: e.count for e in scan.evidence.entities})

    failed_plugins = sorted({f.plugin for f in evidence.plugins.failures}) if evidence.plugins else []
    if scan is None:
        log.warning("stopped before training: %s", evidence.stopped_early)
    elif scan.evidence.blocked_entities:
        evidence.stopped_early = "the policy blocks entity types found by the scan: " + ", ".join(
            scan.evidence.blocked_entities)
        log.warning("stopped before training: %s", evidence.stopped_early)
    elif read_pii:
        evidence.stopped_early = read_columns_stop_reason(read_pii)
        log.warning("stopped before training: %s", evidence.stopped_early)
    elif failed_plugins:  # the gate will fail closed on them: do not spend the training
        evidence.stopped_early = ("plugin(s) failed before training (" + ", ".join(failed_plugins) +
                                  "); the gate fails closed, so training was skipped")
        log.warning("stopped before training: %s", evidence.stopped_early)
    else:
        texts = scan.redacted
        if workdir is not None:  # images train on the redacted copy: renamed, metadata stripped
            evidence.dataset.redacted_sha256 = sha256_tree(workdir / "images")
            config = config.model_copy(update={"data": config.data.model_copy(update={"path": workdir / "images"})})
        else:
            evidence.dataset.redacted_sha256 = sha256_texts(scan.redacted)
        labels = dataset.labels
        progress.stage("Stage 3/4: fine-tuning")
        trained = train_stage([texts[i] for i in split.train], [labels[i] for i in split.train], classes=classes,
                              config=config, privacy=_privacy_params(policy), progress=progress)
        evidence.training, evidence.privacy = trained.evidence, trained.privacy
        evidence.stages_run.append("train")
        run_collectors(host, evidence, stage="train", policy=policy, data_path=str(dataset.path),
                       texts=[texts[i] for i in split.train], labels=[labels[i] for i in split.train])
        log.info("training: %d steps, %s; epsilon %s", trained.evidence.steps, trained.evidence.stop_reason,
                 trained.privacy.epsilon)

        progress.stage("Stage 4/4: assessing on the held-out split")
        frame = dataset.frame
        from .assess import membership_skip_reason

        skip_membership = membership_skip_reason(policy, config.assessment.membership)
        members = None if skip_membership else _member_sample(split.train, len(split.test), seed=config.training.seed)
        evidence.assessment = assess_stage(
            trained, [texts[i] for i in split.test], [labels[i] for i in split.test], records=split.test,
            groups={f: [frame[f].iloc[i] for i in split.test] for f in dataset.sensitive_features},
            classes=classes, favourable_label=favourable,
            settings=fairness_plan(policy, seed=config.training.seed, favourable_label=favourable), config=config,
            out_dir=out_dir,
            members=(members, [texts[i] for i in members], [labels[i] for i in members]) if members else None,
            baseline=request.baseline,
        )
        if skip_membership:
            evidence.assessment.membership_not_run = skip_membership
        if any(r.params.reference == "non_private" for r in policy.rules_of("utility")):
            from .stages import non_private_reference

            evidence.assessment.utility_non_private = non_private_reference(
                trained, evidence.assessment, ([texts[i] for i in split.train], [labels[i] for i in split.train]),
                ([texts[i] for i in split.test], [labels[i] for i in split.test]), records=split.test,
                groups={f: [frame[f].iloc[i] for i in split.test] for f in dataset.sensitive_features},
                classes=classes, favourable_label=favourable,
                settings=fairness_plan(policy, seed=config.training.seed, favourable_label=favourable),
                config=config, out_dir=out_dir, progress=progress)
        evidence.stages_run.append("assess")
        run_collectors(host, evidence, stage="assess", policy=policy, data_path=str(dataset.path),
                       texts=[texts[i] for i in split.test], labels=[labels[i] for i in split.test])
        log.info("assessment: accuracy %.4f, macro F1 %.4f", evidence.assessment.accuracy, evidence.assessment.f1_macro)
        if config.output.save_model:
            from .train.image_stage import save_model

            model_dir = out_dir / "model"
            weights = save_model(trained, model_dir)
            evidence.training.model_path = "model"
            evidence.training.model_sha256 = sha256_file(weights) if weights.exists() else None

    decide(policy, evidence, host, waivers=request.waivers)
    evidence.finished_at = _now()
    log.info("verdict: %s (exit %d)", evidence.verdict, evidence.exit_code)
    write_reports(evidence, out_dir, signing_key=request.signing_key)
    return RunOutcome(evidence=evidence, report_dir=out_dir, exit_code=evidence.exit_code)
