"""``true``/``false`` where a number belongs: found after validation, wherever the field is.

pydantic reads ``True`` as ``1`` for an ``int`` or ``float`` field (``servers: true`` meant one
server), and a schema can refuse that only field by field. Instead, the input tree is walked
beside the validated object: a boolean in the input whose validated counterpart is a number
(not a bool) is the error. That covers the scenario schema, distributions, calendars and the
``params:`` of any station type, plug-ins included, without annotating each field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

_ABSENT = object()
BOOL_FOR_NUMBER = "must be a number, not true/false"


def bool_for_number(raw: Any, validated: Any) -> tuple[str, bool] | None:
    """The dotted path (as written in the input) and value of the first boolean read as a
    number, or None."""
    found = _walk(raw, validated, ())
    return None if found is None else (".".join(found[0]), found[1])


def _walk(raw: Any, validated: Any, path: tuple[str, ...]) -> tuple[tuple[str, ...], bool] | None:
    if isinstance(raw, bool):
        is_number = isinstance(validated, (int, float)) and not isinstance(validated, bool)
        return (path, raw) if is_number else None
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            counterpart = _child(validated, key)
            found = None if counterpart is _ABSENT else _walk(value, counterpart, (*path, str(key)))
            if found is not None:
                return found
    elif isinstance(raw, list) and isinstance(validated, Sequence):
        if len(raw) != len(validated) or isinstance(validated, str):
            return None
        for i, (value, counterpart) in enumerate(zip(raw, validated, strict=True)):
            found = _walk(value, counterpart, (*path, str(i)))
            if found is not None:
                return found
    return None


def _child(validated: Any, key: Any) -> Any:
    """The validated value of input key ``key``: a model field (by name or alias) or an item."""
    if isinstance(validated, BaseModel):
        for name, info in type(validated).model_fields.items():
            if key in (name, info.alias):
                return getattr(validated, name)
        return _ABSENT
    if isinstance(validated, Mapping):
        return validated.get(key, _ABSENT)
    return _ABSENT
