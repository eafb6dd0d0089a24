"""sarif.json (SARIF 2.1.0): one result per failing, warning or waived finding, for code-scanning UIs.

Each result points at the line of the policy file that defines its rule, relative to the run's
working directory (SRCROOT) when the file is under it, with a fingerprint stable across runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePath

from .. import __version__
from ..evidence import Finding, RunEvidence
from ._text import relative_path, uri_reference

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/finetune-governance/finetune-governance"
_REPORTED = ("fail", "error", "not_run", "warn", "waived")
#: the uriBaseId of every repository-relative location: the run's working directory
SRCROOT = "SRCROOT"
FINGERPRINT = "ruleIdAndFile/v1"


def _artifact(path: str, evidence: RunEvidence) -> dict:
    """An artifactLocation: relative to the run's working directory (SRCROOT) when the file is under it,
    else an absolute file URI (e.g. a bundled policy pack in site-packages)."""
    relative = relative_path(path, evidence.working_dir)
    if relative is not None:
        return {"uri": uri_reference(relative), "uriBaseId": SRCROOT}
    return {"uri": PurePath(path).as_uri()}


def _location(finding: Finding, evidence: RunEvidence) -> dict:
    """The policy file at the line that defines the finding's rule (the file alone when unknown)."""
    source = evidence.policy.rule_sources.get(finding.rule_id)
    physical: dict = {"artifactLocation": _artifact(source.path if source else evidence.policy.path, evidence)}
    if source is not None:
        physical["region"] = {"startLine": source.line, "startColumn": source.column}
    return {"physicalLocation": physical, "message": {"text": f"the policy rule {finding.rule_id}"}}


def _related(finding: Finding, evidence: RunEvidence) -> list[dict]:
    """The file a finding is about, besides its rule: the datasheet (declare) or the data (scan)."""
    if finding.stage == "declare" and evidence.declarations:
        path, what = evidence.declarations.datasheet_path, "the datasheet this finding is about"
    elif finding.stage == "scan" and evidence.dataset:
        path, what = evidence.dataset.path, "the dataset this finding is about"
    else:
        return []
    return [{"id": 1, "physicalLocation": {"artifactLocation": _artifact(path, evidence)}, "message": {"text": what}}]


def _fingerprint(finding: Finding, location: dict) -> dict[str, str]:
    """Stable across runs for the same rule id in the same policy file (not its line, which edits move)."""
    uri = location["physicalLocation"]["artifactLocation"]["uri"]
    return {FINGERPRINT: hashlib.sha256(f"{finding.rule_id}\0{uri}".encode("utf-8")).hexdigest()}


def _base_ids(evidence: RunEvidence) -> dict:
    """Where SRCROOT points: the run's working directory (SARIF wants a trailing slash)."""
    root: dict = {"description": {"text": "The working directory of the run (a repository checkout in CI)."}}
    if evidence.working_dir:
        uri = PurePath(evidence.working_dir).as_uri()
        root["uri"] = uri if uri.endswith("/") else uri + "/"
    return {SRCROOT: root}


def _level(finding: Finding) -> str:
    if finding.status == "waived":
        return "note"
    if finding.status in ("fail", "error", "not_run"):
        return "error" if finding.severity == "block" else "warning"
    return "warning"


def render_sarif(evidence: RunEvidence) -> str:
    """The SARIF log of the run's findings (every rule listed in the driver, results for the non-passes)."""
    rules, index = [], {}
    for f in evidence.findings:
        if f.rule_id in index:
            continue
        index[f.rule_id] = len(rules)
        rules.append({
            "id": f.rule_id, "name": f.rule_id,
            "shortDescription": {"text": f.title},
            "fullDescription": {"text": f"{f.title} ({'; '.join(f.cites)})"},
            "defaultConfiguration": {"level": "error" if f.severity == "block" else "warning"},
            "properties": {"cites": f.cites, "severity": f.severity, "stage": f.stage,
                           "tags": ["compliance", f"policy:{evidence.policy.name}"]},
        })
    results = []
    for f in evidence.findings:
        if f.status not in _REPORTED:
            continue
        location = _location(f, evidence)
        result = {
            "ruleId": f.rule_id, "ruleIndex": index[f.rule_id], "level": _level(f),
            "kind": "fail" if f.status != "waived" else "review",
            "message": {"text": f"{f.status}: {f.message}"},
            "locations": [location],
            "partialFingerprints": _fingerprint(f, location),
            "properties": {"status": f.status, "severity": f.severity, "measured": f.measured,
                           "threshold": f.threshold, "cites": f.cites},
        }
        related = _related(f, evidence)
        if related:
            result["relatedLocations"] = related
        if f.status == "waived" and f.waiver:
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": f.waiver.get("justification", "")}]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "governed-finetune", "version": __version__, "semanticVersion": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            "originalUriBaseIds": _base_ids(evidence),
            "automationDetails": {"id": f"governed-finetune/{evidence.policy.name}/{evidence.run_id}"},
            "invocations": [{"executionSuccessful": evidence.verdict is not None, "commandLine": evidence.command,
                             "exitCode": evidence.exit_code, "startTimeUtc": evidence.started_at,
                             **({"endTimeUtc": evidence.finished_at} if evidence.finished_at else {})}],
            "results": results,
            "properties": {"run_id": evidence.run_id, "verdict": evidence.verdict,
                           "policy": {"name": evidence.policy.name, "version": evidence.policy.version,
                                      "sha256": evidence.policy.sha256}},
        }],
    }
    return json.dumps(log, indent=2, default=str) + "\n"
