"""Load a scenario YAML file (with ``extends:``) into a validated :class:`Scenario`.

Every failure becomes one :class:`ScenarioError` whose ``str`` is a single line naming the file,
the field path and the bad value. The loader is the only place that touches files: CSV-backed
distributions and arrival traces are read here and inlined, so a Scenario is self-contained
(hashable, picklable to workers, reproducible from its manifest).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from gatesim.core.errors import ScenarioError
from gatesim.scenario import schema
from gatesim.scenario.strict import BOOL_FOR_NUMBER, bool_for_number

MAX_FILE_BYTES = 5_000_000
MAX_TREE_NODES = 2_000_000
MAX_EXTENDS_DEPTH = 16
MAX_CSV_ROWS = 5_000_000
YAML_SUFFIXES = (".yaml", ".yml")
ALLOW_OPTION = "--allow-path"

#: Folders (resolved) that ``extends:`` and ``csv:`` may read besides the top file's folder tree.
_ALLOWED_FOLDERS: ContextVar[tuple[Path, ...]] = ContextVar("allowed_folders", default=())
#: The folder (resolved) of the top scenario file of the load in progress: its tree is readable.
_ROOT: ContextVar[Path | None] = ContextVar("scenario_root", default=None)


def read_scenario(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    allow_paths: Iterable[str | Path] = (),
) -> schema.Scenario:
    """Read, merge (``extends:``), override and schema-validate a scenario file.

    ``overrides`` maps dotted paths (``stations.xray.servers``) to values, applied after merging.
    The files that ``extends:`` and ``csv:`` name must lie in the folder tree of ``path``, or in
    one of ``allow_paths`` (symlinks are followed first). The network is checked one layer up,
    by :func:`gatesim.model.loading.load_scenario`, which knows the station types.
    """
    path = Path(path)
    with allowed_folders(allow_paths):
        raw = load_raw(path)
    if overrides:
        raw = apply_overrides(raw, overrides, path)
    return validate_schema(raw, path)


@contextmanager
def allowed_folders(folders: Iterable[str | Path]) -> Iterator[None]:
    """Within the block, scenario files may also read from ``folders`` (``--allow-path``)."""
    extra = tuple(_existing_folder(Path(folder)) for folder in folders)
    token = _ALLOWED_FOLDERS.set((*_ALLOWED_FOLDERS.get(), *extra))
    try:
        yield
    finally:
        _ALLOWED_FOLDERS.reset(token)


def _existing_folder(folder: Path) -> Path:
    try:
        resolved = folder.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise ScenarioError(None, ALLOW_OPTION, "folder not found", str(folder)) from None
    if not resolved.is_dir():
        raise ScenarioError(None, ALLOW_OPTION, "not a folder", str(folder))
    return resolved


def load_raw(path: Path) -> dict[str, Any]:
    """The merged, CSV-inlined tree of a scenario file, before schema validation. Files it
    names may be read only inside the top file's folder tree (or an allowed folder)."""
    top = _resolve_existing(path, YAML_SUFFIXES, None)
    token = _ROOT.set(top.parent)
    try:
        return _load_with_bases(path, chain=())
    finally:
        _ROOT.reset(token)


def validate_schema(raw: dict[str, Any], path: Path) -> schema.Scenario:
    """Validate a merged tree into a Scenario (schema only); errors name ``path``."""
    try:
        scenario = schema.Scenario.model_validate(raw)
    except ValidationError as exc:
        raise _from_validation_error(exc, raw, path) from None
    except RecursionError:
        raise ScenarioError(path, "", "nesting is too deep") from None
    boolean = bool_for_number(raw, scenario)
    if boolean is not None:
        raise ScenarioError(path, boolean[0], BOOL_FOR_NUMBER, boolean[1])
    return scenario


# --------------------------------------------------------------------------- files and extends
def _load_with_bases(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    resolved = _resolve_existing(path, YAML_SUFFIXES, chain[-1] if chain else None)
    if resolved in chain:
        loop = " -> ".join(p.name for p in (*chain, resolved))
        raise ScenarioError(chain[0], "extends", f"extends loop: {loop}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(chain[0], "extends", f"more than {MAX_EXTENDS_DEPTH} levels of extends")
    tree = _read_yaml(resolved)
    _inline_csv_references(tree, resolved)
    base_ref = tree.pop("extends", None)
    _drop_extension_fields(tree)
    if base_ref is None:
        return tree
    refs = base_ref if isinstance(base_ref, list) else [base_ref]
    if not refs:
        raise ScenarioError(resolved, "extends", "must be a file path or a list of them", base_ref)
    merged: dict[str, Any] = {}
    for ref in refs:  # bases merge in order (later wins), the file itself on top
        if not isinstance(ref, str) or not ref.strip():
            raise ScenarioError(resolved, "extends", "must be a file path", ref)
        merged = deep_merge(merged, _load_with_bases(resolved.parent / ref, (*chain, resolved)))
    return deep_merge(merged, tree)


def _drop_extension_fields(tree: dict[str, Any]) -> None:
    """Top-level keys starting with ``x-`` only hold YAML anchors for reuse in the file."""
    for key in [k for k in tree if isinstance(k, str) and k.startswith("x-")]:
        del tree[key]


def _resolve_existing(
    path: Path, suffixes: tuple[str, ...], referrer: Path | None, field: str = "extends"
) -> Path:
    """``path`` with symlinks resolved. A file that a scenario names (``referrer`` is set, and
    ``path`` is relative to its folder) must lie in the allowed folders; that is checked before
    its existence, so nothing outside is probed. Errors show the path as the file wrote it."""
    where = referrer if referrer is not None else path
    field = field if referrer is not None else ""
    shown = str(path) if referrer is None else _as_written(path, referrer)
    if path.suffix.lower() not in suffixes:
        raise ScenarioError(where, field, f"expected a {'/'.join(suffixes)} file", shown)
    if referrer is not None:
        _check_confined(_resolved(path, (where, field, shown), strict=False), (where, field, shown))
    resolved = _resolved(path, (where, field, shown), strict=True)
    if not resolved.is_file():
        raise ScenarioError(where, field, "not a regular file", shown)
    return resolved


def _as_written(path: Path, referrer: Path) -> str:
    """``path`` relative to the referring file's folder, as the file spelled it."""
    return (
        str(path.relative_to(referrer.parent))
        if path.is_relative_to(referrer.parent)
        else str(path)
    )


def _resolved(path: Path, context: tuple[Path, str, str], strict: bool) -> Path:
    where, field, shown = context
    try:
        return path.resolve(strict=strict)
    except (FileNotFoundError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        raise ScenarioError(where, field, "file not found", shown) from None
    except OSError as exc:  # a name too long, a folder that cannot be searched, a symlink loop
        raise ScenarioError(where, field, f"cannot open: {exc.strerror}", shown) from None
    except ValueError:  # the OS refuses the path itself (an embedded NUL byte)
        raise ScenarioError(where, field, "not a valid file path", shown) from None


def _check_confined(resolved: Path, context: tuple[Path, str, str]) -> None:
    where, field, shown = context
    root = _ROOT.get() or where.parent
    if not any(resolved.is_relative_to(folder) for folder in (root, *_ALLOWED_FOLDERS.get())):
        raise ScenarioError(
            where,
            field,
            f"outside the scenario's folder tree (allow it with {ALLOW_OPTION} DIR)",
            shown,
        )


def read_yaml_file(path: Path) -> dict[str, Any]:
    """A YAML mapping read as scenario files are (size, alias and nesting limits, duplicate
    keys refused, YAML 1.2 booleans); errors are ``ScenarioError`` naming ``path``."""
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        raise ScenarioError(path, "", "file not found") from None
    if not resolved.is_file():
        raise ScenarioError(path, "", "not a regular file")
    return _read_yaml(resolved)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(path, "", f"cannot read file: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(path, "", f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(path, "", "file is not UTF-8 text") from None
    try:
        tree = yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass: no object tags
    except DuplicateKeyError as exc:
        raise ScenarioError(path, "", str(exc)) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, "", _yaml_problem(exc)) from None
    except RecursionError:
        raise ScenarioError(path, "", "YAML nesting is too deep") from None
    except (ValueError, OverflowError) as exc:  # e.g. an impossible date such as 2025-02-30
        raise ScenarioError(path, "", f"YAML value error: {exc}") from None
    if tree is None:
        raise ScenarioError(path, "", "file is empty")
    if not isinstance(tree, dict):
        raise ScenarioError(path, "", "top level must be a mapping of fields", _type_name(tree))
    try:
        size = _expanded_size(tree)
    except ScenarioError as exc:
        raise exc.with_file(path) from None
    if size > MAX_TREE_NODES:
        raise ScenarioError(path, "", f"more than {MAX_TREE_NODES} values (YAML alias bomb?)")
    return copy.deepcopy(tree)


_SafeLoader: type[yaml.SafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)  # libyaml if present


class DuplicateKeyError(yaml.YAMLError):
    """A mapping repeats a key (YAML would silently keep the last value)."""

    def __init__(self, key: Any, first_line: int, second_line: int) -> None:
        super().__init__(
            f"duplicate key {repr(key)[:80]} at lines {first_line} and {second_line} "
            "(a key may appear only once in a mapping)"
        )
        self.key = key


class _Yaml12Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 core scalars: only true/false are booleans (``precleared: {yes:
    0.2, no: 0.8}`` must not turn into True/False keys) and dates are left to the schema.
    A key repeated in one mapping is an error (``<<`` merge keys may still be overridden)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)


def _refuse_duplicate_keys(loader: Any, node: yaml.MappingNode) -> None:
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in by '<<: *anchor' may be overridden: that is their purpose
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        try:
            seen = first_line.get(key)
        except TypeError:
            continue  # an unhashable key: the base constructor reports it
        if seen is not None:
            raise DuplicateKeyError(key, seen, line)
        first_line[key] = line


_NOT_IMPLICIT = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
_Yaml12Loader.yaml_implicit_resolvers = {  # dates stay strings: the schema parses and names them
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NOT_IMPLICIT]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"YAML syntax error: {problem}"


def _expanded_size(tree: Any) -> int:
    """Number of values with YAML aliases expanded (memoised: linear in distinct nodes)."""
    memo: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if depth > 200:
            raise ScenarioError(None, "", "nesting is deeper than 200 levels")
        key = id(node)
        if key in memo:
            return memo[key]
        children: Any = node.values() if isinstance(node, dict) else node
        n = 1
        if isinstance(node, (dict, list)):
            n += sum(size(child, depth + 1) for child in children)
        memo[key] = n
        return n

    return size(tree, 0)


def _type_name(value: Any) -> str:
    return type(value).__name__


# --------------------------------------------------------------------------- merging
def deep_merge(base: dict[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value in ``delta`` (lists included) replaces.

    A distribution (a mapping with ``dist:``) is a value: it replaces, never merges, so a delta
    can swap a triangular service time for a deterministic one.
    """
    merged = dict(base)
    for key, value in delta.items():
        atomic = isinstance(value, Mapping) and "dist" in value
        if not atomic and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_overrides(
    raw: dict[str, Any], overrides: Mapping[str, Any], path: Path
) -> dict[str, Any]:
    """Set dotted paths in a merged tree. Every key must exist in the file or name a schema
    field (a section left at its defaults, e.g. ``records.trucks``), so typos are refused."""
    tree = copy.deepcopy(raw)
    for dotted, value in overrides.items():
        keys = dotted.split(".")
        if not all(keys):
            raise ScenarioError(path, dotted, "empty part in the field path (write it as a.b.c)")
        node: Any = tree
        for depth, key in enumerate(keys[:-1]):
            node = _descend(node, key, keys[: depth + 1], path)
        last = keys[-1]
        if isinstance(node, dict):
            if last not in node and not _is_optional_field(keys):
                raise ScenarioError(path, dotted, f"unknown field '{last}'{_close(last, node)}")
            node[last] = value
        elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = value
        else:
            raise ScenarioError(path, dotted, "path does not lead to a field")
        if dotted == YEAR_FIELD:
            _move_start_into_year(tree, value)
    return tree


YEAR_FIELD = "demand.year"


def _move_start_into_year(tree: dict[str, Any], year: Any) -> None:
    """``demand.year = Y`` from the command line (``--year``, ``--set``, sweeps) also moves
    ``start_date`` to the same month-day in Y (29 Feb -> 28 Feb), so weekdays and dated closures
    line up with the planning year. A year or date the schema refuses is left for it to name."""
    if not isinstance(year, int) or isinstance(year, bool) or not 1 <= year <= 9999:
        return
    from gatesim.scenario.demand import shifted_start

    start = tree.get("start_date", schema.Scenario.model_fields["start_date"].default)
    try:
        date = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
    except ValueError:
        return
    tree["start_date"] = shifted_start(date, year).isoformat()


def _descend(node: Any, key: str, so_far: list[str], path: Path) -> Any:
    if isinstance(node, dict) and key in node:
        return node[key]
    if isinstance(node, dict) and _is_optional_field(so_far):
        return node.setdefault(key, {})  # a section the file left at its defaults (records.…)
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    hint = _close(key, node) if isinstance(node, dict) else ""
    raise ScenarioError(path, ".".join(so_far), f"no such field '{key}'{hint}")


def _is_optional_field(keys: list[str]) -> bool:
    """True when the last key names a schema field that the file simply left at its default."""
    return keys[-1] in _all_field_names()


def _close(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------- CSV inlining
def _inline_csv_references(tree: dict[str, Any], file: Path) -> None:
    """Replace ``{dist: empirical, csv, column}`` and ``trace: {csv, column}`` by their values.

    Paths are relative to the file that declares them, so a base scenario's data travels with it.
    """
    for where, node in _walk_mappings(tree, ""):
        if node.get("dist") == "empirical" and "csv" in node:
            node["values"] = _read_csv_column(
                file, where, node.pop("csv"), node.pop("column", "value")
            )
        elif where.endswith(".trace") and "csv" in node:
            node["times"] = _read_csv_column(
                file, where, node.pop("csv"), node.pop("column", "time_min")
            )


def _walk_mappings(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, child in list(node.items()):
            yield from _walk_mappings(child, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _walk_mappings(child, f"{where}.{i}")


def _read_csv_column(file: Path, where: str, ref: Any, column: Any) -> list[float]:
    field = f"{where}.csv"
    if not isinstance(ref, str) or not isinstance(column, str):
        raise ScenarioError(file, field, "csv and column must be strings", ref)
    csv_path = _resolve_existing(file.parent / ref, (".csv",), file, field)
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:  # "CSV UTF-8" has a BOM
            return _numeric_column(csv.DictReader(handle), file, field, column, ref)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(file, field, f"cannot read CSV: {exc}", ref) from None


def _numeric_column(
    rows: csv.DictReader[str], file: Path, field: str, column: str, ref: str
) -> list[float]:
    if rows.fieldnames is None or column not in rows.fieldnames:
        raise ScenarioError(file, field, f"CSV has no column '{column}'", ref)
    values: list[float] = []
    for line, row in enumerate(rows, start=2):
        if len(values) >= MAX_CSV_ROWS:
            raise ScenarioError(file, field, f"CSV has more than {MAX_CSV_ROWS} rows", ref)
        try:
            value = float(row[column])
        except (TypeError, ValueError):
            raise ScenarioError(file, field, f"line {line}: not a number", row[column]) from None
        if not math.isfinite(value) or value < 0:
            raise ScenarioError(file, field, f"line {line}: must be a finite number >= 0", value)
        values.append(value)
    if not values:
        raise ScenarioError(file, field, "CSV column is empty", ref)
    return values


# --------------------------------------------------------------------------- error messages
def _from_validation_error(exc: ValidationError, raw: Any, path: Path) -> ScenarioError:
    """The first pydantic error as one line: file, field path as written in the file, value."""
    error = _most_specific(exc.errors())
    field, value = _path_in_input(raw, error["loc"])
    message = str(error["msg"]).replace("Value error, ", "")
    if error["type"] == "extra_forbidden":
        unknown = field.rsplit(".", 1)[-1]
        known = _all_field_names()
        message = (
            f"field '{unknown}' is not allowed here"
            if unknown in known
            else f"unknown field '{unknown}'{_close(unknown, known)}"
        )
    if error["type"] == "missing" or not error["loc"]:
        return ScenarioError(path, field, message)  # no value to show
    return ScenarioError(path, field, message, value)


def _most_specific(errors: list[Any]) -> Any:
    """The deepest error location is the most specific one."""
    return max(errors, key=lambda e: len(e["loc"]))


_INTERNAL_LOC = re.compile(r"^(str|int|float|bool|[\w-]+\[.*\]|function-.*|[a-z]+-step)$")


def _path_in_input(raw: Any, loc: tuple[Any, ...]) -> tuple[str, Any]:
    """Walk the input along a pydantic loc, dropping union tags that are not keys of the input."""
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        is_key = isinstance(node, dict) and item in node
        if isinstance(item, str) and not is_key and _is_union_tag(item):
            continue
        parts.append(str(item))
        if isinstance(node, dict):
            node = node.get(item)
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            node = node[item]
        else:
            node = None
    return ".".join(parts), node


def _is_union_tag(item: str) -> bool:
    from gatesim.core.distributions import DISTRIBUTION_NAMES

    return item in DISTRIBUTION_NAMES or bool(_INTERNAL_LOC.match(item))


def _all_field_names() -> set[str]:
    """Every field name in the schema, for 'did you mean' hints on unknown keys."""
    names: set[str] = set()
    for obj in vars(schema).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            for name, info in obj.model_fields.items():
                names.add(info.alias or name)
    from gatesim.core import distributions

    for obj in vars(distributions).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names.update(info.alias or name for name, info in obj.model_fields.items())
    return names
