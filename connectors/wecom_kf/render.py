"""Bot messages as 微信客服 messages: texts of at most 2048 UTF-8 bytes (kf/send_msg's documented limit
for ``text.content``) and buttons as ``msgmenu`` click items, whose click ids come back on the
customer's tap as ``text.menu_id``.

* consecutive texts are packed into as few messages as fit (every message counts against the five a
  customer's message allows);
* a text before buttons becomes the menu's ``head_content`` when it fits (1024 bytes), else it goes as
  text first; a button title is cut to 128 bytes, a click id is at most 64 bytes, a menu has at most
  ``MAX_MENU_ITEMS`` items;
* click ids are short digests of the payload, so the same button has the same id in every menu; the
  channel keeps id -> payload per customer.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from connectors.render import Handoff, button_payload, handoff_of, pack_texts, split_utf8

TEXT_LIMIT_BYTES = 2048  # text.content
MENU_HEAD_LIMIT_BYTES = 1024  # msgmenu.head_content / tail_content
MENU_ITEM_LIMIT_BYTES = 128  # click.content
CLICK_ID_LIMIT_BYTES = 64  # click.id
MAX_MENU_ITEMS = 10


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def cut_utf8(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-8 bytes (never half a character)."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def click_id(payload: str) -> str:
    return "m" + hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Outgoing:
    """One kf message: ``msgtype`` and its body as kf/send_msg takes it."""

    msgtype: str  # text | msgmenu
    body: Dict[str, Any]

    @staticmethod
    def text(content: str) -> "Outgoing":
        return Outgoing("text", {"content": content})

    @property
    def content(self) -> str:
        """What the customer reads (for logs and records)."""
        if self.msgtype == "text":
            return str(self.body.get("content") or "")
        items = [str((i.get("click") or {}).get("content") or "") for i in self.body.get("list") or []]
        parts = [str(self.body.get("head_content") or ""), " / ".join(items), str(self.body.get("tail_content") or "")]
        return "\n".join(p for p in parts if p)


@dataclass
class KfRendering:
    items: List[Outgoing] = field(default_factory=list)
    menu: Dict[str, str] = field(default_factory=dict)  # click id -> payload of every menu sent
    handoff: Optional[Handoff] = None


def _buttons(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    buttons = message.get("buttons") or message.get("quick_replies") or []
    return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []


def menu_message(head: str, buttons: Iterable[Dict[str, Any]], menu: Dict[str, str]) -> Outgoing:
    items = []
    for button in list(buttons)[:MAX_MENU_ITEMS]:
        payload = button_payload(button)
        title = cut_utf8(str(button.get("title") or payload).strip(), MENU_ITEM_LIMIT_BYTES) or "选择"
        menu[click_id(payload)] = payload
        items.append({"type": "click", "click": {"id": click_id(payload), "content": title}})
    body: Dict[str, Any] = {"list": items}
    if head:
        body["head_content"] = head
    return Outgoing("msgmenu", body)


def render_kf(messages: Iterable[Dict[str, Any]], limit: int = TEXT_LIMIT_BYTES) -> KfRendering:
    rendering = KfRendering()
    pending: List[str] = []  # texts not yet sent, packed when a menu or the end comes

    def flush(keep_last_for_head: bool = False) -> str:
        packed = pack_texts(pending, limit)
        pending.clear()
        head = ""
        if keep_last_for_head and packed and _bytes(packed[-1]) <= MENU_HEAD_LIMIT_BYTES:
            head = packed.pop()
        rendering.items.extend(Outgoing.text(t) for t in packed)
        return head

    for message in messages:
        text = str(message.get("text") or "").strip()
        if message.get("image"):
            text = (text + "\n" if text else "") + str(message["image"])
        buttons = _buttons(message)
        if buttons:
            if text:
                pending.append(text)
            head = flush(keep_last_for_head=True)
            rendering.items.append(menu_message(head, buttons, rendering.menu))
        elif text:
            pending.append(text)
        handoff = handoff_of([message])
        if handoff:
            rendering.handoff = handoff
    flush()
    return rendering


def with_note(item: Outgoing, note: str, limit: int = TEXT_LIMIT_BYTES) -> tuple[Outgoing, Optional[Outgoing]]:
    """``item`` with ``note`` at its end, and what no longer fits (a text's tail), if anything."""
    if item.msgtype == "msgmenu":
        body = dict(item.body)
        tail = str(body.get("tail_content") or "")
        body["tail_content"] = cut_utf8((tail + "\n" if tail else "") + note, MENU_HEAD_LIMIT_BYTES)
        return Outgoing("msgmenu", body), None
    content = item.content
    room = limit - _bytes("\n\n" + note)
    if _bytes(content) <= room:
        return Outgoing.text(content + "\n\n" + note), None
    head = split_utf8(content, room)[0]
    rest = content[len(head):].strip()
    return Outgoing.text(head + "\n\n" + note), (Outgoing.text(rest) if rest else None)


__all__ = ["Outgoing", "KfRendering", "render_kf", "with_note", "click_id", "cut_utf8", "TEXT_LIMIT_BYTES",
           "MENU_HEAD_LIMIT_BYTES", "MENU_ITEM_LIMIT_BYTES", "CLICK_ID_LIMIT_BYTES", "MAX_MENU_ITEMS"]
