"""Closing a ticket and the satisfaction follow-up: an operator closes a ticket, the outreach engine plans one
``ticket_followup`` for it and sends it once, within contact hours, to the borrower's own channel (not for
suggestions, not after 退订, not once the customer has already answered); the answer is kept with
``record_satisfaction`` (the latest wins).  Real SQLite database, injected clock, the SMS outbox gateway."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Dict, List, Optional

import pytest
from sqlalchemy import select, text, update

from credit.catalogue.loader import load_catalogue
from credit.compliance import check_text
from credit.db.engine import session_scope
from credit.db.loans import Application, Customer
from credit.db.outreach import ContactPoint, OutreachNotice
from credit.db.sms import SmsOutbox
from credit.db.tickets import Ticket, TicketOutcome
from credit.errors import InvalidInput, NotFound
from credit.policy import CHINA_TZ
from credit.service import LoanService
from credit.tickets.records import close_ticket, record_satisfaction, satisfaction_from_reply
from outreach.channels import SmsChannel
from outreach.engine import OutreachEngine, render
from tests.seeded import SEEDED, Clock

CAT = load_catalogue()
LOAN = "SQ202611180002"  # 李娜: registered mobile 13800005678 and a bound OpenID; nothing else falls due soon
PHONE = "13800005678"




def ticket(db, kind: str = "complaint", at: datetime = SEEDED, application: Optional[str] = LOAN) -> str:
    svc = LoanService(db, clock=Clock(at))
    return svc.create_ticket("wx:o_demo_openid_5678", kind, "放款到账慢", contact="registered",
                             category="slow" if kind == "complaint" else None, application_id=application).number


def sweep(db, at: datetime, channels: Optional[Dict] = None, worker: str = "w1"):
    return OutreachEngine(db, CAT, channels or {"sms": SmsChannel(db)}, Clock(at), worker=worker).sweep()


def followups(db) -> Dict[str, OutreachNotice]:
    with session_scope(db) as s:
        return {n.key: n for n in s.execute(select(OutreachNotice).where(OutreachNotice.kind == "ticket_followup"))
                .scalars()}


def ours(keys: List[str]) -> List[str]:
    """The follow-ups among a sweep's keys (the demo loans' own reminders fall due at the same moments)."""
    return [k for k in keys if k.startswith("ticket_followup:")]


def texts_to(db, phone: str) -> List[str]:
    with session_scope(db) as s:
        return list(s.execute(select(SmsOutbox.text).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id))
                    .scalars())


# ------------------------------------------------------------------------------------------ the follow-up

def test_a_ticket_closed_after_hours_is_followed_up_once_at_eight(db):
    number = ticket(db)
    closed_at = datetime(2026, 12, 1, 21, 30, tzinfo=CHINA_TZ)
    close_ticket(db, number, "已核实放款延迟原因并加急处理，款项已到账", "主管王", closed_at)
    key = f"ticket_followup:{number}"
    assert key in sweep(db, closed_at + timedelta(minutes=1)).held  # 21:31: after hours
    assert followups(db)[key].due_at == closed_at and followups(db)[key].subject == number
    assert sweep(db, datetime(2026, 12, 2, 7, 59, tzinfo=CHINA_TZ)).sent == []
    morning = sweep(db, datetime(2026, 12, 2, 8, 0, tzinfo=CHINA_TZ))
    assert ours(morning.sent) == [key]
    [sms] = texts_to(db, PHONE)
    assert number in sms and "满意" in sms and "1到5分" in sms and sms.endswith("回复TD退订")
    assert check_text(sms) == []
    for minutes in (5, 60, 24 * 60):  # later sweeps (and a second engine) plan and send nothing more
        again = sweep(db, datetime(2026, 12, 2, 8, 0, tzinfo=CHINA_TZ) + timedelta(minutes=minutes), worker="w2")
        assert ours(again.sent) == [] and key not in again.held
    assert len(texts_to(db, PHONE)) == 1 and len(followups(db)) == 1


def test_closed_within_hours_the_follow_up_goes_at_once_and_an_old_close_is_not_announced(db):
    number, old = ticket(db), ticket(db)
    close_ticket(db, old, "已处理", "主管王", SEEDED - timedelta(hours=CAT.outreach.rule("ticket_followup")
                                                                  .max_age_hours + 1))
    close_ticket(db, number, "已处理", "主管王", SEEDED)
    report = sweep(db, SEEDED + timedelta(minutes=1))
    assert ours(report.sent) == [f"ticket_followup:{number}"]
    assert f"ticket_followup:{old}" not in followups(db)


def test_no_follow_up_for_a_suggestion_or_a_ticket_without_a_customer(db):
    idea = ticket(db, kind="suggestion")
    anonymous = ticket(db, application=None)
    for number in (idea, anonymous):
        close_ticket(db, number, "已记录，转产品团队评估", "主管王", SEEDED)
    report = sweep(db, SEEDED + timedelta(minutes=1))
    assert ours(report.sent + report.held + report.suppressed) == []
    assert followups(db) == {} and texts_to(db, PHONE) == []


def test_no_follow_up_after_the_customer_unsubscribed(db):
    with session_scope(db) as s:
        customer = s.execute(select(Application.customer_id).where(Application.application_id == LOAN)).scalar_one()
        s.execute(update(ContactPoint).where(ContactPoint.customer_id == customer).values(subscribed=False))
    number = ticket(db)
    close_ticket(db, number, "已处理", "主管王", SEEDED)
    report = sweep(db, SEEDED + timedelta(minutes=1))
    key = f"ticket_followup:{number}"
    assert key in report.suppressed and followups(db)[key].reason.startswith("客户已退订")
    assert texts_to(db, PHONE) == []


def test_an_answer_given_before_the_follow_up_went_out_makes_it_moot(db):
    number = ticket(db)
    closed_at = datetime(2026, 12, 1, 22, 0, tzinfo=CHINA_TZ)
    close_ticket(db, number, "已处理", "主管王", closed_at)
    key = f"ticket_followup:{number}"
    assert key in sweep(db, closed_at + timedelta(minutes=1)).held
    record_satisfaction(db, number, 5, "满意", closed_at + timedelta(minutes=30))  # said so in the chat
    report = sweep(db, datetime(2026, 12, 2, 8, 0, tzinfo=CHINA_TZ))
    assert key in report.suppressed and "已变化" in followups(db)[key].reason
    assert texts_to(db, PHONE) == []


def test_the_daily_cap_counts_a_follow_up_another_engine_is_still_sending(db):
    """Three tickets closed at once, cap two a day.  Engine A claims the first and, while it talks to the
    vendor (outside any transaction), engine B sweeps: B may send one more, not two (the race
    tests/scale/test_outreach_postgres.py found with two processes)."""
    numbers = [ticket(db) for _ in range(3)]
    for number in numbers:
        close_ticket(db, number, "已处理", "主管王", SEEDED)
    at = SEEDED + timedelta(minutes=1)
    other: List = []

    class SlowVendor(SmsChannel):
        def send(self, address, delivery):
            if not other and delivery.kind == "ticket_followup":
                other.append(sweep(db, at, worker="B"))  # B sweeps while A's first claim is in flight
            return super().send(address, delivery)

    first = sweep(db, at, {"sms": SlowVendor(db)}, worker="A")
    assert len(ours(first.sent)) + len(ours(other[0].sent)) == CAT.outreach.daily_cap
    assert len(texts_to(db, PHONE)) == CAT.outreach.daily_cap
    [held] = [n for n in followups(db).values() if n.status == "pending"]
    assert "每日上限" in held.reason and held.next_attempt_at == datetime(2026, 12, 2, 8, 0, tzinfo=CHINA_TZ)
    tomorrow = sweep(db, datetime(2026, 12, 2, 8, 0, tzinfo=CHINA_TZ))
    assert ours(tomorrow.sent) == [held.key] and len(texts_to(db, PHONE)) == 3


def test_the_rendered_follow_up_is_compliant_on_every_channel_and_the_sms_is_masked():
    rule = CAT.outreach.rule("ticket_followup")
    assert rule.name == "工单办结回访" and rule.channels == ("wechat", "sms") and not rule.mandatory
    fields = {"company": CAT.company, "loan_tail": "0002", "product": "随心借", "hotline": CAT.hotline.number,
              "ticket": "TK202612010001"}
    screen = type("Screen", (), {"name": "sms", "private": False})()  # what render() looks at
    private = type("Private", (), {"name": "wechat", "private": True})()
    for channel in (screen, private):
        rendered = render(CAT, "ticket_followup", channel, fields)
        assert check_text(rendered) == [], rendered
        assert "TK202612010001" in rendered and "满意" in rendered
    sms = render(CAT, "ticket_followup", screen, fields)
    assert "回复TD退订" in sms and "0002" not in sms and "随心借" not in sms and len(sms) <= 70


def test_the_follow_up_goes_as_a_wechat_library_template(db, tmp_path):
    from connectors.state import StateStore
    from connectors.wechat.config import WeChatSettings
    from harness.wechat_api import WeChatApiStandIn
    from outreach.wechat import WechatTemplateChannel, load_templates

    templates = load_templates()
    stand_in = WeChatApiStandIn(templates={spec.template_id: tuple(spec.data) for spec in templates.values()})
    base = stand_in.start()
    try:
        settings = WeChatSettings(token="t", app_id=stand_in.app_id, app_secret=stand_in.app_secret, api_base=base)
        wechat = WechatTemplateChannel(settings, StateStore(str(tmp_path / "state.db")), templates)
        number = ticket(db)
        close_ticket(db, number, "已处理", "主管王", SEEDED)
        report = sweep(db, SEEDED + timedelta(minutes=1), {"wechat": wechat, "sms": SmsChannel(db)})
        assert ours(report.sent) == [f"ticket_followup:{number}"]
        [message] = stand_in.templates_to("o_demo_openid_5678")
        assert message["template_id"] == "demo_ticket_feedback" and stand_in.rejected == []
        assert message["data"]["character_string1"]["value"] == number
        assert texts_to(db, PHONE) == []  # one channel, not both
    finally:
        stand_in.stop()


# ---------------------------------------------------------------------------------------------- closing

def test_closing_checks_its_input_and_masks_the_resolution(db):
    number = ticket(db)
    with pytest.raises(NotFound):
        close_ticket(db, "TK209901010000", "已处理", "主管王", SEEDED)
    for bad in ("", "   ", "\x00\x01", None, 42, "说" * 201):
        with pytest.raises(InvalidInput):
            close_ticket(db, number, bad, "主管王", SEEDED)
    for bad_number in ("TK1", "SQ202611180002", "TK2026'; DROP TABLE tickets;--", None, "T" * 10_000):
        with pytest.raises(InvalidInput):
            close_ticket(db, bad_number, "已处理", "主管王", SEEDED)
    with pytest.raises(InvalidInput):
        close_ticket(db, number, "已处理", "", SEEDED)
    outcome = close_ticket(db, number.lower().replace("tk", "ｔｋ "), "已回电 13912345678 说明原因", "主管王", SEEDED)
    assert outcome.number == number and "13912345678" not in outcome.resolution and "139****5678" in outcome.resolution
    with pytest.raises(InvalidInput, match="已经办结"):
        close_ticket(db, number, "再办一次", "主管李", SEEDED)
    with session_scope(db) as s:
        assert s.execute(select(Ticket.status).where(Ticket.number == number)).scalar_one() == "closed"
        assert s.execute(select(TicketOutcome.closed_by)).scalars().all() == ["主管王"]


def test_two_operators_closing_at_once_close_it_once(db):
    number = ticket(db)
    barrier, results = threading.Barrier(2), []

    def close(who: str) -> None:
        barrier.wait(timeout=10)
        try:
            results.append(close_ticket(db, number, f"{who}处理完毕", who, SEEDED).closed_by)
        except InvalidInput as error:
            results.append(str(error))

    threads = [threading.Thread(target=close, args=(who,)) for who in ("主管王", "主管李")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r in ("主管王", "主管李") for r in results) == [False, True]
    with session_scope(db) as s:
        assert len(s.execute(select(TicketOutcome)).scalars().all()) == 1


def test_an_outcome_goes_with_its_ticket_at_retention_and_on_a_reset(db, tmp_path):
    """server.purge and credit.seed --reset delete tickets without naming ticket_outcomes: ON DELETE CASCADE."""
    from server.purge import purge_loan_database
    from server.settings import Retention

    number = ticket(db)
    close_ticket(db, number, "已处理", "主管王", SEEDED)
    record_satisfaction(db, number, 5, "满意", SEEDED)
    retention = Retention(180, 1095, 30, 1, tmp_path)
    purge_loan_database(db, retention, SEEDED + timedelta(days=1096), dry_run=False)
    with session_scope(db) as s:
        assert s.execute(select(Ticket.id)).first() is None and s.execute(select(TicketOutcome.id)).first() is None
    close_ticket(db, ticket(db), "已处理", "主管王", SEEDED)
    with session_scope(db) as s:  # what `python -m credit.seed --reset` does first, outcome rows or not
        s.execute(text("DELETE FROM tickets"))
        assert s.execute(select(TicketOutcome.id)).first() is None


def test_a_database_from_before_ticket_closing_keeps_working(db):
    """The project has no ALTER-migrations: new tables are created by init_db.  An older var/credit.db has
    no ticket_outcomes table; its tickets still read, and the first init_db adds the table."""
    from credit.db.engine import init_db

    number = ticket(db)
    with session_scope(db) as s:
        s.execute(text("DROP TABLE ticket_outcomes"))
    svc = LoanService(db)
    assert [t.number for t in svc.list_tickets("wx:o_demo_openid_5678")] == [number]
    init_db(db)
    assert close_ticket(db, number, "已处理", "主管王", SEEDED).number == number


# ------------------------------------------------------------------------------------- the customer's answer

def test_satisfaction_is_validated_and_the_latest_answer_wins(db):
    number = ticket(db)
    with pytest.raises(InvalidInput, match="还在处理中"):
        record_satisfaction(db, number, 5, "满意", SEEDED)
    closed = SEEDED + timedelta(hours=1)
    close_ticket(db, number, "已处理", "主管王", closed)
    for score in (0, 6, -1, True, 4.5, "5"):
        with pytest.raises(InvalidInput):
            record_satisfaction(db, number, score, "", closed)  # type: ignore[arg-type]
    for empty in ("", "  \x00 ", None):
        with pytest.raises(InvalidInput):
            record_satisfaction(db, number, None, empty, closed)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        record_satisfaction(db, "TK209901010000", 5, "", closed)
    with pytest.raises(InvalidInput):
        record_satisfaction(db, number, 5, ["满意"], closed)  # type: ignore[arg-type]
    first = record_satisfaction(db, number, 2, "不满意，打了13912345678也没人接", closed + timedelta(hours=1))
    assert first.satisfaction == 2 and "13912345678" not in (first.comment or "")
    again = record_satisfaction(db, number, 2, "不满意，打了13912345678也没人接", closed + timedelta(hours=1))
    assert again == first  # the same answer twice: the same state
    latest = record_satisfaction(db, number, 5, "后来解决了，满意", closed + timedelta(hours=3))
    late_delivery = record_satisfaction(db, number, 1, "", closed + timedelta(hours=2))  # older than the kept one
    assert latest.satisfaction == late_delivery.satisfaction == 5 and late_delivery.comment == "后来解决了，满意"
    only_words = record_satisfaction(db, number, None, "满意", closed + timedelta(hours=4))
    assert only_words.satisfaction is None and only_words.comment == "满意"
    with session_scope(db) as s:
        assert s.execute(select(TicketOutcome.satisfaction_comment)).scalar_one() == "满意"


@pytest.mark.parametrize("reply, expected", [
    ("满意", (None, "满意")), ("不满意！", (None, "不满意")), ("非常满意", (None, "非常满意")),
    ("5", (5, "5")), ("４分", (4, "4分")), ("打3分", (3, "打3分")), ("五星", (5, "五星")), ("1 分。", (1, "1分")),
    ("6分", None), ("0", None), ("我不满意你们的利息", None), ("怎么还款", None), ("", None), (None, None),
    ("满意" * 30, None),
])
def test_follow_up_replies_are_read_as_a_score_or_a_verdict(reply, expected):
    assert satisfaction_from_reply(reply) == expected


def test_the_customer_table_is_untouched_by_closing(db):
    """Closing writes the ticket and its outcome only (the follow-up goes to the borrower's own contacts)."""
    with session_scope(db) as s:
        before = [(c.id, c.phone) for c in s.execute(select(Customer).order_by(Customer.id)).scalars()]
    close_ticket(db, ticket(db), "已处理", "主管王", SEEDED)
    with session_scope(db) as s:
        assert [(c.id, c.phone) for c in s.execute(select(Customer).order_by(Customer.id)).scalars()] == before
