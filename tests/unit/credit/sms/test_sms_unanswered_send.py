"""A Tencent SMS send that times out is looked up before anything is retried: never the same text twice.

Against ``harness.tencent_sms.TencentSmsStandIn`` (NOT Tencent Cloud: a local server speaking the documented
wire format, signatures checked), through the official SDK with a one-second timeout:

* the stand-in records the message and holds its reply past the timeout — a success the timeout hides: the
  adapter finds it by its SessionContext at once and returns its SerialNo; the engine marks the notice sent;
* the carrier has not reported yet (the status look-up shows nothing for a while): the send is unconfirmed,
  the engine keeps its claim, a sweep before the lease sends nothing, and after the lease the notice is
  reconciled as sent — one message;
* the request never reached Tencent: after the lease the look-up finds nothing and it is sent, once;
* Tencent's rows carry no SessionContext (not enabled for the account): it cannot tell, so it gives up;
* a verification code whose send timed out but went out stays valid (its row names it to the vendor).
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Iterator

import pytest
from sqlalchemy import select

from credit.db.engine import session_scope
from credit.db.outreach import OutreachAttempt
from credit.sms.common import SmsSendUnconfirmed, e164
from credit.sms.templates import OTP_KIND
from credit.sms.tencent import TencentSmsGateway, TencentSmsSettings
from harness.tencent_sms import TencentSmsStandIn
from outreach.channels import SmsChannel
from outreach.engine import OutreachEngine
from tests.seeded import Clock
from tests.unit.credit.sms.test_sms_tencent import (
    CAT,
    FAILED_MORNING,
    FIELDS,
    OVERDUE,
    SIGN,
    TEMPLATES,
    _failed_this_morning,
    _notices,
    env_for,
    phone_of,
)

TIMEOUT_S = 1.0
HIDDEN_S = 2.5  # the stand-in answers this late: past the client's timeout


@pytest.fixture()
def clock() -> Clock:
    return Clock(FAILED_MORNING)


@pytest.fixture()
def stand_in(clock: Clock) -> Iterator[TencentSmsStandIn]:
    server = TencentSmsStandIn({spec.template_id: len(spec.params) for spec in TEMPLATES.values()},
                               code_templates={TEMPLATES[OTP_KIND].template_id}, sign_name=SIGN,
                               clock=lambda: clock.now.timestamp())
    server.start()
    yield server
    server.stop()


def gateway(stand_in: TencentSmsStandIn, clock: Clock, tries: int = 2) -> TencentSmsGateway:
    settings = TencentSmsSettings.from_env(env_for(stand_in, TENCENT_SMS_TIMEOUT_S=str(TIMEOUT_S)))
    return TencentSmsGateway(dataclasses.replace(settings, reconcile_tries=tries, reconcile_wait_s=0.2), TEMPLATES,
                             clock=clock)


def test_a_success_hidden_by_a_timeout_is_found_not_sent_again(stand_in, clock):
    stand_in.reply_delay_s = HIDDEN_S
    ref = gateway(stand_in, clock).send("13800003579", "", kind="due_t1", fields=FIELDS,
                                        context="due_t1:SQ202610300006:p1")
    [message] = stand_in.sent  # Tencent sent it once; the adapter asked instead of sending again
    assert ref == f"tencent:{message['SerialNo']}" and message["SessionContext"] == "due_t1:SQ202610300006:p1"


def test_the_engine_sends_a_notice_once_when_its_send_times_out(db, stand_in, clock):
    _failed_this_morning(db)
    stand_in.reply_delay_s = HIDDEN_S
    channels = {"sms": SmsChannel(db, gateway(stand_in, clock))}
    report = OutreachEngine(db, CAT, channels, clock, worker="w1").sweep()
    [key] = [k for k in report.sent if k.startswith(f"deduction_failed:{OVERDUE}")]
    [message] = [m for m in stand_in.messages_to(e164(phone_of(db, OVERDUE))) if m["SessionContext"] == key]
    assert _notices(db)[key].vendor_ref == f"tencent:{message['SerialNo']}"


def test_an_unconfirmed_send_keeps_its_claim_and_is_reconciled_after_the_lease(db, stand_in, clock):
    _failed_this_morning(db)
    stand_in.reply_delay_s = HIDDEN_S
    stand_in.report_delay_s = 120  # the carrier reports two minutes later: the look-up shows nothing yet
    channels = {"sms": SmsChannel(db, gateway(stand_in, clock))}
    first = OutreachEngine(db, CAT, channels, clock, worker="w1").sweep()
    [key] = [k for k in first.unconfirmed if k.startswith(f"deduction_failed:{OVERDUE}")]
    assert key not in first.sent and key not in first.failed
    notice = _notices(db)[key]
    assert notice.status == "sending" and notice.claimed_by == "w1" and notice.attempts == 1
    stand_in.reply_delay_s = 0
    clock.now += timedelta(minutes=2)  # a sweep within the lease: nothing resent
    second = OutreachEngine(db, CAT, channels, clock, worker="w2").sweep()
    assert key not in second.sent and key not in second.reconciled
    clock.now += timedelta(minutes=CAT.outreach.lease_minutes)
    third = OutreachEngine(db, CAT, channels, clock, worker="w2").sweep()
    assert key in third.reconciled and key not in third.sent
    [message] = [m for m in stand_in.sent if m["SessionContext"] == key]  # one message, ever
    assert _notices(db)[key].vendor_ref == f"tencent:{message['SerialNo']}" and _notices(db)[key].status == "sent"
    with session_scope(db) as s:
        outcomes = [o for (o,) in s.execute(select(OutreachAttempt.outcome).where(
            OutreachAttempt.notice_id == notice.id).order_by(OutreachAttempt.id))]
    assert outcomes == ["unconfirmed", "reconciled"]


def test_a_send_that_never_reached_tencent_is_sent_once_after_the_lease(db, stand_in, clock):
    _failed_this_morning(db)
    stand_in.reply_delay_s, stand_in.lose_sends = HIDDEN_S, True
    channels = {"sms": SmsChannel(db, gateway(stand_in, clock))}
    [key] = [k for k in OutreachEngine(db, CAT, channels, clock, worker="w1").sweep().unconfirmed
             if k.startswith(f"deduction_failed:{OVERDUE}")]
    assert stand_in.sent == []
    stand_in.reply_delay_s, stand_in.lose_sends = 0, False
    clock.now += timedelta(minutes=CAT.outreach.lease_minutes + 1)
    later = OutreachEngine(db, CAT, channels, clock, worker="w2").sweep()
    assert key in later.sent and key not in later.reconciled
    assert len([m for m in stand_in.sent if m["SessionContext"] == key]) == 1


def test_without_session_context_an_unanswered_send_is_given_up_not_repeated(db, stand_in, clock):
    _failed_this_morning(db)
    stand_in.reply_delay_s, stand_in.session_context_enabled = HIDDEN_S, False
    channels = {"sms": SmsChannel(db, gateway(stand_in, clock))}
    report = OutreachEngine(db, CAT, channels, clock, worker="w1").sweep()
    [key] = [k for k in report.failed if k.startswith(f"deduction_failed:{OVERDUE}")]
    assert _notices(db)[key].status == "given_up" and "SessionContext" in _notices(db)[key].reason
    sent = len(stand_in.sent)
    clock.now += timedelta(days=1)
    OutreachEngine(db, CAT, channels, clock, worker="w2").sweep()
    assert len([m for m in stand_in.sent[sent:] if m["SessionContext"] == key]) == 0


def test_an_unanswered_send_with_nothing_to_find_raises_unconfirmed(stand_in, clock):
    stand_in.reply_delay_s, stand_in.lose_sends = HIDDEN_S, True
    with pytest.raises(SmsSendUnconfirmed, match="不重发") as unconfirmed:
        gateway(stand_in, clock, tries=1).send("13800003579", "", kind="due_t1", fields=FIELDS)
    assert unconfirmed.value.context.startswith("due_t1:")  # a caller without a context gets a unique one
    assert stand_in.rejected == []


def test_a_verification_code_whose_reply_was_lost_stays_valid(db, stand_in, clock):
    from credit.service import LoanService

    stand_in.reply_delay_s = HIDDEN_S
    service = LoanService(db, clock=lambda: clock.now, sms=gateway(stand_in, clock))
    assert service.verify_identity("rest:otp-late", "SQ202611180002", "5678").status == "ok"
    service.send_otp("rest:otp-late", "SQ202611180002")
    [message] = stand_in.sent
    assert message["SessionContext"].startswith("otp:")
    assert service.check_otp("rest:otp-late", "SQ202611180002", message["TemplateParamSet"][0]) == "ok"


@pytest.mark.parametrize("value", ["0", "-1", "61", "ten", "nan"])
def test_a_nonsense_timeout_stops_the_gateway_at_start(stand_in, value):
    from credit.sms.common import SmsConfigError

    with pytest.raises(SmsConfigError, match="TENCENT_SMS_TIMEOUT_S"):
        TencentSmsSettings.from_env(env_for(stand_in, TENCENT_SMS_TIMEOUT_S=value))
