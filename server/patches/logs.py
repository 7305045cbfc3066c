"""Logs: personal data masked in every log record and in Rasa's structured logs.

The standard-library masking (:func:`credit.text.masking.install_log_masking`) is installed
now and again each time Rasa configures structlog, which also gets the masking processor
of :mod:`server.log_masking`.  Rasa's launcher imported ``configure_structlog`` by name, so
both references are replaced.
"""
from __future__ import annotations

from typing import Any

from credit.text.masking import install_log_masking
from server import log_masking
from server.patches.registry import How, Member, original, register, replace
from server.settings import Settings

CONFIGURE = Member("rasa.utils.log_utils", "configure_structlog", How.WRAPPED,
                   "cf4297cc4f8e58362e1e350f6d8fe9aace7ad41bfe5d52fb6a5c1df42b912c36")
MAIN_CONFIGURE = Member("rasa.__main__", "configure_structlog", How.WRAPPED,
                        "cf4297cc4f8e58362e1e350f6d8fe9aace7ad41bfe5d52fb6a5c1df42b912c36")
MEMBERS = (CONFIGURE, MAIN_CONFIGURE)


@register("logging", MEMBERS)
def apply(settings: Settings) -> None:
    """Personal data masked in every log record and in Rasa's structlog output."""
    install_log_masking()
    original_configure = original(CONFIGURE)

    def configure_structlog(*args: Any, **kwargs: Any) -> None:
        original_configure(*args, **kwargs)
        log_masking.add_to_structlog()
        install_log_masking()

    replace(CONFIGURE, configure_structlog)
    replace(MAIN_CONFIGURE, configure_structlog)
