"""``LOGLENS__SECTION__KEY`` environment variables, read into the nested mapping the settings validate.

pydantic-settings does this too; it is not used because importing it adds a measurable share to the start-up
of every command (bench/README.md, "start-up"), and what loglens needs of it is this module: a prefix,
``__`` between levels, names in any case, and JSON for the values of lists, mappings and sections.
"""

from __future__ import annotations

import json
import os
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from loglens.errors import ConfigError

ENV_PREFIX = "LOGLENS__"
_COMPLEX = (list, tuple, set, frozenset, dict)


def environment_values(model: type[BaseModel], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``LOGLENS__*`` variables that name a field of ``model``, as nested values.

    ``LOGLENS__SERVER__LISTEN=:9000`` gives ``{"server": {"listen": ":9000"}}``; a list, mapping or
    section is read as JSON (``LOGLENS__SOURCES='[{"path": "a.log"}]'``). A variable whose first part is
    not a setting is ignored; an unknown key below a section is kept, for validation to refuse it.

    Raises:
        ConfigError: a value that must be JSON is not, naming the variable.
    """
    found: dict[str, Any] = {}
    env = os.environ if environ is None else environ
    for name in sorted(env):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in model.model_fields or "" in path:
            continue
        value: Any = env[name]
        if _is_complex(_annotation_at(model, path)):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError(f"environment variable {name} is not valid JSON: {exc}") from None
        _put(found, path, value)
    return found


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on it: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = merge(dict(below), value)
        else:
            merged[key] = value
    return merged


def _annotation_at(model: type[BaseModel], path: list[str]) -> Any:
    """The type of the field at ``path`` below ``model``, or None when the path leaves the models."""
    annotation: Any = model
    for part in path:
        section = _model_of(annotation)
        if section is None or part not in section.model_fields:
            return None
        annotation = section.model_fields[part].annotation
    return annotation


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The section model an annotation holds (``S3Config`` or ``S3Config | None``), if any."""
    for candidate in _alternatives(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_complex(annotation: Any) -> bool:
    """Whether a value of this type comes as JSON: a list, tuple, set, mapping or section."""
    for candidate in _alternatives(annotation):
        origin = get_origin(candidate) or candidate
        if isinstance(origin, type) and (issubclass(origin, _COMPLEX) or issubclass(origin, BaseModel)):
            return True
    return False


def _alternatives(annotation: Any) -> tuple[Any, ...]:
    """The members of a union, or the annotation alone."""
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _put(tree: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``value`` at ``path`` in nested ``tree``, merging with what other variables put there."""
    for part in path[:-1]:
        below = tree.get(part)
        if not isinstance(below, dict):
            below = tree[part] = {}
        tree = below
    last = tree.get(path[-1])
    tree[path[-1]] = merge(last, value) if isinstance(last, dict) and isinstance(value, Mapping) else value
