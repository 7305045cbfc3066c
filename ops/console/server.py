"""`python -m ops serve`: build the aiohttp application and run it (127.0.0.1:5010 by default).

Configuration (arguments override the environment):
* OPS_CONSOLE_HOST / OPS_CONSOLE_PORT — where to listen (default 127.0.0.1:5010; keep it on
  loopback and put nginx with HTTPS in front, see docs/deployment.md);
* OPS_CONSOLE_SECURE_COOKIES=1 — mark cookies Secure (required behind HTTPS);
* OPS_CONSOLE_IDLE_MINUTES — idle session timeout (default 30);
* OPS_CONSOLE_TRUSTED_PROXY — the proxy's address (e.g. 127.0.0.1) whose X-Real-IP the audit log records;
* OPS_CONSOLE_DB — the console's own database (default var/ops/console.db);
* RASA_URL / RASA_AUTH_TOKEN — the Rasa servers promote and rollback notify (as for the CLI);
* DATABASE_URL — the credit database (tickets, handoffs, risk events, PIPL look-ups);
* the tracker store comes from endpoints.yml, like `ops export` (or --db-url).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from aiohttp import web

from ops.console.context import SETTINGS, Settings
from ops.console.security import headers_middleware
from ops.console.views import main as views_main
from ops.console.views import models as views_models
from ops.console.views import records as views_records
from ops.console.views import work as views_work
from ops.project import Project

STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5010


def make_settings(project: Project, db_url: Optional[str] = None, credit_url: Optional[str] = None) -> Settings:
    from ops.retrain.export import tracker_db_url

    tracker = db_url or os.environ.get("OPS_TRACKER_DB_URL") or tracker_db_url(project)
    if credit_url is None:
        from credit.db.engine import resolve_database_url

        credit_url = resolve_database_url(os.environ.get("DATABASE_URL"))
    idle = float(os.environ.get("OPS_CONSOLE_IDLE_MINUTES") or 30) * 60
    return Settings(project, tracker, credit_url or None, os.environ.get("RASA_URL", ""),
                    os.environ.get("RASA_AUTH_TOKEN", ""), idle,
                    os.environ.get("OPS_CONSOLE_SECURE_COOKIES", "") in ("1", "true", "yes"),
                    {"trusted_proxy": os.environ.get("OPS_CONSOLE_TRUSTED_PROXY", "")})


def make_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[headers_middleware], client_max_size=2 * 1024 * 1024)
    app[SETTINGS] = settings
    for module in (views_main, views_work, views_models, views_records):
        app.add_routes(module.routes)
    app.router.add_static("/static", STATIC, show_index=False, follow_symlinks=False)
    app.on_shutdown.append(_stop_jobs)
    return app


async def _stop_jobs(app: web.Application) -> None:
    import asyncio

    from ops.console import jobs

    await asyncio.to_thread(jobs.stop_all)


def serve(project: Project, host: Optional[str] = None, port: Optional[int] = None, db_url: Optional[str] = None,
          credit_url: Optional[str] = None) -> None:
    import logging

    from credit.text.masking import install_log_masking

    install_log_masking()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = host or os.environ.get("OPS_CONSOLE_HOST") or DEFAULT_HOST
    port = port or int(os.environ.get("OPS_CONSOLE_PORT") or DEFAULT_PORT)
    app = make_app(make_settings(project, db_url, credit_url))
    print(f"运营控制台：http://{host}:{port}/ （Ctrl+C 停止）", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log_format='%a "%r" %s %Tfs')
