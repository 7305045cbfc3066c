"""The 未识别问题 inbox and the training-data view (both write through the ops ledger)."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Dict, List, Tuple

from aiohttp import web

from ops.access import audit
from ops.console.context import current, settings
from ops.console.render import render
from ops.console.security import client_ip, guard
from ops.console.views.main import period
from ops.project import OpsError
from ops.retrain import inbox
from ops.retrain.importer import ImportReport
from ops.retrain.ledger import read_ledger, read_log, retire_example
from ops.text import clean_text, normalize

routes = web.RouteTableDef()


async def _inbox(request: web.Request, error: str = "", notice: str = "", report: ImportReport | None = None,
                 status: int = 200) -> web.Response:
    s = settings(request)
    try:
        since, until = period(request, 7)
        groups, hidden = await asyncio.to_thread(inbox.load, s.project, since, until, s.tracker_url)
    except OpsError as e:
        groups, hidden, since, until = [], 0, dt.date.today(), dt.date.today()
        error = error or str(e)
        status = 400
    audit.record(s.project, current(request).username, "inbox_view", f"{since}~{until}", {"groups": len(groups)},
                 client_ip(request))
    project = s.project
    return render(request, "inbox.html", {
        "groups": groups, "hidden": hidden, "new_needs": inbox.new_needs(project), "since": since, "until": until,
        "intents": project.intents(),
        "labels": project.intent_labels(), "report": report, "error": error, "notice": notice}, status)


@routes.get("/inbox")
@guard("inbox")
async def inbox_page(request: web.Request) -> web.StreamResponse:
    return await _inbox(request)


def _texts(form: object, key: str) -> List[str]:
    return [clean_text(str(v)) for v in form.getall(key, [])][:500]  # type: ignore[attr-defined]


@routes.post("/inbox/label")
@guard("inbox")
async def inbox_label(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    me = current(request).username
    form = await request.post()
    labels: List[Tuple[str, str]] = []
    predicted: Dict[str, str] = {}
    for gid in form.getall("group", []):
        intent = str(form.get(f"intent-{gid}", "")).strip()
        if not intent:
            continue
        for text in _texts(form, f"text-{gid}"):
            labels.append((text, intent))
            predicted[text] = str(form.get(f"pred-{gid}", ""))
    try:
        report = await asyncio.to_thread(inbox.label, s.project, labels, me, predicted)
    except OpsError as e:
        return await _inbox(request, error=str(e), status=400)
    audit.record(s.project, me, "inbox_label", f"第 {report.batch} 批" if report.written else "未写入",
                 {"rows": len(report.imported), "errors": len(report.errors), "skipped": len(report.skipped)},
                 client_ip(request))
    if report.errors:
        return await _inbox(request,
                            error="有错误的标注，本次没有写入任何数据（和 ops import 的规则相同）。请修改后重新提交。",
                            report=report, status=400)
    notice = (f"已导入第 {report.batch} 批：{len(report.imported)} 条样本写入训练数据。" if report.written
              else "这些句子训练数据里已经有了，无需导入。")
    return await _inbox(request, notice=notice, report=report)


@routes.post("/inbox/mark")
@guard("inbox")
async def inbox_mark(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    me = current(request).username
    form = await request.post()
    decision = str(form.get("decision", ""))
    texts = _texts(form, "text")
    try:
        count = inbox.mark(s.project, texts, decision, me, str(form.get("note", "")))
    except OpsError as e:
        return await _inbox(request, error=str(e), status=400)
    action = "inbox_flag" if decision == inbox.FLAG else "inbox_skip"
    audit.record(s.project, me, action, texts[0][:80] if texts else "", {"rows": count}, client_ip(request))
    return await _inbox(request, notice=f"{'已标记为新需求' if decision == inbox.FLAG else '已跳过'}：{count} 条。")


# --------------------------------------------------------------------------- training data


async def _data(request: web.Request, error: str = "", notice: str = "", report: ImportReport | None = None,
                status: int = 200) -> web.Response:
    s = settings(request)
    project = s.project
    intent, query = request.query.get("intent", ""), request.query.get("q", "").strip()[:100]
    examples = await asyncio.to_thread(project.training_examples)
    ops_texts = {(c.text, c.intent): c for c in read_ledger(project)}
    counts: Dict[str, List[int]] = {i: [0, 0] for i in project.intents()}
    for ex in examples:
        counts.setdefault(ex.intent, [0, 0])[1 if (ex.text, ex.intent) in ops_texts else 0] += 1
    shown = []
    if intent or query:
        key = normalize(query)
        for ex in examples:
            if (not intent or ex.intent == intent) and (not key or key in normalize(ex.text)):
                shown.append((ex, ops_texts.get((ex.text, ex.intent))))
    history = list(reversed(read_log(project)))[:50]
    return render(request, "data.html", {
        "counts": counts, "labels": project.intent_labels(), "intent": intent, "query": query, "shown": shown[:500],
        "total": len(shown), "history": history, "intents": project.intents(), "report": report,
        "error": error, "notice": notice}, status)


@routes.get("/data")
@guard("data.view")
async def data_page(request: web.Request) -> web.StreamResponse:
    return await _data(request)


@routes.post("/data/add")
@guard("data.edit")
async def data_add(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    me = current(request).username
    form = await request.post()
    text, intent = clean_text(str(form.get("text", ""))), str(form.get("intent", "")).strip()
    try:
        report = await asyncio.to_thread(inbox.label, s.project, [(text, intent)], me)
    except OpsError as e:
        return await _data(request, error=str(e), status=400)
    audit.record(s.project, me, "data_add", intent, {"text": text[:80], "written": report.written},
                 client_ip(request))
    if report.errors:
        return await _data(request, error="没有写入：" + "；".join(i.message for i in report.errors), report=report,
                           status=400)
    return await _data(request, notice=(f"已新增（第 {report.batch} 批）。" if report.written
                                        else "；".join(i.message for i in report.skipped) or "没有变化。"))


@routes.post("/data/retire")
@guard("data.edit")
async def data_retire(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    me = current(request).username
    form = await request.post()
    text, intent = str(form.get("text", "")), str(form.get("intent", ""))
    try:
        await asyncio.to_thread(retire_example, s.project, text, intent, me)
    except OpsError as e:
        return await _data(request, error=str(e), status=400)
    audit.record(s.project, me, "data_retire", intent, {"text": text[:80]}, client_ip(request))
    return await _data(request, notice="已下线这条样本（下次训练起生效）。")
