"""A ticket's progress read back to the customer: what it is about, its state, and its deadline
in Beijing time (how long is left, or that it has passed and was pressed for)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Sequence

from credit.catalogue.loader import Catalogue
from credit.policy import CHINA_TZ
from credit.replies import Reply, button, numbered
from credit.tickets.categories import LABELS
from credit.views import TicketView

MAX_LISTED = 3
# "我的工单""我投诉的处理得怎么样了": the customer's own tickets, not an application
_ASKS_TICKET = re.compile(r"工单|投诉(?:的|过的)?(?:事|问题)?(?:处理|进度|结果|怎么样|咋样|到哪|有没有|有结果|回复)|"
                          r"(?:反馈|登记)的(?:问题|事)|我的投诉|投诉单")


def asks_about_ticket(text: str) -> bool:
    return bool(_ASKS_TICKET.search(text or ""))


def ticket_line(cat: Catalogue, ticket: TicketView, now: datetime) -> str:
    about = cat.sla(ticket.kind).name + (f"·{LABELS[ticket.category]}" if ticket.category in LABELS else "")
    created = ticket.created_at.astimezone(CHINA_TZ)
    due = ticket.due_at.astimezone(CHINA_TZ)
    head = f"工单 {ticket.number}（{about}，{created.month}月{created.day}日登记）："
    if ticket.status != "open":
        return head + "已处理完毕。"
    if now < ticket.due_at:
        hours = max(1, round((ticket.due_at - now).total_seconds() / 3600))
        return head + f"正在处理中，我们承诺在{due.month}月{due.day}日 {due:%H:%M} 前给您答复（还有约{hours}小时）。"
    return head + (f"正在处理中，已经超过承诺的答复时间（{due.month}月{due.day}日 {due:%H:%M}），非常抱歉。"
                   "我已经为您催办，转给人工客服优先跟进。")


def is_overdue(ticket: TicketView, now: datetime) -> bool:
    return ticket.status == "open" and now >= ticket.due_at


def tickets_answer(cat: Catalogue, tickets: Sequence[TicketView], now: datetime) -> Reply:
    """The customer's own tickets in this conversation (newest first), or how to look one up."""
    if not tickets:
        return Reply("这个对话里还没有登记过工单。如果是在别的渠道或之前登记的，请告诉我工单号（TK开头加12位数字），"
                     "核实身份后帮您查。", (button("我要投诉", "complain"), button("转人工客服", "request_human")))
    shown = list(tickets)[:MAX_LISTED]
    lines = [ticket_line(cat, t, now) for t in shown]
    body = lines[0] if len(lines) == 1 else "为您查到这些工单：\n" + numbered(lines)
    return Reply(body)


__all__ = ["asks_about_ticket", "ticket_line", "tickets_answer", "is_overdue"]
