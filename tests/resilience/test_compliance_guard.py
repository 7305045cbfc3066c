"""The output guard on a running stack (issue 29): a reply that breaks a red line never reaches the
customer, on any channel.

One assistant stack (harness.stacks: seeded loan database, action server, hardened Rasa server with every
channel) whose Rasa server calls the action server through a test-only stand-in
(tests/resilience/guard_injector.py): in an armed conversation, the first custom action the model chooses
answers with a misbehaving reply — a promise of approval or of the lowest rate, a hidden fee, a full ID or
card number, a rate without 年化 — as a new catalogue text or an odd response of a promoted model would.
Nothing of it is in the production domain, actions or model.

For each red line, once on a text channel and once on a phone channel, so that every channel (REST, web chat,
WeChat, Twilio, JSON IVR) sees at least two lines (``MATRIX``), and for each red line on SMS (whose replies
never start a dialogue turn and whose notices the outreach engine reviews the same way):

* the stopped text is never delivered, nor kept in the conversation store;
* customer data is masked in place; anything else becomes the safe line plus a hand-off (WeChat transfers
  to 客服, the call is transferred, REST and web chat get the hand-off payload), with a hand-off record
  whose summary holds the stopped reply;
* an audit row (rule, intent, action, response name, masked text, model id) exists and the ops dashboard
  (the real console, ``python -m ops serve``) counts it, with CSV.

And a customer's own full ID number quoted back in a restatement comes out masked.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from sqlalchemy import select

from credit.db.engine import get_engine, session_scope
from credit.db.interceptions import Interception
from credit.db.sms import SmsOutbox
from credit.db.tickets import Handoff
from credit.guard.review import SAFE_LINE
from credit.text.speech import to_speech
from harness.http import http
from harness.stacks import AssistantStack
from harness.wechat_api import WeChatApiStandIn
from tests.resilience import guard_channels as channels
from tests.resilience.guard_injector import RED_LINES, RESTATE, ActionInjector, response_name

pytestmark = pytest.mark.slow

TOKEN = "guard-rasa-token"
SMS_TOKEN = "guard-sms-uplink-token-0123456789"
ENV = {
    "RASA_AUTH_TOKEN": TOKEN, "WECHAT_TOKEN": "test-wechat-token", "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": "test-wechat-secret", "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "TWILIO_AUTH_TOKEN": channels.TWILIO_TOKEN, "TWILIO_AGENT_NUMBER": "+8640082088200",
    "IVR_SHARED_SECRET": channels.IVR_SECRET, "SMS_UPLINK_TOKEN": SMS_TOKEN,
}
DIALOGUE_CHANNELS = ("rest", "webchat", "wechat", "twilio", "ivr")
LINES = sorted(RED_LINES)
VOICE = ("twilio", "ivr")
TEXT_CHANNELS = tuple(c for c in DIALOGUE_CHANNELS if c not in VOICE)
# Every red line twice, once read (a text channel) and once heard (a phone channel), rotating so that every
# channel gets at least two lines: the guard sits at the one point all channels pass
# (MessageProcessor._send_bot_messages) and each line's detection is unit-tested
# (tests/unit/server/test_output_guard.py), so the full 6 x 5 matrix (about 8 s a case, 4 of the CI's
# 27 minutes) only repeated the same path.
MATRIX = sorted([(line, TEXT_CHANNELS[i % len(TEXT_CHANNELS)]) for i, line in enumerate(LINES)]
                + [(line, VOICE[i % len(VOICE)]) for i, line in enumerate(LINES)])


@dataclass
class Guarded:
    stack: AssistantStack
    injector: ActionInjector
    wechat_api: WeChatApiStandIn

    @property
    def url(self) -> str:
        return self.stack.url

    def turn(self, channel: str, line: str, text: str = channels.QUESTION) -> channels.Delivered:
        arm = lambda conversation: self.injector.arm(conversation, line)  # noqa: E731
        if channel == "wechat":
            return channels.wechat(self.url, arm, self.wechat_api, text)
        return getattr(channels, channel)(self.url, arm, text)

    def engine(self) -> Any:
        return get_engine(self.stack.env["DATABASE_URL"])

    def bot_events(self, conversation: str) -> List[Dict[str, Any]]:
        path = urllib.parse.quote(conversation, safe=":@+=")
        tracker = http("GET", f"{self.url}/conversations/{path}/tracker?token={TOKEN}").json()
        return [e for e in tracker["events"] if e.get("event") == "bot"]

    def model_id(self) -> str:
        return str(http("GET", f"{self.url}/status?token={TOKEN}").json().get("model_id"))


@pytest.fixture(scope="module")
def guarded(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    workdir = tmp_path_factory.mktemp("guard")
    injector, api = ActionInjector(), WeChatApiStandIn()
    env = {**ENV, "WECHAT_API_BASE": api.start(), "CHANNEL_STATE_DB": str(workdir / "channel_state.db")}
    stack = AssistantStack(model_path, env, token=TOKEN, workdir=workdir, wechat_api=api, start_timeout=240,
                           action_proxy=injector.proxy)
    try:
        stack.start()
        yield Guarded(stack, injector, api)
    finally:
        stack.stop()
        injector.stop()
        api.stop()


@pytest.fixture
def notices_db(tmp_path: Path) -> Iterator[Any]:
    """A fresh loan database with the demo records seeded at ``tests.seeded.SEEDED`` (the outreach tests'
    moment: an instalment reminder and an overdue notice fall due in the days after)."""
    from credit.seed import seed
    from tests.seeded import SEEDED

    engine = get_engine(f"sqlite:///{tmp_path / 'notices.db'}")
    seed(engine, now=SEEDED, reset=True)
    yield engine
    engine.dispose()


def _forms(text: str) -> List[str]:
    """A text as read and as heard (the phone channels speak ``to_speech`` of it)."""
    return [text, to_speech(text)]


def _interceptions(engine: Any, conversation: str) -> List[Interception]:
    with session_scope(engine) as s:
        return list(s.execute(select(Interception).where(Interception.sender_id == conversation)).scalars())


# --------------------------------------------------------------------------- every red line, every channel

def test_the_matrix_covers_every_line_and_every_channel_as_text_and_heard() -> None:
    assert {line for line, _ in MATRIX} == set(LINES) and {c for _, c in MATRIX} == set(DIALOGUE_CHANNELS)
    for line in LINES:
        seen = {c in VOICE for l_, c in MATRIX if l_ == line}
        assert seen == {True, False}, line


@pytest.mark.parametrize(("line", "channel"), MATRIX)
def test_a_reply_breaking_a_red_line_is_never_delivered(guarded: Guarded, line: str, channel: str) -> None:
    red = RED_LINES[line]
    got = guarded.turn(channel, line)
    fired = guarded.injector.fired.get(got.conversation)
    assert fired is not None and fired.text == red.text, f"nothing injected in {got.conversation}"
    said = got.joined()
    assert said, "the customer got no answer at all"
    assert not any(form in said for form in _forms(red.leak) + _forms(red.text)), said
    assert got.raw and not any(red.leak in body for body in got.raw)  # nor in any payload (hand-off summary…)
    # ... nor is it what the conversation store keeps (web chat history, ops transcripts, exports)
    stored = [e for e in guarded.bot_events(got.conversation) if "compliance_guard" in (e.get("metadata") or {})]
    assert stored and all(red.leak not in (e.get("text") or "") for e in guarded.bot_events(got.conversation))
    [row] = _interceptions(guarded.engine(), got.conversation)
    assert (row.rule, row.action, row.response) == (red.rule, fired.action, response_name(line))
    assert row.intent and row.model_id == guarded.model_id()
    assert row.channel == got.conversation.split(":")[0]
    if red.masked:  # customer data: masked in place, the rest of the reply as it was
        assert row.decision == "masked" and red.masked in row.text and red.leak not in row.text and not got.handoff
        assert any(form in said for form in _forms(red.text.replace(red.leak, red.masked))), said
        assert stored[0]["metadata"]["compliance_guard"]["decision"] == "masked"
    else:  # anything else: the safe line and a colleague, who reads the stopped reply in the hand-off
        assert row.decision == "replaced" and red.leak in row.text
        assert any(form in said for form in _forms(SAFE_LINE)) and got.handoff, (said, got.handoff)
        assert stored[0]["text"] == SAFE_LINE
        with session_scope(guarded.engine()) as s:
            handoff = s.get(Handoff, row.handoff_id)
            assert handoff is not None and handoff.queue == "compliance" and red.leak in handoff.summary


@pytest.mark.parametrize("line", LINES)
def test_sms_reply_channel_never_delivers_a_red_line(guarded: Guarded, notices_db: Any, line: str) -> None:
    """SMS: a customer's reply never starts a dialogue turn, so nothing comes back by SMS; what the assistant
    sends by SMS (outreach notices) goes through the same review: masked in place, or not sent at all."""
    red = RED_LINES[line]
    engine = guarded.engine()
    with session_scope(engine) as s:
        before = s.query(SmsOutbox).count()
    mobile = "13800001234"
    body = {"extend": "", "mobile": mobile, "nationcode": "86", "sign": "安信", "text": red.text,
            "time": int(dt.datetime.now().timestamp())}
    answer = http("POST", f"{guarded.url}/webhooks/sms_tencent/uplink?token={SMS_TOKEN}", body)
    assert (answer.status, answer.json()) == (200, {"result": 0, "errmsg": "OK"})
    with session_scope(engine) as s:
        assert s.query(SmsOutbox).count() == before  # no reply by SMS
    # the notices the outreach engine sends by SMS, with a catalogue whose every SMS text breaks the red line
    from credit.catalogue.loader import load_catalogue
    from outreach.channels import SmsChannel
    from outreach.engine import OutreachEngine
    from tests.seeded import SEEDED

    cat = load_catalogue()
    notices = tuple(n.copy(update={"sms": red.text, "text": red.text, "voice": red.text, "channels": ("sms",)})
                    for n in cat.outreach.notices)
    broken = cat.copy(update={"outreach": cat.outreach.copy(update={"notices": notices})})
    for days in range(0, 4):
        moment = SEEDED + timedelta(days=days)
        OutreachEngine(notices_db, broken, {"sms": SmsChannel(notices_db)}, lambda moment=moment: moment,
                       worker="w1").sweep()
    with session_scope(notices_db) as s:
        sent = list(s.execute(select(SmsOutbox.text)).scalars())
        rows = list(s.execute(select(Interception)).scalars())
    assert rows and all(r.channel == "sms" and r.rule == red.rule for r in rows)
    assert not any(red.leak in text for text in sent)
    if red.masked:
        assert sent and all(text == red.text.replace(red.leak, red.masked) for text in sent)
        assert {r.decision for r in rows} == {"masked"}
    else:
        assert sent == [] and {r.decision for r in rows} == {"withheld"}


# --------------------------------------------------------------------------- restatement

@pytest.mark.parametrize("channel", DIALOGUE_CHANNELS)
def test_a_customers_own_id_number_quoted_back_comes_out_masked(guarded: Guarded, channel: str) -> None:
    said_by_customer = "我的身份证号是110101199003071234，帮我看看利息多少"
    got = guarded.turn(channel, RESTATE, said_by_customer)
    fired = guarded.injector.fired.get(got.conversation)
    assert fired is not None and "110101199003071234" in fired.text  # the echo really quoted it in full
    said = got.joined()
    assert "110101199003071234" not in said and to_speech("110101199003071234") not in said
    expected = fired.text.replace("110101199003071234", "110***********1234")
    assert any(form in said for form in _forms(expected)), said
    [row] = _interceptions(guarded.engine(), got.conversation)
    assert (row.rule, row.decision, row.response) == ("personal_data", "masked", response_name(RESTATE))


# --------------------------------------------------------------------------- ops: the dashboard counts them

def test_the_dashboard_counts_interceptions_and_flags_a_rise_after_a_promote(guarded: Guarded,
                                                                           tmp_path: Path) -> None:
    from tests.console.conftest import PASSWORD, make_project, start_console

    for line in ("promise_approval", "hidden_fee", "id_number"):
        guarded.turn("rest", line)
    with session_scope(guarded.engine()) as s:
        expected: Dict[str, int] = {}
        for row in s.execute(select(Interception)).scalars():
            expected[row.rule] = expected.get(row.rule, 0) + 1
        conversation = s.execute(select(Interception.sender_id).order_by(Interception.id.desc())).scalars().first()
    console = make_project(tmp_path)
    (console.root / "endpoints.yml").write_text(
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{guarded.stack.workdir / "tracker.db"}"\n',
        encoding="utf-8")
    console.env["DATABASE_URL"] = guarded.stack.env["DATABASE_URL"]
    from ops.access import users
    from ops.project import Project
    from ops.retrain.store import save_manifest

    project = Project.at(console.root)
    users.add(project, "auditor", PASSWORD, ["auditor"], by="test")
    # the model serving the stack was promoted an hour ago: every interception above came after it
    promoted_at = (dt.datetime.now().astimezone() - timedelta(hours=1)).isoformat(timespec="seconds")
    save_manifest(project, {"current": {"source": "cand-guard", "model_id": guarded.model_id(),
                                        "promoted_at": promoted_at}, "history": [], "retired": [],
                            "log": [{"action": "promote", "at": promoted_at, "by": "approver"}]})
    start_console(console, tmp_path)
    try:
        client = console.client("auditor")
        today = dt.date.today().isoformat()
        page = client.get(f"/dashboard?since={today}&until={today}")
        assert page.status == 200 and 'id="fig-interceptions"' in page.text
        assert f'href="/conversations/view?id={urllib.parse.quote(conversation)}"' in page.text
        table = list(csv.reader(io.StringIO(client.get(f"/dashboard/interceptions.csv?since={today}&until={today}")
                                            .text.lstrip("\ufeff"))))
        assert table[0][0] == "规则" and table[0][2] == today
        assert {r[0]: int(r[-1]) for r in table[1:]} == expected
        listed = client.get(f"/dashboard/interception_list.csv?since={today}&until={today}").text
        assert conversation in listed and "110101199003071234" not in listed
        transcript = client.get(f"/conversations/view?id={urllib.parse.quote(conversation)}")
        assert transcript.status == 200
        # a sudden rise after the promote: flagged on the dashboard and where the rollback is
        assert 'id="guard-rise"' in page.text and "cand-guard" in page.text and "合规拦截激增" in page.text
        models = client.get("/models")
        assert models.status == 200 and 'id="guard-rise"' in models.text and "回滚原因" in models.text
    finally:
        for proc in console.procs:
            proc.stop()
