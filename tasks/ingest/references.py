"""The county's reference data: townships and, where the county has one, the village register.

Read with the csv module (no pandas): the CLI checks these files before anything heavy is imported, and a file
with wrong headers or codes is an InputError naming the file, the row and what to do."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from evalprep.errors import InputError, MissingInputError

TOWNSHIPS_FILE, VILLAGES_FILE = "townships.csv", "villages.csv"
# the columns each file must have, and the form of its code column
REQUIRED = {TOWNSHIPS_FILE: ("township_code", "township_name"), VILLAGES_FILE: ("village_code",)}
CODE_FORMS = {"township_code": re.compile(r"^\d{9}$"), "village_code": re.compile(r"^\d{12}$")}
CODE_WORDS = {"township_code": "9位乡镇代码", "village_code": "12位村代码"}


@dataclass(frozen=True)
class Register:
    """Township codes → names, and village code → (name, township, key-village flag) when known."""

    township_names: dict[str, str]
    villages: dict[str, dict] = field(default_factory=dict)

    def township_by_name(self, name: object) -> str | None:
        """The code of the township a cell names (蜀河镇, 蜀河, 旬阳县蜀河镇…), or None."""
        from tasks.ingest.values import fold

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


def read_reference_csv(path: Path) -> list[dict[str, str]]:
    """The rows of townships.csv / villages.csv (UTF-8, with or without BOM), checked: the required headers are
    there, every row has a well-formed code, no code twice. Raises InputError naming the file and row."""
    required = REQUIRED[path.name]
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = list(reader)
    except UnicodeDecodeError:
        raise InputError(f"{path}：不是 UTF-8 编码，无法读取；请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新运行") from None
    except csv.Error as exc:
        raise InputError(f"{path}：CSV 格式错误（{exc}），请检查后重新运行") from None
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(f"{path}：缺少表头 {'、'.join(missing)}（第 1 行应为 {','.join(required)}，现为「{','.join(header)}」），"
                         "请改正表头后重新运行")
    if not rows:
        raise InputError(f"{path}：除表头外没有任何一行，请填入名册后重新运行")
    key = required[0]
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        code = (row.get(key) or "").strip()
        if not CODE_FORMS[key].match(code):
            raise InputError(f"{path}：第 {number} 行 {key}「{code}」不是{CODE_WORDS[key]}，请改正后重新运行")
        if code in seen:
            raise InputError(f"{path}：第 {number} 行 {key}「{code}」重复出现，请删去重复行后重新运行")
        seen.add(code)
        row[key] = code
    return rows


def register_files(reference_dir: Path, fallback_dir: Path | None) -> dict[str, Path | None]:
    """townships.csv (required) and villages.csv (optional): from reference_dir, else from fallback_dir."""
    def pick(name: str) -> Path | None:
        for folder in (reference_dir, fallback_dir):
            if folder is not None and (folder / name).exists():
                return folder / name
        return None

    found = {name: pick(name) for name in (TOWNSHIPS_FILE, VILLAGES_FILE)}
    if found[TOWNSHIPS_FILE] is None:
        raise MissingInputError(f"找不到乡镇名册 {TOWNSHIPS_FILE}（{reference_dir}）：请把全县乡镇名册放入参考数据目录，"
                                "或用 --reference 指定参考数据目录")
    return found


def load_register(reference_dir: Path, fallback_dir: Path | None) -> Register:
    """townships.csv (required) and villages.csv (optional) from reference_dir, else from fallback_dir, checked
    (read_reference_csv)."""
    found = register_files(reference_dir, fallback_dir)
    towns = read_reference_csv(found[TOWNSHIPS_FILE])
    villages = {}
    if found[VILLAGES_FILE] is not None:
        villages = {row["village_code"]: dict(row) for row in read_reference_csv(found[VILLAGES_FILE])}
    return Register({row["township_code"]: (row["township_name"] or "").strip() for row in towns}, villages)


CONTACTS_FILE = "contacts.csv"
CONTACT_COLUMNS = ("unit", "name", "email")
# one plain ASCII address per row (no display name, no list): what every SMTP server takes without SMTPUTF8
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


@dataclass(frozen=True)
class Contact:
    """One row of contacts.csv: the unit (a department of the catalogue, a township's name or code, or the
    county office), a person's name (may be blank) and one e-mail address."""

    unit: str
    name: str
    email: str


def load_contacts(reference_dir: Path) -> tuple[Contact, ...]:
    """contacts.csv of the reference folder (never of the fallback data/reference/: its example addresses must
    not be used for another county), () when there is none. Several rows for one unit: all of them receive its
    message. Raises InputError naming the file and row for wrong headers, a blank unit or a malformed address."""
    path = reference_dir / CONTACTS_FILE
    if not path.is_file():
        return ()
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            reader.fieldnames = [h.strip().lower() for h in (reader.fieldnames or [])]
            rows = list(reader)
    except UnicodeDecodeError:
        raise InputError(f"{path}：不是 UTF-8 编码，无法读取；请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新运行") from None
    except csv.Error as exc:
        raise InputError(f"{path}：CSV 格式错误（{exc}），请检查后重新运行") from None
    missing = [name for name in ("unit", "email") if name not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}：缺少表头 {'、'.join(missing)}（第 1 行应为 {','.join(CONTACT_COLUMNS)}），请改正表头后重新运行")
    contacts = []
    for number, row in enumerate(rows, start=2):
        unit, email = (row.get("unit") or "").strip(), (row.get("email") or "").strip()
        if not unit and not email:
            continue  # a blank line
        if not unit:
            raise InputError(f"{path}：第 {number} 行没有填写单位（unit），请补填后重新运行")
        if not _ADDRESS.match(email):
            raise InputError(f"{path}：第 {number} 行（{unit}）的邮箱「{email}」格式不对，应为一个邮箱地址，如 name@example.org；"
                             "请改正后重新运行")
        contacts.append(Contact(unit, (row.get("name") or "").strip(), email))
    return tuple(contacts)
