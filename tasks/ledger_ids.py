"""Stable identities of rectification items (整改台账): the same problem has the same id every week.

An id is the rule's code, then what the problem is about — a village, a project of a village, a household, a
cell of a township's table identified by its record — never a row number, which moves when a clerk sorts or
inserts rows. Ids are readable (V-POWER:610928100230) so an official can quote one on the phone.
"""
from __future__ import annotations

SEPARATOR = ":"


def item_id(rule: str, *identity: object) -> str:
    """rule:part1/part2/… — empty parts stay empty so that two identities never collide."""
    return f"{rule}{SEPARATOR}" + "/".join("" if part is None else str(part).strip() for part in identity)


def village_item(rule: str, village_code: str) -> str:
    return item_id(rule, village_code)


def project_item(rule: str, village_code: str, project_id: str) -> str:
    return item_id(rule, village_code, project_id)
