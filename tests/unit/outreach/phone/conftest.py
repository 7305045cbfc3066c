"""Fixtures of the outbound-call tests: the business clock at the overdue sweep, the Twilio API stand-in,
the IVR platform stand-in and the in-process webhooks."""
from __future__ import annotations

import pytest

from harness.twilio_api import TwilioApiStandIn
from outreach.phone import IvrCallSettings
from tests.seeded import Clock
from tests.unit.outreach.phone.phone_kit import (
    CALLER,
    PUBLIC,
    InProcessWebhooks,
    IvrPlatformStandIn,
    RasaStandIn,
    sweep_time,
)


@pytest.fixture()
def clock(db) -> Clock:
    return Clock(sweep_time(db))


@pytest.fixture()
def twilio(clock):
    stand_in = TwilioApiStandIn(caller_ids=[CALLER], clock=clock)
    base = stand_in.start()
    yield stand_in, base
    stand_in.stop()


@pytest.fixture()
def ivr(clock):
    platform = IvrPlatformStandIn("test-ivr-secret", clock)
    url = platform.start()
    settings = IvrCallSettings(outbound_url=url, shared_secret="test-ivr-secret", caller_id="02161234567",
                               public_base_url=PUBLIC)
    yield platform, settings
    platform.stop()


@pytest.fixture()
def webhooks(db, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", str(db.url))
    monkeypatch.setenv("CREDIT_FAKE_NOW", clock.now.isoformat())  # the webhook's business clock
    monkeypatch.setenv("CHANNEL_STATE_DB", str(tmp_path / "channel_state.db"))
    agent = RasaStandIn(db)
    hooks = InProcessWebhooks(agent)
    yield agent, hooks
    hooks.close()
