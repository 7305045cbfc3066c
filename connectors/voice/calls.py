"""One telephone event through the dialogue: call state in the shared store, the turn via
Rasa, the form's requested slot from the tracker, the reply shaped by the engine.

Outbound calls (outreach, channel ``phone``): the call's webhook URLs carry ``?notice=<id>`` (the
``outreach_notices`` row the call is about), because the vendor's call id exists only after the call
is placed.  Every event of such a call belongs to conversation ``<prefix>:notice-<id>``; its start
triggers the external intent ``EXTERNAL_outreach_notice`` (entity ``notice_id``) instead of the
greeting, so the dialogue opens with the notice's voice text and verifies the person first.  A
notice id that is malformed, unknown, not a phone notice or not placed recently gets a short
goodbye and no dialogue (:class:`NoticeCalls`)."""
from __future__ import annotations

import asyncio
import logging
import os
import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import UserMessage
from sqlalchemy.engine import Engine

from connectors import ids
from connectors.external import trigger_external
from connectors.http import env_float
from connectors.outputs import RecordingOutput
from connectors.render import render_voice
from connectors.state import StateStore, shared_store
from connectors.voice.engine import CallState, VoiceAction, VoiceEngine, VoiceEvent, VoiceTurn
from credit.clock import now as clock_now
from credit.db.base import as_utc
from credit.db.engine import get_engine, session_scope
from credit.db.outreach import OutreachNotice

logger = logging.getLogger(__name__)

CALL_STATE_TTL_S = 4 * 3600
TURN_FAILED = "抱歉，系统暂时繁忙，正在为您转接人工客服，请稍候。"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
SlotLookup = Callable[[str], Awaitable[str | None]]
Starter = Callable[[RecordingOutput], Awaitable[None]]

NOTICE_PARAM = "notice"  # ?notice=<outreach_notices.id> on an outbound call's webhook URLs
NOTICE_CALL_PREFIX = "notice-"  # the conversation of an outbound call: tel:notice-<id> / ivr:notice-<id>
OUTREACH_INTENT = "EXTERNAL_outreach_notice"
NOTICE_ENTITY = "notice_id"
ANSWER_WINDOW = timedelta(hours=2)  # a notice's call is answered within this of its placing
NOTICE_GOODBYE = "您好，这里是客服中心。本次来电无需您处理，打扰了，再见。"
OUTBOUND_NO_INPUT = "没有听到您的声音，先不打扰了。借款人本人可以登录APP查看详情，再见。"
_NOTICE_ID = re.compile(r"[0-9]{1,12}")


def engine_from_env(environ: Dict[str, str] | None = None) -> VoiceEngine:
    env = os.environ if environ is None else environ
    return VoiceEngine(
        min_confidence=env_float(env, "VOICE_MIN_CONFIDENCE", 0.5, minimum=0.0),
        max_reprompts=int(env_float(env, "VOICE_MAX_REPROMPTS", 2, minimum=0)),
    )


def tracker_slot_lookup(app: Any) -> SlotLookup:
    """Reads ``requested_slot`` of the active form from Rasa's tracker store."""

    async def lookup(sender_id: str) -> str | None:
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return None
        tracker = await tracker_store.retrieve(sender_id)
        if tracker is None or not tracker.active_loop_name:
            return None
        slot = tracker.get_slot("requested_slot")
        return slot if isinstance(slot, str) else None

    return lookup


def notice_query(query_string: str | None) -> str | None:
    """The raw ``notice`` parameter of a webhook request's query string: None when absent, ``""`` when
    given more than once (refused like any malformed value)."""
    values = [v for k, v in urllib.parse.parse_qsl(query_string or "", keep_blank_values=True) if k == NOTICE_PARAM]
    if not values:
        return None
    return values[0] if len(values) == 1 else ""


def notice_id_of(raw: object) -> int | None:
    """The notice id of ``?notice=<id>``: ASCII digits only, at most 12 of them, else None."""
    if not isinstance(raw, str) or not _NOTICE_ID.fullmatch(raw):
        return None
    return int(raw)


def notice_call_id(notice_id: int) -> str:
    """The raw conversation id of the outbound call about notice ``notice_id``."""
    return f"{NOTICE_CALL_PREFIX}{int(notice_id)}"


def goodbye_turn(event: VoiceEvent | None = None) -> VoiceTurn:
    """The answer to an outbound call whose notice does not check out: a short goodbye, no dialogue."""
    if event is not None and event.kind == "hangup":
        return VoiceTurn([], None, VoiceAction("hangup", reason="caller_hangup"))
    return VoiceTurn([NOTICE_GOODBYE], None, VoiceAction("hangup", reason="unknown_notice"))


class NoticeCalls:
    """Whether an outbound call's notice checks out: it exists, it went by phone, and its call was placed
    (claimed; the call may be answered before the engine has written it down as sent) within
    :data:`ANSWER_WINDOW`.  The loan database is ``DATABASE_URL`` unless an engine is given."""

    def __init__(self, engine: Engine | None = None, clock: Callable[[], datetime] | None = None,
                 window: timedelta = ANSWER_WINDOW) -> None:
        self._engine = engine
        self.clock = clock or clock_now  # the business clock (CREDIT_FAKE_NOW in end-to-end tests)
        self.window = window

    def answerable(self, notice_id: int) -> bool:
        if self._engine is None:
            self._engine = get_engine()
        with session_scope(self._engine) as session:
            notice = session.get(OutreachNotice, notice_id)
            if notice is None or notice.channel != "phone" or notice.status not in ("sending", "sent"):
                return False
            placed = notice.claimed_at or notice.sent_at
        if placed is None:
            return False
        age = self.clock() - as_utc(placed)
        return -timedelta(minutes=5) <= age <= self.window  # a few minutes' clock skew between hosts

    async def check(self, raw: object) -> int | None:
        """The notice id if the call may go on, else None (malformed ids never reach the database)."""
        notice_id = notice_id_of(raw)
        if notice_id is None:
            return None
        try:
            ok = await asyncio.get_running_loop().run_in_executor(None, self.answerable, notice_id)
        except Exception:  # noqa: BLE001 - the database is down: no dialogue about a notice we cannot check
            logger.exception("outbound call: notice %s could not be checked", notice_id)
            return None
        return notice_id if ok else None


@dataclass
class CallRoute:
    """Which conversation a call event belongs to and how the call opens."""

    call_id: str  # the raw conversation id: the vendor's call id, or notice-<id> for an outbound call
    start: Starter | None = None  # the outbound call's opening (else the greeting turn)
    refused: bool = False  # an outbound call whose notice does not check out: goodbye, no dialogue
    notice_id: int | None = None


class CallRunner:
    def __init__(self, channel: str, prefix: str, engine: VoiceEngine, store: StateStore | None = None,
                 notices: NoticeCalls | None = None) -> None:
        self.channel = channel
        self.prefix = prefix
        self.engine = engine
        self.store = store or shared_store()
        self.notices = notices or NoticeCalls()

    def sender_id(self, call_id: str) -> str:
        return ids.namespaced(self.prefix, call_id)

    async def route(self, call_id: str, notice: str | None, app: Any) -> CallRoute:
        """``notice``: the ``notice`` query parameter of the request (None when absent)."""
        if notice is None:
            return CallRoute(call_id)
        notice_id = await self.notices.check(notice)
        if notice_id is None:
            logger.warning("%s: outbound call for notice %r refused", self.channel, str(notice)[:20])
            return CallRoute(call_id, refused=True)
        raw = notice_call_id(notice_id)
        sender_id = self.sender_id(raw)

        async def start(output: RecordingOutput) -> None:
            agent = getattr(getattr(app, "ctx", None), "agent", None)
            await trigger_external(agent, sender_id, OUTREACH_INTENT, {NOTICE_ENTITY: str(notice_id)}, output,
                                   # the assistant opens this conversation (credit/session_carry.py): the
                                   # opening itself carries the privacy notice
                                   metadata={"started_by": "assistant", "outreach_notice": notice_id,
                                             "channel": self.channel})

        return CallRoute(raw, start, notice_id=notice_id)

    async def handle(
        self,
        call_id: str,
        event: VoiceEvent,
        on_new_message: OnNewMessage,
        slot_lookup: SlotLookup | None = None,
        metadata: Dict[str, Any] | None = None,
        start: Starter | None = None,
    ) -> VoiceTurn:
        """``start``: how an outbound call opens (instead of the greeting turn on call start)."""
        sender_id = self.sender_id(call_id)
        key = f"call:{sender_id}"
        state = CallState.from_dict(self.store.get(key))
        step = self.engine.before_turn(event, state)
        if step.turn is not None:
            turn = step.turn
            if turn.action.reason == "no_input" and call_id.startswith(NOTICE_CALL_PREFIX):
                # nobody there (or a voicemail) on a call we placed: say goodbye, never ring the agents
                turn = VoiceTurn([OUTBOUND_NO_INPUT], None, VoiceAction("hangup", reason="no_input"))
        else:
            output = RecordingOutput(self.channel)
            opening = start if step.call_start else None
            message = UserMessage(
                step.text,
                output,
                sender_id,
                input_channel=self.channel,
                metadata={self.channel: {**(metadata or {}), "event": event.kind}},
            )
            try:
                await (opening(output) if opening is not None else on_new_message(message))
                slot = await slot_lookup(sender_id) if slot_lookup else None
            except Exception:  # noqa: BLE001 - the caller hears an apology and reaches an agent
                logger.exception("%s: dialogue turn failed for call %s", self.channel, sender_id)
                state.ended = True
                turn = VoiceTurn(
                    [TURN_FAILED], None, VoiceAction("transfer", queue=self.engine.agent_queue, reason="error")
                )
            else:
                # an outbound call opens with the notice, not the inbound greeting's main menu
                turn = self.engine.after_turn(render_voice(output.messages), state, slot,
                                              step.call_start and opening is None)
        if state.ended or turn.action.type != "continue":
            self.store.delete(key)
        else:
            self.store.set(key, state.to_dict(), CALL_STATE_TTL_S)
        return turn
