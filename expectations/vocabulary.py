"""The words the rules and verdicts are written in: the bottom layer, importing nothing of the project.

Every value of the domain vocabulary is an entry of the submission template's vocabularies
(evalprep/submission_template.yaml; tests/test_suites.py checks it); the rules use them as written in
data-model.md §2 and docs/decisions.md. Verdict words (status, grade) are what tasks/assess.py stores once
per criterion and village and what everything downstream reads.
"""
from __future__ import annotations

# The frames the GX suites validate (tasks/criteria_frames.py builds them).
TABLES = ("households", "members", "villages", "projects", "surveys")

# Domain vocabulary
EXIT_COHORT = ("预脱贫", "已脱贫")
REMAINING_POOR = ("新识别", "未脱贫", "返贫")
CANCELLED = "注销"  # registration cancelled: kept in the tables, counted nowhere
NONE_MARKERS = ("无",)
SATISFIED = ("满意", "基本满意")
NOT_AN_ANSWER = ("不了解",)
APPROVED = "已批复"
HOUSING_SAFE = "安全"
HOUSING_SOLUTIONS = ("危房改造", "易地扶贫搬迁(集中安置)", "易地扶贫搬迁(分散安置)", "交钥匙工程")
HOUSING_DONE = ("已竣工", "已入住")
DROPOUT = "辍学"
WELFARE_TYPES = ("低保贫困户", "五保贫困户")
# 全覆盖 is a definition (coverage is a percentage, 0–100), not a tunable threshold.
FULL_COVERAGE_PERCENT = 100

# Derived columns a rule and its explanation share (docs/decisions.md "Rules added for the evaluators' view").
MEMBERS_MISSING = "members_missing"  # 家庭人口数 − member rows, ≥ 0; NaN when 家庭人口数 is unknown

# Verdicts: a criterion's status per village or household, and a village's grade.
FAIL, PASS, UNKNOWN = "fail", "pass", "unknown"
GRADE_FAIL, GRADE_PASS, GRADE_EXCELLENT = "未达标", "合格", "优秀"
