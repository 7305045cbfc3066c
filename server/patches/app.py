"""HTTP app: the hardened server's Sanic middleware (:mod:`server.middleware`) is installed
on the app Rasa builds, before it serves anything."""
from __future__ import annotations

from typing import Any

from server import middleware
from server.patches.registry import How, Member, original, register, replace
from server.settings import Settings

CONFIGURE_APP = Member("rasa.core.run", "configure_app", How.WRAPPED,
                       "5fc574f863bbfcc55af4c3c75e8d8c6ae4b1c0560e51e9081f44f5629eb031b1")
MEMBERS = (CONFIGURE_APP,)


@register("app", MEMBERS)
def apply(settings: Settings) -> None:
    """REST access control, the X-Degraded header and the REST no-silence guard on Rasa's app."""
    original_configure_app = original(CONFIGURE_APP)

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original_configure_app(*args, **kwargs)
        middleware.install(app, settings)
        return app

    replace(CONFIGURE_APP, configure_app)
