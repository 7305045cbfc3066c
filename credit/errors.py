"""The service's errors; ``str(exc)`` is a Chinese message the dialogue may show.

:class:`ServiceUnavailable` is raised when the database (or SMS gateway) cannot be
reached, so an action can apologise instead of crashing.
"""

from __future__ import annotations

from datetime import datetime


class ServiceError(Exception):
    """Base class of the service's errors; ``str(exc)`` is a Chinese message."""


class InvalidInput(ServiceError, ValueError):
    """An argument is malformed (bad sender id, unknown ticket kind, bad number…)."""


class NotVerified(ServiceError):
    """The sender lacks a current verification of ``level`` for the application."""

    def __init__(self, level: str = "basic", message: str | None = None) -> None:
        self.level = level
        super().__init__(
            message
            or ("需要先完成短信验证码或微信身份验证" if level == "strong" else "需要先核验身份")
        )


class Locked(ServiceError):
    """Temporarily locked until ``locked_until`` (aware UTC)."""

    def __init__(self, locked_until: datetime, message: str | None = None) -> None:
        self.locked_until = locked_until
        super().__init__(message or "操作过于频繁，已暂时锁定，请稍后再试")


class RateLimited(Locked):
    """Too many requests (e.g. SMS codes); retry after ``locked_until``."""


class NotFound(ServiceError):
    """The requested record does not exist (or is not the sender's)."""


class ServiceUnavailable(ServiceError):
    """The database (or SMS gateway) is unreachable; apologise and retry later."""
