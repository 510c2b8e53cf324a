"""The chance that the evaluators' sample of one village shows it failing: 认可度 at their 90% line, and
satisfaction at the provincial 80% accountability line, with the village's questionnaire size from the
evaluation design (tasks/evaluation_design.py)."""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from expectations.catalogue import BAND_FAIL, Profile
from tasks.evaluation_design import EvaluationDesign, load_design


def shortfall_probability(yes: np.ndarray, answers: np.ndarray, n: int, failing: Callable[[int], bool],
                          method: str = "posterior") -> np.ndarray:
    """Per village: P(an evaluators' sample of n households holds a failing count of approving ones).

    method="posterior" (default): the village's true share is uncertain, Beta(yes + 1, no + 1) (uniform
    prior, the observed answers), so the count is beta-binomial — a small survey of 5 all-approving answers
    is not a certainty. method="binomial": the observed share taken as the true share.
    NaN for a village without answers."""
    below = [k for k in range(n + 1) if failing(k)]
    no = answers - yes
    ks = np.array(below, dtype=float)[None, :]
    log_comb = np.array([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) for k in below])[None, :]
    if not below:
        prob = np.zeros(len(yes))
    elif method == "posterior":
        a, b = yes[:, None] + 1, no[:, None] + 1
        lg = np.vectorize(math.lgamma, otypes=[float])
        log_pmf = log_comb + lg(ks + a) + lg(n - ks + b) - lg(n + a + b) - (lg(a) + lg(b) - lg(a + b))
        prob = np.exp(log_pmf).sum(axis=1)
    elif method == "binomial":
        p = np.where(answers > 0, yes / np.maximum(answers, 1), 0.0)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            prob = (np.exp(log_comb) * np.power(p, ks) * np.power(1 - p, n - ks)).sum(axis=1)
    else:
        raise ValueError(f"unknown method {method!r} (posterior / binomial)")
    return np.where(answers > 0, np.clip(prob, 0.0, 1.0), math.nan)


def _counts(villages: pd.DataFrame, yes: str, answers: str) -> tuple[np.ndarray, np.ndarray]:
    return (pd.to_numeric(villages[yes], errors="coerce").fillna(0).to_numpy(float),
            pd.to_numeric(villages[answers], errors="coerce").fillna(0).to_numpy(float))


def _series(villages: pd.DataFrame, values: np.ndarray, name: str) -> pd.Series:
    return pd.Series(values, index=pd.Index(villages["village_code"].astype(str), name="village_code"), name=name)


def village_sample_risk(villages: pd.DataFrame, profile: Profile, *, design: EvaluationDesign | None = None,
                        households: int | None = None, method: str = "posterior") -> pd.Series:
    """Per village (index village_code): the chance that the evaluators' questionnaire households show
    satisfaction (满意 + 基本满意 over answers other than 不了解) below V-SATISFACTION fail_below."""
    n = int(households if households is not None else (design or load_design()).questionnaire_per_village)
    criterion = profile.criterion("V-SATISFACTION")
    yes, answers = _counts(villages, "satisfaction_yes", "satisfaction_answers")
    # a count k of n fails where the catalogue's band of k/n is fail (the lines GX draws on real rates)
    return _series(villages, shortfall_probability(yes, answers, n, lambda k: criterion.band_of(k / n) == BAND_FAIL, method),
                   "p_sample_below")


def village_recognition_risk(villages: pd.DataFrame, profile: Profile, *, design: EvaluationDesign | None = None,
                             households: int | None = None, method: str = "posterior") -> pd.Series:
    """Per village (index village_code): the chance that the evaluators' questionnaire households show
    认可度 (认可户数 / 调查总户数, every surveyed household counted) failing the evaluators' line, read as the
    catalogue reads it (Profile.metric_fails)."""
    n = int(households if households is not None else (design or load_design()).questionnaire_per_village)
    yes, surveyed = _counts(villages, "recognition_yes", "recognition_surveyed")
    return _series(villages, shortfall_probability(yes, surveyed, n, lambda k: bool(profile.metric_fails("recognition", k / n)),
                                                   method), "p_recognition_below")
