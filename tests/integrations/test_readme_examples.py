"""The README's "Use it in your own training script" examples run as written, on a tiny model and slice."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Use it in your own training script"


def readme_examples() -> str:
    """The section's fenced python blocks, joined in order (the Lightning block continues the HF one)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", len(SECTION))]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "expected the Hugging Face and the Lightning example"
    return "\n".join(blocks)


def test_readme_examples_run_and_write_reports(tiny_bert, tickets, tmp_path, monkeypatch, capsys):
    shutil.copy(tickets.parent / "datasheet.yaml", tmp_path / "datasheet.yaml")
    code = readme_examples()
    for old, new in {'resolve_text_model("minilm")': f'__import__("pathlib").Path({str(tiny_bert)!r})',
                     "examples/support_tickets/tickets.csv": str(tickets),
                     "examples/support_tickets/datasheet.yaml": str(tickets.parent / "datasheet.yaml"),
                     "policies/baseline.yaml": str(ROOT / "policies" / "baseline.yaml"),
                     "pl.Trainer(max_epochs=1,": "pl.Trainer(max_epochs=1, accelerator='cpu', "
                                                 "enable_progress_bar=False,"}.items():
        assert old in code, old
        code = code.replace(old, new)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the documented examples
    for name, steps in (("governance", 12), ("lightning_governance", 12)):
        callback = namespace[name]
        audit = json.loads((callback.report_dir / "audit.json").read_text(encoding="utf-8"))
        assert (tmp_path / callback.report_dir).parent == tmp_path / "reports"
        assert audit["stages_run"] == ["declare", "scan", "train", "assess"], name
        assert audit["scan"]["records_with_pii"] > 0 and audit["training"]["steps"] == steps, name
        assert audit["assessment"]["test_records"] == 48 and audit["verdict"] == callback.evidence.verdict == "pass"
        for report in ("audit.html", "model_card.md", "junit.xml", "sarif.json", "predictions.csv"):
            assert (callback.report_dir / report).is_file(), (name, report)
    assert namespace["governance"].report_dir != namespace["lightning_governance"].report_dir
    assert capsys.readouterr().out.count("verdict: pass") == 2
