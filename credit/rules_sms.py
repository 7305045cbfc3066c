"""The full rules of an answer by SMS, on request (issue 28: "规则我发短信给您").

A caller hears one point at a time; the whole text form of a rules answer can follow by SMS.  It goes

* only to the **verified registered mobile** of the application the caller has just been verified for (the
  ``sms`` contact point marked verified; never a number said on the call, never an emergency contact);
* only with the caller's consent (the dialogue asks, naming the number's last four digits);
* through the configured gateway (``credit.sms.gateway``) as the approved template of its kind
  (``rules_<kind>`` in ``deploy/sms_templates.yml``): no variables, so no personal data at all, and the text
  passes the compliance checker before it is sent;
* at most once a day per kind and number, and at most :data:`DAILY_LIMIT` a day per application
  (``rules_sms`` rows are the audit trail and the count).

The text is the text form of the answer (``credit.answers``) for every product, without the lines that talk
to a chat window ("需要吗？", "告诉我…"), and the hotline.  Changing those texts means registering the templates
again: ``tests/unit/credit/test_rules_sms.py`` fails until ``deploy/sms_templates.yml`` says the same.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Dict, Mapping, Optional

from sqlalchemy import func, select

from credit.answers import explain, texts
from credit.catalogue.loader import Catalogue, load_catalogue
from credit.compliance import check_text
from credit.db.loans import Application
from credit.db.outreach import ContactPoint
from credit.db.sms import RulesSms
from credit.errors import NotFound, RateLimited, ServiceUnavailable
from credit.replies import Reply
from credit.sms.common import SmsConfigError
from credit.sms.gateway import SmsGateway
from credit.store import Store
from credit.text.masking import mask_phone
from credit.verification import Verifier

log = logging.getLogger(__name__)

KIND_PREFIX = "rules_"
DAILY_LIMIT = 3
WINDOW = timedelta(hours=24)

_TEXT_FORMS: Dict[str, Callable[[Catalogue], Reply]] = {
    "prepayment": lambda cat: texts.prepayment_answer(cat, None, None, None),
    "repayment": lambda cat: texts.topic_answer(cat, "ask_repayment"),
    "overdue": lambda cat: texts.topic_answer(cat, "ask_overdue"),
    "eligibility": lambda cat: texts.topic_answer(cat, "ask_eligibility"),
    "limits": lambda cat: texts.topic_answer(cat, "ask_loan_limit"),
    "fees": lambda cat: explain.fees_answer(cat),
    "rates": lambda cat: texts.rate_answer(cat, None, None, None),
}
RULE_KINDS = tuple(_TEXT_FORMS)
#: what the caller hears the rules called ("我把提前还款的完整规则发到…")
TOPICS = {"prepayment": "提前还款", "repayment": "还款", "overdue": "逾期", "eligibility": "申请条件和材料",
          "limits": "额度", "fees": "费用", "rates": "利率"}


def sms_kind(kind: str) -> str:
    """The SMS template kind of a rules kind: ``rules_prepayment``."""
    return KIND_PREFIX + kind


def _talks_to_a_chat(line: str) -> bool:
    return "？" in line or "?" in line or "告诉我" in line


def rules_text(kind: str, cat: Optional[Catalogue] = None) -> str:
    """The SMS body of ``kind``: its text form for every product, what only makes sense in a chat left out."""
    cat = cat or load_catalogue()
    reply = _TEXT_FORMS[kind](cat)
    lines = [line for line in reply.text.splitlines() if line.strip() and not _talks_to_a_chat(line)]
    return "\n".join(lines) + f"\n详询官方客服热线{cat.hotline.number}。"


@dataclass(frozen=True)
class RulesSmsSent:
    kind: str
    masked_phone: str  # 138****5678
    already: bool  # sent in the last day already: not sent again
    reference: Optional[str] = None


class RulesSmsSender:
    """Sends the rules of ``kind`` to the verified registered mobile of a verified caller's application."""

    def __init__(self, store: Store, verifier: Verifier, sms: SmsGateway) -> None:
        self.store, self.verifier, self.sms = store, verifier, sms
        templates = getattr(sms, "templates", None)  # a template-only vendor: every rules kind registered
        if isinstance(templates, Mapping):
            missing = [sms_kind(k) for k in RULE_KINDS if sms_kind(k) not in templates]
            if missing:
                raise SmsConfigError(f"短信模板文件缺少规则短信的模板：{', '.join(missing)} / "
                                     f"SMS templates missing for: {', '.join(missing)}")

    def registered_mobile(self, sender_id: str, application_id: str) -> str:
        """The verified registered mobile (full number) of the application this sender is verified for;
        :class:`NotVerified` without a current verification, :class:`NotFound` without a verified number."""
        with self.store.session() as session:
            application: Application = self.verifier.require(session, sender_id, application_id, "basic")
            phone = session.execute(select(ContactPoint.address).where(
                ContactPoint.customer_id == application.customer_id, ContactPoint.channel == "sms",
                ContactPoint.verified.is_(True)).order_by(ContactPoint.id)).scalars().first()
        if not phone:
            raise NotFound("没有已核实的注册手机号")
        return str(phone)

    def send(self, sender_id: str, application_id: str, kind: str) -> RulesSmsSent:
        if kind not in _TEXT_FORMS:
            raise NotFound(f"没有可以发短信的规则：{kind!r}")
        phone = self.registered_mobile(sender_id, application_id)
        masked, now = mask_phone(phone), self.store.now()
        with self.store.session() as session:
            recent = select(RulesSms).where(RulesSms.application_id == application_id,
                                            RulesSms.created_at > now - WINDOW)
            if session.execute(recent.where(RulesSms.kind == kind)).first() is not None:
                return RulesSmsSent(kind, masked, already=True)
            count = session.execute(select(func.count()).select_from(recent.subquery())).scalar_one()
            if count >= DAILY_LIMIT:
                raise RateLimited(now + WINDOW, "今天发送的规则短信已达上限")
            row = RulesSms(application_id=application_id, sender_id=sender_id, kind=kind, phone_masked=masked,
                           created_at=now)
            session.add(row)
            session.flush()
            row_id = row.id
        text = rules_text(kind)
        problems = check_text(text)
        try:
            if problems:  # never sent: the rules texts are checked by the tests, this is the last guard
                raise ValueError("; ".join(p.rule for p in problems))
            reference = self.sms.send(phone, text, kind=sms_kind(kind), fields={}, context=f"rules:{row_id}")
        except Exception as exc:
            log.error("rules SMS %s not sent: %s", kind, exc)
            with self.store.session() as session:
                stored = session.get(RulesSms, row_id)
                if stored is not None:
                    session.delete(stored)
            raise ServiceUnavailable("短信发送失败，请稍后再试") from exc
        with self.store.session() as session:
            stored = session.get(RulesSms, row_id)
            if stored is not None:
                stored.reference = reference
        return RulesSmsSent(kind, masked, already=False, reference=reference)


__all__ = ["DAILY_LIMIT", "KIND_PREFIX", "RULE_KINDS", "RulesSmsSender", "RulesSmsSent", "TOPICS", "rules_text",
           "sms_kind"]
