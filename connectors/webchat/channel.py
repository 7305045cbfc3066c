"""Web chat: Rasa's socket.io protocol with namespaced conversations, plus the chat page.

credentials.yml: ``connectors.webchat.WebChatInput:`` *instead of* ``socketio:``
(both would attach a socket.io server to ``/socket.io``).

* ``GET /webchat`` serves a self-contained page (``static/``: HTML, CSS, JS and the
  vendored socket.io client; nothing is fetched from the internet);
* socket.io at ``/socket.io``: the page sends ``session_request`` with the session id
  it keeps in localStorage (a new random one when missing or malformed) and gets
  ``session_confirm`` plus ``history`` (the current session's messages from the
  tracker store, so a reload shows the conversation); ``user_uttered``
  ``{"message": ...}`` runs a turn in conversation ``web:<session id>``; the bot
  answers with ``bot_uttered`` (Rasa's format: ``text``, ``quick_replies``) and
  ``bot_typing`` ``{"typing": true|false}`` around the turn.

Rasa's own ``socketio`` channel would use the raw session id (reachable from other
channels' id spaces) and, with python-socketio 5.x, never awaits ``enter_room``.
"""
from __future__ import annotations

import logging
import mimetypes
import os
import re
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from rasa.shared.core.events import BotUttered, SessionStarted, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from connectors import ids
from connectors.render import handoff_of

logger = logging.getLogger(__name__)

CHANNEL = "webchat"
STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_MESSAGE_CHARS = 2000
HISTORY_LIMIT = 100
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(:\d{1,5})?")


def security_headers(frame_ancestors: str = "") -> Dict[str, str]:
    """CSP that allows only the assistant's own scripts, styles and socket; the page may be
    framed by the origins in WEBCHAT_FRAME_ANCESTORS (space-separated) besides itself."""
    ancestors = " ".join(["'self'", *(o for o in frame_ancestors.split() if _ORIGIN.fullmatch(o))])
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' ws: wss:; frame-ancestors {ancestors}; "
            "base-uri 'none'; form-action 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def bot_payload(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """A bot message as the page (and Rasa's socket.io clients) expect it."""
    payload: Dict[str, Any] = {}
    text = message.get("text")
    if text:
        payload["text"] = str(text)
    buttons = message.get("buttons") or message.get("quick_replies") or []
    if isinstance(buttons, list) and buttons:
        payload["quick_replies"] = [
            {"content_type": "text", "title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in buttons
            if isinstance(b, dict)
        ]
    if message.get("image"):
        payload["attachment"] = {"type": "image", "payload": {"src": str(message["image"])}}
    handoff = handoff_of([message])
    if handoff:
        payload["handoff"] = {"queue": handoff.queue}  # the summary is for agents only
    return payload or None


class WebChatOutput(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        self.sio = sio
        self.bot_message_evt = bot_message_evt

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        payload = bot_payload(message)
        if payload:
            await self.sio.emit(self.bot_message_evt, payload, room=recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


def _button_title(payload: str, buttons: List[Dict[str, Any]]) -> Optional[str]:
    for button in buttons:
        if isinstance(button, dict) and button.get("payload") == payload:
            return str(button.get("title") or "")
    return None


def transcript(events: List[Any], limit: int = HISTORY_LIMIT) -> List[Dict[str, Any]]:
    """The current session's messages, as the page shows them."""
    start = 0
    for index, event in enumerate(events):
        if isinstance(event, SessionStarted):
            start = index
    items: List[Dict[str, Any]] = []
    last_buttons: List[Dict[str, Any]] = []
    for event in events[start:]:
        if isinstance(event, UserUttered):
            text = event.text or ""
            if text.startswith("/"):
                title = _button_title(text, last_buttons)
                if not title:
                    continue  # an automatic payload (e.g. the greeting), not typed by the customer
                text = title
            items.append({"sender": "user", "text": text})
        elif isinstance(event, BotUttered):
            payload = bot_payload(event.message())
            if payload:
                items.append({"sender": "bot", **payload})
                last_buttons = event.data.get("buttons") or []
    return items[-limit:]


class _WebChatBlueprint(SocketBlueprint):
    """Attaches socket.io to the app and remembers the app (for the tracker store)."""

    def register(self, app: Any, options: Dict[str, Any]) -> None:
        self.ctx.app = app
        super().register(app, options)


class WebChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            cors_allowed_origins=credentials.get("cors_allowed_origins"),
            jwt_key=credentials.get("jwt_key"),
            jwt_method=credentials.get("jwt_method", "HS256"),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
        cors_allowed_origins: Any = None,
        jwt_key: Optional[str] = None,
        jwt_method: str = "HS256",
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.cors_allowed_origins = cors_allowed_origins  # None: same origin as the page
        self.jwt_key = jwt_key
        self.jwt_method = jwt_method
        self.sio: Optional[AsyncServer] = None

    def url_prefix(self) -> str:
        # absolute: the page lives at /webchat, not under /webhooks/
        return "/webchat"

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WebChatOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins)
        self.sio = sio
        webchat = _WebChatBlueprint(sio, self.socketio_path, "webchat", __name__)
        static_files = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()}
        headers = security_headers(os.environ.get("WEBCHAT_FRAME_ANCESTORS", ""))

        @webchat.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await _file(static_files["index.html"])

        @webchat.route("/static/<name>", methods=["GET"])
        async def static(_: Request, name: str) -> HTTPResponse:
            path = static_files.get(name)
            if path is None:
                return response.text("未找到 / not found", status=404)
            return await _file(path)

        @webchat.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def _file(path: Path) -> HTTPResponse:
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type.endswith("javascript"):
                content_type += "; charset=utf-8"
            return response.raw(path.read_bytes(), content_type=content_type, headers=headers)

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            payload = (
                rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_method)
                if isinstance(token, str)
                else None
            )
            return bool(payload)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            valid = isinstance(requested, str) and _SESSION_ID.fullmatch(requested)
            session_id = requested if valid else uuid.uuid4().hex
            sender_id = ids.namespaced(ids.WEB, session_id)
            old = (await sio.get_session(sid)).get("sender_id")
            if old and old != sender_id:
                await sio.leave_room(sid, old)
            await sio.save_session(sid, {"sender_id": sender_id})
            await sio.enter_room(sid, sender_id)
            await sio.emit("session_confirm", session_id, room=sid)
            await sio.emit("history", await self._history(webchat, sender_id), room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any = None) -> None:
            sender_id = (await sio.get_session(sid)).get("sender_id")
            if not sender_id:
                await sio.emit("error_message", {"message": "请先建立会话 / send session_request first"}, room=sid)
                return
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_CHARS:
                await sio.emit(
                    "error_message",
                    {"message": f"消息应为 1 到 {MAX_MESSAGE_CHARS} 字的文本 / "
                                f"message must be 1-{MAX_MESSAGE_CHARS} characters"},
                    room=sid,
                )
                return
            await sio.emit("bot_typing", {"typing": True}, room=sender_id)
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        WebChatOutput(sio, self.bot_message_evt),
                        sender_id,
                        input_channel=CHANNEL,
                        metadata={"webchat": {"page": True}},
                    )
                )
            except Exception:  # noqa: BLE001 - the page gets an apology, the log the details
                logger.exception("webchat: dialogue turn failed for %s", sender_id)
                await sio.emit(self.bot_message_evt, {"text": "抱歉，系统暂时繁忙，请稍后再试。"}, room=sender_id)
            finally:
                await sio.emit("bot_typing", {"typing": False}, room=sender_id)

        return webchat

    async def _history(self, webchat: _WebChatBlueprint, sender_id: str) -> List[Dict[str, Any]]:
        app = getattr(webchat.ctx, "app", None)
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return []
        try:
            tracker = await tracker_store.retrieve(sender_id)
        except Exception:  # noqa: BLE001 - history is a convenience; the chat goes on without it
            logger.exception("webchat: could not load the history of %s", sender_id)
            return []
        return transcript(list(tracker.events)) if tracker else []
