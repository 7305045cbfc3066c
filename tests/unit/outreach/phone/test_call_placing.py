"""Outbound calls (issue 12, "Phone: an outbound call") through Twilio, the reference, on a real SQLite
database with an injected clock: against ``harness.twilio_api.TwilioApiStandIn`` — NOT Twilio, a local
server speaking Twilio's documented wire format — through the official ``twilio`` library: one call per
notice, to the borrower's own number in E.164, its Url carrying the notice id; reconciliation after a
crash; refusals retried then given up.  Also the channel registry and the webhook paths.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from credit.db.engine import session_scope
from credit.db.outreach import EmergencyContact
from outreach.channels import Delivery
from outreach.engine import render
from outreach.phone import IvrCallChannel, TwilioCallChannel, TwilioCallSettings, e164
from tests.seeded import Clock
from tests.unit.outreach.phone.phone_kit import (
    CALLER,
    CAT,
    KEY,
    PUBLIC,
    borrower_phone,
    make,
    notice,
    outcomes,
    twilio_channel,
)


# ------------------------------------------------------------------------------ Twilio: placing
def test_overdue_day_one_places_one_call_to_the_borrower_with_the_notice_in_its_url(db, clock, twilio):
    stand_in, base = twilio
    report = make(db, clock, twilio_channel(stand_in, base, db)).sweep()
    assert KEY in report.sent
    placed = notice(db)
    assert placed.channel == "phone" and placed.vendor_ref == f"twilio:{stand_in.calls[0].resource['sid']}"
    [call] = stand_in.calls  # no other notice kind has a voice text: one call
    own = "+86" + borrower_phone(db)
    assert call.resource["to"] == own and call.resource["from"] == CALLER
    with session_scope(db) as s:
        third_parties = {"+86" + p for p in s.execute(select(EmergencyContact.phone)).scalars()}
    assert own not in third_parties and not {c.resource["to"] for c in stand_in.calls} & third_parties
    assert call.url == f"{PUBLIC}/webhooks/twilio_zh/webhook?notice={placed.id}"
    assert call.status_callback == f"{PUBLIC}/webhooks/twilio_zh/webhook?event=status&notice={placed.id}"
    assert call.params["Timeout"] == "40" and call.params["Method"] == "POST"
    again = make(db, Clock(clock.now + timedelta(minutes=5)), twilio_channel(stand_in, base, db)).sweep()
    assert KEY not in again.sent and len(stand_in.calls) == 1  # a second sweep places no second call
    assert stand_in.rejected == []


def test_a_crash_between_placing_and_bookkeeping_is_reconciled_without_a_second_call(db, clock, twilio):
    stand_in, base = twilio

    class CrashAfterPlacing(TwilioCallChannel):
        def send(self, address: str, delivery: Delivery) -> str:
            super().send(address, delivery)  # Twilio placed the call ...
            raise KeyboardInterrupt  # ... and the engine dies before writing it down

    crashing = CrashAfterPlacing(twilio_channel(stand_in, base).settings, CAT, db=db)
    with pytest.raises(KeyboardInterrupt):
        make(db, clock, crashing).sweep()
    assert notice(db).status == "sending" and len(stand_in.calls) == 1
    later = Clock(clock.now + timedelta(minutes=CAT.outreach.lease_minutes + 1))
    report = make(db, later, twilio_channel(stand_in, base, db), worker="w2").sweep()
    assert report.reconciled == [KEY]
    found = notice(db)
    assert found.status == "sent" and found.vendor_ref == f"twilio:{stand_in.calls[0].resource['sid']}"
    assert len(stand_in.calls) == 1 and "reconciled" in outcomes(db)


def test_reconciliation_finds_no_call_when_twilio_has_none_and_never_another_notices_call(db, clock, twilio):
    stand_in, base = twilio
    channel = twilio_channel(stand_in, base, db)
    make(db, clock, channel).sweep()
    delivery = Delivery(999, "overdue_d1:OTHER:p1", "overdue_d1", {}, "")
    # the one call to this number belongs to the overdue notice: not found for another notice
    assert channel.find(borrower_phone(db), delivery, clock.now - timedelta(minutes=1), clock.now) is None
    # nothing since the claim: not found
    assert channel.find(borrower_phone(db), delivery, clock.now + timedelta(hours=1), clock.now) is None
    assert channel.find("13900000000", delivery, clock.now - timedelta(days=1), clock.now) is None


def test_twilio_refusing_the_call_is_retried_with_backoff_then_given_up(db, clock, twilio):
    stand_in, base = twilio
    refused = twilio_channel(stand_in, base, db, token="wrong-token")
    report = make(db, clock, refused).sweep()
    assert KEY in report.failed and stand_in.calls == []
    first = notice(db)
    assert first.status == "pending" and first.attempts == 1 and "20003" in first.reason
    assert first.next_attempt_at == clock.now + timedelta(minutes=CAT.outreach.backoff_minutes[0])
    for minutes in (6, 40):
        make(db, Clock(clock.now + timedelta(minutes=minutes)), refused).sweep()
    final = notice(db)
    assert final.status == "given_up" and final.attempts == CAT.outreach.max_attempts
    assert outcomes(db) == ["failed", "failed", "given_up"]
    assert stand_in.calls == [] and {code for _, code in stand_in.rejected} == {20003}


def test_the_stand_in_refuses_what_twilio_refuses(twilio):
    stand_in, base = twilio
    channel = twilio_channel(stand_in, base)
    delivery = Delivery(1, "k", "overdue_d1", {}, "")
    bad_url = TwilioCallChannel(TwilioCallSettings(stand_in.account_sid, stand_in.auth_token, CALLER, "ftp://x", base),
                                CAT)
    bad_from = TwilioCallChannel(TwilioCallSettings(stand_in.account_sid, stand_in.auth_token, "+8610000", PUBLIC,
                                                    base), CAT)
    for refused, code in ((bad_url, "21205"), (bad_from, "21210")):
        with pytest.raises(Exception, match=code):
            refused.send("13800009753", delivery)
    with pytest.raises(Exception, match="有效"):
        channel.send("12345", delivery)  # never reaches Twilio
    assert [code for _, code in stand_in.rejected] == [21205, 21210]


def test_phone_carries_only_kinds_with_a_voice_text_and_numbers_become_e164(twilio):
    stand_in, base = twilio
    channel = twilio_channel(stand_in, base)
    assert channel.name == "phone" and channel.private is False
    assert {r.kind for r in CAT.outreach.notices if channel.handles(r.kind)} == {
        r.kind for r in CAT.outreach.notices if r.voice} == {"overdue_d1"}
    assert e164("13800009753") == e164("+86 138-0000-9753") == e164("008613800009753") == "+8613800009753"
    voice = render(CAT, "overdue_d1", channel, {"company": CAT.company})
    assert voice == CAT.outreach.rule("overdue_d1").voice.format(company=CAT.company)


def test_the_registry_prefers_the_ivr_platform_and_falls_back_to_twilio(db, monkeypatch):
    from outreach.registry import default_channels

    for name in ("IVR_OUTBOUND_URL", "WECHAT_APP_ID", "WECHAT_APP_SECRET", "TWILIO_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    assert "phone" not in default_channels(db)  # Twilio's outbound settings incomplete
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_CALLER_ID", CALLER)
    assert isinstance(default_channels(db)["phone"], TwilioCallChannel)
    monkeypatch.setenv("IVR_OUTBOUND_URL", "https://ivr.example.com/api/outbound-calls")
    monkeypatch.setenv("IVR_SHARED_SECRET", "s")
    monkeypatch.setenv("IVR_CALLER_ID", "02161234567")
    assert isinstance(default_channels(db)["phone"], IvrCallChannel)


def test_the_paths_and_parameter_agree_with_the_channels():
    from connectors.ivr.channel import IvrInput
    from connectors.twilio_zh.channel import WEBHOOK_PATH
    from connectors.voice import calls
    from outreach import phone

    assert phone.TWILIO_WEBHOOK_PATH == WEBHOOK_PATH and phone.NOTICE_PARAM == calls.NOTICE_PARAM
    assert phone.IVR_WEBHOOK_PATH == f"/webhooks/{IvrInput.name()}/webhook"
