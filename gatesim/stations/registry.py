"""Station types by name: built-ins register themselves; plug-ins come from explicit sources.

A scenario says ``type: xray_scanner``: a registered name, never a module path. Names are
registered by the built-in families, by installed packages' entry points (group
``gatesim.stations``) and by modules named with ``--plugin`` (see :mod:`gatesim.stations.plugins`),
so a scenario file never causes an import. Parameters are validated against the class's
``Params`` model here, at load time, so a bad ``params:`` block fails with the same one-line
error as any field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from gatesim.core.errors import ScenarioError
from gatesim.scenario.schema import Scenario, _suggest
from gatesim.scenario.strict import BOOL_FOR_NUMBER, bool_for_number
from gatesim.stations.base import Station
from gatesim.stations.plugins import installed_types, load_entry_point

_REGISTRY: dict[str, type[Station]] = {}
S = TypeVar("S", bound=type[Station])


def register_station(name: str) -> Callable[[S], S]:
    """Class decorator: make a Station subclass available to scenario files as ``type: name``."""

    def decorate(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, Station)):
            raise TypeError(f"{cls!r} is not a Station subclass")
        existing = _REGISTRY.get(name)
        if existing is not None and _qualified(existing) != _qualified(cls):
            raise ValueError(f"station type '{name}' is already registered to {existing!r}")
        _REGISTRY[name] = cls
        return cls

    return decorate


def _qualified(cls: type) -> str:
    """Same module and class name: a reloaded module (or notebook cell) may register again."""
    return f"{cls.__module__}.{cls.__qualname__}"


def station_types() -> dict[str, type[Station]]:
    """All available station types by name: built-ins, loaded plug-ins and installed ones."""
    _load_builtins()
    for name, point in installed_types().items():
        if name not in _REGISTRY:
            _register_installed(name, load_entry_point(point, "types"))
    return dict(sorted(_REGISTRY.items()))


def resolve_station_type(type_name: str, field: str = "type") -> type[Station]:
    """The class registered under ``type_name`` (loading an installed plug-in if it is one)."""
    _load_builtins()
    if type_name in _REGISTRY:
        return _REGISTRY[type_name]
    point = installed_types().get(type_name)
    if point is None:
        raise ScenarioError(None, field, _unknown_type(type_name))
    return _register_installed(type_name, load_entry_point(point, field))


def _register_installed(name: str, cls: type) -> type[Station]:
    if not issubclass(cls, Station):
        raise ScenarioError(None, "type", f"installed plug-in '{name}' is not a Station subclass")
    _REGISTRY.setdefault(name, cls)  # its own decorator may have registered it on import
    return _REGISTRY[name]


def _unknown_type(type_name: str) -> str:
    known = sorted({*_REGISTRY, *installed_types()})
    return (
        f"unknown station type {type_name[:80]!r}{_suggest(type_name, known)}; "
        f"known: {', '.join(known)} "
        "(plug-in types come from installed packages or --plugin MODULE_OR_FILE)"
    )


def validate_station_specs(scenario: Scenario) -> dict[str, tuple[type[Station], BaseModel]]:
    """Resolve every station's type and validate its params; errors name the field."""
    resolved = {}
    for name, spec in scenario.stations.items():
        cls = resolve_station_type(spec.type, f"stations.{name}.type")
        resolved[name] = (cls, validate_params(cls, spec.params, f"stations.{name}.params"))
    return resolved


def station_outcomes(resolved: dict[str, tuple[type[Station], BaseModel]]) -> dict[str, set[str]]:
    """Attributes the scenario's stations may set on trucks, with every possible value."""
    outcomes: dict[str, set[str]] = {}
    for cls, _params in resolved.values():
        for name, values in cls.outcomes.items():
            outcomes.setdefault(name, set()).update(values)
    return outcomes


def validate_params(cls: type[Station], params: dict[str, object], where: str) -> BaseModel:
    try:
        validated = cls.Params.model_validate(params)
    except ValidationError as exc:
        error = max(exc.errors(), key=lambda e: len(e["loc"]))
        loc = ".".join(str(part) for part in error["loc"])
        field = f"{where}.{loc}" if loc else where
        message = str(error["msg"]).replace("Value error, ", "")
        if error["type"] == "extra_forbidden":
            allowed = list(cls.Params.model_fields)
            unknown = loc.rsplit(".", 1)[-1]
            message = f"unknown parameter '{unknown}'{_suggest(unknown, allowed)}"
            return _raise(field, message, error.get("input"))
        return _raise(field, message, error.get("input"))
    boolean = bool_for_number(params, validated)
    if boolean is not None:
        return _raise(f"{where}.{boolean[0]}", BOOL_FOR_NUMBER, boolean[1])
    return validated


def _raise(field: str, message: str, value: object) -> BaseModel:
    raise ScenarioError(None, field, message, value)


def _load_builtins() -> None:
    """Import the built-in families once (they register on import)."""
    from gatesim.stations import checkpoint, control, inspection, transfer, yard  # noqa: F401
