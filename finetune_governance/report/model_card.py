"""model_card.md: a Hugging Face model card (YAML metadata, the Hugging Face template's sections and
those of "Model Cards for Model Reporting"), rendered from the evidence alone."""

from __future__ import annotations

import json
import re

import yaml

from ..evidence import RunEvidence
from ._env import environment
from . import fairness_text
from ._model import KNOWN_BASE_MODELS, TORCHVISION_PREFIX, ModelFacts, audited_predictions, hub_base_model, model_facts
from ._text import display_path
from .considerations import ethical_considerations, limitations, no_fairness_text
from .declarations import card_declarations, declared_performance

#: licence ids the Hugging Face Hub accepts in ``license`` (lower case; SPDX ids where one exists)
HUB_LICENCES = frozenset("""
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 bigcode-openrail-m
afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0
cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0
cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0
cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl
gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql
ofl-1.1 ncsa unlicense zlib pddl lgpl-lr
""".split())


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def dataset_name(evidence: RunEvidence) -> str:
    """The datasheet's name as plain words for metadata (no markup characters), else 'dataset'."""
    declarations = evidence.declarations.declarations if evidence.declarations else {}
    name = " ".join(re.sub(r"[^\w .()+-]+", " ", str(declarations.get("name") or "")).split())[:96]
    return name or "dataset"


def _slug(text: str) -> str:
    """A Hub-style identifier from a free-text name (letters, digits, '.', '_', '-')."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:96]
    return slug or "model"


def hub_licence(declared: object) -> dict[str, str]:
    """``license`` (and ``license_name``) for the datasheet's licence: the Hub's id when it is one, else
    'other' named by the declared string; 'unknown' when the datasheet declares none."""
    if declared is None or not str(declared).strip():
        return {"license": "unknown"}
    text = _one_line(declared)
    if text.lower() in HUB_LICENCES:
        return {"license": text.lower()}
    return {"license": "other", "license_name": text}


def card_metadata(evidence: RunEvidence) -> dict:
    """The YAML front matter: language, licence, library, task, tags, datasets, base model and
    model-index (overall metrics on the held-out split)."""
    facts = model_facts(evidence)
    declarations = evidence.declarations.declarations if evidence.declarations else {}
    name = dataset_name(evidence)
    meta: dict = {}
    if facts.modality == "text" and evidence.dataset and evidence.dataset.language:
        meta["language"] = [evidence.dataset.language]
    # an audit never sees the model, so the data's licence says nothing about it
    meta.update({"license": "unknown"} if audited_predictions(evidence) else hub_licence(declarations.get("licence")))
    if facts.library:
        meta["library_name"] = facts.library
    if facts.task:
        meta["pipeline_tag"] = facts.task
    tags = ["finetune-governance", _slug(f"policy-{evidence.policy.name}"), f"verdict-{evidence.verdict}"]
    if audited_predictions(evidence):
        tags.append("predictions-audit")
    if facts.kind == "torchvision":
        tags.append("torchvision")
    if evidence.privacy and evidence.privacy.enabled:
        tags += ["differential-privacy", "opacus"]
    meta["tags"] = tags
    meta["datasets"] = [name]
    if evidence.training and hub_base_model(evidence.training.base_model):
        meta["base_model"] = hub_base_model(evidence.training.base_model)
    if evidence.assessment:
        a = evidence.assessment
        metrics = [{"type": "accuracy", "value": a.accuracy, "name": "Accuracy"},
                   {"type": "f1", "value": a.f1_macro, "name": "Macro F1", "args": {"average": "macro"}}]
        if a.balanced_accuracy is not None:
            metrics.append({"type": "balanced_accuracy", "value": a.balanced_accuracy, "name": "Balanced accuracy"})
        if a.roc_auc is not None:
            metrics.append({"type": "roc_auc", "value": a.roc_auc, "name": "ROC AUC"})
        dataset = {"name": name, "type": evidence.dataset.format if evidence.dataset else "local", "split": "test"}
        meta["model-index"] = [{
            "name": _slug(f"{name}-{evidence.run_id}"),
            "results": [{
                "task": {"type": facts.task or "other", "name": facts.task_name or "Classification"},
                "dataset": dataset,
                "metrics": metrics,
            }],
        }]
    return meta


def _literal(value: object) -> str:
    """A Python literal for a code block (JSON string/number syntax; no backtick can close the fence)."""
    return json.dumps(value, ensure_ascii=True).replace("`", "\\u0060")


def get_started(evidence: RunEvidence, facts: ModelFacts) -> str | None:
    """Python that loads the saved model folder offline and classifies one input, or None when no
    model was saved."""
    t = evidence.training
    if t is None or not t.model_sha256:
        return None
    folder = _literal(t.model_path or "model")
    replaced = bool(evidence.privacy and evidence.privacy.replaced_modules)
    fix = ("from finetune_governance.train.privacy import fix_for_dp\n"
           "model, _ = fix_for_dp(model)  # DP training replaced BatchNorm layers; rebuild them the same way\n"
           if replaced else "")
    if facts.kind == "encoder_head":
        return (f"import torch\nfrom transformers import AutoTokenizer\n"
                f"from finetune_governance.train.heads import EncoderClassifier\n\n"
                f"folder = {folder}  # the run folder's model/ (beside this card); nothing is downloaded\n"
                f"model = EncoderClassifier.from_pretrained(folder).eval()\n"
                f"tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)\n"
                f"batch = tokenizer([\"text to classify\"], truncation=True, max_length={int(t.max_length)}, "
                f"padding=True, return_tensors=\"pt\")\n"
                f"with torch.no_grad():\n    probabilities = model(**batch).logits.softmax(-1)\n"
                f"print(dict(zip(model.labels, probabilities[0].tolist())))\n")
    if facts.kind == "hf_text":
        return (f"import torch\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n\n"
                f"folder = {folder}  # the run folder's model/ (beside this card); nothing is downloaded\n"
                f"model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()\n"
                f"tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)\n"
                f"batch = tokenizer([\"text to classify\"], truncation=True, max_length={int(t.max_length)}, "
                f"padding=True, return_tensors=\"pt\")\n"
                f"with torch.no_grad():\n    probabilities = model(**batch).logits.softmax(-1)\n"
                f"print({{model.config.id2label[i]: p for i, p in enumerate(probabilities[0].tolist())}})\n")
    preprocess = (f"preprocess = transforms({int(t.max_length)}, train=False)  # resize, centre crop, normalise "
                  f"as in assessment\n")
    if facts.kind == "torchvision":
        arch = _literal(t.base_model.removeprefix(TORCHVISION_PREFIX))
        classes = len(evidence.dataset.classes) if evidence.dataset else 0
        return (f"import torch\nfrom PIL import Image\nfrom safetensors.torch import load_file\n"
                f"from torchvision.models import get_model\n"
                f"from finetune_governance.train.images import transforms\n\n"
                f"model = get_model({arch}, weights=None, num_classes={classes})\n{fix}"
                f"model.load_state_dict(load_file({folder} + \"/model.safetensors\"))  # offline, tensors only\n"
                f"model.eval()\n{preprocess}"
                f"with torch.no_grad():\n"
                f"    probabilities = model(preprocess(Image.open(\"image.jpg\").convert(\"RGB\"))[None]).softmax(-1)\n")
    load = (f"model = AutoModelForImageClassification.from_config(AutoConfig.from_pretrained(folder, "
            f"local_files_only=True))\n{fix}model.load_state_dict(load_file(folder + \"/model.safetensors\"))\n"
            f"model.eval()\n" if replaced else
            "model = AutoModelForImageClassification.from_pretrained(folder, local_files_only=True).eval()\n")
    return (f"import torch\nfrom PIL import Image\nfrom safetensors.torch import load_file\n"
            f"from transformers import AutoConfig, AutoModelForImageClassification\n"
            f"from finetune_governance.train.images import transforms\n\n"
            f"folder = {folder}  # the run folder's model/ (beside this card); nothing is downloaded\n{load}"
            f"# when the base model's folder had a preprocessor_config.json, pass its image_mean and image_std:\n"
            f"# transforms(..., stats=(image_mean, image_std))\n{preprocess}"
            f"with torch.no_grad():\n"
            f"    probabilities = model(preprocess(Image.open(\"image.jpg\").convert(\"RGB\"))[None]).logits.softmax(-1)\n"
            f"print({{model.config.id2label[i]: p for i, p in enumerate(probabilities[0].tolist())}})\n")


def base_model_text(evidence: RunEvidence) -> str:
    """The base model as a reader should see it: a Hub id, a torchvision architecture, or a local folder
    shown relative to the working directory (never an absolute path)."""
    base = evidence.training.base_model if evidence.training else ""
    if base in KNOWN_BASE_MODELS:
        return f"{base}, the bundled copy of {KNOWN_BASE_MODELS[base]}"
    if base.startswith(TORCHVISION_PREFIX) or hub_base_model(base):
        return base
    return f"local checkpoint {display_path(base, evidence.working_dir)}"


def render_model_card(evidence: RunEvidence) -> str:
    """The card: YAML front matter, then the Hugging Face template's and Model Cards for Model
    Reporting's sections, a privacy section, and the policy's findings. An audit of predictions
    (no training) says what it saw and nothing about the model it did not."""
    front = yaml.safe_dump(card_metadata(evidence), sort_keys=False, allow_unicode=True)
    facts = model_facts(evidence)
    a = evidence.assessment
    scoring = next((f for f in a.fairness if fairness_text.has_scoring(f)), None) if a else None
    favourable = fairness_text.favourable_outcome(a)
    body = environment(html=False).get_template("model_card.md.j2").render(
        ev=evidence, facts=facts, dataset_name=dataset_name(evidence), licence=hub_licence(
            (evidence.declarations.declarations if evidence.declarations else {}).get("licence")),
        get_started=get_started(evidence, facts), base_model=base_model_text(evidence),
        considerations=ethical_considerations(evidence), limitations=limitations(evidence),
        audit=audited_predictions(evidence), ft=fairness_text, scoring=scoring, favourable=favourable or "n/a",
        interval=fairness_text.interval_label(a.fairness[0] if a.fairness else a) if a else None,
        declared=declared_performance(evidence), no_fairness=no_fairness_text(evidence),
        rule_tables=fairness_text.rule_tables(evidence), datasheet_facts=card_declarations(evidence))
    return f"---\n{front}---\n\n{body}"
