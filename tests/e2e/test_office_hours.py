"""Hand-off outside the agents' hours, on a stack whose business clock reads 22:30 Beijing time
(``CREDIT_FAKE_NOW``, test-only: the action server accepts it in development mode only)."""
from __future__ import annotations

from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from harness.stacks import Assistant, AssistantStack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def late_evening(model_path, tmp_path_factory) -> Iterator[Assistant]:
    env = {"RASA_AUTH_TOKEN": "late-token", "HARDENING_MODE": "development",
           "CREDIT_FAKE_NOW": "2026-12-01T22:30:00+08:00"}
    stack = AssistantStack(model_path, env, token="late-token", workdir=tmp_path_factory.mktemp("late"))
    try:
        stack.start()
        assert stack.assistant is not None
        yield stack.assistant
    finally:
        stack.stop()


def test_outside_hours_the_handoff_says_when_people_are_back(late_evening, sender):
    messages = late_evening.rest(sender, "帮我转人工客服")
    reply = "\n".join(m.get("text", "") for m in messages)
    assert "休息时间" in reply and "明天9:00" in reply and "正在为您转接" not in reply
    handoff = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    assert handoff and handoff[0]["agents_available"] is False
    with create_engine(late_evening.db_url()).connect() as conn:  # queued for the morning shift
        assert conn.execute(text("SELECT queue FROM handoffs WHERE sender_id = :s"),
                            {"s": late_evening.rest_id(sender)}).fetchall()


def test_the_action_server_refuses_a_fake_clock_in_production(tmp_path):
    import subprocess

    from harness.paths import PYTHON, ROOT
    from harness.rasa import base_env

    env = base_env(CREDIT_FAKE_NOW="2026-12-01T22:30:00+08:00", HARDENING_MODE="production")
    done = subprocess.run([PYTHON, "-m", "server", "actions", "--port", "1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "CREDIT_FAKE_NOW" in done.stderr


def test_outside_hours_a_verified_customer_gets_a_call_back_ticket_to_the_registered_phone(late_evening, sender):
    late_evening.texts(sender, "帮我查一下申请进度")
    late_evening.texts(sender, "SQ202611200001")
    assert "SQ202611200001" in late_evening.texts(sender, "1234")
    offered = late_evening.texts(sender, "转人工")
    assert "登记回电" in offered and "休息时间" in offered
    accepted = late_evening.texts(sender, "好的")
    assert "TK" in accepted and "预留的手机号" in accepted
    with create_engine(late_evening.db_url()).connect() as conn:
        rows = conn.execute(text("SELECT kind, application_id, contact FROM tickets WHERE sender_id = :s"),
                            {"s": late_evening.rest_id(sender)}).fetchall()
    assert [tuple(r) for r in rows] == [("callback", "SQ202611200001", "registered")]
