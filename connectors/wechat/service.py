"""The WeChat callback, independent of Sanic: verify, open, de-duplicate, answer 退订/订阅 at once
(``consent``), run one dialogue turn, and answer passively or through the customer-service API."""
from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Set

from rasa.core.channels.channel import UserMessage

from connectors import ids
from connectors.http import ChannelError
from connectors.outputs import RecordingOutput
from connectors.render import MAIN_MENU, WeChatRendering, render_wechat
from connectors.state import StateStore, shared_store
from connectors.wechat.client import CustomerServiceClient
from connectors.wechat.config import WeChatSettings
from connectors.wechat.consent import WeChatConsent
from connectors.wechat.crypto import WeChatSecurity
from connectors.wechat.dedup import DeliveryLedger
from connectors.wechat.parse import Inbound, parse_inbound
from connectors.wechat.reply import SUCCESS, text_reply, transfer_reply
from connectors.wechat.voice import render_wechat_voice, voice_choice

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
MENU_TTL_S = 30 * 60
EXTRA_MESSAGE_DELAY_S = 0.5  # let the passive reply arrive before the API messages

VOICE_NOT_UNDERSTOOD = "抱歉，没能识别您的语音。请直接输入文字描述您的问题，例如“查询申请进度”。"
UNSUPPORTED_MESSAGE = "抱歉，目前只能处理文字和语音消息。请用文字描述您的问题，回复“人工”可转人工客服。"
EMPTY_TEXT = "请输入您想咨询的问题，例如“贷款利率是多少”。"
TURN_FAILED = "抱歉，系统暂时繁忙，请稍后再试，或回复“人工”转人工客服。"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass
class WeChatResponse:
    body: str
    content_type: str = "text/plain; charset=utf-8"


def _xml(body: str) -> WeChatResponse:
    return WeChatResponse(body, "application/xml; charset=utf-8")


class WeChatService:
    def __init__(
        self,
        settings: WeChatSettings,
        on_new_message: OnNewMessage,
        store: StateStore | None = None,
        client: CustomerServiceClient | None = None,
        consent: WeChatConsent | None = None,
    ) -> None:
        self.settings = settings
        self.on_new_message = on_new_message
        self.store = store or shared_store()
        self.consent = consent or WeChatConsent()  # 退订/订阅 typed in the chat
        self.security = WeChatSecurity(settings)
        self.ledger = DeliveryLedger(self.store)
        self.client = client or (CustomerServiceClient(settings, self.store) if settings.can_send else None)
        self._background: Set[asyncio.Task[Any]] = set()

    # --- HTTP entry points ----------------------------------------------------------
    def verify(self, args: Mapping[str, str]) -> str:
        return self.security.verify_url(args)

    async def handle(self, body: bytes, args: Mapping[str, str]) -> WeChatResponse:
        if len(body) > self.settings.max_body_bytes:
            raise ChannelError(413, "body_too_large", "请求体过大", "request body too large")
        self.security.check_signature(args)
        inbound = parse_inbound(self.security.open_message(body, args))
        if inbound.kind in ("unsubscribe", "event"):
            return WeChatResponse(SUCCESS)
        if not self.ledger.claim(inbound.dedup_key):
            logger.info("WeChat retry of %s ignored (no second turn)", inbound.dedup_key)
            return await self._answer_retry(inbound, args)
        return await self._answer_first(inbound, args)

    # --- first delivery -------------------------------------------------------------
    async def _answer_first(self, inbound: Inbound, args: Mapping[str, str]) -> WeChatResponse:
        immediate = self._channel_level_reply(inbound)
        if immediate is None and inbound.kind == "text":
            immediate = await self.consent.reply(inbound.openid, inbound.text)  # never a dialogue turn
        if immediate is not None:
            reply = text_reply(inbound, immediate)
            self.ledger.settle_passive(inbound.dedup_key, reply)
            return _xml(self.security.seal_reply(reply, args))

        started = time.monotonic()
        task = asyncio.ensure_future(self._turn(inbound, self._dialogue_text(inbound)))
        try:
            # a deadline of 0 means "always deliver through the API"
            deadline = self.settings.passive_deadline_s
            done = (await asyncio.wait({task}, timeout=deadline))[0] if deadline > 0 else set()
        except asyncio.CancelledError:  # the HTTP request went away; the turn goes on
            self.ledger.settle_async(inbound.dedup_key)
            task.add_done_callback(lambda t: self._spawn(self._deliver_result(inbound, t)))
            raise
        if not done:
            self.ledger.settle_async(inbound.dedup_key)
            task.add_done_callback(lambda t: self._spawn(self._deliver_result(inbound, t)))
            logger.info("WeChat turn for %s slower than %.2f s: answered 'success', will push via API",
                        inbound.dedup_key, self.settings.passive_deadline_s)
            return WeChatResponse(SUCCESS)

        rendering = task.result()
        if rendering.handoff:
            reply = transfer_reply(inbound)
        elif rendering.texts:
            reply = text_reply(inbound, rendering.texts[0])
        else:
            reply = ""
        if not self.ledger.settle_passive(inbound.dedup_key, reply):
            # a retry gave up waiting and answered 'success': everything goes through the API
            self._spawn(self._deliver(inbound, rendering.texts, rendering))
            return WeChatResponse(SUCCESS)
        if rendering.handoff:
            # the texts before the transfer go first, through the API
            budget = max(0.2, self.settings.passive_deadline_s + 0.5 - (time.monotonic() - started))
            sending = self._spawn(self._deliver(inbound, rendering.texts, None))
            await asyncio.wait({sending}, timeout=budget)
        elif len(rendering.texts) > 1:
            self._spawn(self._deliver(inbound, rendering.texts[1:], None, delay=EXTRA_MESSAGE_DELAY_S))
        if not reply:
            return WeChatResponse(SUCCESS)
        return _xml(self.security.seal_reply(reply, args))

    # --- retries --------------------------------------------------------------------
    async def _answer_retry(self, inbound: Inbound, args: Mapping[str, str]) -> WeChatResponse:
        entry = await self.ledger.wait_settled(inbound.dedup_key, self.settings.passive_deadline_s)
        if entry is None:
            self.ledger.settle_async(inbound.dedup_key)
            return WeChatResponse(SUCCESS)
        if entry.get("state") == "passive" and entry.get("reply"):
            return _xml(self.security.seal_reply(str(entry["reply"]), args))
        return WeChatResponse(SUCCESS)

    # --- dialogue -------------------------------------------------------------------
    def _channel_level_reply(self, inbound: Inbound) -> str | None:
        if inbound.kind == "unsupported":
            return UNSUPPORTED_MESSAGE
        if inbound.kind == "voice" and not inbound.text.strip():
            return VOICE_NOT_UNDERSTOOD
        if inbound.kind == "text" and not inbound.text.strip():
            return EMPTY_TEXT
        return None

    def _menu_key(self, openid: str) -> str:
        return f"wechat-menu:{openid}"

    def _cues_key(self, openid: str) -> str:
        return f"wechat-menu-cues:{openid}"

    def _dialogue_text(self, inbound: Inbound) -> str:
        if inbound.kind == "subscribe":
            return "/greet"
        if inbound.kind == "click":
            return "/" + inbound.text
        text = unicodedata.normalize("NFKC", inbound.text).strip()
        menu = self.store.get(self._menu_key(inbound.openid)) or {}
        if text in menu:
            return str(menu[text])
        if inbound.kind == "voice":  # "一。" / "安家分期" answering the menu just offered
            chosen = voice_choice(text, menu, self.store.get(self._cues_key(inbound.openid)) or {})
            if chosen is not None:
                return chosen
        if text.startswith("/"):
            # customers type text; only menus send intents
            text = "／" + text[1:]
        return text

    async def _turn(self, inbound: Inbound, text: str) -> WeChatRendering:
        output = RecordingOutput(CHANNEL)
        message = UserMessage(
            text,
            output,
            ids.namespaced(ids.WECHAT, inbound.openid),
            input_channel=CHANNEL,
            message_id=f"wx-{inbound.dedup_key}",
            metadata={"wechat": {"msg_type": inbound.msg_type, "kind": inbound.kind}},
        )
        try:
            await self.on_new_message(message)
        except Exception:  # noqa: BLE001 - the customer gets an apology, the log the details
            logger.exception("WeChat dialogue turn failed for %s", inbound.dedup_key)
            output.messages.append({"text": TURN_FAILED})
        cues: Dict[str, List[str]] = {}
        if inbound.kind == "voice":  # heard rather than read: the spoken wording (connectors/wechat/voice.py)
            rendering, cues = render_wechat_voice(output.messages)
        else:
            rendering = render_wechat(
                output.messages, fallback_menu=MAIN_MENU if inbound.kind == "subscribe" else None
            )
        if rendering.menu:
            self.store.set(self._menu_key(inbound.openid), rendering.menu, MENU_TTL_S)
        else:
            self.store.delete(self._menu_key(inbound.openid))
        if cues:
            self.store.set(self._cues_key(inbound.openid), cues, MENU_TTL_S)
        else:
            self.store.delete(self._cues_key(inbound.openid))
        return rendering

    # --- customer-service API -------------------------------------------------------
    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _deliver_result(self, inbound: Inbound, task: asyncio.Future[WeChatRendering]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error("WeChat turn for %s failed: %r", inbound.dedup_key, error)
            return
        rendering = task.result()
        await self._deliver(inbound, rendering.texts, rendering)

    async def _deliver(
        self, inbound: Inbound, texts: List[str], rendering: WeChatRendering | None, delay: float = 0.0
    ) -> None:
        """Send texts in order through the API; then open a 客服 session for a handoff."""
        if self.client is None:
            if texts:
                logger.error("WeChat: %d message(s) for %s dropped: WECHAT_APP_ID/SECRET not set",
                             len(texts), inbound.dedup_key)
            return
        if delay:
            await asyncio.sleep(delay)
        for text in texts:
            try:
                await self.client.send_text(inbound.openid, text)
            except Exception as error:  # noqa: BLE001 - log and go on with the next message
                logger.error("WeChat customer-service message to %s failed: %s", ids.WECHAT, error)
        if rendering is not None and rendering.handoff:
            try:
                await self.client.transfer_to_agents(inbound.openid)
            except Exception as error:  # noqa: BLE001
                logger.error("WeChat 客服 session could not be opened: %s", error)

    async def push(self, openid: str, messages: List[Dict[str, Any]]) -> None:
        """Deliver bot messages outside a callback (reminders, external events)."""
        rendering = render_wechat(messages)
        inbound = Inbound(kind="push", openid=openid, account="", create_time=int(time.time()))
        await self._deliver(inbound, rendering.texts, rendering)
