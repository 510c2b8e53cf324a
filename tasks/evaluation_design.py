"""How the evaluators sample a county (catalogue `evaluation_designs`), and the draw of their villages.

One design is read by the simulator (tasks/simulate.py), the per-village risks (tasks/sample_risk.py) and
the rehearsal (模拟评估): villages per county by stratum, households per sampled village by kind, and how
many of them answer the 认可度 questionnaire.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from expectations.catalogue import raw_catalogue

STRATA = ("poor", "non_poor", "all")
KINDS = ("exited", "remaining_poor", "registered", "ordinary")
# A sanity bound, not policy: a design number past it is a typing error in county.yaml, and the rehearsal
# lists one row per household drawn (a billion ordinary slots would exhaust memory).
MAX_DESIGN_NUMBER = 10_000
STRATUM_LABELS = {"poor": "贫困村", "non_poor": "非贫困村", "all": "全部村"}
KIND_LABELS = {"exited": "脱贫户", "remaining_poor": "未脱贫户", "registered": "建档立卡户", "ordinary": "一般农户（漏评排查）"}


@dataclass(frozen=True)
class EvaluationDesign:
    """Villages per stratum, households per village by kind, ordinary households answering the questionnaire."""

    name: str
    label: str
    villages: Mapping[str, int]
    households: Mapping[str, int]
    questionnaire_ordinary: int
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bad = [k for k in self.villages if k not in STRATA] + [k for k in self.households if k not in KINDS]
        if bad:
            raise ValueError(f"抽样设计 {self.name}：未知的分层或户类 {'、'.join(bad)}")
        if "all" in self.villages and len(self.villages) > 1:
            raise ValueError(f"抽样设计 {self.name}：'all' 不能与 poor/non_poor 同时使用")
        if "registered" in self.households and ({"exited", "remaining_poor"} & set(self.households)):
            raise ValueError(f"抽样设计 {self.name}：'registered' 不能与 exited/remaining_poor 同时使用")
        numbers = [*self.villages.values(), *self.households.values(), self.questionnaire_ordinary]
        if (any(not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_DESIGN_NUMBER for n in numbers)
                or not sum(self.villages.values())):
            raise ValueError(f"抽样设计 {self.name}：村数、户数须为 0 至 {MAX_DESIGN_NUMBER} 的整数，且至少抽1个村")
        if self.questionnaire_ordinary > self.households.get("ordinary", 0):
            raise ValueError(f"抽样设计 {self.name}：答问卷的一般农户多于入户的一般农户")

    @property
    def villages_total(self) -> int:
        return int(sum(self.villages.values()))

    @property
    def households_per_village(self) -> int:
        return int(sum(self.households.values()))

    @property
    def registered_per_village(self) -> int:
        return self.households_per_village - int(self.households.get("ordinary", 0))

    @property
    def questionnaire_per_village(self) -> int:
        return self.registered_per_village + int(self.questionnaire_ordinary)

    @property
    def stratified(self) -> bool:
        return "all" not in self.villages

    def with_villages(self, total: int) -> EvaluationDesign:
        """The same design with `total` villages, split over the strata in the design's proportions."""
        if total < 1:
            raise ValueError("至少抽1个村")
        if not self.stratified:
            return replace(self, villages={"all": int(total)})
        poor = int(round(total * self.villages.get("poor", 0) / self.villages_total))
        return replace(self, villages={"poor": poor, "non_poor": int(total) - poor})

    def describe(self) -> dict[str, Any]:
        """JSON-able summary (what the county summary prints)."""
        return {"name": self.name, "label": self.label, "villages": dict(self.villages), "households": dict(self.households),
                "questionnaire_ordinary": int(self.questionnaire_ordinary), "villages_total": self.villages_total,
                "households_per_village": self.households_per_village,
                "questionnaire_per_village": self.questionnaire_per_village, "sources": list(self.sources)}


def load_design(name: str | None = None, overrides: Mapping[str, Any] | None = None) -> EvaluationDesign:
    """A design of the catalogue (default: `evaluation_design`), with fields overridden (e.g. from the
    county's reference/county.yaml `evaluation_design:`: a `name` and/or `villages`, `households`,
    `questionnaire_ordinary`)."""
    cat = raw_catalogue()
    overrides = dict(overrides or {})
    name = str(overrides.pop("name", None) or name or cat["evaluation_design"])
    if name not in cat["evaluation_designs"]:
        raise ValueError(f"未知的抽样设计 {name!r}；可选：{', '.join(cat['evaluation_designs'])}")
    unknown = set(overrides) - {"label", "villages", "households", "questionnaire_ordinary"}
    if unknown:
        raise ValueError(f"抽样设计不认识的字段：{'、'.join(sorted(unknown))}")
    spec = {**cat["evaluation_designs"][name], **overrides}
    return EvaluationDesign(name=name, label=str(spec["label"]), villages=dict(spec["villages"]),
                            households=dict(spec["households"]), questionnaire_ordinary=int(spec["questionnaire_ordinary"]),
                            sources=tuple(spec.get("sources", ())))


def village_strata(villages: pd.DataFrame, design: EvaluationDesign) -> pd.Series:
    """Per village row: its stratum. Poor (贫困村) = a key village (是否重点村) or one with a 计划退出年度."""
    if not design.stratified:
        return pd.Series("all", index=villages.index)
    key = villages["is_key_village"].fillna(False).astype(bool) if "is_key_village" in villages else False
    planned = villages["planned_exit_year"].notna() if "planned_exit_year" in villages else False
    poor = pd.Series(key, index=villages.index) | pd.Series(planned, index=villages.index)
    return poor.map({True: "poor", False: "non_poor"})


def allocation(strata: pd.Series, design: EvaluationDesign) -> dict[str, int]:
    """Villages drawn per stratum: the design's number, or all the stratum has; a shortfall in one stratum
    is drawn from the other (the evaluators' total per county is kept while villages remain)."""
    present = strata.value_counts().to_dict()
    take = {s: min(int(n), int(present.get(s, 0))) for s, n in design.villages.items()}
    short = design.villages_total - sum(take.values())
    for s in sorted(present):
        extra = min(short, int(present[s]) - take.get(s, 0))
        if extra > 0:
            take[s], short = take.get(s, 0) + extra, short - extra
    return {s: k for s, k in take.items() if k}


def draw_villages(strata: pd.Series, design: EvaluationDesign, rng: np.random.Generator, draws: int) -> np.ndarray:
    """`draws` × k positions into `strata` (k = villages drawn, per stratum as `allocation` says), uniformly
    without replacement within each stratum. Deterministic for the generator's state."""
    labels = strata.to_numpy()
    parts = []
    for stratum, k in sorted(allocation(strata, design).items()):  # fixed order: the same seed, the same draw
        members = np.flatnonzero(labels == stratum)
        if k == len(members):
            parts.append(np.broadcast_to(members, (draws, k)))
        else:
            keys = rng.random((draws, len(members)))
            parts.append(members[np.argpartition(keys, k - 1, axis=1)[:, :k]])
    if not parts:
        return np.zeros((draws, 0), dtype=np.int64)
    return np.concatenate(parts, axis=1)


def p_drawn(strata: pd.Series, design: EvaluationDesign) -> pd.Series:
    """Per village: the chance that the evaluators draw it (its stratum's villages drawn / present)."""
    present = strata.value_counts()
    take = allocation(strata, design)
    return strata.map({s: take.get(s, 0) / n for s, n in present.items()}).astype(float)
