"""Jinja2 templates with autoescaping always on: customer text can never become markup."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ops.access.roles import NAV
from ops.console.context import current

TEMPLATES = Path(__file__).resolve().parent / "templates"
ENV = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True)
ENV.filters["pct"] = lambda v: f"{float(v) * 100:.1f}%"


def render(request: web.Request, template: str, context: Optional[Dict[str, Any]] = None,
           status: int = 200) -> web.Response:
    viewer = current(request)
    nav = [(path, label) for path, label, perm in NAV if viewer and viewer.can(perm)]
    base = {"viewer": viewer, "nav": nav, "path": request.path, "error": "", "notice": "",
            "csrf": viewer.csrf if viewer else ""}
    base.update(context or {})
    html = ENV.get_template(template).render(**base)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
