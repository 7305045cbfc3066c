"""Customers' suggestions (intent give_suggestion): the reply texts and a short restatement.

A suggestion is thanked and recorded as a ticket of kind ``suggestion`` for ops; it is not a
complaint, so nothing here apologises.  The texts live in ``credit/catalogue.yml`` (``suggestion:``).
"""

from __future__ import annotations

import re

from credit.catalogue.sections import SuggestionTexts
from credit.compliance import check_text
from credit.text.masking import mask_pii

MAX_RESTATED_CHARS = 40

_LEAD = re.compile(
    r"^(?:(?:你好|您好|客服)[,，\s]*)?(?:我(?=有个|想|给))?(?:有个|想|给你们|跟你们|向你们|给)?(?:提(?:一)?个|提点|个)?"
    r"(?:小)?(?:建议|意见)?[哈啊吧呀]?(?:[,，:：\s]+)?(?:就是|是)?(?:[,，:：\s]+)?"
)
_TRAIL = re.compile(r"[\s,，.。!！?？~～…]+$")


def summarise(text: str | None) -> str:
    """The suggestion itself, without "给你们提个建议：" and closing punctuation, PII masked; "" if too long."""
    body = _TRAIL.sub("", _LEAD.sub("", (text or "").strip(), count=1)).strip()
    if not body or len(body) > MAX_RESTATED_CHARS:
        return ""
    return mask_pii(body)


def suggestion_reply(texts: SuggestionTexts, message: str | None, voice: bool = False) -> str:
    """Thanks, restating the suggestion when it is short and compliant on its own (even unquoted)."""
    if voice:
        return texts.thanks_voice
    summary = summarise(message)
    if summary and not check_text(summary):
        restated = texts.thanks_restated.format(summary=summary)
        if not check_text(restated):
            return restated
    return texts.thanks
