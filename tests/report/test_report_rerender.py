"""Every report is rendered from audit.json alone: re-rendering a real run's audit.json gives the
same bytes the run wrote."""

from __future__ import annotations

import pytest

from finetune_governance.evidence import RunEvidence
from finetune_governance.report import RENDERERS


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_rerendering_audit_json_reproduces_the_written_report(real_run, name):
    evidence = RunEvidence.model_validate_json((real_run / "audit.json").read_text(encoding="utf-8"))
    assert RENDERERS[name](evidence).encode("utf-8") == (real_run / name).read_bytes()
