"""Conversation viewer (masked, every view audited) and personal-information (PIPL) requests."""
from __future__ import annotations

import asyncio

from aiohttp import web

from ops.access import audit
from ops.console.context import current, settings
from ops.console.render import render
from ops.console.security import client_ip, guard
from ops.console.views.main import period
from ops.privacy import conversations, pipl
from ops.project import OpsError
from ops.retrain.export import CHANNELS

routes = web.RouteTableDef()


@routes.get("/conversations")
@guard("conversations")
async def conversation_list(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    q = request.query
    channel, intent, ticket = q.get("channel", ""), q.get("intent", "").strip(), q.get("ticket", "").strip()[:20]
    error, found = "", []
    try:
        since, until = period(request, 7)
        if channel and channel not in CHANNELS:
            raise OpsError("没有这个渠道。")
        senders = None
        if ticket:
            senders = await asyncio.to_thread(conversations.ticket_senders, s.credit_url, ticket)
        found = await asyncio.to_thread(conversations.search, s.tracker_url, since, until, channel, intent, senders)
    except OpsError as e:
        error = str(e)
    audit.record(s.project, current(request).username, "conversation_search", request.query_string,
                 {"results": len(found)}, client_ip(request))
    return render(request, "conversations.html", {"found": found, "q": q, "channels": CHANNELS, "error": error,
                                                  "intents": s.project.intents()}, 400 if error else 200)


@routes.get("/conversations/view")
@guard("conversations")
async def conversation_view(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    sender = request.query.get("id", "")[:200]
    if not sender:
        raise web.HTTPNotFound()
    lines = await asyncio.to_thread(conversations.transcript, s.tracker_url, sender)
    audit.record(s.project, current(request).username, "conversation_view", sender, {"lines": len(lines)},
                 client_ip(request))
    return render(request, "transcript.html", {"sender": sender, "lines": lines})


def _pipl(request: web.Request, found: object = None, error: str = "", notice: str = "",
          status: int = 200) -> web.Response:
    s = settings(request)
    return render(request, "pipl.html", {"found": found, "requests": pipl.requests(s.project),
                                         "kinds": pipl.KINDS, "states": pipl.STATES, "error": error,
                                         "notice": notice}, status)


@routes.get("/pipl")
@guard("pipl.view")
async def pipl_page(request: web.Request) -> web.StreamResponse:
    return _pipl(request)


@routes.post("/pipl/search")
@guard("pipl.file")
async def pipl_search(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    form = await request.post()
    try:
        if not s.credit_url:
            raise OpsError("没有配置业务数据库（DATABASE_URL）。")
        found = await asyncio.to_thread(pipl.find, s.credit_url, str(form.get("lookup", ""))[:40])
    except OpsError as e:
        return _pipl(request, error=str(e), status=400)
    audit.record(s.project, current(request).username, "pipl_search", found["lookup"],
                 {"conversations": len(found["senders"]), "applications": len(found["applications"])},
                 client_ip(request))
    return _pipl(request, found=found)


@routes.post("/pipl/request")
@guard("pipl.file")
async def pipl_request(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    form = await request.post()
    me = current(request).username
    try:
        found = await asyncio.to_thread(pipl.find, s.credit_url or "", str(form.get("lookup", ""))[:40])
        if form.get("verified") != "yes":
            raise OpsError("请先核实客户身份（勾选“已核实客户身份”）。")
        rid = pipl.file_request(s.project, str(form.get("kind", "")), found, str(form.get("reason", "")), me)
    except OpsError as e:
        return _pipl(request, error=str(e), status=400)
    audit.record(s.project, me, "pipl_request", f"#{rid} {found['lookup']}", {"kind": str(form.get("kind"))},
                 client_ip(request))
    return _pipl(request, notice=f"已提交第 {rid} 号申请，等待另一位审批人批准。")


@routes.post("/pipl/decide")
@guard("pipl.decide")
async def pipl_decide(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    form = await request.post()
    me = current(request).username
    try:
        rid = int(str(form.get("id", "0")))
        approve = form.get("decision") == "approve"
        result = await asyncio.to_thread(pipl.decide, s.project, rid, approve, me, s.tracker_url, s.credit_url or "")
    except (OpsError, ValueError) as e:
        return _pipl(request, error=str(e) if isinstance(e, OpsError) else "申请编号不对。", status=400)
    audit.record(s.project, me, "pipl_approve" if approve else "pipl_reject", f"#{rid}", result, client_ip(request))
    return _pipl(request, notice=f"第 {rid} 号申请：{result}")


@routes.get("/pipl/{id:\\d+}.json")
@guard("pipl.decide")
async def pipl_download(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    rid = int(request.match_info["id"])
    path = pipl.export_path(s.project, rid)
    if not path.is_file():
        raise web.HTTPNotFound()
    audit.record(s.project, current(request).username, "pipl_download", f"#{rid}", ip=client_ip(request))
    return web.FileResponse(path, headers={"Content-Type": "application/json; charset=utf-8",
                                           "Content-Disposition": f'attachment; filename="pipl-{rid}.json"'})
