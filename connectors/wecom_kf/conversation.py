"""One pulled 微信客服 message, start to finish: who holds the session, the customer's identity, the
dialogue turn, and the replies within WeCom's sending rules (:mod:`connectors.wecom_kf.window`).

* a customer's message renews the 48-hour window; while a person holds the session (service_state 2
  待接入池 or 3 由人工接待) the bot stays silent and runs no turn; a new session (0) is taken by the bot (1);
* text is a turn (a ``/`` typed by the customer is not an intent); a tap on one of our menus comes back as
  ``menu_id`` and becomes that button's payload; images and voice without a transcription get a short
  text answer; "继续" sends what the 5-message limit held back;
* a handoff moves the session to the configured 接待人员 (WECOM_KF_SERVICER) or to the queue, after the
  bot's texts; outside the agents' hours (the dialogue says so) the bot keeps the session and the hand-off
  waits in our queue (ops inbox), as on the other channels;
* ``enter_session`` with a ``welcome_code`` gets one welcome through kf/send_msg_on_event within its 20 s.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import unicodedata
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage
from wechatpy.exceptions import WeChatClientException

from connectors.outputs import RecordingOutput
from connectors.render import MAIN_MENU
from connectors.state import StateStore
from connectors.wecom_kf import kf_api
from connectors.wecom_kf.client import KfClient
from connectors.wecom_kf.config import WeComKfSettings
from connectors.wecom_kf.ledger import InboxRow, KfLedger
from connectors.wecom_kf.messages import KfMessage, parse_entry
from connectors.wecom_kf.render import KfRendering, Outgoing, menu_message, render_kf
from connectors.wecom_kf.window import EXPIRED, LIMIT, plan
from credit.wechat_identity import kf_customer_known, record_kf_customer

logger = logging.getLogger(__name__)

CHANNEL = "wecom_kf"
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
WINDOW_REFUSALS = {95001: EXPIRED, 95002: LIMIT}  # kf/send_msg: window expired / over the 5 messages
MENU_TTL_S = 48 * 3600
WELCOME_LIFETIME_S = 20.0

IMAGE_REPLY = ("收到您发来的图片。我这边暂时看不了图片，麻烦您用文字简单说一下想咨询的问题；"
               "需要人工帮忙，回复“人工”就好。")
VOICE_REPLY = "抱歉，我这边暂时听不了语音。麻烦您直接打字告诉我，例如“查询申请进度”或“利息怎么算”。"
UNSUPPORTED_REPLY = "抱歉，目前只能处理文字消息。请用文字描述您的问题，回复“人工”可转人工客服。"
EMPTY_TEXT = "请输入您想咨询的问题，例如“贷款利率是多少”。"
TURN_FAILED = "抱歉，系统暂时繁忙，请稍后再试，或回复“人工”转人工客服。"
WELCOME_TEXT = "您好，我是智能客服小信，很高兴为您服务。请问有什么可以帮您？"
CONTINUE_WORDS = frozenset({"继续", "继续发", "接着说", "接着发", "还有呢", "还有吗", "然后呢", "后面呢", "剩下的",
                            "更多"})
_PUNCT = "。！？!?，,. 　~～…"
MAIN_BUTTONS = [{"title": o.label, "payload": o.payload} for o in MAIN_MENU]


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().strip(_PUNCT)


def _msgid(source: str, n: int) -> str:
    """Our msgid for the n-th message sent for ``source`` ([0-9a-zA-Z_-], at most 32 bytes): the same on a
    second attempt, so WeCom can tell a retry."""
    return "r" + hashlib.sha1(source.encode("utf-8")).hexdigest()[:24] + f"-{n}"


def agents_available(messages: List[Dict[str, Any]]) -> bool:
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, str):
            try:
                custom = json.loads(custom)
            except ValueError:
                continue
        if isinstance(custom, dict) and custom.get("type") == "handoff":
            return custom.get("agents_available") is not False
    return True


class KfConversation:
    def __init__(self, settings: WeComKfSettings, client: KfClient, ledger: KfLedger, store: StateStore,
                 on_new_message: OnNewMessage, engine: Any, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.client = client
        self.ledger = ledger
        self.store = store
        self.on_new_message = on_new_message
        self.engine = engine
        self.clock = clock
        self.has_turn: Optional[Callable[[str, str], Awaitable[bool]]] = None  # tracker look-up, set at start

    async def _db(self, call: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(call, *args)

    # --- one message -------------------------------------------------------------------
    async def process(self, row: InboxRow, worker: str, resume: bool = False) -> None:
        if not await self._db(self.ledger.start, row.id, worker, resume):
            return  # finished meanwhile, or taken by another process
        message = parse_entry(row.payload) if row.payload else None
        if message is None:
            await self._db(self.ledger.finish, row.id, "failed", "unreadable stored message")
            return
        if resume and self.has_turn is not None and await self.has_turn(message.sender_id, self._turn_id(message)):
            await self._db(self.ledger.finish, row.id, "done", "turn had run before the restart")
            return
        status, note = await self._handle(message)
        await self._db(self.ledger.finish, row.id, status, note)

    async def _handle(self, message: KfMessage) -> tuple[str, Optional[str]]:
        if message.kind == "enter_session":
            return await self._welcome(message)
        if message.kind == "send_fail":
            await self._db(self.ledger.hold, message.open_kfid, message.external_userid,
                           f"send_fail:{message.fail_type}", [Outgoing.text(f"msgid {message.fail_msgid}")], False)
            return "done", f"WeCom could not deliver {message.fail_msgid} (fail_type {message.fail_type})"
        if not message.from_customer:
            return "skipped", f"{message.kind} from origin {message.origin}"
        await self._db(self.ledger.customer_wrote, message.open_kfid, message.external_userid,
                       float(message.send_time or self.clock()))
        state = await self._service_state(message)
        if state in (kf_api.QUEUED, kf_api.HUMAN):
            return "human", f"service_state {state}: a person holds the session"
        if state == kf_api.UNTREATED:
            await self._transfer(message, kf_api.BOT)
        await self._identify(message)
        immediate = self._channel_reply(message)
        if immediate is not None:
            await self.deliver(message, [Outgoing.text(immediate)])
            return "done", message.kind
        if _normal(message.text) in CONTINUE_WORDS:
            waiting = await self._db(self.ledger.take_waiting, message.open_kfid, message.external_userid)
            if waiting:
                await self.deliver(message, waiting)
                return "done", "sent what the limit had held"
        await self._db(self.ledger.drop_waiting, message.open_kfid, message.external_userid)
        messages = await self._turn(message, self._dialogue_text(message))
        rendering = self._render(message, messages)
        await self.deliver(message, rendering.items)
        if rendering.handoff:
            return "done", await self._hand_off(message, agents_available(messages))
        return "done", None

    # --- session state and identity --------------------------------------------------
    async def _service_state(self, message: KfMessage) -> int:
        try:
            return await self.client.service_state(message.open_kfid, message.external_userid)
        except WeChatClientException as error:
            logger.warning("WeCom kf: service_state/get failed (%s); answering as the bot", error.errcode)
            return kf_api.BOT

    async def _transfer(self, message: KfMessage, state: int, servicer: Optional[str] = None) -> bool:
        try:
            await self.client.transfer(message.open_kfid, message.external_userid, state, servicer)
            return True
        except WeChatClientException as error:
            logger.warning("WeCom kf: service_state/trans to %s failed: %s %s", state, error.errcode, error.errmsg)
            return False

    async def _identify(self, message: KfMessage) -> None:
        """The customer's unionid, once (kf/customer/batchget), for SMS-free verification where bound verified."""
        if await self._db(kf_customer_known, self.engine, message.external_userid):
            return
        try:
            unionid = await self.client.unionid(message.external_userid)
        except WeChatClientException as error:
            logger.warning("WeCom kf: customer/batchget failed (%s); will ask again next message", error.errcode)
            return
        await self._db(record_kf_customer, self.engine, message.external_userid, unionid)

    async def _hand_off(self, message: KfMessage, available: bool) -> str:
        if not available:
            return "handoff outside the agents' hours: the bot keeps the session, the queue has it"
        if self.settings.servicer and await self._transfer(message, kf_api.HUMAN, self.settings.servicer):
            return f"handoff to servicer {self.settings.servicer}"
        if await self._transfer(message, kf_api.QUEUED):
            return "handoff to the queue"
        await self._db(self.ledger.hold, message.open_kfid, message.external_userid, "handoff_failed", [], False)
        return "handoff: service_state/trans refused"

    # --- the dialogue ------------------------------------------------------------------
    def _channel_reply(self, message: KfMessage) -> Optional[str]:
        if message.kind == "image":
            return IMAGE_REPLY
        if message.kind == "voice" and not message.text.strip():
            return VOICE_REPLY
        if message.kind not in ("text", "voice"):
            return UNSUPPORTED_REPLY
        if not message.text.strip() and not message.menu_id:
            return EMPTY_TEXT
        return None

    def _menu_key(self, message: KfMessage) -> str:
        return f"wecom-kf-menu:{message.open_kfid}:{message.external_userid}"

    def _dialogue_text(self, message: KfMessage) -> str:
        if message.menu_id:
            payload = (self.store.get(self._menu_key(message)) or {}).get(message.menu_id)
            if payload:
                return str(payload)
        text = unicodedata.normalize("NFKC", message.text).strip()
        return "／" + text[1:] if text.startswith("/") else text  # customers type text; only menus send intents

    def _turn_id(self, message: KfMessage) -> str:
        return f"kf-{message.msgid}"

    async def _turn(self, message: KfMessage, text: str) -> List[Dict[str, Any]]:
        output = RecordingOutput(CHANNEL)
        user = UserMessage(text, output, message.sender_id, input_channel=CHANNEL, message_id=self._turn_id(message),
                           metadata={"wecom_kf": {"open_kfid": message.open_kfid, "kind": message.kind}})
        try:
            await self.on_new_message(user)
        except Exception:  # noqa: BLE001 - the customer gets an apology, the log the details
            logger.exception("WeCom kf: dialogue turn failed for %s", message.msgid)
            output.messages.append({"text": TURN_FAILED})
        return output.messages

    def _render(self, message: KfMessage, messages: List[Dict[str, Any]]) -> KfRendering:
        rendering = render_kf(messages)
        self._remember(message, rendering.menu)
        return rendering

    def _remember(self, message: KfMessage, menu: Dict[str, str]) -> None:
        """Click id -> payload of the menus this customer was sent (ids are digests: they never clash)."""
        if menu:
            known = dict(self.store.get(self._menu_key(message)) or {})
            known.update(menu)
            self.store.set(self._menu_key(message), known, MENU_TTL_S)

    # --- sending ---------------------------------------------------------------------
    async def deliver(self, message: KfMessage, items: List[Outgoing]) -> int:
        """Send within the window and the limit; what cannot go is recorded.  Messages sent."""
        state = await self._db(self.ledger.window, message.open_kfid, message.external_userid)
        sending = plan(items, state, self.clock())
        held, reason, sent = list(sending.held), sending.reason, 0
        for n, item in enumerate(sending.send):
            try:
                await self.client.send(message.external_userid, message.open_kfid, item.msgtype, item.body,
                                       _msgid(message.msgid, n))
            except WeChatClientException as error:
                if error.errcode in WINDOW_REFUSALS:  # our count and WeCom's disagree: WeCom wins
                    held, reason = list(sending.send[n:]) + held, WINDOW_REFUSALS[error.errcode]
                    break
                logger.error("WeCom kf: send_msg refused (%s %s)", error.errcode, error.errmsg)
                await self._db(self.ledger.hold, message.open_kfid, message.external_userid,
                               f"api_error:{error.errcode}", [item], False)
                continue
            sent += 1
            await self._db(self.ledger.sent, message.open_kfid, message.external_userid)
        if held:
            logger.warning("WeCom kf: %d message(s) for %s not sent (%s)", len(held), message.sender_id, reason)
            await self._db(self.ledger.hold, message.open_kfid, message.external_userid, reason or LIMIT, held,
                           reason == LIMIT)
        return sent

    async def _welcome(self, message: KfMessage) -> tuple[str, Optional[str]]:
        if not message.welcome_code:
            return "done", "enter_session without welcome_code"
        started = float(message.send_time or self.clock())
        budget = min(self.settings.welcome_budget_s, WELCOME_LIFETIME_S - 2.0 - max(0.0, self.clock() - started))
        fixed_menu: Dict[str, str] = {}
        item = menu_message(WELCOME_TEXT, MAIN_BUTTONS, fixed_menu)
        fallback = True
        if budget > 0:
            try:
                messages = await asyncio.wait_for(self._turn(message, "/greet"), timeout=budget)
                rendering = self._render(message, messages)
                menus = [i for i in rendering.items if i.msgtype == "msgmenu"]
                if menus or rendering.items:
                    item, fallback = (menus or rendering.items)[0], False
            except asyncio.TimeoutError:
                logger.warning("WeCom kf: welcome turn slower than %.1f s; the fixed welcome goes", budget)
        if fallback:  # the fixed menu's click ids must resolve too
            self._remember(message, fixed_menu)
        try:
            await self.client.send_on_event(message.welcome_code, item.msgtype, item.body, _msgid(message.msgid, 0))
        except WeChatClientException as error:
            await self._db(self.ledger.hold, message.open_kfid, message.external_userid,
                           f"welcome:{error.errcode}", [item], False)
            return "done", f"welcome refused ({error.errcode})"
        return "done", "welcome sent" + (" (fixed)" if fallback else "")


__all__ = ["KfConversation", "OnNewMessage", "CHANNEL", "IMAGE_REPLY", "VOICE_REPLY", "UNSUPPORTED_REPLY",
           "WELCOME_TEXT", "CONTINUE_WORDS", "agents_available"]
