"""The outreach engine on a real SQLite database with an injected clock: each notice planned and
sent once, contact hours in Beijing time, the daily cap, 退订 and the mandatory notice, the
borrower's own contacts only, retries, reconciliation after a crash, and compliant templates.

SMS goes to the project's outbox gateway (the documented stand-in for an SMS vendor)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional

import pytest
from sqlalchemy import select, text, update

from credit.catalogue.loader import load_catalogue
from credit.catalogue.outreach import FIELDS
from credit.compliance import check_text
from credit.db.engine import session_scope
from credit.db.loans import Application, Customer
from credit.db.outreach import ContactPoint, EmergencyContact, OutreachAttempt, OutreachNotice
from credit.db.sms import SmsOutbox
from credit.policy import CHINA_TZ
from outreach.channels import Delivery, DeliveryFailed, SmsChannel
from outreach.engine import OutreachEngine
from outreach.preview import preview
from tests.seeded import Clock

CAT = load_catalogue()
# seeding at 10:00 Beijing on 2026-12-01: SQ202610300006's first instalment is due 12-03,
# SQ202609280007's fell due 11-28 and is unpaid, its auto-debit failed that morning
REMINDED = "SQ202610300006"
OVERDUE = "SQ202609280007"




def make(db, at: datetime, channels: Optional[Dict] = None, worker: str = "w1") -> OutreachEngine:
    return OutreachEngine(db, CAT, channels or {"sms": SmsChannel(db)}, Clock(at), worker=worker)


def outbox(db) -> List[tuple]:
    with session_scope(db) as s:
        return [(r.phone, r.text) for r in s.execute(select(SmsOutbox).order_by(SmsOutbox.id)).scalars()]


def notices(db) -> Dict[str, OutreachNotice]:
    with session_scope(db) as s:
        return {n.key: n for n in s.execute(select(OutreachNotice)).scalars()}


def phone_of(db, app_id: str) -> str:
    with session_scope(db) as s:
        return s.execute(select(Customer.phone).join(Application).where(Application.application_id == app_id)
                         ).scalar_one()


def test_a_reminder_due_after_hours_is_held_at_2230_and_goes_out_at_8_once(db):
    late = datetime(2026, 11, 30, 22, 30, tzinfo=CHINA_TZ)  # T-3 of the 12-03 instalment, first sweep after hours
    report = make(db, late).sweep()
    assert "due_t3:SQ202610300006:p1" in report.held and not report.sent and outbox(db) == []
    morning = datetime(2026, 12, 1, 8, 0, tzinfo=CHINA_TZ)
    assert make(db, morning - timedelta(minutes=1)).sweep().sent == []  # 07:59 still closed
    sent = make(db, morning).sweep()
    assert "due_t3:SQ202610300006:p1" in sent.sent
    texts = [t for phone, t in outbox(db) if phone == phone_of(db, REMINDED)]
    assert len(texts) == 1 and "尾号0006" in texts[0] and "12月3日" in texts[0] and "回复TD退订" in texts[0]
    again = make(db, morning + timedelta(minutes=5)).sweep()  # a second run sends nothing
    assert again.sent == [] and len(outbox(db)) == len(sent.sent)


def test_t1_never_says_tomorrow_on_the_due_day(db):
    assert "due_t1:SQ202610300006:p1" in make(db, datetime(2026, 12, 2, 22, 30, tzinfo=CHINA_TZ)).sweep().held
    on_the_day = make(db, datetime(2026, 12, 3, 8, 0, tzinfo=CHINA_TZ)).sweep()
    assert "due_t1:SQ202610300006:p1" in on_the_day.suppressed
    assert not [t for phone, t in outbox(db) if phone == phone_of(db, REMINDED) and "明天" in t]


def test_a_notice_whose_fact_changed_while_it_waited_is_not_sent(db):
    early = datetime(2026, 11, 28, 7, 0, tzinfo=CHINA_TZ)  # the 06:00 deduction failed; hours open at 08:00
    held = make(db, early).sweep().held
    key = next(k for k in held if k.startswith("deduction_failed:SQ202609280007"))
    with session_scope(db) as s:  # the customer repays at 07:30
        s.execute(text("UPDATE loan_installments SET paid = 1 WHERE due_date = '2026-11-28'"))
    report = make(db, datetime(2026, 11, 28, 8, 0, tzinfo=CHINA_TZ)).sweep()
    assert key in report.suppressed and "已变化" in notices(db)[key].reason
    assert not [t for phone, t in outbox(db) if phone == phone_of(db, OVERDUE)]


def test_deduction_failed_goes_out_as_a_masked_sms(db):
    moment = datetime(2026, 11, 28, 9, 0, tzinfo=CHINA_TZ)  # the failed morning
    with session_scope(db) as s:  # the overdue demo's failure is at 06:00 on its due day
        s.execute(text("UPDATE repayment_records SET at = :at WHERE result = 'failed'"),
                  {"at": datetime(2026, 11, 28, 6, 0, tzinfo=CHINA_TZ).astimezone(timezone.utc).replace(tzinfo=None)})
    report = make(db, moment).sweep()
    keys = [k for k in report.sent if k.startswith("deduction_failed:SQ202609280007")]
    assert keys
    sms = [t for phone, t in outbox(db) if phone == phone_of(db, OVERDUE)]
    assert any("自动扣款未成功" in t for t in sms)
    assert all("1,380" not in t and "1380" not in t for t in sms)  # no amount on a screen others may see


def test_unsubscribed_channel_is_not_used_except_for_the_mandatory_notice(db):
    with session_scope(db) as s:
        s.execute(update(ContactPoint).where(ContactPoint.address == phone_of(db, OVERDUE))
                  .values(subscribed=False))
    d7 = datetime(2026, 12, 5, 10, 0, tzinfo=CHINA_TZ)
    report = make(db, d7).sweep()
    assert "overdue_d7:SQ202609280007:p1" in report.suppressed
    assert notices(db)["overdue_d7:SQ202609280007:p1"].reason.startswith("客户已退订")
    d23 = datetime(2026, 12, 21, 10, 0, tzinfo=CHINA_TZ)
    legal = make(db, d23).sweep()
    assert "credit_report_notice:SQ202609280007:p1" in legal.sent
    assert any("征信业管理条例" in t for phone, t in outbox(db) if phone == phone_of(db, OVERDUE))


def test_never_the_emergency_contact(db):
    for day in range(0, 25):
        make(db, datetime(2026, 11, 28, 10, 0, tzinfo=CHINA_TZ) + timedelta(days=day)).sweep()
    with session_scope(db) as s:
        third_parties = set(s.execute(select(EmergencyContact.phone)).scalars())
        own = set(s.execute(select(Customer.phone)).scalars())
    sent_to = {phone for phone, _ in outbox(db)}
    assert sent_to and sent_to <= own and not sent_to & third_parties


def test_daily_cap_holds_the_rest_until_tomorrow(db):
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
    engine = make(db, moment)
    with session_scope(db) as s:  # two notices already went to the reminded customer today
        customer = s.execute(select(Application.customer_id).where(Application.application_id == REMINDED)
                             ).scalar_one()
        for i in range(CAT.outreach.daily_cap):
            s.add(OutreachNotice(key=f"earlier:{i}", kind="due_t3", customer_id=customer, subject=REMINDED,
                                 due_at=moment, status="sent", sent_at=moment - timedelta(hours=1)))
    report = engine.sweep()
    assert "due_t3:SQ202610300006:p1" in report.held
    assert "每日上限" in notices(db)["due_t3:SQ202610300006:p1"].reason


class Flaky:
    name, private = "sms", False

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: List[str] = []

    def send(self, address: str, delivery: Delivery) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryFailed("网关超时")
        self.sent.append(delivery.text)
        return f"flaky:{delivery.notice_id}"

    def handles(self, kind: str) -> bool:
        return True

    def find(self, *args) -> None:
        return None


def test_failures_are_retried_with_backoff_then_given_up(db):
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
    flaky = Flaky(failures=10)
    make(db, moment, {"sms": flaky}).sweep()
    key = "due_t3:SQ202610300006:p1"
    first = notices(db)[key]
    assert first.status == "pending" and first.attempts == 1
    assert first.next_attempt_at == moment + timedelta(minutes=CAT.outreach.backoff_minutes[0])
    assert key not in make(db, moment + timedelta(minutes=1), {"sms": flaky}).sweep().failed  # not yet due again
    make(db, moment + timedelta(minutes=6), {"sms": flaky}).sweep()
    make(db, moment + timedelta(minutes=40), {"sms": flaky}).sweep()
    final = notices(db)[key]
    assert final.status == "given_up" and final.attempts == CAT.outreach.max_attempts
    with session_scope(db) as s:
        outcomes = [a.outcome for a in s.execute(select(OutreachAttempt).where(OutreachAttempt.notice_id == final.id)
                                                 .order_by(OutreachAttempt.id)).scalars()]
    assert outcomes == ["failed", "failed", "given_up"]


def test_a_crash_after_the_vendor_accepted_is_reconciled_not_resent(db):
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
    sms = SmsChannel(db)

    class CrashAfterSend(SmsChannel):
        def send(self, address: str, delivery: Delivery) -> str:
            sms.send(address, delivery)  # the vendor has it ...
            raise KeyboardInterrupt  # ... and the engine dies before writing it down

    with pytest.raises(KeyboardInterrupt):
        make(db, moment, {"sms": CrashAfterSend(db)}).sweep()
    crashed = [k for k, n in notices(db).items() if n.status == "sending"]
    assert len(crashed) == 1 and len(outbox(db)) == 1
    later = make(db, moment + timedelta(minutes=CAT.outreach.lease_minutes + 1), worker="w2").sweep()
    assert later.reconciled == crashed
    assert notices(db)[crashed[0]].status == "sent"
    texts = [t for _, t in outbox(db)]
    assert len(texts) == len(set(texts))  # nothing went twice


def test_two_engines_sweeping_at_once_send_each_notice_once(db):
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
    barrier = threading.Barrier(2)
    errors: List[BaseException] = []

    def sweep(worker: str) -> None:
        try:
            barrier.wait(timeout=10)
            make(db, moment, worker=worker).sweep()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=sweep, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    sent = [n for n in notices(db).values() if n.status == "sent"]
    assert sent and len(outbox(db)) == len(sent)


def test_preview_tells_what_and_why_and_writes_nothing(db):
    at = datetime(2026, 12, 2, 22, 30, tzinfo=CHINA_TZ)
    rows = preview(db, CAT, at, {"sms": SmsChannel(db)})
    t1 = next(r for r in rows if r.key == "due_t1:SQ202610300006:p1")
    assert t1.subject == REMINDED and t1.verdict == "暂缓" and "不在联系时间" in t1.why
    assert notices(db) == {} and outbox(db) == []


SAMPLE = {"company": CAT.company, "loan_tail": "0006", "period": "1", "amount": "1,061.26", "due": "12月3日",
          "days": "7", "product": "随心借", "ticket": "TK202612010001", "hotline": CAT.hotline.number}


@pytest.mark.parametrize("rule", CAT.outreach.notices, ids=lambda r: r.kind)
def test_every_outreach_template_is_compliant_and_the_public_ones_carry_no_amount(rule):
    assert set(SAMPLE) == set(FIELDS)
    for template in (rule.text, rule.sms, rule.voice):
        if template:
            rendered = template.format(**SAMPLE)
            assert check_text(rendered) == [], rendered
    assert "{amount}" not in rule.sms and (rule.voice is None or "{amount}" not in rule.voice)
    assert "TD" in rule.sms or rule.mandatory  # every optional SMS says how to stop them


def test_a_notice_that_could_not_go_out_in_time_is_not_sent_late_with_wrong_words(db):
    late = datetime(2026, 11, 30, 22, 0, tzinfo=CHINA_TZ)  # T-3 planned, but after hours
    assert "due_t3:SQ202610300006:p1" in make(db, late).sweep().held
    days_later = datetime(2026, 12, 3, 9, 0, tzinfo=CHINA_TZ)
    assert "due_t3:SQ202610300006:p1" in make(db, days_later).sweep().suppressed
    assert "不再发送" in notices(db)["due_t3:SQ202610300006:p1"].reason  # its day has passed


def test_the_command_line_previews_runs_once_and_reports(db, monkeypatch, capsys):
    from outreach.__main__ import main

    monkeypatch.setenv("DATABASE_URL", str(db.url))
    monkeypatch.delenv("CREDIT_FAKE_NOW", raising=False)
    assert main(["preview", "--at", "2026-12-02T22:30"]) == 0
    out = capsys.readouterr().out
    assert "2026-12-02 22:30（北京时间）" in out and "SQ202610300006" in out and "还款日前1天提醒" in out
    assert "暂缓" in out and "不在联系时间" in out
    assert main(["status"]) == 0 and "通知：无" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["preview", "--at", "明天"])


# ------------------------------------------------------------- WeChat template messages
# Against harness.wechat_api.WeChatApiStandIn: NOT WeChat, a local server speaking the documented wire format
# of /cgi-bin/message/template/send with the library templates' rules (typed values, no first/remark keys,
# client_msg_id de-duplication within 10 minutes).

@pytest.fixture()
def wechat(tmp_path):
    from connectors.state import StateStore
    from connectors.wechat.config import WeChatSettings
    from harness.wechat_api import WeChatApiStandIn
    from outreach.wechat import WechatTemplateChannel, load_templates

    templates = load_templates()
    stand_in = WeChatApiStandIn(templates={spec.template_id: tuple(spec.data) for spec in templates.values()})
    base = stand_in.start()
    settings = WeChatSettings(token="t", app_id=stand_in.app_id, app_secret=stand_in.app_secret, api_base=base)
    channel = WechatTemplateChannel(settings, StateStore(str(tmp_path / "state.db")), templates)
    yield stand_in, channel
    stand_in.stop()


def test_t1_reminder_goes_out_as_a_wechat_template_message_with_typed_fields(db, wechat):
    stand_in, channel = wechat
    morning = datetime(2026, 12, 2, 9, 0, tzinfo=CHINA_TZ)
    report = make(db, morning, {"wechat": channel, "sms": SmsChannel(db)}).sweep()
    assert "due_t1:SQ202610300006:p1" in report.sent
    [message] = stand_in.templates_to("o_demo_openid_3579")
    assert message["template_id"] == "demo_repayment_reminder"
    assert message["client_msg_id"] == "due_t1:SQ202610300006:p1"  # WeChat's de-duplication key
    assert message["data"]["time3"]["value"] == "2026年12月3日" and message["data"]["amount2"]["value"].endswith("元")
    assert stand_in.rejected == []
    assert notices(db)["due_t1:SQ202610300006:p1"].channel == "wechat"
    assert not [t for phone, t in outbox(db) if phone == phone_of(db, REMINDED)]  # one channel, not both


def test_a_repeated_wechat_send_is_answered_once_so_reconciliation_never_duplicates(wechat):
    stand_in, channel = wechat
    delivery = Delivery(1, "due_t1:SQ202610300006:p1", "due_t1", {
        "loan_tail": "0006", "period": "1", "amount_number": "1061.26", "due_full": "2026年12月3日"}, "")
    first = channel.send("o_demo_openid_3579", delivery)
    now = datetime.now(timezone.utc)
    again = channel.find("o_demo_openid_3579", delivery, now, now + timedelta(minutes=5))
    assert first == again and len(stand_in.templates_to("o_demo_openid_3579")) == 1
    from outreach.channels import DeliveryUnknown
    with pytest.raises(DeliveryUnknown):  # past WeChat's de-duplication window nobody can tell: never resend
        channel.find("o_demo_openid_3579", delivery, now, now + timedelta(minutes=30))


def test_wechat_refusals_are_delivery_failures(wechat):
    stand_in, channel = wechat
    stand_in.unsubscribed.add("o_gone")
    delivery = Delivery(2, "k2", "due_t1", {"loan_tail": "0006", "period": "1", "amount_number": "1061.26",
                                            "due_full": "2026年12月3日"}, "")
    with pytest.raises(DeliveryFailed, match="43004"):
        channel.send("o_gone", delivery)
    long_value = Delivery(3, "k3", "overdue_d7", {"loan_tail": "0007", "period": "1", "amount_number": "1380.39",
                                                  "days": "7" * 30}, "")
    with pytest.raises(DeliveryFailed, match="47003"):  # thing values are at most 20 characters
        channel.send("o_demo_openid_3579", long_value)


def test_the_template_mapping_refuses_retired_keys_and_unknown_fields(tmp_path):
    from outreach.wechat import load_templates

    bad = tmp_path / "t.yml"
    bad.write_text('due_t1: {template_id: x, data: {first: "您好"}}\n', "utf-8")
    with pytest.raises(ValueError, match="first/remark"):
        load_templates(bad)
    bad.write_text('due_t1: {template_id: x, data: {thing1: "{salary}"}}\n', "utf-8")
    with pytest.raises(ValueError, match="salary"):
        load_templates(bad)
