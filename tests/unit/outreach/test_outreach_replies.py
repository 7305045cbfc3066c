"""Replies to a notice, on a real SQLite database: which notice a conversation is answering (and only its
own), the instalment as it stands now, and every outreach text — the WeChat template values and the
replies — through the compliance checker."""
from __future__ import annotations

import string
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.db.engine import session_scope
from credit.db.loans import Loan, LoanInstallment
from credit.db.outreach import ContactPoint, OutreachNotice, RepaymentRecord
from credit.outreach.answers import (
    already_paid,
    call_detail,
    call_not_verified,
    cannot_repay,
    hardship_already_registered,
    how_to_repay,
    notice_text,
    satisfaction_thanks,
)
from credit.outreach.context import NoticeContexts, call_notice_id, matches_any
from credit.policy import CHINA_TZ
from credit.store import Store
from credit.views import TicketView
from outreach.channels import SmsChannel
from outreach.engine import OutreachEngine
from outreach.wechat import TEMPLATE_FIELDS, load_templates

CAT = load_catalogue()
T_MINUS_1 = datetime(2026, 12, 2, 10, 0, tzinfo=CHINA_TZ)
OPENID = "o_demo_openid_3579"



class FakeWeChat:
    """Records what it is given; the delivery wire format is tested against the stand-in elsewhere."""

    name, private = "wechat", True

    def __init__(self) -> None:
        self.sent: list = []

    def handles(self, kind: str) -> bool:
        return True

    def send(self, address, delivery):
        self.sent.append((address, delivery.key))
        return f"wechat:{len(self.sent)}"

    def find(self, address, delivery, since, now):
        return None


def reminded(db) -> int:
    report = OutreachEngine(db, CAT, {"wechat": FakeWeChat(), "sms": SmsChannel(db)}, lambda: T_MINUS_1).sweep()
    assert "due_t1:SQ202610300006:p1" in report.sent
    with session_scope(db) as s:
        return s.execute(select(OutreachNotice.id).where(OutreachNotice.key == "due_t1:SQ202610300006:p1")
                         ).scalar_one()


def contexts(db, now: datetime = T_MINUS_1) -> NoticeContexts:
    return NoticeContexts(Store(db, lambda: now), CAT.outreach.reply_days)


def test_a_wechat_conversation_answers_the_latest_notice_sent_to_its_own_openid(db):
    notice_id = reminded(db)
    ctx = contexts(db).for_sender(f"wx:{OPENID}")
    assert ctx is not None and ctx.notice_id == notice_id and ctx.application_id == "SQ202610300006"
    assert ctx.instalment is not None and ctx.instalment.due_date == date(2026, 12, 3) and not ctx.instalment.paid
    assert contexts(db).for_sender("wx:o_someone_else") is None
    assert contexts(db).for_sender(f"rest:{OPENID}") is None  # another channel's namespace never matches
    assert contexts(db, T_MINUS_1 + timedelta(days=CAT.outreach.reply_days + 1)).for_sender(f"wx:{OPENID}") is None


def test_a_notice_trigger_is_honoured_only_in_the_conversation_it_went_to(db):
    notice_id = reminded(db)
    assert contexts(db).for_notice(f"wx:{OPENID}", str(notice_id)) is not None
    for sender, raw in ((f"wx:{OPENID}", "999"), ("wx:o_other", str(notice_id)), (f"tel:notice-{notice_id}",
                        str(notice_id)), (f"wx:{OPENID}", "1; DROP TABLE"), (f"wx:{OPENID}", None),
                        (f"wx:{OPENID}", "9" * 13)):
        assert contexts(db).for_notice(sender, raw) is None, (sender, raw)
    with session_scope(db) as s:  # the point was unbound meanwhile: no longer this customer's conversation
        s.execute(update(ContactPoint).where(ContactPoint.address == OPENID).values(verified=False))
    assert contexts(db).for_sender(f"wx:{OPENID}") is None


@pytest.mark.parametrize(("sender", "expected"), [
    ("tel:notice-12", 12), ("ivr:notice-7", 7), ("wx:notice-12", None), ("tel:CA123", None),
    ("tel:notice-", None), ("tel:notice-1x", None), ("tel:notice-" + "9" * 13, None)])
def test_the_call_conversation_names_its_notice(sender, expected):
    assert call_notice_id(sender) == expected


def test_already_paid_reads_the_records_now(db):
    reminded(db)
    ctx = contexts(db).for_sender(f"wx:{OPENID}")
    assert "还没查到" in already_paid(CAT, ctx, date(2026, 12, 2)).text
    with session_scope(db) as s:
        loan_id = s.execute(select(Loan.id).where(Loan.application_id == "SQ202610300006")).scalar_one()
        s.execute(update(LoanInstallment).where(LoanInstallment.loan_id == loan_id, LoanInstallment.period == 1)
                  .values(paid=True))
        s.add(RepaymentRecord(loan_id=loan_id, period=1, kind="manual", result="success", amount=1,
                              at=T_MINUS_1 + timedelta(hours=2)))
    paid = contexts(db).for_sender(f"wx:{OPENID}")
    reply = already_paid(CAT, paid, date(2026, 12, 2))
    assert "已经还清" in reply.text and "12月2日入账" in reply.text
    assert "已经还清了" in how_to_repay(CAT, paid, date(2026, 12, 2)).text


@pytest.mark.parametrize(("text", "paid", "hardship"), [
    ("已经还了", True, False), ("我昨天就还了", True, False), ("钱已经存进去了", True, False),
    ("我已经把钱存到卡里了", True, False), ("这个月还不上了", False, True), ("手头有点困难", False, True),
    ("能缓几天吗", False, True), ("怎么还", False, False), ("还款日是哪天", False, False),
    ("已经还不上了", False, True)])
def test_paid_and_hardship_replies_are_told_apart(text, paid, hardship):
    assert matches_any(CAT.outreach.paid_replies, text) is paid
    assert matches_any(CAT.outreach.hardship_replies, text) is hardship


def test_every_reply_to_a_notice_and_every_wechat_template_value_is_compliant(db):
    reminded(db)
    ctx = contexts(db).for_sender(f"wx:{OPENID}")
    ticket = TicketView(number="TK202612020001", kind="negotiation", status="open", category=None,
                        sla_hours=48, created_at=T_MINUS_1, due_at=T_MINUS_1 + timedelta(hours=48),
                        application_id="SQ202610300006", detail="客户申请协商还款", contact="registered")
    replies = [notice_text(CAT, ctx, voice=False), notice_text(CAT, ctx, voice=True),
               call_not_verified(CAT).text, satisfaction_thanks("TK202612020001", True).text,
               satisfaction_thanks("TK202612020001", False).text]
    for today in (date(2026, 12, 2), date(2026, 12, 5), date(2026, 12, 20)):  # before, in grace, after
        replies += [how_to_repay(CAT, ctx, today).text, how_to_repay(CAT, ctx, today, voice=True).text,
                    already_paid(CAT, ctx, today).text, call_detail(CAT, ctx, today).text]
        replies += [cannot_repay(CAT, ctx, ticket, today).text, cannot_repay(CAT, ctx, ticket, today, voice=True).text]
    late = date(2026, 12, 20)  # past the grace period: no grace is promised any more
    assert "宽限期已过" in how_to_repay(CAT, ctx, late).text and "宽限期内还清" not in call_detail(CAT, ctx, late).text
    assert "按合同计收罚息" in cannot_repay(CAT, ctx, ticket, late).text
    replies.append(hardship_already_registered(ticket).text)
    for text in replies:
        assert check_text(text) == [], text
    sample = {name: "1" for name in TEMPLATE_FIELDS} | {"company": CAT.company, "hotline": CAT.hotline.number}
    for kind, spec in load_templates().items():
        for key, value in spec.data.items():
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f}
            assert fields <= set(TEMPLATE_FIELDS), (kind, key)
            assert check_text(value.format(**sample)) == [], (kind, key)
    assert set(load_templates()) <= {rule.kind for rule in CAT.outreach.notices}


def test_the_channel_level_outreach_texts_are_compliant_too():
    """What the channels say without a dialogue turn: the 退订/订阅 answers on WeChat, an outbound call's
    goodbye for a notice that does not check out, and its goodbye after silence."""
    from connectors.voice.calls import NOTICE_GOODBYE, OUTBOUND_NO_INPUT
    from connectors.wechat import consent

    texts = [consent.OPTED_OUT, consent.ALREADY_OUT, consent.OPTED_IN, consent.ALREADY_IN, consent.NOTHING_TO_STOP,
             consent.NOTHING_TO_START, consent.NOT_DONE, NOTICE_GOODBYE, OUTBOUND_NO_INPUT]
    for text in texts:
        assert check_text(text) == [], text
    assert all("征信" in t for t in (consent.OPTED_OUT, consent.ALREADY_OUT))  # the law's notice still comes
