"""Login/logout, the dashboard (with CSV export of every figure), the audit log, user management and the
command line's tokens (an admin issues an account its ``OPS_TOKEN`` and revokes any CLI login or token)."""
from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import Tuple

from aiohttp import web

from ops.access import audit, sessions, tokens, users
from ops.access.roles import NAV
from ops.console import metrics
from ops.console.context import SESSION_COOKIE, current, settings
from ops.console.render import render
from ops.console.security import LOGIN_CSRF_COOKIE, client_ip, cookie_args, csrf_ok, guard
from ops.project import OpsError
from ops.retrain.export import CHANNELS
from ops.retrain.guard_rise import rise_after_promote

routes = web.RouteTableDef()
MAX_DAYS = 366


def period(request: web.Request, default_days: int = 14) -> Tuple[dt.date, dt.date]:
    try:
        until = dt.date.fromisoformat(request.query.get("until") or dt.date.today().isoformat())
        since = dt.date.fromisoformat(request.query.get("since") or (until - dt.timedelta(days=default_days - 1))
                                      .isoformat())
    except ValueError as e:
        raise OpsError("日期格式应为 YYYY-MM-DD。") from e
    if since > until:
        raise OpsError(f"开始日期 {since} 晚于结束日期 {until}。")
    if (until - since).days >= MAX_DAYS:
        raise OpsError(f"时间范围最多 {MAX_DAYS} 天。")
    return since, until


@routes.get("/")
async def index(request: web.Request) -> web.StreamResponse:
    viewer = current(request)
    if viewer is None:
        return await login_form(request)
    first = next((path for path, _, perm in NAV if viewer.can(perm)), "/dashboard")
    raise web.HTTPSeeOther(first)


@routes.get("/login")
async def login_form(request: web.Request, error: str = "", status: int = 200) -> web.StreamResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"login_csrf": token, "error": error}, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, **cookie_args(request))
    return response


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    form = await request.post()
    if not csrf_ok(str(form.get("csrf", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return await login_form(request, "登录表单已失效，请重新输入。", 403)
    username, password = str(form.get("username", "")).strip()[:32], str(form.get("password", ""))[:200]
    user, reason = await asyncio.to_thread(users.authenticate, s.project, username, password)
    if user is None:
        audit.record(s.project, username or "-", "login_failed", detail=reason, ip=client_ip(request))
        return await login_form(request, reason, 401)
    sessions.destroy(s.project, request.cookies.get(SESSION_COOKIE))
    token, _ = sessions.create(s.project, user.username)
    audit.record(s.project, user.username, "login", ip=client_ip(request))
    response = web.HTTPSeeOther("/")
    response.set_cookie(SESSION_COOKIE, token, **cookie_args(request))
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


@routes.post("/logout")
@guard("dashboard")
async def logout(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    viewer = current(request)
    sessions.destroy(s.project, request.cookies.get(SESSION_COOKIE))
    audit.record(s.project, viewer.username if viewer else "-", "logout", ip=client_ip(request))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def _figures(request: web.Request) -> metrics.Figures:
    s = settings(request)
    since, until = period(request)
    channel = request.query.get("channel", "")
    if channel and channel not in CHANNELS:
        raise OpsError("没有这个渠道。")
    return await asyncio.to_thread(metrics.compute, s.tracker_url, s.credit_url, since, until, channel)


@routes.get("/dashboard")
@guard("dashboard")
async def dashboard(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    viewer = current(request)
    try:
        f = await _figures(request)
    except OpsError as e:
        return render(request, "dashboard.html", {"f": None, "tables": {}, "titles": metrics.TABLE_TITLES,
                                                  "channels": CHANNELS, "q": request.query, "error": str(e)}, 400)
    audit.record(s.project, viewer.username, "dashboard_view", request.query_string, ip=client_ip(request))
    try:
        rise = rise_after_promote(s.project, s.credit_url)
    except Exception:  # noqa: BLE001 - an unreadable database hides the flag, not the dashboard
        rise = None
    return render(request, "dashboard.html", {"f": f, "tables": metrics.tables(f), "titles": metrics.TABLE_TITLES,
                                              "channels": CHANNELS, "q": request.query,
                                              "rise": rise.reason() if rise else None})


@routes.get("/dashboard/data.json")
@guard("dashboard")
async def dashboard_data(request: web.Request) -> web.StreamResponse:
    try:
        f = await _figures(request)
    except OpsError as e:
        return web.json_response({"error": str(e)}, status=400)
    return web.json_response({"tables": {k: {"header": h, "rows": r} for k, (h, r) in metrics.tables(f).items()}})


@routes.get("/dashboard/{table}.csv")
@guard("dashboard")
async def dashboard_csv(request: web.Request) -> web.StreamResponse:
    name = request.match_info["table"]
    if name not in metrics.TABLE_TITLES:
        raise web.HTTPNotFound()
    try:
        f = await _figures(request)
    except OpsError as e:
        return render(request, "error.html", {"message": str(e)}, 400)
    header, rows = metrics.tables(f)[name]
    s = settings(request)
    audit.record(s.project, current(request).username, "csv_export", name, request.query_string,
                 ip=client_ip(request))
    filename = f"{name}_{f.since:%Y%m%d}_{f.until:%Y%m%d}.csv"
    return web.Response(body=metrics.csv_text(header, rows).encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@routes.get("/audit")
@guard("audit")
async def audit_page(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    who, action = request.query.get("who", "").strip(), request.query.get("action", "").strip()
    items = audit.entries(s.project, who or None, action or None)
    audit.record(s.project, current(request).username, "audit_view", request.query_string, ip=client_ip(request))
    return render(request, "audit.html", {"items": items, "actions": audit.ACTIONS, "who": who, "action": action})


@routes.get("/users")
@guard("users")
async def users_page(request: web.Request) -> web.StreamResponse:
    return _users(request)


def _users(request: web.Request, error: str = "", notice: str = "", status: int = 200,
           issued: str = "") -> web.Response:
    s = settings(request)
    return render(request, "users.html", {"users": users.all_users(s.project), "roles": users.ROLES,
                                          "tokens": tokens.active(s.project), "issued": issued,
                                          "default_days": tokens.AUTOMATION_DEFAULT_DAYS,
                                          "max_days": tokens.AUTOMATION_MAX_DAYS, "error": error, "notice": notice},
                  status)


def _token_op(request: web.Request, op: str, form: object, me: str) -> Tuple[str, str]:
    """Issue an OPS_TOKEN to a named account, or revoke any command-line token: (notice, the new token)."""
    s = settings(request)
    get = form.get  # type: ignore[attr-defined]
    if op == "token_issue":
        name = str(get("username", "")).strip()
        user = users.get(s.project, name)
        if user is None or not user.active:
            raise OpsError(f"没有可用的账号 {name}。")
        try:
            days = int(str(get("days", tokens.AUTOMATION_DEFAULT_DAYS)))
        except ValueError as e:
            raise OpsError("有效期应为整数天。") from e
        label = str(get("label", ""))[:200]
        token, token_id = tokens.issue_automation(s.project, name, label, days, me)
        audit.record(s.project, me, "token_issue", f"#{token_id} {name}", {"days": days, "label": label[:60]},
                     client_ip(request))
        return (f"已为 {name} 签发第 {token_id} 号令牌（{days} 天）。"
                "令牌只显示这一次，请立即存入自动化系统的密钥管理。"), token
    try:
        token_id = int(str(get("id", "")))
    except ValueError as e:
        raise OpsError("令牌编号不对。") from e
    gone = tokens.revoke(s.project, token_id, me)
    if gone is None:
        raise OpsError(f"没有生效中的第 {token_id} 号令牌。")
    audit.record(s.project, me, "token_revoke", f"#{token_id} {gone.username}", {"kind": gone.kind}, client_ip(request))
    return f"已吊销第 {token_id} 号令牌（{gone.username}，{gone.kind_label}）。", ""


@routes.post("/users")
@guard("users")
async def users_post(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    me = current(request).username
    form = await request.post()
    op, name = str(form.get("op", "")), str(form.get("username", "")).strip()
    roles = [str(r) for r in form.getall("roles", [])]
    try:
        if op in ("token_issue", "token_revoke"):
            notice, issued = _token_op(request, op, form, me)
            return _users(request, notice=notice, issued=issued)
        if op == "add":
            await asyncio.to_thread(users.add, s.project, name, str(form.get("password", "")), roles,
                                    str(form.get("display", "")), me)
            audit.record(s.project, me, "user_add", name, {"roles": roles}, client_ip(request))
            notice = f"已新增用户 {name}。"
        elif op == "roles":
            users.check_own_change(me, name, op, roles)
            users.set_roles(s.project, name, roles)
            sessions.destroy_user(s.project, name)
            audit.record(s.project, me, "user_roles", name, {"roles": roles}, client_ip(request))
            notice = f"已修改 {name} 的角色。"
        elif op in ("disable", "enable"):
            users.check_own_change(me, name, op)
            users.set_active(s.project, name, op == "enable")
            sessions.destroy_user(s.project, name)
            if op == "disable":
                tokens.revoke_user(s.project, name, me)  # its command-line logins and OPS_TOKENs too
            audit.record(s.project, me, f"user_{op}", name, ip=client_ip(request))
            notice = f"已{'启用' if op == 'enable' else '停用'} {name}。"
        elif op == "unlock":
            users.unlock(s.project, name)
            audit.record(s.project, me, "user_unlock", name, ip=client_ip(request))
            notice = f"已解除 {name} 的锁定。"
        elif op == "password":
            await asyncio.to_thread(users.set_password, s.project, name, str(form.get("password", "")))
            sessions.destroy_user(s.project, name)
            tokens.revoke_user(s.project, name, me, ("login",))
            audit.record(s.project, me, "user_password", name, ip=client_ip(request))
            notice = f"已重设 {name} 的密码。"
        else:
            raise OpsError("未知的操作。")
    except OpsError as e:
        return _users(request, error=str(e), status=400)
    return _users(request, notice=notice)
