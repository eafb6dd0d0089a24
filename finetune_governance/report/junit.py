"""junit.xml: one test case per rule, so CI systems show the policy as a test suite."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..evidence import RunEvidence


def render_junit(evidence: RunEvidence) -> str:
    """fail/error/not_run -> <failure>, waived -> <skipped>, warn -> a pass with a note."""
    findings = evidence.findings
    failed = [f for f in findings if f.status in ("fail", "error", "not_run")]
    suite = ET.Element(
        "testsuite",
        name=f"governed-finetune: {evidence.policy.name} {evidence.policy.version}",
        tests=str(len(findings)),
        failures=str(len(failed)),
        errors="0",
        skipped=str(sum(1 for f in findings if f.status == "waived")),
        timestamp=evidence.started_at,
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (("run_id", evidence.run_id), ("verdict", evidence.verdict or ""),
                        ("policy_sha256", evidence.policy.sha256)):
        ET.SubElement(props, "property", name=name, value=value)
    for f in findings:
        case = ET.SubElement(suite, "testcase", classname=f"{evidence.policy.name}.{f.stage}", name=f.rule_id)
        text = f"{f.title} [{'; '.join(f.cites)}] severity={f.severity} measured={f.measured} threshold={f.threshold}"
        if f.status in ("fail", "error", "not_run"):
            node = ET.SubElement(case, "failure", message=f"{f.status}: {f.message}", type=f.status)
            node.text = text
        elif f.status == "waived":
            ET.SubElement(case, "skipped", message=f"waived: {f.message}")
        elif f.status == "warn":
            out = ET.SubElement(case, "system-out")
            out.text = f"WARNING: {f.message}\n{text}"
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
