"""The catalogue's hotline section: the official number and the human agents' hours (Beijing time)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from pydantic import validator

from credit.catalogue.fields import Schema, Text

#: Beijing time (no daylight saving): office hours and contact hours are stated in it, hosts run on UTC.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


class Hotline(Schema):
    number: Text
    hours: Text
    online: Text
    note: Text
    opens: str  # HH:MM Beijing time: when human agents start
    closes: str  # HH:MM Beijing time: when they stop

    @validator("number")
    def _official_format(cls, value: str) -> str:
        if not re.fullmatch(r"400-\d{3}-\d{4}", value):
            raise ValueError(f"{value!r} 应为 400-xxx-xxxx 格式")
        return value

    @validator("opens", "closes")
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} 应为 HH:MM（北京时间）")
        return value

    @staticmethod
    def _minutes(hh_mm: str) -> int:
        hours, minutes = hh_mm.split(":")
        return int(hours) * 60 + int(minutes)

    def is_open(self, now: datetime) -> bool:
        """Whether human agents are at work at ``now`` (any aware datetime; naive = UTC)."""
        local = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(BEIJING)
        minute = local.hour * 60 + local.minute
        return self._minutes(self.opens) <= minute < self._minutes(self.closes)

    def next_open(self, now: datetime) -> datetime:
        """``now`` within the agents' hours, else when they are next at work (aware, Beijing time)."""
        if self.is_open(now):
            return now
        local = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(BEIJING)
        day = local.date() if local.hour * 60 + local.minute < self._minutes(self.opens) else \
            local.date() + timedelta(days=1)
        hour, minute = divmod(self._minutes(self.opens), 60)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)

    def back_at(self, now: datetime) -> str:
        """When agents are next at work, in words: "今天 9:00" before opening, else "明天 9:00"."""
        local = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(BEIJING)
        day = "今天" if local.hour * 60 + local.minute < self._minutes(self.opens) else "明天"
        return f"{day}{self.opens.lstrip('0')}"
