"""A third-party distribution: Weibull service times, for scenarios as ``{dist: weibull}``.

Like the bay in ``coldchain_bays.py`` this is a plug-in, outside the ``gatesim`` package. A
scenario names ``dist: weibull`` and never imports anything; gatesim knows the name once:

- the package is installed (``pip install -e examples/coldchain``): ``pyproject.toml``
  declares ``weibull = "coldchain_dists:Weibull"`` in the entry-point group
  ``gatesim.distributions``, imported the first time a scenario names ``weibull``;
- or the module is loaded explicitly (``--plugin examples/coldchain/coldchain_dists.py``),
  which runs the ``@register_distribution`` decorator below.

Parameters are minutes (``scale``) and a shape ``k``; the usual ``shift`` is inherited.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from gatesim import DistributionBase, register_distribution


@register_distribution
class Weibull(DistributionBase):
    """Weibull with scale ``scale`` (minutes) and shape ``k``: mean scale·Γ(1 + 1/k)."""

    dist: Literal["weibull"] = "weibull"
    scale: float = Field(gt=0, le=1e7)
    k: float = Field(gt=0.05, le=100)

    def _raw_mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.k)

    def _raw_variance(self) -> float:
        g1, g2 = math.gamma(1.0 + 1.0 / self.k), math.gamma(1.0 + 2.0 / self.k)
        return self.scale**2 * (g2 - g1 * g1)

    def _draw(self, rng: np.random.Generator) -> float:
        return self.scale * float(rng.weibull(self.k))

    def _draw_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.scale * rng.weibull(self.k, size=n)
