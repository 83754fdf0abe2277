"""The public API: ``gatesim.__all__`` is complete, importable, documented and typed.

docs/api.md documents each public name under a level-3 heading ``### `name```, followed by a
fenced block whose first line is the signature. These tests keep the page, ``__all__`` and the
code in step.
"""

from __future__ import annotations

import importlib
import inspect
import re
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import gatesim

API_DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
HEADING = re.compile(r"^### `([^`]+)`\s*$", re.MULTILINE)


def documented_sections() -> dict[str, str]:
    """Heading name -> the text up to the next heading."""
    text = API_DOC.read_text(encoding="utf-8")
    matches = list(HEADING.finditer(text))
    sections = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        sections[match.group(1)] = text[match.end() : end]
    return sections


def first_code_block(section: str) -> str:
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no ```python block with the signature"
    return match.group(1)


def documented_parameters(block: str, name: str) -> list[str]:
    """Parameter names in ``name(...)`` of a signature block (top-level commas only)."""
    start = block.index(f"{name}(") + len(name) + 1
    depth, parts, current = 0, [], ""
    for char in block[start:]:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                break
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    names = []
    for part in parts:
        match = re.match(r"\s*\*{0,2}([A-Za-z_]\w*)", part)
        if match is not None and part.strip() not in ("*", "/"):
            names.append(match.group(1))
    return names


def is_type_alias(obj: Any) -> bool:
    return typing.get_origin(obj) is not None


def test_the_documented_names_are_exactly_all() -> None:
    documented = list(documented_sections())
    assert len(documented) == len(set(documented)), "a name is documented twice"
    assert set(documented) == set(gatesim.__all__), (
        f"missing from docs/api.md: {sorted(set(gatesim.__all__) - set(documented))}; "
        f"documented but not exported: {sorted(set(documented) - set(gatesim.__all__))}"
    )


def test_all_has_no_duplicates_and_is_sorted() -> None:
    assert len(gatesim.__all__) == len(set(gatesim.__all__))
    assert list(gatesim.__all__) == sorted(gatesim.__all__)


@pytest.mark.parametrize("name", gatesim.__all__)
def test_every_public_name_imports(name: str) -> None:
    module = importlib.import_module("gatesim")
    assert hasattr(module, name)
    namespace: dict[str, Any] = {}
    exec(f"from gatesim import {name}", namespace)
    assert namespace[name] is getattr(gatesim, name)


@pytest.mark.parametrize("name", gatesim.__all__)
def test_every_documented_name_has_a_signature_and_a_description(name: str) -> None:
    section = documented_sections()[name]
    block = first_code_block(section)
    assert name in block.splitlines()[0] or name in block, "signature does not show the name"
    prose = re.sub(r"```.*?```", "", section, flags=re.DOTALL).strip()
    assert prose, f"{name}: no description"


def public_functions() -> list[str]:
    return [n for n in gatesim.__all__ if inspect.isfunction(getattr(gatesim, n))]


@pytest.mark.parametrize("name", public_functions())
def test_documented_function_parameters_match_the_code(name: str) -> None:
    block = first_code_block(documented_sections()[name])
    actual = list(inspect.signature(getattr(gatesim, name)).parameters)
    assert documented_parameters(block, name) == actual


def unannotated(func: Callable[..., Any], *, needs_return: bool = True) -> list[str]:
    """Parameters (and 'return') of ``func`` without an annotation; self/cls excepted."""
    signature = inspect.signature(func)
    missing = [
        p.name
        for i, p in enumerate(signature.parameters.values())
        if p.annotation is inspect.Parameter.empty and not (i == 0 and p.name in ("self", "cls"))
    ]
    if needs_return and signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def own_callables(cls: type) -> Iterator[tuple[str, Callable[..., Any], bool]]:
    """Public methods, properties and ``__init__`` that gatesim itself defines on ``cls``."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("gatesim"):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("_") and attr != "__init__":
                continue
            if isinstance(value, (classmethod, staticmethod)):
                value = value.__func__
            if isinstance(value, property):
                if value.fget is not None:
                    yield f"{klass.__name__}.{attr}", value.fget, True
            elif inspect.isfunction(value):
                yield f"{klass.__name__}.{attr}", value, attr != "__init__"


def test_public_callables_are_annotated() -> None:
    problems = []
    for name in gatesim.__all__:
        obj = getattr(gatesim, name)
        if is_type_alias(obj) or not callable(obj):
            continue
        if inspect.isfunction(obj):
            missing = unannotated(obj)
            if missing:
                problems.append(f"{name}: {missing}")
        elif inspect.isclass(obj):
            for where, func, needs_return in own_callables(obj):
                missing = unannotated(func, needs_return=needs_return)
                if missing:
                    problems.append(f"{where}: {missing}")
    assert not problems, "unannotated public callables:\n" + "\n".join(problems)


def test_the_package_is_marked_typed() -> None:
    assert (Path(gatesim.__file__).parent / "py.typed").is_file()


def test_version_is_a_string() -> None:
    assert isinstance(gatesim.__version__, str) and gatesim.__version__
