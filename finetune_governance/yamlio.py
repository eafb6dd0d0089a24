"""Load YAML files into pydantic models with `file:line:column` error messages.

Policies, datasheets, run configs and waivers are all validated here, so that every
schema violation names the file, the position of the offending key and the key path, and
a misspelt key or value suggests the closest valid one.
"""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union

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
        _reject_aliases(text, path, error=error)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(f"{where}: YAML syntax error: {problem}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: YAML error: {exc}") from exc
    duplicate = _first_duplicate_key(node, [])
    if duplicate is not None:
        mark, parts, key = duplicate
        raise error(f"{path}:{mark.line + 1}:{mark.column + 1}: {'.'.join(parts) or '(top level)'}: "
                    f"duplicate key '{key}' (YAML would silently keep only the last one)")
    return data, node


def _reject_aliases(text: str, path: Path, *, error: type[GovernanceError]) -> None:
    """Refuse YAML aliases (``*name``): they allow self-referencing and exponentially
    expanding documents, and a reviewed policy should say each value where it applies."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise error(f"{path}:{mark.line + 1}:{mark.column + 1}: YAML alias '*{event.anchor}' is not supported; "
                        "write the value out where it is used")


def _first_duplicate_key(node: yaml.Node | None, parts: list[str]) -> tuple[yaml.Mark, list[str], str] | None:
    """The first key that appears twice in one mapping, anywhere in the tree."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if name in seen:
                return key.start_mark, parts, name
            seen.add(name)
            found = _first_duplicate_key(value, [*parts, name])
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found = _first_duplicate_key(item, [*parts, str(index)])
            if found:
                return found
    return None


def locate(
    node: yaml.Node | None, loc: tuple[Any, ...], *, absent_last: bool = True
) -> tuple[yaml.Mark | None, list[str]]:
    """Follow ``loc`` through the node tree: (start mark of the deepest node, key path).

    Parts of ``loc`` that are not keys in the YAML (pydantic union tags) are skipped; with
    ``absent_last`` a final part that is absent (a missing required key) still ends the
    key path.
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
                if last and absent_last:
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
        elif last and absent_last and not isinstance(part, int):
            path.append(str(part))
    return mark, path


def position(path: Path, node: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    """``file:line:column: key.path`` for the node at ``loc`` (for errors found after validation)."""
    mark, parts = locate(node, loc)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    return f"{where}: {'.'.join(parts) or '(top level)'}"


def _candidates(annotation: Any) -> list[Any]:
    """The alternatives of an annotation once Annotated, Optional and Union are stripped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _candidates(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [c for arg in typing.get_args(annotation) if arg is not type(None) for c in _candidates(arg)]
    return [annotation]


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _tagged_by(model: type[BaseModel], tag: Any) -> bool:
    """True when one of ``model``'s fields is a Literal that admits ``tag`` (a union tag)."""
    for field in model.model_fields.values():
        if typing.get_origin(field.annotation) is typing.Literal and tag in typing.get_args(field.annotation):
            return True
    return False


def models_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[type[BaseModel]]:
    """The models that can sit at ``loc`` (pydantic error location) below ``model``."""
    current: list[Any] = [model]
    for part in loc:
        following: list[Any] = []
        for annotation in current:
            for candidate in _candidates(annotation):
                origin = typing.get_origin(candidate)
                if _is_model(candidate):
                    if isinstance(part, str) and part in candidate.model_fields:
                        following.append(candidate.model_fields[part].annotation)
                    elif _tagged_by(candidate, part):
                        following.append(candidate)
                elif origin is list and isinstance(part, int):
                    following.append(typing.get_args(candidate)[0])
                elif origin is dict and isinstance(part, str):
                    following.append(typing.get_args(candidate)[1])
        if not following:
            return []
        current = following
    return [c for annotation in current for c in _candidates(annotation) if _is_model(c)]


def _closest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _literal_options(expected: str) -> list[str]:
    """``"'block' or 'warn'"`` -> ``['block', 'warn']``."""
    return [part.strip().strip("'\"") for part in expected.replace(" or ", ",").split(",") if part.strip()]


def describe_error(path: Path, node: yaml.Node | None, exc: ValidationError, model: type[BaseModel]) -> str:
    """Turn the first pydantic error into one line: ``file:line:col: key.path: problem``."""
    errors = exc.errors(include_url=False)
    # an unknown key usually explains a "missing" one beside it: report the typo first
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(first["loc"])
    kind = first["type"]
    ctx = first.get("ctx") or {}
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        field_name = str(ctx.get("discriminator", "check")).strip("'")
        loc = (*loc, "check" if field_name.endswith("()") else field_name)  # a callable discriminator reads 'check'
    mark, parts = locate(node, loc, absent_last=kind in ("missing", "union_tag_not_found"))
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    key_path = ".".join(parts) or "(top level)"
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    if kind == "extra_forbidden":
        key = str(loc[-1])
        local = {name for m in models_at(model, loc[:-1]) for name in m.model_fields}
        return f"{where}: {key_path}: unknown key '{key}'{_closest(key, sorted(local))}"
    if kind == "missing" or kind == "union_tag_not_found":
        return f"{where}: {key_path}: required key is missing"
    if kind == "union_tag_invalid":
        tags = _literal_options(str(ctx.get("expected_tags", "")))
        tag = str(ctx.get("tag", ""))
        plugin = " or a plugin's namespaced family (e.g. acme.house_metric)" if "plugin" in tags else ""
        tags = [t for t in tags if t != "plugin"]
        return (f"{where}: {key_path}: unknown value '{tag}'{_closest(tag, tags)}; expected one of: "
                f"{', '.join(tags)}{plugin}")
    message = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "literal_error" and isinstance(first.get("input"), str):
        message += _closest(first["input"], _literal_options(str(ctx.get("expected", ""))))
    return f"{where}: {key_path}: {message}{more}"


def load_model_with_node(path: Path, model: type[ModelT], *, error: type[GovernanceError]) -> tuple[ModelT, yaml.Node]:
    """Like ``load_model``, also returning the YAML node tree for later positioned errors."""
    data, node = read_yaml(path, error=error)
    if data is None or node is None:
        raise error(f"{path}: file is empty, expected a YAML mapping")
    if not isinstance(data, dict):
        raise error(f"{path}:1:1: expected a YAML mapping at the top level, found {type(data).__name__}")
    try:
        return model.model_validate(data), node
    except ValidationError as exc:
        raise error(describe_error(path, node, exc, model)) from exc


def load_model(path: Path, model: type[ModelT], *, error: type[GovernanceError]) -> ModelT:
    """Read ``path`` and validate it as ``model``; every failure is one line."""
    return load_model_with_node(path, model, error=error)[0]
