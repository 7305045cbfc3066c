"""Outbound calls through the JSON IVR platform (production), on a real SQLite database with an injected
clock: against a stand-in of the platform's side of ``POST /outbound-calls`` in ``docs/ivr-openapi.yaml``
(``phone_kit.IvrPlatformStandIn``): requests valid against the spec, signed, idempotent on ``request_id``.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import jsonschema
import pytest

from outreach.channels import Delivery
from outreach.phone import IvrCallChannel, IvrCallSettings
from tests.seeded import Clock
from tests.unit.outreach.phone.phone_kit import CAT, KEY, OUTBOUND, PUBLIC, SPEC, borrower_phone, make, notice


# ---------------------------------------------------------------------------- IVR platform
def test_the_documented_outbound_examples_are_valid():
    operation = SPEC.operation(OUTBOUND, "POST")
    example = operation["requestBody"]["content"]["application/json"]["examples"]["overdue_day_1"]["value"]
    jsonschema.Draft4Validator(SPEC.request_schema(OUTBOUND, "POST")).validate(example)
    for status in (200, 201):
        for item in operation["responses"][str(status)]["content"]["application/json"]["examples"].values():
            jsonschema.Draft4Validator(SPEC.response_schema(OUTBOUND, "POST", status)).validate(item["value"])
    assert {"200", "201", "400", "401", "409", "422", "429", "503"} <= set(operation["responses"])


def test_the_ivr_platform_places_the_call_with_a_valid_signed_idempotent_request(db, clock, ivr):
    platform, settings = ivr
    channel = IvrCallChannel(settings, CAT, clock=clock)
    report = make(db, clock, channel).sweep()
    assert KEY in report.sent
    placed = notice(db)
    [(status, payload, body)] = platform.exchanges
    assert status == 201 and placed.vendor_ref == f"ivr:{payload['call_id']}"
    assert body["request_id"] == KEY and body["to"] == "+86" + borrower_phone(db)
    assert body["caller_id"] == "02161234567"  # a domestic number
    assert body["callback_url"] == f"{PUBLIC}/webhooks/ivr/webhook?notice={placed.id}"
    fallback = body["script"]["fallback"]["text"]
    assert body["script"]["voicemail"] == "hangup" and "客服热线" in fallback and not re.search(r"[0-9]", fallback)
    for status, payload, _ in platform.exchanges:
        jsonschema.Draft4Validator(SPEC.response_schema(OUTBOUND, "POST", status)).validate(payload)
    # a repeated request (reconciliation) answers the same call and places nothing
    delivery = Delivery(placed.id, KEY, "overdue_d1", json.loads(placed.fields), "")
    again = channel.find(borrower_phone(db), delivery, clock.now, clock.now + timedelta(minutes=6))
    assert again == placed.vendor_ref and len(platform.placed) == 1 and platform.exchanges[-1][0] == 200
    assert KEY not in make(db, Clock(clock.now + timedelta(minutes=5)), channel).sweep().sent
    assert len(platform.placed) == 1


def test_a_crash_after_the_platform_placed_the_call_is_reconciled_by_repeating_the_request(db, clock, ivr):
    platform, settings = ivr

    class CrashAfterPlacing(IvrCallChannel):
        def send(self, address: str, delivery: Delivery) -> str:
            super().send(address, delivery)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make(db, clock, CrashAfterPlacing(settings, CAT, clock=clock)).sweep()
    later = Clock(clock.now + timedelta(minutes=CAT.outreach.lease_minutes + 1))
    report = make(db, later, IvrCallChannel(settings, CAT, clock=later), worker="w2").sweep()
    assert report.reconciled == [KEY] and len(platform.placed) == 1
    assert notice(db).vendor_ref == f"ivr:{platform.placed[KEY]['call_id']}"


def test_ivr_refusals_and_an_expired_request(db, clock, ivr):
    from outreach.channels import DeliveryFailed, DeliveryUnknown

    platform, settings = ivr
    delivery = Delivery(5, "overdue_d1:SQX:p1", "overdue_d1", {}, "")
    wrong = IvrCallChannel(IvrCallSettings(settings.outbound_url, "wrong", settings.caller_id, PUBLIC), CAT,
                           clock=clock)
    with pytest.raises(DeliveryFailed, match="401"):
        wrong.send("13800009753", delivery)
    channel = IvrCallChannel(settings, CAT, clock=clock)
    # the first request never arrived and its moment has passed: no call exists, none is placed now
    assert channel.find("13800009753", delivery, clock.now - timedelta(hours=1), clock.now) is None
    assert platform.placed == {} and platform.exchanges[-1][0] == 422
    with pytest.raises(DeliveryUnknown):  # past the platform's de-duplication window nobody can tell
        channel.find("13800009753", delivery, clock.now - timedelta(days=2), clock.now)
    for status, payload, _ in platform.exchanges:
        jsonschema.Draft4Validator(SPEC.response_schema(OUTBOUND, "POST", status)).validate(payload)
