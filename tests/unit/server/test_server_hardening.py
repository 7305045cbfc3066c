"""Start-up policy of the hardened server (:mod:`server.hardening`): pinned to the Rasa the
lock installs; in production mode (the default) anything short of full hardening stops
start-up with a Chinese and English message; the development flag allows it with a
warning.  Also: the hotline comes from the catalogue, and the server has one JSON parser."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from typing import Iterator, List

import pytest

from credit.catalogue.loader import load_catalogue
from harness.paths import ROOT as PROJECT_ROOT
from server import guard, hardening
from server.patches import APPLIED, How, Member, Patch
from server.settings import Settings

ROOT = PROJECT_ROOT
SETTINGS = Settings.from_env({})
DEVELOPMENT = {"HARDENING_MODE": "development"}


@pytest.fixture
def applied() -> Iterator[List[str]]:
    """Fake patches that record being applied; the process-wide APPLIED set is restored."""
    saved = set(APPLIED)
    calls: List[str] = []
    yield calls
    APPLIED.clear()
    APPLIED.update(saved)


def _fakes(calls: List[str], failing: str = "") -> List[Patch]:
    def step(name: str) -> Patch:
        def apply(_: Settings) -> None:
            if name == failing:
                raise RuntimeError("Rasa moved")
            calls.append(name)

        return Patch(name, f"fake {name}", apply, ())

    return [step("fake_one"), step("fake_two"), step("fake_three")]


def test_a_patch_that_leaves_a_declared_member_unreplaced_is_a_failed_patch(applied: List[str]) -> None:
    half_done = Patch("half_done", "declares a member it never replaces", lambda _: None,
                      (Member("rasa.core.processor", "MessageProcessor.handle_message", How.REPLACED, "0" * 64),))
    with pytest.raises(hardening.HardeningRefused, match="hardening step half_done failed: LookupError: "
                       "rasa.core.processor:MessageProcessor.handle_message not replaced"):
        hardening.apply(SETTINGS, env={}, patches=[half_done], rasa_version=hardening.RASA_VERSION)


def test_the_guard_is_pinned_to_the_rasa_the_lock_installs() -> None:
    pins = re.findall(r"^rasa==(\S+)\s*$", (ROOT / "constraints.txt").read_text(), re.M)
    assert pins == [hardening.RASA_VERSION] == ["3.6.21"]
    assert hardening.installed_rasa_version() == hardening.RASA_VERSION


def test_production_is_the_default_mode() -> None:
    assert hardening.mode_from({}).name == "production" and hardening.mode_from({}).strict
    assert not hardening.mode_from(DEVELOPMENT).strict
    with pytest.raises(hardening.HardeningRefused, match="HARDENING_MODE='prod'"):
        hardening.mode_from({"HARDENING_MODE": "prod"})  # a typo never weakens production


@pytest.mark.parametrize("env,version,failing,expected", [
    ({"HARDENING_DISABLE": "fake_two"}, "3.6.21", "", "HARDENING_DISABLE=fake_two"),
    ({}, "3.6.22", "", "Rasa is 3.6.22"),
    ({}, "3.6.21", "fake_two", "hardening step fake_two failed: RuntimeError: Rasa moved"),
])
def test_production_refuses_anything_short_of_full_hardening(applied: List[str], env: dict, version: str,
                                                             failing: str, expected: str) -> None:
    with pytest.raises(hardening.HardeningRefused) as refused:
        hardening.apply(SETTINGS, env=env, patches=_fakes(applied, failing), rasa_version=version)
    message = str(refused.value)
    assert expected in message
    assert "拒绝启动" in message and "refusing to start" in message and "HARDENING_MODE=development" in message
    if not failing:
        assert applied == []  # refused before anything was patched


def test_development_mode_starts_anyway_with_warnings(applied: List[str], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="server.hardening"):
        report = hardening.apply(SETTINGS, env={**DEVELOPMENT, "HARDENING_DISABLE": "fake_one, nope"},
                                 patches=_fakes(applied, failing="fake_three"), rasa_version="3.6.21")
    assert applied == ["fake_two"]
    assert "fake_two" in report.applied and "fake_three" not in report.applied
    assert "NOT fully hardened" in report.summary()
    assert "fake_one" in caplog.text and "nope" in caplog.text and "fake_three" in caplog.text
    other = hardening.apply(SETTINGS, env=DEVELOPMENT, patches=_fakes(applied), rasa_version="3.7.0")
    assert applied == ["fake_two"] and other.problems  # another Rasa: nothing patched


def test_full_hardening_reports_every_step_without_a_warning(applied: List[str]) -> None:
    report = hardening.apply(SETTINGS, env={}, patches=_fakes(applied), rasa_version=hardening.RASA_VERSION)
    assert applied == ["fake_one", "fake_two", "fake_three"] and not report.problems
    assert report.summary() == ", ".join(sorted(APPLIED))


def _launch(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("HARDENING_")}
    return subprocess.run([sys.executable, "-m", "server", "run", "--port", "1"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**env, **env_overrides})


@pytest.mark.parametrize("overrides,expected", [
    ({"HARDENING_DISABLE": "x"}, "HARDENING_DISABLE=x"),
    ({"HARDENING_DISABLE": "actions", "HARDENING_MODE": "production"}, "HARDENING_DISABLE=actions"),
    ({"HARDENING_MODE": "dev"}, "HARDENING_MODE='dev'"),
])
def test_the_launcher_refuses_to_start_not_fully_hardened(overrides: dict, expected: str) -> None:
    done = _launch(overrides)
    assert done.returncode != 0
    assert "拒绝启动" in done.stderr and "refusing to start" in done.stderr and expected in done.stderr


# ------------------------------------------------------------------- one place each


def test_the_hotline_comes_from_the_catalogue() -> None:
    assert guard.HOTLINE == load_catalogue().hotline.number
    assert guard.HOTLINE in guard.ACTION_FAILED and guard.HOTLINE in guard.BUSY
    assert not re.search(r"400-\d{3}-\d{4}", (ROOT / "server" / "guard.py").read_text(encoding="utf-8"))


# decodes the tracker store's own rows (what Rasa's SQLTrackerStore._retrieve does), never a request body
STORED_JSON = {"server/patches/tracker_store.py"}


def test_the_server_has_no_json_body_parser_of_its_own() -> None:
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "server").rglob("*.py")
                 if "json.loads" in path.read_text(encoding="utf-8")
                 and str(path.relative_to(ROOT)) not in STORED_JSON]
    assert offenders == [], "read bodies with connectors.http.parse_json / parse_json_object"


def test_the_middleware_reads_bodies_with_the_channel_parser() -> None:
    from types import SimpleNamespace

    from connectors.http import ChannelError, parse_json, parse_json_object
    from server import middleware

    assert parse_json(b'[{"text": "hi"}]') == [{"text": "hi"}]
    for bad in (b"\xff", b"{", b"[" * 100_000):
        with pytest.raises(ChannelError) as error:
            parse_json(bad)
        assert error.value.status == 400 and error.value.code == "malformed_json"
    with pytest.raises(ChannelError, match="JSON object"):
        parse_json_object(b"[]")
    assert middleware._sender(SimpleNamespace(body=b'{"sender": "u1", "message": "hi"}')) == "u1"
    for body in (b"", b"\xff", b"[]", b'{"sender": 7}', None):
        assert middleware._sender(SimpleNamespace(body=body)) is None
