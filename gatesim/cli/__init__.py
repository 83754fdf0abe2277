"""Command line: ``python run_sim.py [run] SCENARIO.yaml``, ``compare``, ``sweep``, ``plan``,
``capacity``, ``sensitivity``, ``validate``, ``types`` (and the pass-through ``validate-model``
and ``report``).

A thin layer over the experiment API (``gatesim.compare`` & co.): :mod:`~gatesim.cli.arguments`
parses, :mod:`~gatesim.cli.requests` turns the arguments into a frozen request,
:mod:`~gatesim.cli.commands` calls the API, prints (``gatesim.report``) and writes the files,
and :mod:`~gatesim.cli.app` maps bad input to one line and exit code 2.
"""

from gatesim.cli.app import EXIT_INTERRUPTED, console_main, main
from gatesim.cli.arguments import EXIT_BAD_INPUT, build_parser
from gatesim.cli.requests import run_overrides

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERRUPTED",
    "build_parser",
    "console_main",
    "main",
    "run_overrides",
]
