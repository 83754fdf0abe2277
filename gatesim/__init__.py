"""gatesim: discrete-event simulation of cargo trucks through the Huu Nghi - Youyiguan gate.

The public API is what ``__all__`` lists (documented in docs/api.md; writing station types:
docs/extending.md); everything else may change between versions.

Names are imported on first use (PEP 562): ``import gatesim`` stays light, so a command pays
only for the modules it uses (a ``run`` never loads pandas' or networkx's study paths).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, eagerly, for type checkers and IDEs
    from gatesim.core.calendar import Calendar
    from gatesim.core.distributions import (
        Deterministic,
        Distribution,
        DistributionBase,
        Empirical,
        Erlang,
        Exponential,
        Gamma,
        Lognormal,
        Mixture,
        Triangular,
        Uniform,
        parse_distribution,
        register_distribution,
    )
    from gatesim.core.errors import ScenarioError, UsageError
    from gatesim.core.results import RunResult
    from gatesim.core.trucks import Truck
    from gatesim.experiment.capacity import CapacityOptions, FlowCapacity, scenario_capacity
    from gatesim.experiment.capacity_run import CapacityResult
    from gatesim.experiment.draws_output import DrawsResult
    from gatesim.experiment.planning import PlanningResult
    from gatesim.experiment.results import ComparisonResult, SweepResult
    from gatesim.experiment.runner import ExperimentResult, ReplicationOutcome, run_experiment
    from gatesim.experiment.sensitivity import SensitivityOptions
    from gatesim.experiment.sensitivity_result import SensitivityResult
    from gatesim.experiment.sensitivity_run import sensitivity
    from gatesim.experiment.studies import capacity, compare, plan, sweep
    from gatesim.model.engine import ConservationError, Replication, simulate
    from gatesim.model.loading import load_scenario
    from gatesim.scenario.schema import Scenario, StationSpec
    from gatesim.stations.base import Sampler, Station, StationContext
    from gatesim.stations.plugins import load_plugin
    from gatesim.stations.registry import register_station, station_types
    from gatesim.stats.registry import register_kpi

__version__ = "0.1.0"

#: public name -> the module that defines it
_MODULE_OF = {
    "Calendar": "gatesim.core.calendar",
    "Deterministic": "gatesim.core.distributions",
    "Distribution": "gatesim.core.distributions",
    "DistributionBase": "gatesim.core.distributions",
    "Empirical": "gatesim.core.distributions",
    "Erlang": "gatesim.core.distributions",
    "Exponential": "gatesim.core.distributions",
    "Gamma": "gatesim.core.distributions",
    "Lognormal": "gatesim.core.distributions",
    "Mixture": "gatesim.core.distributions",
    "Triangular": "gatesim.core.distributions",
    "Uniform": "gatesim.core.distributions",
    "parse_distribution": "gatesim.core.distributions",
    "register_distribution": "gatesim.core.distributions",
    "ScenarioError": "gatesim.core.errors",
    "UsageError": "gatesim.core.errors",
    "RunResult": "gatesim.core.results",
    "Truck": "gatesim.core.trucks",
    "CapacityOptions": "gatesim.experiment.capacity",
    "FlowCapacity": "gatesim.experiment.capacity",
    "scenario_capacity": "gatesim.experiment.capacity",
    "CapacityResult": "gatesim.experiment.capacity_run",
    "DrawsResult": "gatesim.experiment.draws_output",
    "PlanningResult": "gatesim.experiment.planning",
    "ComparisonResult": "gatesim.experiment.results",
    "SweepResult": "gatesim.experiment.results",
    "ExperimentResult": "gatesim.experiment.runner",
    "ReplicationOutcome": "gatesim.experiment.runner",
    "run_experiment": "gatesim.experiment.runner",
    "SensitivityOptions": "gatesim.experiment.sensitivity",
    "SensitivityResult": "gatesim.experiment.sensitivity_result",
    "sensitivity": "gatesim.experiment.sensitivity_run",
    "capacity": "gatesim.experiment.studies",
    "compare": "gatesim.experiment.studies",
    "plan": "gatesim.experiment.studies",
    "sweep": "gatesim.experiment.studies",
    "ConservationError": "gatesim.model.engine",
    "Replication": "gatesim.model.engine",
    "simulate": "gatesim.model.engine",
    "load_scenario": "gatesim.model.loading",
    "Scenario": "gatesim.scenario.schema",
    "StationSpec": "gatesim.scenario.schema",
    "Sampler": "gatesim.stations.base",
    "Station": "gatesim.stations.base",
    "StationContext": "gatesim.stations.base",
    "load_plugin": "gatesim.stations.plugins",
    "register_station": "gatesim.stations.registry",
    "station_types": "gatesim.stations.registry",
    "register_kpi": "gatesim.stats.registry",
}

__all__ = [
    "Calendar",
    "CapacityOptions",
    "CapacityResult",
    "ComparisonResult",
    "ConservationError",
    "Deterministic",
    "Distribution",
    "DistributionBase",
    "DrawsResult",
    "Empirical",
    "Erlang",
    "ExperimentResult",
    "Exponential",
    "FlowCapacity",
    "Gamma",
    "Lognormal",
    "Mixture",
    "PlanningResult",
    "Replication",
    "ReplicationOutcome",
    "RunResult",
    "Sampler",
    "Scenario",
    "ScenarioError",
    "SensitivityOptions",
    "SensitivityResult",
    "Station",
    "StationContext",
    "StationSpec",
    "SweepResult",
    "Triangular",
    "Truck",
    "Uniform",
    "UsageError",
    "__version__",
    "capacity",
    "compare",
    "load_plugin",
    "load_scenario",
    "parse_distribution",
    "plan",
    "register_distribution",
    "register_kpi",
    "register_station",
    "run_experiment",
    "scenario_capacity",
    "sensitivity",
    "simulate",
    "station_types",
    "sweep",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'gatesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
