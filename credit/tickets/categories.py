"""Complaint categories in a message: collection, fee, attitude, slow.

The category decides how a complaint is handled (a "slow" one is offered a progress
check first) and is stored on the ticket.  Rules are tried on the width-folded text;
a message can name several categories, each is reported once (:func:`unique_categories`).
"""

from __future__ import annotations

import re

from credit.text.spans import Candidate, Priority, Span

ENTITY = "complaint_category"

# (regex, category); longer / more specific first
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"爆通讯录|催收|催债|暴力催|骚扰|威胁|恐吓|打电话给我家人|联系我家人|打给我同事"), "collection"),
    (re.compile(r"乱收费|利息高|利息太高|利率太高|多扣|乱扣|扣了|扣我|手续费|服务费|收费|费"), "fee"),
    (re.compile(r"态度|骂|不理|爱答不理|不耐烦|敷衍|挂我电话|凶"), "attitude"),
    (re.compile(r"太慢|好慢|慢|等了|太久|好久|迟迟|拖延|拖着|拖了|拖(?!欠)|磨磨唧唧|磨叽|磨蹭|效率|没动静|石沉大海"),
     "slow"),
)


# how the assistant names each category when it restates the concern (复述确认)
LABELS = {"collection": "催收方式", "fee": "收费和扣款", "attitude": "服务态度", "slow": "审批放款太慢"}


def complaint_candidates(t: str) -> list[Candidate]:
    """Every rule match in the folded text ``t`` as a candidate span."""
    return [
        (Priority.COMPLAINT, Span(ENTITY, category, m.start(), m.end(), m.group(0)))
        for pattern, category in RULES
        for m in pattern.finditer(t)
    ]


def unique_categories(spans: list[Span]) -> list[Span]:
    """One complaint_category span per category is enough (the first one is kept)."""
    seen: set[str] = set()
    kept = []
    for span in spans:
        if span.entity == ENTITY:
            if span.value in seen:
                continue
            seen.add(span.value)
        kept.append(span)
    return kept
