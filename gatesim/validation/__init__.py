"""Validation of the engine against closed-form queueing theory (``run_sim.py validate-model``).

``CHECKS`` lists the checks (scenario files under ``scenarios/``); ``run_suite`` runs them and
returns one :class:`CheckResult` per compared quantity; ``main`` is the command line.
"""

from gatesim.validation.checks import CHECKS, Check, Metric, get_check
from gatesim.validation.suite import CheckResult, main, run_check, run_suite, scale_service

__all__ = [
    "CHECKS",
    "Check",
    "CheckResult",
    "Metric",
    "get_check",
    "main",
    "run_check",
    "run_suite",
    "scale_service",
]
