"""The one small HTTP client of the tests, benchmarks and tools (standard library only).

``http`` never raises on an HTTP error status, only on a network error, so a test can
assert on a 4xx; ``http_json`` is for calls that must succeed and raises ``HttpError``.
"""
from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import Any, Dict, Mapping, Optional


@dataclass
class Response:
    status: int
    headers: Dict[str, str]  # lower-case names
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class HttpError(urllib.error.HTTPError):
    """An HTTP error status where success was required. It is urllib's own HTTPError (``.code``,
    ``.headers``, ``.read()``), so callers and tests that expect urllib's error get it, and
    ``wait_until`` retries it like any other OSError."""

    def __init__(self, method: str, url: str, response: Response) -> None:
        headers = HTTPMessage()
        for name, value in response.headers.items():
            headers[name] = value
        super().__init__(url, response.status, f"{method} {url} -> {response.text[:300]}", headers,
                         io.BytesIO(response.body))
        self.response = response


def http(method: str, url: str, body: Any = None, headers: Optional[Mapping[str, str]] = None,
         timeout: float = 60, raw: Optional[bytes] = None) -> Response:
    """One request. ``body`` is sent as JSON (``Content-Type: application/json`` unless
    ``headers`` say otherwise), ``raw`` as it is."""
    data = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **dict(headers or {})})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
            return Response(response.status, {k.lower(): v for k, v in response.headers.items()}, payload,
                            time.monotonic() - started)
    except urllib.error.HTTPError as error:
        payload = error.read()
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, payload,
                        time.monotonic() - started)


def http_json(method: str, url: str, body: Any = None, headers: Optional[Mapping[str, str]] = None,
              timeout: float = 30) -> Any:
    """The decoded JSON answer of a request that must succeed (HttpError on a status >= 400)."""
    response = http(method, url, body, headers, timeout)
    if response.status >= 400:
        raise HttpError(method, url, response)
    return response.json()
