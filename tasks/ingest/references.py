"""The county's reference data: townships and, where the county has one, the village register."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tasks.ingest.values import fold


@dataclass(frozen=True)
class Register:
    """Township codes → names, and village code → (name, township, key-village flag) when known."""

    township_names: dict[str, str]
    villages: dict[str, dict] = field(default_factory=dict)

    def township_by_name(self, name: object) -> str | None:
        """The code of the township a cell names (蜀河镇, 蜀河, 旬阳县蜀河镇…), or None."""
        if not isinstance(name, str):
            return None
        text = fold(name).replace(" ", "")
        for code, known in self.township_names.items():
            if text == known or text == known.removesuffix("镇") or text.endswith(known):
                return code
        return None

    def knows_village(self, code: str) -> bool:
        """True when the register lists the code, or when there is no village register to check against."""
        return not self.villages or code in self.villages


def load_register(reference_dir: Path, fallback_dir: Path) -> Register:
    """townships.csv (required) and villages.csv (optional) from reference_dir, else from fallback_dir."""
    def pick(name: str) -> Path | None:
        for folder in (reference_dir, fallback_dir):
            if folder is not None and (folder / name).exists():
                return folder / name
        return None

    townships_path = pick("townships.csv")
    if townships_path is None:
        raise FileNotFoundError(f"找不到乡镇名册 townships.csv（{reference_dir}）")
    towns = pd.read_csv(townships_path, dtype="str")
    villages_path = pick("villages.csv")
    villages = {}
    if villages_path is not None:
        frame = pd.read_csv(villages_path, dtype="str")
        villages = {row["village_code"]: dict(row) for row in frame.to_dict("records")}
    return Register(dict(zip(towns["township_code"], towns["township_name"])), villages)
