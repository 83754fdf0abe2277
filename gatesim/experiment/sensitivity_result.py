"""The result of a sensitivity analysis: tidy index tables, a ranking per KPI and its reading."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gatesim.experiment.uncertainty import Factor
from gatesim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd

OTHERS = "other assumptions"  # the Sobol group of every factor not carried to the Sobol stage
#: Morris reading: the fewest factors whose μ* add up to this share of the summed μ*.
MORRIS_SHARE = 0.9
IMPRECISE = 0.15  # CI half-width of the explained share above which the reading warns
MATTERS = 0.05  # Sobol reading: a factor "matters" when its total index reaches this share
RANKING_COLUMNS = ["mu_star", "mu_star_ci", "sigma", "mu", "S1", "S1_ci", "ST", "ST_ci"]


@dataclass
class SensitivityResult:
    """Morris indices of every factor and, with ``method='sobol'``, Sobol indices of the
    selected factors and of the others as one group; one row per (KPI, factor)."""

    factors: list[Factor]
    kpis: list[str]
    method: str
    morris_rows: list[dict[str, Any]]
    sobol_rows: list[dict[str, Any]] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    design: dict[str, Any] = field(default_factory=dict)
    #: The analysed scenario at its nominal values (None for a plain model function).
    scenario: Scenario | None = None

    def table(self) -> pd.DataFrame:
        """Every index of every factor and KPI (Sobol columns empty where not estimated)."""
        import pandas as pd

        morris = pd.DataFrame(self.morris_rows)
        if not self.sobol_rows:
            return morris.reindex(columns=["kpi", "factor", *RANKING_COLUMNS])
        sobol = pd.DataFrame(self.sobol_rows)
        return morris.merge(sobol, on=["kpi", "factor"], how="outer").reindex(
            columns=["kpi", "factor", *RANKING_COLUMNS]
        )

    def ranking(self, kpi: str) -> pd.DataFrame:
        """One KPI's factors, most influential first: by total Sobol index where estimated,
        then by μ*; the "other assumptions" group (Sobol only) comes last."""
        table = self.table()
        rows = table[table["kpi"] == kpi].drop(columns="kpi").set_index("factor")
        others = rows.loc[[OTHERS]] if OTHERS in rows.index else rows.iloc[0:0]
        rows = rows.drop(index=OTHERS, errors="ignore")
        rows = rows.assign(_st=rows["ST"].fillna(-1.0)).sort_values(
            ["_st", "mu_star"], ascending=False, kind="stable"
        )
        import pandas as pd

        return pd.concat([rows.drop(columns="_st"), others])

    def explained(self, kpi: str) -> tuple[float, float] | None:
        """The share of the KPI's variance the Sobol-stage factors explain together, with the
        CI half-width: ``1 - ST(other assumptions)``, or 1 when every factor was selected."""
        if not self.sobol_rows:
            return None
        for row in self.sobol_rows:
            if row["kpi"] == kpi and row["factor"] == OTHERS:
                return 1.0 - row["ST"], row["ST_ci"]
        return 1.0, 0.0

    def reading(self, kpi: str) -> str:
        """One paragraph: how many assumptions matter for the KPI, and which."""
        ranking = self.ranking(kpi)
        count = len(self.factors)
        inert = int((ranking["mu_star"] == 0).sum())
        if self.sobol_rows:
            text = self._sobol_reading(kpi, ranking, count)
        else:
            text = self._morris_reading(kpi, ranking, count)
        if inert:
            text += f" {inert} of the {count} have no effect at all on it (μ* = 0)."
        return text

    def _sobol_reading(self, kpi: str, ranking: pd.DataFrame, count: int) -> str:
        share, ci = self.explained(kpi) or (1.0, 0.0)
        estimated = ranking[ranking["S1"].notna() & (ranking.index != OTHERS)]
        named = estimated[estimated["ST"] >= MATTERS]
        names = ", ".join(
            f"{name} (S1 {row.S1:.2f}, ST {row.ST:.2f})" for name, row in named.iterrows()
        )
        rest = count - len(estimated)
        others = f"; the other {rest} together at most {_percent(1 - share)}" if rest else ""
        alone = float(named["S1"].clip(lower=0).sum())
        text = (
            f"{len(named)} of {count} assumptions have a total Sobol index of at least "
            f"{_percent(MATTERS)} on {kpi}: {names or 'none'}. The {len(estimated)} carried to the "
            f"Sobol stage explain {_percent(share)} (± {_percent(ci)}) of its variance over the "
            f"plausible ranges{others}. Alone, without interactions, the named ones explain "
            f"{_percent(alone)}."
        )
        if ci > IMPRECISE:
            text += (
                f" These shares are imprecise (± {_percent(ci)}, base sample "
                f"{self.design.get('sobol_base_sample', '?')}): rank by them, but give a larger "
                "--sobol-budget before quoting them."
            )
        return text

    def _morris_reading(self, kpi: str, ranking: pd.DataFrame, count: int) -> str:
        mu = ranking["mu_star"].sort_values(ascending=False)
        total = float(mu.sum())
        if total == 0:
            return f"None of the {count} assumptions moves {kpi} over its range (all μ* = 0)."
        needed = int((mu.cumsum() / total < MORRIS_SHARE - 1e-12).sum()) + 1
        names = ", ".join(f"{name} (μ* {value:.3g})" for name, value in mu[:needed].items())
        return (
            f"{needed} of {count} assumptions account for {_percent(MORRIS_SHARE)} of the summed "
            f"Morris μ* of {kpi}: {names}. μ* is the change of {kpi} a factor causes across "
            "its range (a screening measure, not a share of variance: use --method sobol)."
        )

    def document(self) -> dict[str, Any]:
        """The ``sensitivity.json`` document (without the manifest)."""
        return {
            "method": self.method,
            "kpis": self.kpis,
            "design": self.design,
            "factors": [f.document() for f in self.factors],
            "selected_for_sobol": self.selected,
            "morris": self.morris_rows,
            "sobol": self.sobol_rows,
            "explained": {
                kpi: dict(zip(("share", "ci"), pair, strict=True))
                for kpi in self.kpis
                if (pair := self.explained(kpi)) is not None
            },
            "reading": {kpi: self.reading(kpi) for kpi in self.kpis},
        }


def _percent(share: float) -> str:
    return "-" if not math.isfinite(share) else f"{100 * share:.0f} %"
