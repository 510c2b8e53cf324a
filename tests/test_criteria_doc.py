"""docs/criteria.md says what the catalogue says (the catalogue's header promises it)."""
from expectations.catalogue import load_profile
from expectations.criteria_doc import DOC_PATH, criteria_markdown


def test_the_committed_criteria_doc_is_the_one_the_catalogue_generates():
    assert DOC_PATH.read_text(encoding="utf-8") == criteria_markdown(), (
        "docs/criteria.md drifted from expectations/catalogue.yaml: run `python -m expectations.criteria_doc`")


def test_the_doc_prints_each_threshold_from_the_catalogue():
    text = criteria_markdown()
    satisfaction = load_profile("xunyang-2016").criterion("V-SATISFACTION")
    assert satisfaction.rule in text and "满意度低于80%启动问责" in satisfaction.rule
    assert "| wrong_exit_rate | 错退率 |" in text and "| < 2% |" in text
