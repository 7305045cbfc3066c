"""Shared fixtures. Servers are started by the harness package, on loopback, with bounded waits,
and always stopped.

`stack` is one running assistant for the whole session: action server + Rasa server
(REST and every channel enabled with test secrets; the WeChat and WeCom APIs are local stand-ins)
over a fresh SQLite loan database seeded with the demo records and a fresh SQLite tracker store.
`start_stack(env)` starts one more Rasa server on the same model, action server and databases with extra env.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Callable, Dict, Iterator

import pytest

from harness.services import Postgres, postgres_bin
from harness.stacks import Assistant, AssistantStack
from harness.wechat_api import WeChatApiStandIn
from harness.wecom_api import WeComKfStandIn

RASA_TOKEN = "test-rasa-token"
START_TIMEOUT_S = 240

TEST_ENV = {
    "RASA_AUTH_TOKEN": RASA_TOKEN,
    "WECHAT_TOKEN": "test-wechat-token",
    "WECHAT_APP_ID": "wx0123456789abcdef",
    "WECHAT_APP_SECRET": "test-wechat-secret",
    "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "TWILIO_AUTH_TOKEN": "test-twilio-token",
    "TWILIO_AGENT_NUMBER": "+8640082088200",
    "IVR_SHARED_SECRET": "test-ivr-secret",
    # 微信客服: the WECOM_API_BASE stand-in (harness.wecom_api) has the same corp, secret, token and key
    "WECOM_CORP_ID": "ww0123456789abcdef",
    "WECOM_KF_SECRET": "test-wecom-kf-secret",
    "WECOM_TOKEN": "test-wecom-token",
    "WECOM_AES_KEY": "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj",
    "WECOM_KF_SERVICER": "zhangsan",
}


@pytest.fixture(scope="session")
def model_path() -> Path:
    """CREDIT_MODEL if set, else the cached dev model (trained once if missing)."""
    explicit = os.environ.get("CREDIT_MODEL")
    if explicit:
        return Path(explicit)
    from ops.model_cache import dev_model

    return dev_model()


@pytest.fixture(scope="session")
def assistant_stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AssistantStack]:
    workdir = tmp_path_factory.mktemp("stack")
    wechat_api, wecom_api = WeChatApiStandIn(), WeComKfStandIn()
    env = {**TEST_ENV, "WECHAT_API_BASE": wechat_api.start(), "WECOM_API_BASE": wecom_api.start(),
           "CHANNEL_STATE_DB": str(workdir / "channel_state.db")}
    stack = AssistantStack(model_path, env, token=RASA_TOKEN, workdir=workdir, wechat_api=wechat_api,
                           wecom_api=wecom_api, start_timeout=START_TIMEOUT_S)
    try:
        yield stack.start()
    finally:
        stack.stop()
        wechat_api.stop()
        wecom_api.stop()


@pytest.fixture(scope="session")
def stack(assistant_stack: AssistantStack) -> Assistant:
    assert assistant_stack.assistant is not None
    return assistant_stack.assistant


@pytest.fixture(scope="session")
def start_stack(assistant_stack: AssistantStack) -> Callable[[Dict[str, str]], Assistant]:
    """Starts one more Rasa server (stopped with the session's stack) with these env overrides."""
    return assistant_stack.add_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: DATABASE_URL_PG if set, else a throw-away cluster from Debian's package."""
    if os.environ.get("DATABASE_URL_PG"):
        yield os.environ["DATABASE_URL_PG"]
        return
    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/system_deps.sh installs it)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = Postgres().start()
    try:
        yield server.url()
    finally:
        server.cleanup()


@pytest.fixture
def sender() -> str:
    """A fresh conversation id on the REST channel."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture()
def db(tmp_path: Path) -> Iterator:
    """A fresh SQLite loan database with the demo records seeded at ``tests.seeded.SEEDED`` (the outreach
    tests' moment); a module with its own ``db`` fixture overrides it."""
    from credit.db.engine import get_engine
    from credit.seed import seed
    from tests.seeded import SEEDED

    engine = get_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    seed(engine, now=SEEDED, reset=True)
    yield engine
    engine.dispose()
