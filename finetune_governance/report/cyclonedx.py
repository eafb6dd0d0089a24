"""cyclonedx.json: a CycloneDX 1.6 ML-BOM of the run: the model (with its modelCard) as the BOM's
subject, the base model and the datasets as its components, with their hashes. Every figure is
copied from the evidence."""

from __future__ import annotations

import json
import uuid

from .. import __version__
from ..evidence import AssessmentEvidence, RunEvidence
from . import fairness_text
from ._model import audited_predictions, model_facts
from ._text import display_path, fmt
from .considerations import ethical_considerations, groups_at_risk, limitations
from .model_card import dataset_name

SPEC_VERSION = "1.6"
_NAMESPACE = uuid.UUID("6f1d3a52-7c1e-4d6b-9a8e-0b7a2f9c5e41")


def _hashes(*digests: str | None) -> list[dict]:
    return [{"alg": "SHA-256", "content": d} for d in digests if d and len(d) == 64]


def _props(**values: object) -> list[dict]:
    return [{"name": f"finetune-governance:{k}", "value": str(v)} for k, v in values.items() if v is not None]


def _metric(kind: str, value: float | None, slice_: str | None = None, ci: list[float] | None = None) -> dict | None:
    if value is None:
        return None
    out: dict = {"type": kind, "value": str(value)}
    if slice_ is not None:
        out["slice"] = slice_
    if ci and len(ci) == 2:
        out["confidenceInterval"] = {"lowerBound": str(ci[0]), "upperBound": str(ci[1])}
    return out


def _performance(a: AssessmentEvidence) -> list[dict]:
    """Overall metrics, each group's rates (void ones left out) and ratios (groups in the ratios
    only), each table's aggregates, membership inference; intervals as recorded."""
    metrics = [_metric("accuracy", a.accuracy, "overall"), _metric("f1_macro", a.f1_macro, "overall"),
               _metric("balanced_accuracy", a.balanced_accuracy, "overall"), _metric("roc_auc", a.roc_auc, "overall"),
               _metric("expected_calibration_error", a.expected_calibration_error, "overall")]
    metrics += [_metric("f1", value, f"class={c}") for c, value in a.per_class_f1.items()]
    for f in a.fairness:
        for g in f.groups:
            where = f"{f.feature}={g.group}"
            metrics += [_metric(m, getattr(g, m), where, g.ci.get(m)) for m in fairness_text.rates_of(f)
                        if m not in g.void_metrics]
            if g.in_ratios:
                metrics.append(_metric("impact_ratio", g.impact_ratio, where, g.ci.get("impact_ratio")))
                if fairness_text.has_scoring(f):
                    metrics.append(_metric("scoring_rate_impact_ratio", g.scoring_rate_impact_ratio, where,
                                           g.ci.get("scoring_rate_impact_ratio")))
        for name in fairness_text.aggregates_of(f):
            metrics.append(_metric(name, getattr(f, name), f.feature, f.ci.get(name)))
    if a.membership:
        metrics += [_metric("membership_inference_auc", a.membership.auc, "training members vs held-out"),
                    _metric("membership_inference_tpr_at_1pct_fpr", a.membership.tpr_at_1pct_fpr,
                            "training members vs held-out")]
    return [m for m in metrics if m is not None]


def _interval_properties(a: AssessmentEvidence) -> list[dict]:
    """What the confidence intervals are, per set of tables that share a label; the tables rules
    computed with their own settings, by rule."""
    by_label: dict[str, list[str]] = {}
    for f in a.fairness:
        label = fairness_text.interval_label(f)
        if label:
            by_label.setdefault(label, []).append(f.feature)
    props = [{"name": "finetune-governance:confidence_interval", "value": f"{label} (slices of {', '.join(features)})"}
             for label, features in by_label.items()]
    for rule_id, tables in a.fairness_by_rule.items():
        for f in tables:
            summary = "; ".join(f"{name} {fmt(getattr(f, key))}{_ci_text(f.ci.get(key))}"
                                for key, name in fairness_text.aggregates_of(f).items() if getattr(f, key) is not None)
            props.append({"name": f"finetune-governance:fairness_by_rule:{rule_id}:{f.feature}",
                          "value": f"{'; '.join(fairness_text.settings_clauses(f))}. {summary}"})
    return props


def _ci_text(interval: list[float] | None) -> str:
    return f" [{fmt(interval[0])}, {fmt(interval[1])}]" if interval else ""


def _considerations(ev: RunEvidence) -> dict:
    d = ev.declarations.declarations if ev.declarations else {}
    out: dict = {}
    if d.get("purpose"):
        out["useCases"] = [str(d["purpose"])]
    limits = limitations(ev)
    if limits:
        out["technicalLimitations"] = limits
    u = ev.assessment.utility_non_private if ev.assessment else None
    if u is not None:
        out["performanceTradeoffs"] = [f"Differential privacy: accuracy {fmt(u.reference_accuracy)} without DP, "
                                       f"{fmt(u.accuracy)} with DP (drop {fmt(u.accuracy_drop)}), same settings "
                                       f"and split."]
    ethics = [{"name": c.risk, "mitigationStrategy": c.mitigation} for c in ethical_considerations(ev)]
    if ethics:
        out["ethicalConsiderations"] = ethics
    fair = [{"groupAtRisk": g.group, "harms": g.harms, "mitigationStrategy": g.mitigation}
            for g in groups_at_risk(ev)]
    if fair:
        out["fairnessAssessments"] = fair
    return out


def _model(ev: RunEvidence, dataset_name: str) -> dict:
    """The fine-tuned model with its modelCard: the BOM's subject (metadata.component)."""
    facts = model_facts(ev)
    model: dict = {
        "type": "machine-learning-model", "bom-ref": "model", "name": f"{dataset_name}-classifier",
        "version": ev.run_id,
        "description": (f"{facts.task_name or 'Classifier'} fine-tuned from {ev.training.base_model} "
                        if ev.training else "Classifier audited from its predictions (the model itself was not seen) "
                        if audited_predictions(ev) else "Classifier (training did not run) ")
                       + f"under policy {ev.policy.name} {ev.policy.version} (run {ev.run_id}); verdict {ev.verdict}",
        "properties": _props(run_id=ev.run_id, verdict=ev.verdict, policy=ev.policy.name,
                             policy_sha256=ev.policy.sha256),
    }
    parameters: dict = {"approach": {"type": "supervised"}, "task": facts.task or "classification",
                        "inputs": [{"format": facts.modality or "predictions"}], "outputs": [{"format": "label"}]}
    card: dict = {"modelParameters": parameters}
    if ev.training:
        t = ev.training
        model["hashes"] = _hashes(t.model_sha256)
        parameters["architectureFamily"] = t.architecture
        parameters["modelArchitecture"] = t.architecture
        model["pedigree"] = {"ancestors": [{"type": "machine-learning-model", "name": t.base_model,
                                            "hashes": _hashes(t.base_model_sha256)}]}
    if ev.dataset:
        parameters["datasets"] = [{"ref": "dataset"}]
    if ev.assessment:
        card["quantitativeAnalysis"] = {"performanceMetrics": _performance(ev.assessment)}
    considerations = _considerations(ev)
    if considerations:
        card["considerations"] = considerations
    card["properties"] = _props(
        epsilon=ev.privacy.epsilon if ev.privacy else None, delta=ev.privacy.delta if ev.privacy else None,
        noise_multiplier=ev.privacy.noise_multiplier if ev.privacy else None,
        favourable_label=ev.assessment.favourable_label if ev.assessment else None,
        score_source=ev.assessment.score_source if ev.assessment else None)
    if ev.assessment:
        card["properties"] += _interval_properties(ev.assessment)
    if not card["properties"]:
        del card["properties"]
    model["modelCard"] = card
    return model


def _datasets(ev: RunEvidence, dataset_name: str) -> list[dict]:
    ds, d = ev.dataset, ev.declarations.declarations if ev.declarations else {}
    if ds is None:
        return []
    image = ds.format == "imagefolder"
    sensitive = [e.entity_type for e in ev.scan.entities] if ev.scan else []
    records = (f"{ds.records} images ({ds.format}), one folder per class" if image else
               f"{ds.records} records ({ds.format}); text column {ds.text_column}, label column {ds.label_column}")
    out = [{
        "type": "data", "bom-ref": "dataset", "name": dataset_name, "hashes": _hashes(ds.sha256),
        "data": [{"type": "dataset", "name": dataset_name, "description": records,
                  "contents": {"properties": _props(path=display_path(ds.path, ev.working_dir), records=ds.records,
                                                    train_records=ds.train_records, test_records=ds.test_records,
                                                    classes=", ".join(ds.classes))},
                  **({"sensitiveData": sensitive} if sensitive else {}),
                  **({"classification": str(d["lawful_basis"])} if d.get("lawful_basis") else {})}],
    }]
    if ds.redacted_sha256:
        how = ("sha256 over the redacted copy of the image folder: each file's relative path, NUL, and its sha256, "
               "sorted by path" if image else "sha256 over the redacted texts, each UTF-8 encoded and NUL-terminated, "
                                              "in record order")
        out.append({
            "type": "data", "bom-ref": "dataset-redacted", "name": f"{dataset_name} (redacted)",
            "hashes": _hashes(ds.redacted_sha256),
            "data": [{"type": "dataset", "name": f"{dataset_name} (redacted)",
                      "description": f"What the model was trained and assessed on, after PII redaction ({how})."}],
        })
    return out


def render_cyclonedx(ev: RunEvidence) -> str:
    """The ML-BOM as JSON text: the model is the BOM's subject; the base model and datasets its components."""
    name = dataset_name(ev)
    components: list[dict] = []
    if ev.training:
        components.append({"type": "machine-learning-model", "bom-ref": "base-model", "name": ev.training.base_model,
                           "hashes": _hashes(ev.training.base_model_sha256)})
    components += _datasets(ev, name)
    refs = [c["bom-ref"] for c in components]
    bom = {
        "bomFormat": "CycloneDX", "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{uuid.uuid5(_NAMESPACE, ev.run_id + ev.started_at)}", "version": 1,
        "metadata": {"timestamp": ev.finished_at or ev.started_at,
                     "tools": {"components": [{"type": "application", "name": "finetune-governance",
                                               "version": __version__}]},
                     "component": _model(ev, name),
                     "properties": _props(git_commit=ev.git_commit, command=ev.command)},
        "components": components,
        "dependencies": [{"ref": "model", "dependsOn": refs}] + [{"ref": r} for r in refs],
    }
    return json.dumps(bom, indent=2) + "\n"
