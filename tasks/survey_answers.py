"""The official 群众认可度 answer rule: which surveyed households approve (认可户), every one counted."""
from __future__ import annotations

import pandas as pd

from tasks.criteria_frames import SATISFIED

RECOGNISED, NOT_RECOGNISED = "认可", "不认可"


def approvals(surveys: pd.DataFrame) -> pd.Series:
    """Per survey row (one surveyed household): True when it approves (认可), else False — the official
    认可度 counts every surveyed household in the denominator. 脱贫结果认可 where given (认可 / 不认可),
    else 帮扶工作满意度: 满意 / 基本满意 approve; 不满意, 不了解 and blanks do not."""
    recognised = surveys["exit_recognised"] if "exit_recognised" in surveys else pd.Series(pd.NA, index=surveys.index)
    out = surveys["satisfaction"].isin(SATISFIED).fillna(False).astype(bool)
    given = recognised.isin((RECOGNISED, NOT_RECOGNISED)).fillna(False).astype(bool)
    out[given] = (recognised[given] == RECOGNISED).to_numpy()
    return out


def recognition_counts(surveys: pd.DataFrame) -> pd.DataFrame:
    """Per village (index village_code): surveyed households and approving ones (the official 认可度)."""
    frame = pd.DataFrame({"village_code": surveys["village_code"].astype(str), "yes": approvals(surveys).astype(int)})
    grouped = frame.groupby("village_code")["yes"]
    return pd.DataFrame({"recognition_surveyed": grouped.size(), "recognition_yes": grouped.sum()})
