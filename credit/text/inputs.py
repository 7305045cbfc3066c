"""Cleaning what callers pass in: identifiers customers type, sender ids, codes, free text.

Every identifier goes through one normaliser, :meth:`IdentifierFormat.normalise`
(NFKC so full-width becomes half-width, upper case, spaces/dashes/underscores
removed, then the exact shape); the formats differ only in their row of the table
below.  Free text is cleaned of control characters, masked and truncated before it
is stored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from credit.errors import InvalidInput
from credit.policy import MAX_SENDER_CHARS, MAX_TEXT_CHARS
from credit.text.masking import mask_pii

_SEPARATORS = re.compile(r"[\s\-_]+")
_CODE_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class IdentifierFormat:
    """The shape of one identifier; ``max_len`` refuses huge input before any work."""

    pattern: re.Pattern[str]
    max_len: int
    error: str = "格式不正确"  # the InvalidInput message when the identifier is required

    def normalise(self, value: Any) -> str | None:
        """'ｓｑ 2026-1120-0001' → 'SQ202611200001'; None when malformed."""
        if not isinstance(value, str) or len(value) > self.max_len:
            return None
        text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value).strip().upper())
        return text if self.pattern.fullmatch(text) else None

    def require(self, value: Any) -> str:
        """Like :meth:`normalise`, but malformed input is :class:`InvalidInput`."""
        text = self.normalise(value)
        if text is None:
            raise InvalidInput(self.error)
        return text


APPLICATION_ID = IdentifierFormat(re.compile(r"SQ\d{12}"), 64, "申请编号格式不正确，应为SQ加12位数字")
ID_LAST4 = IdentifierFormat(re.compile(r"\d{3}[\dX]"), 32)  # '１２３ｘ' → '123X'
OTP_CODE = IdentifierFormat(re.compile(r"\d{6}"), 32)
TICKET_NUMBER = IdentifierFormat(re.compile(r"TK\d{12}"), 64, "工单号格式不正确，应为TK加12位数字")

normalise_application_id = APPLICATION_ID.normalise
normalise_id_last4 = ID_LAST4.normalise


def sender(value: Any) -> str:
    """The conversation's sender id: printable, at most MAX_SENDER_CHARS."""
    if not isinstance(value, str):
        raise InvalidInput("会话标识无效")
    text = value.strip()
    if not text or len(text) > MAX_SENDER_CHARS or not text.isprintable():
        raise InvalidInput("会话标识无效")
    return text


def code(value: Any, what: str) -> str:
    """Short machine code (ticket category, risk kind, channel, queue)."""
    text = value.strip().lower() if isinstance(value, str) else None
    if not text or not _CODE_RE.fullmatch(text):
        raise InvalidInput(f"{what}无效")
    return text


def free_text(value: Any, what: str) -> str:
    """Free text (None → ''), masked then truncated to MAX_TEXT_CHARS."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what}无效")
    # Control characters are dropped (PostgreSQL rejects NUL) before masking.
    cleaned = _CONTROL_RE.sub("", value[: MAX_TEXT_CHARS * 4])
    return mask_pii(cleaned)[:MAX_TEXT_CHARS]
