"""Non-negative random-variate distributions, as frozen pydantic models.

Every distribution is a discriminated union member keyed on ``dist`` and offers:

* ``mean`` / ``variance``: analytic moments (``shift`` is included in ``mean``);
* ``sample(rng)`` / ``sample_many(rng, n)``: draws from a ``numpy.random.Generator``.

Invariants enforced at construction: every parameter is finite, and the support after
``shift`` is >= 0, so no sample is ever negative.

A parameter named ``mean`` is stored in the attribute ``base_mean`` because the ``mean``
property must include ``shift``. Its only public spelling is ``mean``: constructor keyword,
``model_dump()`` key (needs pydantic >= 2.11 for ``serialize_by_alias``), ``repr`` and errors.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

import numpy as np
import numpy.typing as npt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    WrapSerializer,
    WrapValidator,
    field_validator,
    model_validator,
)
from typing_extensions import Self

FloatArray = npt.NDArray[np.float64]

#: Largest parameter magnitude (minutes: about 19 years), far beyond any real service time.
MAX_PARAMETER = 1e7
#: Every numeric parameter of every distribution (attribute names; ``base_mean`` is ``mean``).
NUMERIC_FIELDS = ("shift", "value", "base_mean", "low", "mode", "high", "cv", "sd", "k", "values")
# Tolerance on sum(p) of a mixture.
MIXTURE_P_TOL = 1e-9

NonNegative = Annotated[float, Field(ge=0)]


class _DistBase(BaseModel):
    """Shared behaviour; subclasses implement the unshifted moments and draws."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, serialize_by_alias=True
    )

    shift: float = 0.0

    @field_validator(*NUMERIC_FIELDS, mode="before", check_fields=False)
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        """A boolean is not a number (pydantic would read ``mean: true`` as 1)."""
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, bool):
                raise ValueError("must be a number, not true/false")
        return value

    @field_validator(*NUMERIC_FIELDS, mode="after", check_fields=False)
    @classmethod
    def _not_huge(cls, value: Any) -> Any:
        """Parameters are minutes or shape factors: a magnitude beyond MAX_PARAMETER would
        overflow the clock (infinite delays) long before it meant anything."""
        for item in value if isinstance(value, tuple) else (value,):
            if item is not None and abs(item) > MAX_PARAMETER:
                raise ValueError(f"must be at most {MAX_PARAMETER:,.0f} in size")
        return value

    # --- subclass hooks (unshifted) -------------------------------------------------
    def _raw_mean(self) -> float:
        raise NotImplementedError

    def _raw_variance(self) -> float:
        raise NotImplementedError

    def _support_min(self) -> float:
        """Smallest possible unshifted sample."""
        return 0.0

    def _draw(self, rng: np.random.Generator) -> float:
        raise NotImplementedError

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        raise NotImplementedError

    # --- public API ------------------------------------------------------------------
    @property
    def mean(self) -> float:
        """Analytic mean, including ``shift``."""
        return self._raw_mean() + self.shift

    @property
    def variance(self) -> float:
        """Analytic variance (unaffected by ``shift``)."""
        return self._raw_variance()

    def sample(self, rng: np.random.Generator) -> float:
        """One draw (always >= 0)."""
        return float(self._draw(rng)) + self.shift

    def sample_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws as a float64 array (always >= 0)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return np.asarray(self._draw_many(rng, n), dtype=np.float64) + self.shift

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Public (alias) names, so that eval(repr(d)) == d.
        fields = type(self).model_fields
        for name, value in super().__repr_args__():
            alias = fields[name].alias if name in fields else None
            yield alias or name, value

    @model_validator(mode="after")
    def _check_support_non_negative(self) -> Self:
        lo = self._support_min()
        if lo + self.shift < 0:
            raise ValueError(
                f"shift={self.shift} makes samples negative (smallest unshifted sample is {lo})"
            )
        return self


class Deterministic(_DistBase):
    """Constant ``value`` (+ shift). Draws do not consume the generator."""

    dist: Literal["deterministic"] = "deterministic"
    value: NonNegative

    def _raw_mean(self) -> float:
        return self.value

    def _raw_variance(self) -> float:
        return 0.0

    def _support_min(self) -> float:
        return self.value

    def _draw(self, rng: np.random.Generator) -> float:
        return self.value

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        return np.full(n, self.value, dtype=np.float64)


class Exponential(_DistBase):
    """Exponential with the given mean (not rate)."""

    dist: Literal["exponential"] = "exponential"
    base_mean: float = Field(alias="mean", gt=0)

    def _raw_mean(self) -> float:
        return self.base_mean

    def _raw_variance(self) -> float:
        return self.base_mean**2

    def _draw(self, rng: np.random.Generator) -> float:
        return rng.exponential(self.base_mean)

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.exponential(self.base_mean, size=n)


class Uniform(_DistBase):
    """Continuous uniform on [low, high]; low == high is a point mass."""

    dist: Literal["uniform"] = "uniform"
    low: NonNegative
    high: NonNegative

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"uniform needs low <= high, got low={self.low} high={self.high}")
        return self

    def _raw_mean(self) -> float:
        return (self.low + self.high) / 2

    def _raw_variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def _support_min(self) -> float:
        return self.low

    def _draw(self, rng: np.random.Generator) -> float:
        return rng.uniform(self.low, self.high)

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.uniform(self.low, self.high, size=n)


class Triangular(_DistBase):
    """Triangular on [low, high] with peak at mode; low < high."""

    dist: Literal["triangular"] = "triangular"
    low: NonNegative
    mode: float
    high: float

    @model_validator(mode="after")
    def _check_shape(self) -> Self:
        if not self.low < self.high:
            raise ValueError(f"triangular needs low < high, got low={self.low} high={self.high}")
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"triangular mode={self.mode} must lie in [{self.low}, {self.high}]")
        return self

    def _raw_mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def _raw_variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def _support_min(self) -> float:
        return self.low

    def _draw(self, rng: np.random.Generator) -> float:
        return rng.triangular(self.low, self.mode, self.high)

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.triangular(self.low, self.mode, self.high, size=n)


class Lognormal(_DistBase):
    """Lognormal given its own mean and exactly one of cv or sd."""

    dist: Literal["lognormal"] = "lognormal"
    base_mean: float = Field(alias="mean", gt=0)
    cv: Annotated[float, Field(gt=0)] | None = None
    sd: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _check_one_spread(self) -> Self:
        if (self.cv is None) == (self.sd is None):
            raise ValueError("lognormal needs exactly one of cv, sd")
        return self

    @property
    def cv_value(self) -> float:
        """Coefficient of variation, whichever of cv/sd was given."""
        if self.cv is not None:
            return self.cv
        assert self.sd is not None  # validated: exactly one of cv, sd
        return self.sd / self.base_mean

    @property
    def sigma(self) -> float:
        """numpy's sigma: sigma² = ln(1 + cv²)."""
        return math.sqrt(math.log1p(self.cv_value**2))

    @property
    def mu(self) -> float:
        """numpy's mu: ln(mean) - sigma²/2."""
        return math.log(self.base_mean) - self.sigma**2 / 2

    def _raw_mean(self) -> float:
        return self.base_mean

    def _raw_variance(self) -> float:
        return (self.cv_value * self.base_mean) ** 2

    def _draw(self, rng: np.random.Generator) -> float:
        return rng.lognormal(self.mu, self.sigma)

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.lognormal(self.mu, self.sigma, size=n)


class Gamma(_DistBase):
    """Gamma given mean and cv: shape k = 1/cv², scale = mean/k."""

    dist: Literal["gamma"] = "gamma"
    base_mean: float = Field(alias="mean", gt=0)
    cv: Annotated[float, Field(gt=0)]

    @property
    def shape(self) -> float:
        return 1.0 / self.cv**2

    @property
    def scale(self) -> float:
        return self.base_mean / self.shape

    def _raw_mean(self) -> float:
        return self.base_mean

    def _raw_variance(self) -> float:
        return (self.cv * self.base_mean) ** 2

    def _draw(self, rng: np.random.Generator) -> float:
        return rng.gamma(self.shape, self.scale)

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.gamma(self.shape, self.scale, size=n)


class Erlang(_DistBase):
    """Sum of k i.i.d. exponentials with total mean ``mean`` (gamma with integer shape)."""

    dist: Literal["erlang"] = "erlang"
    base_mean: float = Field(alias="mean", gt=0)
    k: Annotated[int, Field(ge=1)]

    def _raw_mean(self) -> float:
        return self.base_mean

    def _raw_variance(self) -> float:
        return self.base_mean**2 / self.k

    def _draw(self, rng: np.random.Generator) -> float:
        return rng.gamma(self.k, self.base_mean / self.k)

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.gamma(self.k, self.base_mean / self.k, size=n)


class Empirical(_DistBase):
    """Resampling (uniform choice) from observed ``values``.

    Either ``values`` is given inline, or ``csv`` + ``column`` name a file relative to the
    scenario folder; the scenario loader reads it (``load_empirical_csv``) and calls
    ``with_values``. Both may be present (a resolved CSV source). Moments and draws need
    ``values``.
    """

    dist: Literal["empirical"] = "empirical"
    values: Annotated[tuple[NonNegative, ...], Field(min_length=1)] | None = None
    csv: str | None = None
    column: str | None = None

    @model_validator(mode="after")
    def _check_source(self) -> Self:
        if (self.csv is None) != (self.column is None):
            raise ValueError("empirical csv and column must be given together")
        if self.values is None and self.csv is None:
            raise ValueError("empirical needs values, or csv + column")
        return self

    def with_values(self, values: Iterable[float]) -> Empirical:
        """A validated copy holding ``values`` (e.g. read from ``csv``)."""
        return Empirical.model_validate({**self.model_dump(), "values": tuple(values)})

    def _loaded(self) -> tuple[float, ...]:
        if not self.values:
            raise RuntimeError(
                f"empirical distribution from csv={self.csv!r} column={self.column!r} has no "
                "values loaded; the scenario loader must call with_values()"
            )
        return self.values

    def _raw_mean(self) -> float:
        return math.fsum(self._loaded()) / len(self._loaded())

    def _raw_variance(self) -> float:
        # Population variance: the variance of one uniform draw among the values.
        m = self._raw_mean()
        return math.fsum((x - m) ** 2 for x in self._loaded()) / len(self._loaded())

    def _support_min(self) -> float:
        # Unloaded csv values are >= 0 once validated, so assume 0 until they are known.
        return min(self.values) if self.values else 0.0

    def _draw(self, rng: np.random.Generator) -> float:
        vals = self._loaded()
        return vals[int(rng.integers(len(vals)))]

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        vals = np.asarray(self._loaded(), dtype=np.float64)
        return vals[rng.integers(0, len(vals), size=n)]


class MixtureComponent(BaseModel):
    """One branch of a mixture: taken with probability ``p``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    p: Annotated[float, Field(gt=0, le=1)]
    dist: Distribution


class Mixture(_DistBase):
    """Finite mixture; ``sum(p) == 1`` within ``MIXTURE_P_TOL``."""

    dist: Literal["mixture"] = "mixture"
    components: Annotated[tuple[MixtureComponent, ...], Field(min_length=1)]

    @field_validator("components")
    @classmethod
    def _check_p_sum(cls, comps: tuple[MixtureComponent, ...]) -> tuple[MixtureComponent, ...]:
        total = math.fsum(c.p for c in comps)
        if abs(total - 1.0) > MIXTURE_P_TOL:
            raise ValueError(f"mixture probabilities p must sum to 1, got {total!r}")
        return comps

    def _raw_mean(self) -> float:
        return math.fsum(c.p * c.dist.mean for c in self.components)

    def _raw_variance(self) -> float:
        # Law of total variance: E[Var | branch] + Var[E | branch].
        m = self._raw_mean()
        return math.fsum(c.p * (c.dist.variance + (c.dist.mean - m) ** 2) for c in self.components)

    def _support_min(self) -> float:
        return min(c.dist._support_min() + c.dist.shift for c in self.components)

    def _draw(self, rng: np.random.Generator) -> float:
        u, acc = rng.random(), 0.0
        for c in self.components:
            acc += c.p
            if u < acc:
                return c.dist.sample(rng)
        return self.components[-1].dist.sample(rng)  # u beyond rounded sum(p)

    def _draw_many(self, rng: np.random.Generator, n: int) -> FloatArray:
        cum = np.cumsum([c.p for c in self.components])
        idx = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1)
        out = np.empty(n, dtype=np.float64)
        for j, c in enumerate(self.components):
            mask = idx == j
            out[mask] = c.dist.sample_many(rng, int(mask.sum()))
        return out


# --------------------------------------------------------------------------- plug-ins
#: Entry-point group of installed distribution plug-ins (``weibull = "mypkg:Weibull"``).
ENTRY_POINT_GROUP = "gatesim.distributions"
#: The base class of every distribution; a plug-in subclasses it (see docs/extending.md).
DistributionBase = _DistBase
_PLUGINS: dict[str, type[_DistBase]] = {}


def register_distribution(cls: type[_DistBase]) -> type[_DistBase]:
    """Make ``cls`` usable as ``{dist: <its dist tag>, ...}`` in scenarios (a decorator).

    ``cls`` subclasses :data:`DistributionBase`, declares ``dist: Literal["name"] = "name"``
    and implements ``_raw_mean``, ``_raw_variance``, ``_draw`` and ``_draw_many`` (and
    ``_support_min`` when its support does not start at 0). Built-in names cannot be taken.
    """
    if not (isinstance(cls, type) and issubclass(cls, _DistBase)):
        raise TypeError(f"{cls!r} does not subclass gatesim DistributionBase")
    name = cls.model_fields["dist"].default if "dist" in cls.model_fields else None
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} needs a field dist: Literal['name'] = 'name'")
    if name in DISTRIBUTION_NAMES:
        raise ValueError(f"distribution '{name}' is built in")
    _PLUGINS[name] = cls
    return cls


def installed_distributions() -> dict[str, EntryPoint]:
    """Distributions installed packages declare, by name (nothing is imported)."""
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point)
    return found


def distribution_types() -> dict[str, type[_DistBase]]:
    """Every distribution by name: built-ins, registered plug-ins, and installed ones (each
    imported now: ``types`` lists them)."""
    for name in installed_distributions():
        _plugin_class(name)
    return {**dict(zip(DISTRIBUTION_NAMES, DISTRIBUTION_TYPES, strict=True)), **_PLUGINS}


def _plugin_class(name: str) -> type[_DistBase]:
    """The plug-in for ``dist: name``, importing an installed entry point of that name."""
    if name in _PLUGINS:
        return _PLUGINS[name]
    point = installed_distributions().get(name)
    if point is None:
        known = ", ".join([*DISTRIBUTION_NAMES, *_PLUGINS, *installed_distributions()])
        raise ValueError(
            f"unknown distribution '{name[:80]}'; known: {known} (plug-ins come from "
            "register_distribution in a --plugin module or an installed package)"
        )
    try:
        loaded = point.load()
    except Exception as exc:  # a broken installed package: one line, never a traceback
        raise ValueError(
            f"installed distribution '{point.value}' cannot be imported: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if name not in _PLUGINS and isinstance(loaded, type) and issubclass(loaded, _DistBase):
        register_distribution(loaded)
    if _PLUGINS.get(name) is None:
        raise ValueError(f"installed distribution '{point.value}' registers no '{name}'")
    return _PLUGINS[name]


def _builtin_or_plugin(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A mapping whose ``dist`` is not built in goes to the plug-in of that name."""
    if isinstance(value, _DistBase) and type(value) in _PLUGINS.values():
        return value
    name = value.get("dist") if isinstance(value, dict) else None
    if isinstance(name, str) and name not in DISTRIBUTION_NAMES:
        return _plugin_class(name).model_validate(value)
    return handler(value)


def _dump_plugin(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
    if type(value) in _PLUGINS.values():
        return value.model_dump()
    return handler(value)


_BuiltIn = Annotated[
    Union[  # noqa: UP007 - a runtime Union keeps the discriminator portable
        Deterministic,
        Exponential,
        Uniform,
        Triangular,
        Lognormal,
        Gamma,
        Erlang,
        Empirical,
        Mixture,
    ],
    Field(discriminator="dist"),
]
Distribution = Annotated[_BuiltIn, WrapValidator(_builtin_or_plugin), WrapSerializer(_dump_plugin)]

MixtureComponent.model_rebuild()
Mixture.model_rebuild()

# Members of the Distribution union, and their ``dist`` tags (as in pydantic error locations).
DISTRIBUTION_TYPES: tuple[type[_DistBase], ...] = get_args(get_args(_BuiltIn)[0])
DISTRIBUTION_NAMES: tuple[str, ...] = tuple(
    t.model_fields["dist"].default for t in DISTRIBUTION_TYPES
)

_ADAPTER: TypeAdapter[Distribution] = TypeAdapter(Distribution)


def parse_distribution(obj: object) -> Distribution:
    """Validate a mapping (e.g. from YAML) or an existing model into a Distribution."""
    return _ADAPTER.validate_python(obj)


def load_empirical_csv(path: Path, column: str) -> tuple[float, ...]:
    """Read one numeric column of a CSV file (header row required).

    Blank cells are skipped (columns of unequal length). Raises ValueError naming the file,
    line and column on a missing column, a non-numeric / non-finite or negative value, or
    when no values remain.
    """
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise ValueError(
                f"{path}: column {column!r} not found; columns are {reader.fieldnames or []}"
            )
        values = [
            _parse_cell(cell, path, reader.line_num, column)
            for row in reader
            if (cell := (row.get(column) or "").strip())
        ]
    if not values:
        raise ValueError(f"{path}: column {column!r} has no values")
    return tuple(values)


def _parse_cell(cell: str, path: Path, line: int, column: str) -> float:
    where = f"{path}:{line} column {column!r}"
    try:
        x = float(cell)
    except ValueError:
        raise ValueError(f"{where}: {cell!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{where}: {cell!r} is not a finite number")
    if x < 0:
        raise ValueError(f"{where}: negative value {x}")
    return x
