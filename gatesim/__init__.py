"""gatesim: discrete-event simulation of cargo trucks through the Huu Nghi - Youyiguan gate.

The public API is what ``__all__`` lists (documented in docs/api.md; writing station types:
docs/extending.md); everything else may change between versions.
"""

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
