"""Request guards: login and role checks, CSRF, security headers, audit of refusals."""
from __future__ import annotations

import functools
import hmac
import logging
from typing import Any, Awaitable, Callable, Dict

from aiohttp import web

from ops.access import audit
from ops.console.context import current, settings
from ops.console.render import render

LOGIN_CSRF_COOKIE = "ops_login_csrf"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def client_ip(request: web.Request) -> str:
    """The caller's address for the audit log; X-Real-IP only from the proxy named in OPS_CONSOLE_TRUSTED_PROXY."""
    remote = request.remote or ""
    trusted = settings(request).extra.get("trusted_proxy") or ""
    if trusted and remote == trusted and request.headers.get("X-Real-IP"):
        return request.headers["X-Real-IP"][:64]
    return remote


def cookie_args(request: web.Request) -> Dict[str, Any]:
    return {"httponly": True, "samesite": "Strict", "path": "/", "secure": settings(request).secure_cookies}


def csrf_ok(sent: str, expected: str) -> bool:
    return bool(sent) and bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


async def sent_csrf(request: web.Request) -> str:
    header = request.headers.get("X-CSRF-Token", "")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        return str(form.get("csrf", ""))
    return ""


def _refuse(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", {"message": message}, status=status)


def guard(permission: str) -> Callable[[Handler], Handler]:
    """Login + role check for every method; CSRF check for every state-changing method."""
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def inner(request: web.Request) -> web.StreamResponse:
            viewer = current(request)
            s = settings(request)
            if viewer is None:
                if request.method == "GET" and "application/json" not in request.headers.get("Accept", ""):
                    raise web.HTTPSeeOther("/login")
                return _refuse(request, 401, "请先登录（会话可能已超时）。")
            if not viewer.can(permission):
                audit.record(s.project, viewer.username, "denied", f"{request.method} {request.path}",
                             ip=client_ip(request))
                return _refuse(request, 403, "您的角色无权访问这个页面或执行这个操作。")
            if request.method not in ("GET", "HEAD") and not csrf_ok(await sent_csrf(request), viewer.csrf):
                audit.record(s.project, viewer.username, "csrf_refused", f"{request.method} {request.path}",
                             ip=client_ip(request))
                return _refuse(request, 403, "表单已失效（缺少或错误的安全令牌），请刷新页面后重试。")
            return await handler(request)
        inner.permission = permission  # type: ignore[attr-defined]
        return inner
    return wrap


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in ("GET", "HEAD"):
        origin = request.headers.get("Origin")
        if origin and origin != "null" and origin.split("://", 1)[-1] != request.host:
            response: web.StreamResponse = _refuse(request, 403, "拒绝跨站请求。")
            return _secure(response)
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status >= 400 and e.status != 405:
            response = _refuse(request, e.status, "页面不存在。" if e.status == 404 else e.reason)
        else:
            raise _secure(e) from None
    except Exception:  # a bug must not leak a traceback to the page; the log has it (masked)
        logging.getLogger(__name__).exception("console error on %s %s", request.method, request.path)
        response = _refuse(request, 500, "系统内部错误，操作可能没有完成。请稍后重试，或把时间告诉管理员查看日志。")
    return _secure(response)


def _secure(response: Any) -> Any:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault("Cache-Control", "no-store")
    return response
