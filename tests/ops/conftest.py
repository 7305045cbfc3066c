"""Fixtures for the ops workflow tests: a throw-away copy of the small fixture project, a login file of the
test's own, and console accounts the command line proves itself as (``OPS_TOKEN`` issued to them, or a real
``python -m ops login``)."""
from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import pytest

from harness.paths import ROOT as ROOT  # re-exported: the ops tests run the real project from here
from ops.project import Project, tree_digest

FIXTURE = Path(__file__).resolve().parent / "fixture"
PASSWORD = "Ops-test-pass-2026"
ISSUER = "issuer"  # the admin who issues the tests' OPS_TOKENs (four-eyes counts an issuer too)
# account -> roles, one per role and the two-role accounts four-eyes is about
ACCOUNTS: Dict[str, str] = {
    "admin": "admin", "anno": "annotator", "trainer": "trainer", "approver": "approver", "auditor": "auditor",
    "agent": "agent", "both": "trainer,approver", "annoapp": "annotator,approver",
}


@pytest.fixture(autouse=True)
def own_login_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test logs in on its own: a fresh XDG_CONFIG_HOME (never the real ~/.config), no OPS_TOKEN."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("OPS_TOKEN", raising=False)
    monkeypatch.delenv("OPS_CONSOLE_DB", raising=False)
    monkeypatch.setenv("OPS_BCRYPT_ROUNDS", "4")  # cheap hashes for test accounts (production: 12)
    return home


@pytest.fixture
def project(tmp_path: Path) -> Project:
    target = tmp_path / "proj"
    shutil.copytree(FIXTURE, target)
    return Project.at(target)


class Operators:
    """Console accounts of a project and the tokens the command line proves itself with."""

    def __init__(self, project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
        self.project, self.monkeypatch = project, monkeypatch

    def account(self, name: str, roles: Optional[str] = None) -> str:
        from ops.access import users

        if users.get(self.project, name) is None:
            users.add(self.project, name, PASSWORD, [roles or ACCOUNTS[name]], by="test")
        return name

    def token(self, name: str, roles: Optional[str] = None, issuer: str = ISSUER) -> str:
        from ops.access import tokens

        self.account(name, roles)
        return tokens.issue_automation(self.project, name, "测试", 1, issuer)[0]

    def act_as(self, name: str, roles: Optional[str] = None, issuer: str = ISSUER) -> str:
        """Every following command runs as ``name`` (its OPS_TOKEN in the environment)."""
        token = self.token(name, roles, issuer)
        self.monkeypatch.setenv("OPS_TOKEN", token)
        return token

    def nobody(self) -> None:
        self.monkeypatch.delenv("OPS_TOKEN", raising=False)


@pytest.fixture
def operators(project: Project, monkeypatch: pytest.MonkeyPatch) -> Operators:
    return Operators(project, monkeypatch)


def data_digest(project: Project) -> str:
    return tree_digest([project.data])


def write_csv_sheet(path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = ("文本", "正确意图")) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx_sheet(path: Path, rows: Iterable[Sequence[object]],
                     header: Sequence[str] = ("文本", "正确意图")) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("待标注")
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


# --------------------------------------------------------------------------- tracker store


def make_tracker_db(path: Path) -> None:
    """An empty Rasa 3.6 SQLTrackerStore `events` table."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id VARCHAR(255) NOT NULL, "
                     "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                     "action_name VARCHAR(255), data TEXT)")
        conn.execute("CREATE INDEX ix_events_sender_id ON events (sender_id)")


class Conversation:
    """Writes Rasa-shaped events for one conversation."""

    def __init__(self, db: Path, sender_id: str, start: float) -> None:
        self.db, self.sender_id, self.t = db, sender_id, start
        self.rows: List[tuple] = []

    def user(self, text: str, intent: str, confidence: float, ranking: Optional[List[Dict]] = None,
             gap: float = 5.0) -> "Conversation":
        self.t += gap
        parse = {"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text,
                 "intent_ranking": ranking or [{"name": intent, "confidence": confidence}]}
        data = {"event": "user", "timestamp": self.t, "text": text, "parse_data": parse, "input_channel": "rest"}
        self.rows.append((self.sender_id, "user", self.t, intent, None, json.dumps(data, ensure_ascii=False)))
        return self

    def action(self, name: str) -> "Conversation":
        self.t += 0.1
        data = {"event": "action", "timestamp": self.t, "name": name}
        self.rows.append((self.sender_id, "action", self.t, None, name, json.dumps(data)))
        return self

    def bot(self, text: str, custom: Optional[Dict] = None) -> "Conversation":
        self.t += 0.1
        data = {"event": "bot", "timestamp": self.t, "text": text, "data": {"custom": custom} if custom else {}}
        self.rows.append((self.sender_id, "bot", self.t, None, None, json.dumps(data, ensure_ascii=False)))
        return self

    def save(self) -> None:
        with sqlite3.connect(self.db) as conn:
            conn.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                             "VALUES (?, ?, ?, ?, ?, ?)", self.rows)
