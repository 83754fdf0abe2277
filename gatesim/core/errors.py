"""The one error a planner sees for bad input: file, field path, value, in one line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_NO_VALUE = object()
MAX_VALUE_CHARS = 80


class ScenarioError(Exception):
    """A scenario (or CLI argument) is invalid. ``str(error)`` is a single printable line."""

    def __init__(self, file: Path | str | None, field: str, message: str, value: Any = _NO_VALUE):
        self.file = str(file) if file is not None else None
        self.field = field
        self.message = message
        self.value = value
        super().__init__(self.line())

    def line(self) -> str:
        parts = [p for p in (self.file, self.field) if p]
        text = ": ".join([*parts, self.message])
        if self.value is not _NO_VALUE:
            text += f" (got {_short_repr(self.value)})"
        return " ".join(text.split())  # one line whatever the inputs held

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable: raised in a worker process, it reaches the parent as itself (one line)."""
        value = () if self.value is _NO_VALUE else (self.value,)
        return (ScenarioError, (self.file, self.field, self.message, *value))

    def with_file(self, file: Path | str) -> ScenarioError:
        """The same error attributed to ``file`` (network checks run before the file is known)."""
        return ScenarioError(file, self.field, self.message, self.value)


def _short_repr(value: Any) -> str:
    """repr cut in the middle when long, so both the start and the end (a file name) survive."""
    text = repr(value)
    if len(text) > MAX_VALUE_CHARS:
        keep = (MAX_VALUE_CHARS - 3) // 2
        text = text[:keep] + "..." + text[-keep:]
    return text


class UsageError(Exception):
    """An argument of a command or of an API call is unusable (a flag combination, a value no
    scenario field holds, an unreachable Dask scheduler): not a fault of any scenario file.

    ``argument`` is the argument's API name (``target_kpi``); ``{name}`` in ``message`` names
    another argument. :meth:`spelled` renames both the command line's way (``--target-kpi``), so
    the API and the CLI share one check. ``str(error)`` is a single printable line.
    """

    def __init__(
        self,
        argument: str,
        message: str,
        value: Any = _NO_VALUE,
        names: Mapping[str, str] | None = None,
    ):
        self.argument = argument
        self.message = message
        self.value = value
        self.names = dict(names or {})
        super().__init__(self.line())

    def line(self) -> str:
        def name(match: re.Match[str]) -> str:
            return self.names.get(match.group(1), match.group(1))

        message = _PLACEHOLDER.sub(name, self.message)
        text = f"{self.names.get(self.argument, self.argument)}: {message}"
        if self.value is not _NO_VALUE:
            text += f" (got {_short_repr(self.value)})"
        return " ".join(text.split())

    def spelled(self, names: Mapping[str, str]) -> UsageError:
        """The same error with arguments named as ``names`` spells them (API name -> flag)."""
        return UsageError(self.argument, self.message, self.value, names)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
