"""The chance that the evaluators' small survey sample in a village falls below the satisfaction pass line."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd

from expectations.catalogue import Profile


def village_sample_risk(villages: pd.DataFrame, profile: Profile, *, households: int | None = None,
                        method: str = "posterior") -> pd.Series:
    """Per village (index village_code): the chance that the evaluators' `households_per_village`
    surveyed households show satisfaction below V-SATISFACTION fail_below.

    method="posterior" (default): the village's true rate is uncertain, Beta(yes + 1, no + 1) (uniform
    prior, the observed answers), so the count is beta-binomial — a small survey of 5 all-satisfied answers
    is not a certainty. method="binomial": the observed rate taken as the true rate (as the dossier does).
    NaN for a village without answers (it already fails V-SATISFACTION)."""
    n = int(households if households is not None else profile.sampling["households_per_village"])
    threshold = Fraction(str(profile.criterion("V-SATISFACTION").params["fail_below"]))
    below = [k for k in range(n + 1) if Fraction(k, n) < threshold]  # counts that fail
    answers = pd.to_numeric(villages["satisfaction_answers"], errors="coerce").fillna(0).to_numpy(float)
    yes = pd.to_numeric(villages["satisfaction_yes"], errors="coerce").fillna(0).to_numpy(float)
    no = answers - yes
    ks = np.array(below, dtype=float)[None, :]
    log_comb = np.array([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) for k in below])[None, :]
    if method == "posterior":
        a, b = yes[:, None] + 1, no[:, None] + 1
        lg = np.vectorize(math.lgamma, otypes=[float])
        log_pmf = log_comb + lg(ks + a) + lg(n - ks + b) - lg(n + a + b) - (lg(a) + lg(b) - lg(a + b))
        prob = np.exp(log_pmf).sum(axis=1) if below else np.zeros(len(yes))
    elif method == "binomial":
        p = np.where(answers > 0, yes / np.maximum(answers, 1), 0.0)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.exp(log_comb) * np.power(p, ks) * np.power(1 - p, n - ks)
        prob = terms.sum(axis=1) if below else np.zeros(len(yes))
    else:
        raise ValueError(f"unknown method {method!r} (posterior / binomial)")
    prob = np.where(answers > 0, np.clip(prob, 0.0, 1.0), math.nan)
    return pd.Series(prob, index=pd.Index(villages["village_code"].astype(str), name="village_code"), name="p_sample_below")
