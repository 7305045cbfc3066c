"""Connections: one pooled HTTP session per endpoint instead of a new one per call.

Rasa 3.6.21's ``EndpointConfig.request`` does ``async with self.session() as session`` and
``session()`` builds a new ``aiohttp.ClientSession`` every time: every call to the action
server (several per turn) creates a session, opens a TCP connection, and closes both.  Here
``session()`` hands out one long-lived session per endpoint and event loop, wrapped so that
the ``async with`` of ``request`` does not close it; its connections are kept alive for
``KEEPALIVE_S`` (2 s), shorter than the 5 s after which the action server (Sanic) closes an
idle connection, so a connection the server is about to close is never reused.

The session is built exactly as Rasa builds it (headers, basic auth, the request timeout
of the actions patch); ``EndpointConfig.request`` is unchanged (fingerprinted as USED).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Tuple

from server.patches.registry import How, Member, register, replace
from server.settings import Settings

logger = logging.getLogger("server.hardening")

_MODULE = "rasa.utils.endpoints"
SESSION = Member(_MODULE, "EndpointConfig.session", How.REPLACED,
                 "73bee1c6ba841e7a2fecb2dbb44ae0d23a2b01e62455dd0cf6bfe22853cc2417")
REQUEST = Member(_MODULE, "EndpointConfig.request", How.USED,
                 "4fd02969b01b097cb61e57c5da628efa5503d7898c2050dbbb0834edbef283e1")
MEMBERS = (SESSION, REQUEST)

KEEPALIVE_S = 2.0


class _Borrowed:
    """``async with`` hands out the pooled session and leaves it open."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *exc: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:  # used without ``async with``: behave like the session
        return getattr(self.session, name)


_POOL: Dict[Tuple[int, int], Any] = {}


def _new_session(endpoint: Any) -> Any:
    import aiohttp
    import rasa.utils.endpoints as endpoints

    auth = (aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
            if endpoint.basic_auth else None)
    return aiohttp.ClientSession(
        headers=endpoint.headers, auth=auth,
        timeout=aiohttp.ClientTimeout(total=endpoints.DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S, limit=100))


def session(self: Any) -> Any:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not in a loop (a synchronous caller): Rasa's own behaviour
        return _new_session(self)
    key = (id(self), id(loop))
    pooled = _POOL.get(key)
    if pooled is None or pooled.closed:
        pooled = _POOL[key] = _new_session(self)
    return _Borrowed(pooled)


@register("connections", MEMBERS)
def apply(settings: Settings) -> None:
    """Calls to the action server reuse one pooled HTTP session (keep-alive 2 s)."""
    replace(SESSION, session)
