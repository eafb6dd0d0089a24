"""sarif.json (SARIF 2.1.0): one result per failing, warning or waived finding, for code-scanning UIs."""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from ..evidence import Finding, RunEvidence

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/finetune-governance/finetune-governance"
_REPORTED = ("fail", "error", "not_run", "warn", "waived")


def _uri(path: str) -> dict:
    """An artifactLocation: absolute paths as file URIs, relative ones against the run's working folder."""
    p = Path(path)
    return {"uri": p.as_uri()} if p.is_absolute() else {"uri": p.as_posix(), "uriBaseId": "CWD"}


def _location(finding: Finding, evidence: RunEvidence) -> dict:
    """The file a finding is about: the datasheet (declare), the data (scan), otherwise the policy."""
    if finding.stage == "declare" and evidence.declarations:
        path, what = evidence.declarations.datasheet_path, "datasheet"
    elif finding.stage == "scan" and evidence.dataset:
        path, what = evidence.dataset.path, "dataset"
    else:
        path, what = evidence.policy.path, "policy"
    return {"physicalLocation": {"artifactLocation": _uri(path)},
            "message": {"text": f"the {what} this finding is about"}}


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
        result = {
            "ruleId": f.rule_id, "ruleIndex": index[f.rule_id], "level": _level(f),
            "kind": "fail" if f.status != "waived" else "review",
            "message": {"text": f"{f.status}: {f.message}"},
            "locations": [_location(f, evidence)],
            "properties": {"status": f.status, "severity": f.severity, "measured": f.measured,
                           "threshold": f.threshold, "cites": f.cites},
        }
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
