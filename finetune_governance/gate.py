"""The gate: reduce findings to a verdict and an exit code."""

from __future__ import annotations

from typing import Literal, Sequence

from .evidence import Finding

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def verdict(findings: Sequence[Finding]) -> tuple[Literal["pass", "fail"], int]:
    """'pass' and 0 when every blocking rule passes (or is waived); else 'fail' and 1.

    A check that errored fails the gate whatever its severity, a blocking rule whose stage
    did not run fails it, and so does an empty set of findings: a gate that checked
    nothing cannot pass.
    """
    if not findings:
        return "fail", EXIT_FAIL
    if any(f.blocking_failure for f in findings):
        return "fail", EXIT_FAIL
    if any(f.status == "error" for f in findings):
        return "fail", EXIT_FAIL
    return "pass", EXIT_PASS
