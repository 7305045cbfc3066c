"""The outreach rules (catalogue section ``outreach:``): which notices exist, what fact triggers each
and when, on which channels in which order, their texts, and the contact rules (hours in Beijing
time, a daily cap, retries).  Ops change them in ``credit/catalogue.yml``, not in code.

Texts are templates over a fixed set of fields (:data:`FIELDS`); ``text`` goes to private channels
(WeChat, web chat), ``sms`` to a screen others may see (no amounts, the loan by its last four
digits only), ``voice`` is read out on a call before the caller is verified (no loan detail at all).
"""
from __future__ import annotations

import string
from datetime import time
from typing import Optional

from pydantic import StrictBool, StrictInt, validator

from credit.catalogue.fields import Code, Patterns, Schema, Text

FACTS = ("installment_due", "installment_overdue", "deduction_failed", "application_stage", "ticket_due",
         "ticket_closed")
CHANNEL_CODES = ("wechat", "sms", "phone", "web")
# Channels that only answer inside a window the customer opened (微信客服: 48 hours after their message,
# 5 messages): never a channel for a notice, which reaches out first.
REPLY_ONLY_CHANNELS = ("wecom_kf",)
FIELDS = ("company", "loan_tail", "period", "amount", "due", "days", "product", "ticket", "hotline")


def _fields_known(value: str) -> str:
    used = {f for _, f, _, _ in string.Formatter().parse(value) if f}
    unknown = used - set(FIELDS)
    if unknown:
        raise ValueError(f"未知的模板字段 {sorted(unknown)}；可用: {', '.join(FIELDS)}")
    return value


class NoticeRule(Schema):
    kind: Code
    name: Text  # what ops see
    fact: Code
    days: Optional[StrictInt] = None  # installment_due: days before; installment_overdue: days after
    hours: Optional[StrictInt] = None  # ticket_due: hours before the deadline
    stage: Optional[Code] = None  # application_stage: the stage announced
    channels: tuple[Code, ...]  # tried in order: the first the customer can be reached on
    mandatory: StrictBool = False  # required by law: sent despite 退订 (still only to the borrower)
    max_age_hours: StrictInt = 48  # a fact older than this is not announced late
    text: Text
    sms: Text
    voice: Optional[Text] = None

    _templates = validator("text", "sms", "voice", allow_reuse=True)(
        lambda v: _fields_known(v) if v is not None else v)

    @validator("fact")
    def _known_fact(cls, value: str) -> str:
        if value not in FACTS:
            raise ValueError(f"未知的触发事实 {value!r}；可用: {', '.join(FACTS)}")
        return value

    @validator("channels")
    def _known_channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        reply_only = [c for c in value if c in REPLY_ONLY_CHANNELS]
        if reply_only:
            raise ValueError(f"{', '.join(reply_only)} 只能在客户发来消息后的 48 小时内回复，不能用于主动通知")
        if not value or any(c not in CHANNEL_CODES for c in value):
            raise ValueError(f"渠道只能是 {', '.join(CHANNEL_CODES)}，且不能为空")
        return value


class OutreachRules(Schema):
    contact_start: Text  # "08:00", Beijing time
    contact_end: Text  # "21:00"
    daily_cap: StrictInt  # contacts per customer per Beijing day (mandatory notices not counted)
    max_attempts: StrictInt
    backoff_minutes: tuple[StrictInt, ...]
    lease_minutes: StrictInt  # a claimed notice not finished within this is reconciled with the vendor
    opt_out: Patterns  # 退订 / TD
    opt_in: Patterns  # resubscription
    reply_days: StrictInt  # a customer's message within this many days of a notice is read as a reply to it
    paid_replies: Patterns  # "已经还了": checked against the notice's instalment, not answered with how to pay
    hardship_replies: Patterns  # "还不上了": the negotiation ticket of the overdue flow, at once
    notices: tuple[NoticeRule, ...]

    @validator("contact_start", "contact_end")
    def _clock(cls, value: str) -> str:
        time.fromisoformat(value if len(value) == 5 else value.zfill(5))
        return value

    def rule(self, kind: str) -> NoticeRule:
        return next(n for n in self.notices if n.kind == kind)

    @property
    def opens(self) -> time:
        return time.fromisoformat(self.contact_start.zfill(5))

    @property
    def closes(self) -> time:
        return time.fromisoformat(self.contact_end.zfill(5))


__all__ = ["FACTS", "CHANNEL_CODES", "FIELDS", "NoticeRule", "OutreachRules"]
