"""The one redaction gate (evalprep/redaction.py): what is masked, what must stay (the project's own codes), the
OWASP rule for CSV cells, and the gate at each way out (CSV writer, templates, xlsx, file names, logs)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import zipfile

import pandas as pd
import pytest
from markupsafe import Markup

from evalprep import idcard
from evalprep.redaction import csv_bytes, csv_cell_safe, redact_frame, redact_text, redact_value

ID = idcard.make("610928", dt.date(1980, 5, 17), 123)  # 610928198005171235, check character right
ID_X = next(i for i in (idcard.make("610928", dt.date(1975, 3, 14), n) for n in range(1, 200)) if i.endswith("X"))
PHONE = "13812345678"


def test_hand_written_numbers_are_valid_ids():
    assert ID == "610928198005171235" and idcard.is_valid(ID) and idcard.is_valid(ID_X)


@pytest.mark.parametrize("text, expected", [
    (f"北沟村{ID}", "北沟村610928********1235"),
    (f"身份证号：{ID}，电话{PHONE}。", "身份证号：610928********1235，电话138****5678。"),
    (f"ID{ID}", "ID610928********1235"),
    (ID_X, ID_X[:6] + "********" + ID_X[-4:]),
    (ID_X.lower(), ID_X[:6] + "********" + ID_X[-4:]),
    ("610928 19800517 1235", "610928********1235"),
    ("610928-19800517-1235", "610928********1235"),
    ("６１０９２８１９８００５１７１２３５", "610928********1235"),  # full-width digits
    ("61092819800517999X", "610928********999X"),  # wrong check character: still a person's ID
    (f"联系人 {PHONE}", "联系人 138****5678"),
    ("+86 13812345678", "+86 138****5678"),
    ("008613812345678", "0086138****5678"),
    ("138 1234 5678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("Tel13812345678", "Tel138****5678"),
    ("13812345678.0", "138****5678.0"),  # a phone typed into a numeric cell, printed as a float
])
def test_ids_and_mobiles_are_masked_wherever_they_appear(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", [
    "610928100231",  # village code, 12 digits
    "户编号6109281002310001",  # household id, 16 digits
    "610928100231000101",  # person id (人编号): 18 digits, positions 7–14 are no date
    "610928100201001",  # survey id, 15 digits
    "61092810023101",  # project id digits
    "12345678901234567890",  # a longer digit run
    "0a13812345678b" + "f" * 50,  # inside a sha256 / document id
    "0.13812345678",  # a decimal fraction
    "12812345678",  # not a mobile prefix
    "2016-W39 人均纯收入 3812.5 元",
    "",
])
def test_project_codes_and_other_numbers_stay(text):
    assert redact_text(text) == text


def test_values_numbers_and_markup():
    assert redact_value(13812345678.0) == "138****5678"  # a phone typed into a number cell
    assert redact_value(13812345678) == "138****5678"
    assert redact_value(-3) == -3 and redact_value(-3.5) == -3.5 and redact_value(3812.5) == 3812.5
    assert redact_value(6109281002310001) == 6109281002310001  # a household id read as a number stays
    assert redact_value(True) is True and redact_value(None) is None
    marked = redact_value(Markup(f"<b>{PHONE}</b>"))
    assert isinstance(marked, Markup) and marked == Markup("<b>138****5678</b>")
    assert redact_value({"a": [f"x{ID}", 1]}) == {"a": ["x610928********1235", 1]}


def test_redact_frame_masks_text_and_phone_numbers_in_number_columns_only():
    frame = pd.DataFrame({
        "household_id": ["6109281002310001", "6109281002310002"],
        "village_code": ["610928100231", "610928100231"],
        "name": [f"张三{ID}", "李四"],
        "income": [13812345678.0, 3812.5],
        "size": [3, 4],
        f"备注{PHONE}": ["", None],
    })
    out = redact_frame(frame)
    assert out["household_id"].tolist() == frame["household_id"].tolist()
    assert out["village_code"].tolist() == frame["village_code"].tolist()
    assert out["name"].tolist() == ["张三610928********1235", "李四"]
    assert out["income"].tolist() == ["138****5678", 3812.5]
    assert out["size"].dtype == frame["size"].dtype
    assert list(out.columns)[-1] == "备注138****5678"
    assert frame["name"].iloc[0] == f"张三{ID}"  # the input is not changed


@pytest.mark.parametrize("value, expected", [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+86", "'+86"), ("-张", "'-张"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("＝1+1", "'＝1+1"), (" =1+1", "' =1+1"), ("\u3000=1", "'\u3000=1"),
    ("ok", "ok"), ("a=b", "a=b"), ("'=quoted", "'=quoted"), ("", ""),
    (-3, -3), (-3.5, -3.5), (5, 5), (None, None),
])
def test_csv_cells_follow_the_owasp_rule(value, expected):
    assert csv_cell_safe(value) == expected


def test_csv_bytes_redacts_and_defuses_but_numbers_stay_numbers():
    frame = pd.DataFrame({"file": ["=cmd|' /C calc'!A0.xlsx", f"城关镇_{ID}.xlsx"], "delta": [-3.0, 2.0],
                          "note": ["-", f"电话{PHONE}"], "household_id": ["6109281002310001", None]})
    data = csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["file", "delta", "note", "household_id"]
    assert rows[1] == ["'=cmd|' /C calc'!A0.xlsx", "-3.0", "'-", "6109281002310001"]
    assert rows[2] == ["城关镇_610928********1235.xlsx", "2.0", "电话138****5678", ""]


def test_every_csv_writer_is_the_gate(tmp_path):
    from evalprep.settings import PROJECT_ROOT
    from tasks.publish import write_csv

    frame = pd.DataFrame({"name": ["=1+1", f"x{PHONE}"]})
    write_csv(tmp_path / "t.csv", frame)
    assert (tmp_path / "t.csv").read_bytes() == csv_bytes(frame)
    # and no module of the product writes a CSV any other way (rehearsal's visits.csv once had its own wrapper)
    writers = [str(p.relative_to(PROJECT_ROOT)) for package in ("evalprep", "expectations", "tasks", "flows")
               for p in (PROJECT_ROOT / package).rglob("*.py")
               if re.search(r"\.to_csv\(|csv\.(writer|DictWriter)\(|^def csv_bytes", p.read_text(encoding="utf-8"), re.M)]
    assert writers == ["evalprep/redaction.py"]


def test_every_template_value_goes_through_the_gate():
    from tasks.render.html import environment

    template = environment().from_string("<p>{{ name }}</p>{{ chart|safe }}<i>{{ income }}</i>{{ n }}")
    html = template.render(name=f"北沟村{ID}<", chart=Markup(f"<svg><text>{PHONE}</text></svg>"),
                           income=13812345678.0, n=-3)
    assert html == ("<p>北沟村610928********1235&lt;</p><svg><text>138****5678</text></svg>"
                    "<i>138****5678</i>-3")


def test_file_names_are_redacted():
    from tasks.render.paths import dossier_path

    path = dossier_path({"township_code": "610928100", "township_name": "城关镇", "village_code": "610928100231",
                         "village_name": f"北沟村{ID}"})
    assert ID not in path and path.startswith("dossiers/610928100_城关镇/610928100231_北沟村610928")


def test_xlsx_cells_and_properties_are_redacted():
    from tasks.attachments import Sheet, xlsx_bytes

    sheet = Sheet("x", (("name", f"姓名{PHONE}", 20), ("income", "收入", 10)),
                  [{"name": f"王五{ID}", "income": 13812345678.0}, {"name": "李四", "income": 3812.5}])
    data = xlsx_bytes([sheet], {"title": f"北沟村{ID} 档案", "author": f"县办 {PHONE}", "footer": f"备注{ID}"},
                      dt.date(2016, 10, 2))
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        text = "".join(book.read(name).decode("utf-8") for name in book.namelist())
        core = book.read("docProps/core.xml").decode("utf-8")
    assert ID not in text and PHONE not in text
    assert "北沟村610928********1235 档案" in core and "县办 138****5678" in core
    assert "3812.5" in text  # an ordinary number stays a number


def test_log_records_are_redacted_for_every_handler():
    import evalprep  # noqa: F401  (installs the gate)

    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    logger = logging.getLogger("evalprep.test-redaction")
    handler = Capture()
    logger.addHandler(handler)
    try:
        logger.warning("村 %s 的书记 %s", f"北沟村{ID}", int(PHONE))
        try:
            raise ValueError(f"bad cell {PHONE}")
        except ValueError:
            logger.exception("读取失败")
    finally:
        logger.removeHandler(handler)
    assert lines[0] == "村 北沟村610928********1235 的书记 138****5678"
    assert "bad cell 138****5678" in lines[1] and PHONE not in "".join(lines)
