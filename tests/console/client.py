"""A browser-like client for the console tests: a cookie jar, login, CSRF-carrying forms (urllib only).

Not built on ``harness.http`` (the one client for JSON services): a console session needs a cookie
jar, redirects that can be left unfollowed, and every ``Set-Cookie`` of a reply as the server sent
it, where ``harness.http`` follows redirects and folds headers into one lower-case dict.
"""
from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

Fields = Union[Dict[str, str], Sequence[Tuple[str, str]]]


@dataclass
class Reply:
    status: int
    text: str
    headers: Dict[str, str]
    url: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        return None


class Client:
    def __init__(self, base: str, follow: bool = True) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        handlers: List[object] = [urllib.request.HTTPCookieProcessor(self.jar)]
        if not follow:
            handlers.append(_NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)  # type: ignore[arg-type]
        self.csrf = ""

    def request(self, method: str, path: str, fields: Optional[Fields] = None,
                headers: Optional[Dict[str, str]] = None) -> Reply:
        data = None if fields is None else urllib.parse.urlencode(fields).encode()
        path = urllib.parse.quote(path, safe="/?&=:%+,;@")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=60) as resp:
                body = resp.read().decode("utf-8", errors="replace")
                reply = Reply(resp.status, body, dict(resp.headers), resp.url)
        except urllib.error.HTTPError as e:
            reply = Reply(e.code, e.read().decode("utf-8", errors="replace"), dict(e.headers), e.url)
        found = re.search(r'name="csrf" value="([^"]+)"', reply.text)
        if found:
            self.csrf = found.group(1)
        return reply

    def get(self, path: str, **kwargs: object) -> Reply:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, fields: Fields, csrf: bool = True) -> Reply:
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if csrf:
            items.append(("csrf", self.csrf))
        return self.request("POST", path, items)

    def login(self, username: str, password: str) -> Reply:
        self.get("/login")
        reply = self.post("/login", {"username": username, "password": password})
        self.get("/dashboard")  # picks up the session's CSRF token
        return reply

    def cookie(self, name: str) -> Optional[http.cookiejar.Cookie]:
        return next((c for c in self.jar if c.name == name), None)
