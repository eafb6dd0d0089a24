"""The CI templates parse as YAML and call only commands and options the CLI has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, Iterator

import click
import pytest
import yaml

from finetune_governance.cli import main

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = {"github": ROOT / "examples" / "ci" / "github-actions.yml",
             "gitlab": ROOT / "examples" / "ci" / "gitlab-ci.yml"}
#: a call at the start of a shell command (a line, or after ; & | or an opening parenthesis)
_CALL = re.compile(r"(?:^|[;&|(])[ \t]*governed-finetune(?=\s|$)(?P<rest>[^\n]*)", re.M)
_SEPARATORS = {";", "&&", "||", "|", "&", ")"}


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():  # keys name jobs and steps, never commands
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def invocations(document: Any) -> list[list[str]]:
    """The arguments of every ``governed-finetune`` call in the template's strings."""
    calls = []
    for text in _strings(document):
        text = re.sub(r"\$\{\{.*?\}\}", "EXPR", text.replace("\\\n", " "))
        for match in _CALL.finditer(text):
            lexer = shlex.shlex(match.group("rest"), posix=True, punctuation_chars=";&|()")
            lexer.whitespace_split = True
            args = []
            for token in lexer:
                if token in _SEPARATORS:
                    break
                args.append(token)
            calls.append(args)
    return calls


def unknown_options(args: list[str]) -> list[str]:
    """Problems with one call: a command or an option that the click CLI does not define."""
    command: click.Command = main
    problems, i = [], 0
    while i < len(args):
        token = args[i]
        if isinstance(command, click.Group) and not token.startswith("-"):
            if token not in command.commands:
                return [f"no command '{token}' (commands: {', '.join(sorted(command.commands))})"]
            command, i = command.commands[token], i + 1
            continue
        if token.startswith("-"):
            name = token.split("=", 1)[0]
            option = next((p for p in command.get_params(click.Context(command))
                           if isinstance(p, click.Option) and name in (*p.opts, *p.secondary_opts)), None)
            if option is None:
                problems.append(f"'{command.name}' has no option {name}")
            elif not option.is_flag and not option.count and "=" not in token:
                i += 1  # the option's value
        i += 1
    if isinstance(command, click.Group) and "--version" not in args and "--help" not in args:
        problems.append(f"'{command.name}' called without a command")
    return problems


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_calls_existing_commands_and_options(name):
    document = yaml.safe_load(TEMPLATES[name].read_text(encoding="utf-8"))
    calls = invocations(document)
    runs = [c for c in calls if c[:1] == ["run"]]
    assert runs, f"{name}: no governed-finetune run call found"
    assert all("--run-id" in c and "--output" in c and "--policy" in c for c in runs)  # predictable report paths
    for call in calls:
        assert unknown_options(call) == [], (name, call)


def test_checker_rejects_an_option_the_cli_does_not_have():
    document = yaml.safe_load(TEMPLATES["gitlab"].read_text(encoding="utf-8").replace("--run-id", "--run-name"))
    problems = [p for call in invocations(document) for p in unknown_options(call)]
    assert problems == ["'run' has no option --run-name"]
    assert unknown_options(["runn", "--policy", "x"])[0].startswith("no command 'runn'")
    assert unknown_options(["verify", "reports/x", "--public-key", "k", "--strictly"]) == \
        ["'verify' has no option --strictly"]


def test_github_template_publishes_every_report_and_gates_on_the_exit_code():
    workflow = yaml.safe_load(TEMPLATES["github"].read_text(encoding="utf-8"))
    steps = workflow["jobs"]["governed-finetune"]["steps"]
    uses = {s.get("uses", "").split("@")[0]: s for s in steps}
    for action in ("actions/upload-artifact", "dorny/test-reporter", "github/codeql-action/upload-sarif"):
        assert uses[action]["if"].startswith("always()"), action  # published also when the gate fails
    assert "audit.html" in uses["actions/upload-artifact"]["with"]["path"]
    assert uses["github/codeql-action/upload-sarif"]["with"]["sarif_file"].endswith("/sarif.json")
    assert uses["dorny/test-reporter"]["with"]["path"].endswith("/junit.xml")
    gate = steps[-1]
    assert gate["if"] == "always()" and "exit 1" in gate["run"] and "exit 2" in gate["run"]


def test_gitlab_template_keeps_reports_and_junit_always():
    job = yaml.safe_load(TEMPLATES["gitlab"].read_text(encoding="utf-8"))["governed-finetune"]
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always" and artifacts["reports"]["junit"] == "reports/$RUN_ID/junit.xml"
    assert artifacts["paths"] == ["reports/$RUN_ID/"] and job["script"][-1] == 'exit "$code"'
