"""Bad input: one line naming the file and field, exit code 2, no traceback, no report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from finetune_governance.cli import main

from ..conftest import EXAMPLE, ROOT, write_tickets


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def _assert_one_line_error(code: int, output: str, *needles: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def data_dir(tmp_path) -> Path:
    data = write_tickets(tmp_path / "d" / "tickets.csv", n=40)
    shutil.copy(EXAMPLE / "datasheet.yaml", data.parent / "datasheet.yaml")
    return data.parent


def _no_reports(out: Path) -> None:
    assert not out.exists() or not any(out.rglob("audit.json"))


def test_missing_policy_file(data_dir, tmp_path):
    out = tmp_path / "out"
    code, output = _run(["run", "--policy", str(tmp_path / "nope.yaml"), "--data", str(data_dir / "tickets.csv"),
                         "--output", str(out), "--quiet"])
    _assert_one_line_error(code, output, "nope.yaml", "not found")
    _no_reports(out)


def test_policy_yaml_syntax_error_names_line_and_column(data_dir, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nname: x\nrules: [\n  - id: a\n", encoding="utf-8")
    out = tmp_path / "out"
    code, output = _run(["run", "--policy", str(bad), "--data", str(data_dir / "tickets.csv"), "--output", str(out), "--quiet"])
    _assert_one_line_error(code, output, f"{bad}:", "YAML syntax error")
    assert any(f"{bad}:{n}:" in output for n in range(3, 6))
    _no_reports(out)


def test_unknown_policy_key_suggests_closest(data_dir, tmp_path):
    text = (ROOT / "policies" / "baseline.yaml").read_text(encoding="utf-8").replace("severity: warn", "severty: warn", 1)
    bad = tmp_path / "typo.yaml"
    bad.write_text(text, encoding="utf-8")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "severty" in l)
    code, output = _run(["run", "--policy", str(bad), "--data", str(data_dir / "tickets.csv"), "--quiet"])
    _assert_one_line_error(code, output, f"{bad}:{line}:", "severty", "did you mean 'severity'")


def test_missing_column(data_dir, tmp_path):
    out = tmp_path / "out"
    code, output = _run(["run", "--policy", "baseline", "--data", str(data_dir / "tickets.csv"),
                         "--text-column", "body", "--output", str(out), "--quiet"])
    _assert_one_line_error(code, output, "tickets.csv", "'body'", "not found")
    _no_reports(out)


def test_empty_dataset(data_dir, tmp_path):
    (data_dir / "tickets.csv").write_text("ticket_id,text,label,gender,age_band\n", encoding="utf-8")
    code, output = _run(["run", "--policy", "baseline", "--data", str(data_dir / "tickets.csv"), "--quiet"])
    _assert_one_line_error(code, output, "tickets.csv", "no records")


def test_label_with_one_class(data_dir, tmp_path):
    path = data_dir / "tickets.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [lines[0]] + [l.replace(",routine,", ",urgent,") for l in lines[1:]]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, output = _run(["run", "--policy", "baseline", "--data", str(path), "--quiet"])
    _assert_one_line_error(code, output, "tickets.csv", "'label'", "single class")


def test_non_utf8_dataset(data_dir):
    path = data_dir / "tickets.csv"
    path.write_bytes(path.read_bytes() + b"99,\xff\xfe bad bytes,urgent,male,18-29\n")
    code, output = _run(["run", "--policy", "baseline", "--data", str(path), "--quiet"])
    _assert_one_line_error(code, output, "tickets.csv", "UTF-8")


def test_invalid_datasheet_key(data_dir):
    sheet = data_dir / "datasheet.yaml"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("retention_days:", "retention_dayz:"), encoding="utf-8")
    code, output = _run(["run", "--policy", "baseline", "--data", str(data_dir / "tickets.csv"), "--quiet"])
    _assert_one_line_error(code, output, "datasheet.yaml:", "retention_dayz", "did you mean 'retention_days'")


def test_missing_datasheet(tmp_path):
    data = write_tickets(tmp_path / "alone" / "tickets.csv", n=20)
    code, output = _run(["run", "--policy", "baseline", "--data", str(data), "--quiet"])
    _assert_one_line_error(code, output, "datasheet.yaml", "--datasheet")


def test_unknown_base_model(data_dir, tmp_path):
    code, output = _run(["run", "--policy", "baseline", "--data", str(data_dir / "tickets.csv"),
                         "--model", str(tmp_path / "no-such-model"), "--output", str(tmp_path / "o"), "--quiet"])
    # the model is resolved after the scan; the error is still one line and exit 2
    _assert_one_line_error(code, output, "no-such-model")


def test_help_explains_every_option():
    code, output = _run(["run", "--help"])
    assert code == 0
    for option in ("--policy", "--config", "--data", "--text-column", "--label-column", "--sensitive-feature",
                   "--model", "--output"):
        assert option in output


def test_no_favourable_label_is_an_error_before_training(data_dir, tmp_path):
    sheet = data_dir / "datasheet.yaml"
    sheet.write_text("\n".join(l for l in sheet.read_text(encoding="utf-8").splitlines()
                               if not l.startswith("favourable_label")), encoding="utf-8")
    out = tmp_path / "out"
    code, output = _run(["run", "--policy", "baseline", "--data", str(data_dir / "tickets.csv"), "--output", str(out),
                         "--quiet"])
    _assert_one_line_error(code, output, "no favourable label for fairness rule 'baseline.fairness'",
                           f"favourable_label in the datasheet {sheet}", "params.favourable_label on the rule")
    _no_reports(out)


def test_a_rules_favourable_label_outside_the_labels(data_dir, tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text('schema_version: 1\nname: p\ntitle: p\nversion: "1"\nrules:\n'
                      '  - {id: p.fair, title: t, cites: [c], severity: warn, check: fairness,'
                      ' params: {metric: impact_ratio, min: 0.8, favourable_label: approved}}\n', encoding="utf-8")
    out = tmp_path / "out"
    code, output = _run(["run", "--policy", str(policy), "--data", str(data_dir / "tickets.csv"), "--output", str(out),
                         "--quiet"])
    _assert_one_line_error(code, output, "fairness rule 'p.fair': favourable label 'approved'",
                           "its params.favourable_label", "is not a label (labels: routine, urgent)")
    _no_reports(out)
