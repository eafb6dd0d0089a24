"""Load YAML files into pydantic models with `file:line:column` error messages.

Policies, datasheets and run configs are all validated here, so that every schema
violation names the file, the position of the offending key and the key path, and a
misspelt key suggests the closest valid one.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import GovernanceError

ModelT = TypeVar("ModelT", bound=BaseModel)


def read_yaml(path: Path, *, error: type[GovernanceError]) -> tuple[Any, yaml.Node | None]:
    """Read a YAML file and return (data, node tree); raise ``error`` with a position."""
    if not path.exists():
        raise error(f"{path}: file not found")
    if path.is_dir():
        raise error(f"{path}: is a directory, expected a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not valid UTF-8 text (byte {exc.start})") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(f"{where}: YAML syntax error: {problem}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: YAML error: {exc}") from exc
    return data, node


def locate(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Mark | None, list[str]]:
    """Follow ``loc`` through the node tree: (start mark of the deepest node, key path).

    Parts of ``loc`` that are not keys in the YAML (pydantic union tags) are skipped; a
    final part that is absent (a missing required key) still ends the key path.
    """
    mark = node.start_mark if node is not None else None
    current = node
    path: list[str] = []
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(current, yaml.MappingNode):
            match = next(
                ((k, v) for k, v in current.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)),
                None,
            )
            if match is None:
                if last:
                    path.append(str(part))
                continue
            key_node, current = match
            mark = key_node.start_mark
            path.append(str(part))
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(current.value):
                break
            current = current.value[part]
            mark = current.start_mark
            path.append(str(part))
        elif last and not isinstance(part, int):
            path.append(str(part))
    return mark, path


def _field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every field name reachable from ``model`` (for did-you-mean suggestions)."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(field.alias or name)
        for sub in _models_in(field.annotation):
            names |= _field_names(sub, seen)
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    for meta in getattr(annotation, "__metadata__", ()) or ():
        found.extend(_models_in(meta))
    return found


def describe_error(path: Path, node: yaml.Node | None, exc: ValidationError, model: type[BaseModel]) -> str:
    """Turn the first pydantic error into one line: ``file:line:col: key.path: problem``."""
    first = exc.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    mark, parts = locate(node, loc)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    key_path = ".".join(parts) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, sorted(_field_names(model)), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"{where}: {key_path}: unknown key '{key}'{hint}"
    if kind == "missing":
        return f"{where}: {key_path}: required key is missing"
    message = first["msg"]
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return f"{where}: {key_path}: {message}{more}"


def load_model(path: Path, model: type[ModelT], *, error: type[GovernanceError]) -> ModelT:
    """Read ``path`` and validate it as ``model``; every failure is one line."""
    data, node = read_yaml(path, error=error)
    if data is None:
        raise error(f"{path}: file is empty, expected a YAML mapping")
    if not isinstance(data, dict):
        raise error(f"{path}:1:1: expected a YAML mapping at the top level, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(describe_error(path, node, exc, model)) from exc
