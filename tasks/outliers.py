"""Plausibility warnings: values far from their village's distribution, and figures that jump between weeks."""
from __future__ import annotations

import numpy as np
import pandas as pd

from expectations.catalogue import raw_catalogue

OUTLIER_COLUMNS = ["township_code", "village_code", "household_id", "rule", "value", "reference", "score", "message"]


def _settings() -> dict:
    return raw_catalogue()["outliers"]


def _rows(frame: pd.DataFrame, rule: str, value: str, reference: str, score: pd.Series) -> pd.DataFrame:
    template = _settings()["messages"][rule]
    out = pd.DataFrame({
        "township_code": frame["township_code"], "village_code": frame["village_code"],
        "household_id": frame["household_id"] if "household_id" in frame else "",
        "rule": rule, "value": frame[value].astype(float), "reference": frame[reference].astype(float),
        "score": score.round(2),
    })
    out["message"] = [template.format(value=v, reference=r) for v, r in zip(out["value"], out["reference"])]
    return out


def far_from_village(households: pd.DataFrame, column: str, rule: str) -> pd.DataFrame:
    """Households whose value has a robust z-score (median/MAD within the village) above the limit."""
    cfg = _settings()
    h = households.dropna(subset=[column])
    grouped = h.groupby("village_code")[column]
    median = grouped.transform("median")
    mad = (h[column] - median).abs().groupby(h["village_code"]).transform("median")
    size = grouped.transform("size")
    score = 0.6745 * (h[column] - median) / mad.replace(0, np.nan)
    flagged = (size >= cfg["min_households"]) & (score.abs() > cfg["robust_z"])
    chosen = h[flagged].assign(_reference=median[flagged])
    return _rows(chosen, rule, column, "_reference", score[flagged].abs())


def jumps(current: pd.DataFrame, previous: pd.DataFrame | None, key: str, column: str, rule: str,
          limit: float, relative: bool, inclusive: bool = False) -> pd.DataFrame:
    """Rows whose value moved by more than `limit` (by `limit` or more if inclusive; a share if relative)
    since the previous week."""
    if previous is None or not len(previous):
        return pd.DataFrame(columns=OUTLIER_COLUMNS)
    merged = current.merge(previous[[key, column]].rename(columns={column: "_before"}), on=key, how="inner")
    merged = merged.dropna(subset=[column, "_before"])
    change = merged[column] - merged["_before"]
    score = (change / merged["_before"].where(merged["_before"] != 0)).abs() if relative else change.abs()
    flagged = (score >= limit if inclusive else score > limit).fillna(False)
    return _rows(merged[flagged], rule, column, "_before", score[flagged])


def outliers(households: pd.DataFrame, villages: pd.DataFrame, previous_households: pd.DataFrame | None,
             previous_villages: pd.DataFrame | None) -> pd.DataFrame:
    """outliers.csv: every plausibility warning of the week, worst first within each rule."""
    cfg = _settings()
    parts = [
        far_from_village(households, "income_per_capita", "OUT-INCOME"),
        far_from_village(households, "household_size", "OUT-SIZE"),
        jumps(households, previous_households, "household_id", "income_per_capita", "OUT-JUMP-INCOME", cfg["income_jump"], True),
        jumps(households, previous_households, "household_id", "household_size", "OUT-JUMP-SIZE", cfg["size_jump"], False,
              inclusive=True),
        jumps(villages.assign(household_id=""), previous_villages, "village_code", "satisfaction_rate",
              "OUT-JUMP-SATISFACTION", cfg["satisfaction_jump"], False),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=OUTLIER_COLUMNS)
    table = pd.concat(parts, ignore_index=True)[OUTLIER_COLUMNS]
    return table.sort_values(["rule", "township_code", "village_code", "household_id"], kind="stable").reset_index(drop=True)
