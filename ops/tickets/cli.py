"""`python -m ops tickets close TK… --resolution "…" --by <姓名>` — an operator closes a ticket.

Kept apart from :mod:`ops.cli` (the retraining verbs) so that module stays small; it only registers
this parser and dispatches here.  Closing is one compare-and-set in the business database
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

DESCRIPTION = ("办结一张处理中的工单：记录办结时间、办结说明（简短，最多 200 字，手机号等个人信息会被脱敏）和操作人。"
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
    close.add_argument("--by", default=None, metavar="操作人",
                       help="操作人（默认：当前系统用户名），记录在工单和审计日志中")
    close.add_argument("--credit-db-url", metavar="URL", help="业务数据库地址（默认 DATABASE_URL 或 var/credit.db）")
    close.add_argument("--project", type=Path, default=None, metavar="目录", help="项目根目录（默认：当前目录）")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "tickets_cmd", None) != "close":
        print("用法：python -m ops tickets close <工单号> --resolution <办结说明> [--by <操作人>]（--help 查看说明）",
              file=sys.stderr)
        return 2
    return close(args)


def close(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import InterfaceError, OperationalError

    from credit import clock
    from credit.db.engine import get_engine, init_db, resolve_database_url
    from credit.errors import InvalidInput, NotFound, ServiceUnavailable
    from credit.policy import CHINA_TZ
    from credit.text.masking import mask_pii
    from credit.tickets.records import close_ticket
    from ops.access import audit
    from ops.project import Project
    from ops.retrain.ledger import current_user

    project = Project.at(args.project)
    clock.refuse_fake_clock_in_production()
    who = current_user(args.by)
    shown_who = _UNPRINTABLE.sub("?", mask_pii(who))[:64] or "-"
    target = _UNPRINTABLE.sub("?", str(args.number))[:40]
    engine = get_engine(resolve_database_url(args.credit_db_url or os.environ.get("DATABASE_URL")))
    try:
        init_db(engine)  # creates ticket_outcomes on a database from before ticket closing existed
        outcome = close_ticket(engine, args.number, args.resolution, who, clock.now())
    except (InvalidInput, NotFound) as error:
        audit.record(project, shown_who, "ticket_close_refused", target, str(error)[:300])
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except (ServiceUnavailable, OperationalError, InterfaceError) as error:
        print(f"错误：业务数据库暂时无法访问，工单没有变化，请稍后再试（{type(error).__name__}）", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    closed = outcome.closed_at.astimezone(CHINA_TZ)
    audit.record(project, shown_who, "ticket_close", outcome.number,
                 {"resolution": outcome.resolution, "closed_at": outcome.closed_at.isoformat()})
    print(f"已办结工单 {outcome.number}（{closed:%Y-%m-%d %H:%M} 北京时间）：{outcome.resolution}")
    if outcome.kind != "suggestion":
        print("系统会在联系时间内向客户本人发送办结回访（客户退订的不发）。")
    return 0


__all__ = ["register", "run", "close"]
