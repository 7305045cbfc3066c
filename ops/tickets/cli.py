"""`python -m ops tickets close TK… --resolution "…"` — a service agent closes a ticket; `python -m ops callbacks`
lists the call-back numbers.  Both need a login (`python -m ops login`, or ``OPS_TOKEN``) with the agent
role (:data:`ops.access.roles.VERBS`): the closer recorded on the ticket and in the audit log is that
account, never a typed name; without one nothing is read or changed.

Kept apart from :mod:`ops.cli` (the retraining verbs) so that module stays small; it only registers
these parsers and dispatches here.  Closing is one compare-and-set in the business database
(:func:`credit.tickets.records.close_ticket`); the satisfaction follow-up is then planned by the outreach
engine (notice ``ticket_followup``), never sent from here.  Every attempt, refused ones included,
is one row of the ops audit log.

Exit codes: 0 办结成功; 2 用法或输入错误（工单号格式不对、工单不存在、已经办结、办结说明为空或过长）;
1 业务数据库暂时无法访问。
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

DESCRIPTION = ("办结一张处理中的工单：记录办结时间、办结说明（简短，最多 200 字，手机号等个人信息会被脱敏）和操作人"
               "（登录的账号，需客服坐席角色；先 python -m ops login）。"
               "办结后，系统会在联系时间内通过客户本人的微信或短信发一条办结回访（问题是否解决、满意度 1–5 分），"
               "客户退订的不发，建议类工单不回访。每次办结（包括被拒绝的）都记入审计日志。")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def register(sub: Any) -> None:
    """Add ``tickets`` (with its ``close`` verb) to the ``python -m ops`` sub-commands."""
    p = sub.add_parser("tickets", help="工单操作：办结工单", description="工单操作（运营 / 客服主管使用）。")
    verbs = p.add_subparsers(dest="tickets_cmd", title="操作", metavar="<操作>", parser_class=type(p))
    close = verbs.add_parser("close", help="办结工单，并触发办结回访", description=DESCRIPTION)
    close.add_argument("number", metavar="工单号", help="工单号（TK 加 12 位数字）")
    close.add_argument("--resolution", required=True, metavar="办结说明",
                       help="办结说明：怎么处理的（简短，最多 200 字）")
    close.add_argument("--credit-db-url", metavar="URL", help="业务数据库地址（默认 DATABASE_URL 或 var/credit.db）")
    close.add_argument("--project", type=Path, default=None, metavar="目录", help="项目根目录（默认：当前目录）")
    p = sub.add_parser("callbacks", help="列出待回电的工单（完整号码，仅限回电坐席，需登录）", description=(
        "列出处理中、留了回电号码的工单：工单号、类型、答复时限（北京时间）和完整手机号。"
        "号码只为兑现“我们会通过…联系您”的承诺而保存；需要登录（客服坐席角色），每次查看都记入审计日志。"))
    p.add_argument("--project", type=Path, default=None, metavar="目录", help="项目根目录（默认：当前目录）")
    p.add_argument("--credit-db-url", metavar="URL", help="业务数据库地址（默认 DATABASE_URL 或 var/credit.db）")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "tickets_cmd", None) != "close":
        print("用法：python -m ops tickets close <工单号> --resolution <办结说明>"
              "（先 python -m ops login；--help 查看说明）", file=sys.stderr)
        return 2
    return close(args)


def close(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import InterfaceError, OperationalError

    from credit import clock
    from credit.db.engine import get_engine, init_db, resolve_database_url
    from credit.errors import InvalidInput, NotFound, ServiceUnavailable
    from credit.policy import CHINA_TZ
    from credit.tickets.records import close_ticket
    from ops.access.identity import record, require
    from ops.project import Project

    project = Project.at(args.project)
    clock.refuse_fake_clock_in_production()
    operator = require(project, "tickets close")
    who = operator.username
    target = _UNPRINTABLE.sub("?", str(args.number))[:40]
    engine = get_engine(resolve_database_url(args.credit_db_url or os.environ.get("DATABASE_URL")))
    try:
        init_db(engine)  # creates ticket_outcomes on a database from before ticket closing existed
        outcome = close_ticket(engine, args.number, args.resolution, who, clock.now())
    except (InvalidInput, NotFound) as error:
        record(project, operator, "ticket_close_refused", target, str(error)[:300])
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except (ServiceUnavailable, OperationalError, InterfaceError) as error:
        print(f"错误：业务数据库暂时无法访问，工单没有变化，请稍后再试（{type(error).__name__}）", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    closed = outcome.closed_at.astimezone(CHINA_TZ)
    record(project, operator, "ticket_close", outcome.number,
           {"resolution": outcome.resolution, "closed_at": outcome.closed_at.isoformat()})
    print(f"已办结工单 {outcome.number}（{closed:%Y-%m-%d %H:%M} 北京时间）：{outcome.resolution}")
    if outcome.kind != "suggestion":
        print("系统会在联系时间内向客户本人发送办结回访（客户退订的不发）。")
    return 0


def run_callbacks(args: argparse.Namespace) -> int:
    """The open tickets with a call-back number, in full: only for a logged-in agent, every viewing audited."""
    from credit.catalogue.loader import load_catalogue
    from credit.db.engine import get_engine, resolve_database_url
    from credit.policy import CHINA_TZ
    from credit.service import LoanService
    from ops.access.identity import record, require
    from ops.project import Project

    project = Project.at(args.project)
    operator = require(project, "callbacks")  # before the database is even opened
    engine = get_engine(resolve_database_url(args.credit_db_url or os.environ.get("DATABASE_URL")))
    try:
        rows = LoanService(engine).callbacks()
    finally:
        engine.dispose()
    record(project, operator, "callbacks_viewed", f"{len(rows)} 张工单", {"tickets": [t.number for t, _ in rows]})
    if not rows:
        print("没有待回电的工单。")
        return 0
    cat = load_catalogue()
    for ticket, phone in rows:
        due = ticket.due_at.astimezone(CHINA_TZ)
        print(f"{ticket.number}  {cat.sla(ticket.kind).name}  {due:%m-%d %H:%M} 前  {phone}")
    return 0


__all__ = ["register", "run", "close", "run_callbacks"]
