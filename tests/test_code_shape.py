"""The code keeps the shape the project promises: no function in gatesim over 60 lines, and a
replication that stays small (at most 15 methods; docs/design.md, "The kernel is one
replication")."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gatesim"
MAX_FUNCTION_LINES = 60
MAX_REPLICATION_METHODS = 15


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PACKAGE.rglob("*.py"))]


def test_no_function_is_longer_than_60_lines() -> None:
    long = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} "
        f"({node.end_lineno - node.lineno + 1} lines)"
        for path, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_the_replication_has_at_most_15_methods() -> None:
    engine = ast.parse((PACKAGE / "model" / "engine.py").read_text(encoding="utf-8"))
    (replication,) = [
        n for n in engine.body if isinstance(n, ast.ClassDef) and n.name == "Replication"
    ]
    methods = [n.name for n in replication.body if isinstance(n, ast.FunctionDef)]
    assert len(methods) <= MAX_REPLICATION_METHODS, methods
