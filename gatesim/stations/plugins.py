"""Where plug-in station types come from: installed entry points and modules named explicitly.

A scenario file never causes an import. Code outside gatesim runs only when the person running
gatesim asked for it:

- an installed package declares its types in the entry-point group ``gatesim.stations``
  (``cold_chain_bay = "coldchain_bays:ColdChainBay"``); the entry point is loaded the first
  time a scenario names ``cold_chain_bay`` (or when ``types`` lists them all);
- ``--plugin MODULE_OR_FILE`` on the command line (or :func:`load_plugin` in Python) imports a
  module or a ``.py`` file, whose ``@register_station`` decorators register its types.

Worker processes get the same plug-ins: :func:`loaded_plugins` lists what this process loaded
and :func:`ensure_plugins` loads it again in a worker (see ``experiment/executors.py``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from gatesim.core.errors import ScenarioError

ENTRY_POINT_GROUP = "gatesim.stations"
PLUGIN_OPTION = "--plugin"

#: Plug-in specs loaded in this process, in order (module names, or absolute .py paths).
_LOADED: list[str] = []


def installed_types() -> dict[str, EntryPoint]:
    """The station types that installed packages declare, by name (nothing is imported)."""
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point)
    return found


def load_entry_point(point: EntryPoint, field: str) -> type:
    """Import an installed type; a package that fails to import is a one-line error."""
    try:
        loaded = point.load()
    except Exception as exc:  # a broken installed package: reported, never a traceback
        raise ScenarioError(
            None, field, f"installed plug-in '{point.value}' cannot be imported: {_why(exc)}"
        ) from None
    if not isinstance(loaded, type):
        raise ScenarioError(None, field, f"installed plug-in '{point.value}' is not a class")
    return loaded


def load_plugin(spec: str | Path) -> ModuleType:
    """Import ``spec`` once: a module name (``mypkg.bays``) or a ``.py`` file path. Its
    ``@register_station`` decorators make its types available to scenarios."""
    text = str(spec)
    if not text.strip() or "\x00" in text:
        raise ScenarioError(None, PLUGIN_OPTION, "expected a module name or a .py file", text)
    is_file = text.endswith(".py") or "/" in text or "\\" in text
    module = _load_file(Path(text)) if is_file else _import_module(text)
    key = str(Path(text).resolve()) if is_file else text
    if key not in _LOADED:
        _LOADED.append(key)
    return module


def loaded_plugins() -> tuple[str, ...]:
    """What :func:`load_plugin` loaded in this process (to load the same in workers)."""
    return tuple(_LOADED)


def ensure_plugins(specs: tuple[str, ...]) -> None:
    """Load every spec not loaded yet in this process (a worker started without them)."""
    for spec in specs:
        if spec not in _LOADED:
            load_plugin(spec)


def _import_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # any import failure is the caller's bad argument: one line
        raise ScenarioError(None, PLUGIN_OPTION, f"cannot import: {_why(exc)}", name) from None


def _load_file(path: Path) -> ModuleType:
    """Import a .py file as a module named after its stem (plus a hash when the stem is taken
    by another module), so classes keep a stable ``__module__``."""
    if path.suffix != ".py":
        raise ScenarioError(None, PLUGIN_OPTION, "a plug-in file must end in .py", str(path))
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise ScenarioError(None, PLUGIN_OPTION, "file not found", str(path)) from None
    name = _module_name(resolved)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None or not resolved.is_file():
        raise ScenarioError(None, PLUGIN_OPTION, "not a Python file", str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ScenarioError(None, PLUGIN_OPTION, f"cannot load: {_why(exc)}", str(path)) from None
    return module


def _module_name(path: Path) -> str:
    stem = path.stem if path.stem.isidentifier() else "plugin"
    existing = sys.modules.get(stem)
    if existing is None or getattr(existing, "__file__", None) == str(path):
        return stem
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    return f"{stem}_{digest}"


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
