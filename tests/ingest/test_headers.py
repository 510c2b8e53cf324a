from evalprep.template import sheets
from tasks.ingest.headers import alias_table, find_header, normalise_header


def test_normalise_header_folds_width_spaces_line_breaks_and_required_marks():
    assert normalise_header(" 家庭年纯收入（元）\n") == "家庭年纯收入(元)"
    assert normalise_header("*户 编号") == "户编号"


def test_every_header_and_alias_maps_to_its_column_in_each_sheet():
    for key, sheet in sheets().items():
        table = alias_table(key)
        for column in sheet.columns:
            for written in (column.header, *column.aliases):
                assert table[normalise_header(written)] == column.name, (key, written)


def test_variants_clerks_write_map_to_canonical_names():
    rows = [
        ["旬阳县蜀河镇建档立卡贫困户花名册"],
        [],
        ["序号", "户编号", "户主", "身份证号码 ", "家庭年纯收入（元）", "人均纯收入\n(元)", "备注"],
        [1, "6109281032010001", "张三", "610928197001010114", 6000, 3000, ""],
    ]
    match = find_header(rows, sheets()["households"])
    assert match.header_rows == (2,)
    assert match.data_start == 3
    assert list(match.columns.values()) == ["household_id", "head_name", "head_id_number", "net_income", "income_per_capita"]
    assert match.written[3] == "身份证号码"
    assert match.unknown == {6: "备注"}


def test_two_level_merged_header_takes_names_from_the_lower_row():
    rows = [
        ["户编号", "户主姓名", "收入情况", None, None],
        [None, None, "家庭年纯收入(元)", "工资性收入", "人均纯收入(元)"],
        ["6109281032010001", "张三", 6000, 4000, 3000],
    ]
    match = find_header(rows, sheets()["households"])
    assert match.header_rows == (0, 1)
    assert match.columns == {0: "household_id", 1: "head_name", 2: "net_income", 3: "income_wage", 4: "income_per_capita"}


def test_no_header_in_a_sheet_of_notes():
    assert find_header([["请按要求填写"], ["联系人：张三"]], sheets()["households"]) is None
