"""What every request of the console carries: the app's settings and the logged-in viewer.

``render`` (templates) and ``security`` (guards) both read it; it imports neither, so the two
point one way: ``security`` -> ``render`` -> ``context``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiohttp import web

from ops.access import sessions, users
from ops.access.roles import allowed
from ops.project import Project

SESSION_COOKIE = "ops_session"
SETTINGS: web.AppKey = web.AppKey("settings", object)


@dataclass
class Settings:
    project: Project
    tracker_url: str
    credit_url: Optional[str]
    rasa_urls: str = ""
    rasa_token: str = ""
    idle_s: float = 30 * 60
    secure_cookies: bool = False
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Viewer:
    username: str
    roles: List[str]
    csrf: str
    display: str = ""

    def can(self, permission: str) -> bool:
        return allowed(self.roles, permission)


def settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]  # type: ignore[return-value]


def current(request: web.Request) -> Optional[Viewer]:
    if "viewer" in request:
        return request["viewer"]
    s = settings(request)
    found = sessions.lookup(s.project, request.cookies.get(SESSION_COOKIE), s.idle_s)
    viewer = None
    if found:
        user = users.get(s.project, found[0])
        if user and user.active:
            viewer = Viewer(user.username, user.roles, found[1], user.display)
    request["viewer"] = viewer
    return viewer
