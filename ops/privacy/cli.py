"""`python -m ops pipl list | find | request | approve | reject` — personal-information requests on the
command line, the same as the console's 「个人信息申请」 page (:mod:`ops.privacy.pipl` does the work).

Each needs a login with the console's permission for the act (:data:`ops.access.roles.VERBS`): listing
(pipl.view), looking a customer up and filing a request (pipl.file), deciding (pipl.decide).  A request
is carried out only when an approver other than the one who filed it approves it (four-eyes, checked in
:func:`ops.privacy.pipl.decide`).  Nothing printed here is unmasked: look-ups are shown masked, the export
file is written masked.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Tuple

from ops.project import OpsError, Project


def register(sub: Any) -> None:
    p = sub.add_parser("pipl", help="个人信息申请：查询、提交导出/删除申请、审批（需登录）", description=(
        "客户行使个人信息权利（查阅复制、删除）时使用，和控制台「个人信息申请」页相同：按申请编号或已核实的手机号查找"
        "客户数据，提交导出或删除申请，由另一位审批人批准后执行。每一步都记入审计日志。"))
    verbs = p.add_subparsers(dest="pipl_cmd", title="操作", metavar="<操作>", parser_class=type(p))
    listed = verbs.add_parser("list", help="列出最近的申请")
    find = verbs.add_parser("find", help="查找客户数据（只显示打码后的结果）")
    find.add_argument("lookup", metavar="申请编号或手机号")
    request = verbs.add_parser("request", help="提交导出或删除申请（等待另一位审批人批准）")
    request.add_argument("lookup", metavar="申请编号或手机号")
    request.add_argument("--kind", required=True, choices=("export", "delete"), help="export 导出 / delete 删除")
    request.add_argument("--reason", required=True, help="申请依据，如客户来电的工单号")
    request.add_argument("--verified", action="store_true", help="确认已核实客户身份（必需）")
    decided = []
    for name, text in (("approve", "批准并执行申请（不能是申请人本人）"), ("reject", "驳回申请")):
        verb = verbs.add_parser(name, help=text)
        verb.add_argument("id", type=int, metavar="申请编号")
        decided.append(verb)
    for verb in (listed, find, request, *decided):
        verb.add_argument("--project", type=Path, default=None, help="项目根目录（默认：当前目录）")
        verb.add_argument("--credit-db-url", help="业务数据库地址（默认 DATABASE_URL 或 var/credit.db）")
        verb.add_argument("--db-url", help="对话记录库地址（默认读 endpoints.yml）")


def _urls(project: Project, args: argparse.Namespace) -> Tuple[str, str]:
    """(tracker store, credit database) as the console finds them."""
    from credit.db.engine import resolve_database_url
    from ops.retrain.export import tracker_db_url

    credit = resolve_database_url(args.credit_db_url or os.environ.get("DATABASE_URL"))
    if args.pipl_cmd not in ("approve",):
        return "", credit
    tracker = args.db_url or os.environ.get("OPS_TRACKER_DB_URL") or tracker_db_url(project)
    return tracker, credit


def run(args: argparse.Namespace) -> int:
    from ops.access.identity import record, require
    from ops.privacy import pipl

    if not getattr(args, "pipl_cmd", None):
        print("用法：python -m ops pipl {list,find,request,approve,reject} …"
              "（先 python -m ops login；--help 查看说明）", file=sys.stderr)
        return 2
    project = Project.at(args.project)
    operator = require(project, f"pipl {args.pipl_cmd}")
    if args.pipl_cmd == "list":
        for r in pipl.requests(project):
            kind, state = pipl.KINDS.get(r.kind, r.kind), pipl.STATES.get(r.state, r.state)
            print(f"#{r.id}\t{r.when}\t{kind}\t{r.lookup}\t{state}\t申请人 {r.requested_by}"
                  + (f"\t处理人 {r.decided_by}" if r.decided_by else ""))
        return 0
    tracker, credit = _urls(project, args)
    if args.pipl_cmd in ("find", "request"):
        found = pipl.find(credit, args.lookup[:40])
        if args.pipl_cmd == "find":
            record(project, operator, "pipl_search", found["lookup"],
                   {"conversations": len(found["senders"]), "applications": len(found["applications"])})
            print(f"{found['lookup']}：{len(found['senders'])} 段对话，{len(found['applications'])} 笔申请，"
                  f"{len(found['customers'])} 位客户")
            for app in found["applications"]:
                print(f"  {app['application_id']}  {app['product']}  {app['stage']}  {app['customer']}")
            return 0
        if not args.verified:
            raise OpsError("请先核实客户身份，然后加 --verified 再提交。")
        rid = pipl.file_request(project, args.kind, found, args.reason, operator.username)
        record(project, operator, "pipl_request", f"#{rid} {found['lookup']}", {"kind": args.kind})
        print(f"已提交第 {rid} 号申请，等待另一位审批人批准：python -m ops pipl approve {rid}")
        return 0
    approve = args.pipl_cmd == "approve"
    result = pipl.decide(project, args.id, approve, operator.username, tracker, credit)
    record(project, operator, "pipl_approve" if approve else "pipl_reject", f"#{args.id}", result)
    print(f"第 {args.id} 号申请：{result}")
    if approve and pipl.export_path(project, args.id).is_file():
        print(f"导出文件（已脱敏）：{pipl.export_path(project, args.id)}")
    return 0


__all__ = ["register", "run"]
