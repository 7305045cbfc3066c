"""Promote / rollback against a stand-in of Rasa's HTTP API (GET /status, PUT /model), and four-eyes on every
command-line path: a real `python -m ops login`, an OPS_TOKEN, and a token whose issuer made the candidate."""
from __future__ import annotations

import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List
from urllib.parse import parse_qs, urlparse

import pytest

from ops.access import audit
from ops.cli import main
from ops.project import OpsError, Project, sha256_file
from ops.retrain.promote import run_promote, run_rollback
from ops.retrain.store import load_manifest
from ops.retrain.train import model_id
from tests.ops.conftest import PASSWORD, Operators

TOKEN = "test-token"


class FakeRasa:
    """Loads the model a PUT names (reads its model_id) unless told to fail."""

    def __init__(self) -> None:
        self.model_id = ""
        self.puts: List[str] = []
        self.fail_puts = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, code: int, body: object = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if parse_qs(urlparse(self.path).query).get("token") != [TOKEN]:
                    self._reply(401, {"message": "unauthorised"})
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802
                if self._authorised():
                    self._reply(200, {"model_file": "model.tar.gz", "model_id": fake.model_id})

            def do_PUT(self) -> None:  # noqa: N802
                if not self._authorised():
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.puts.append(body["model_file"])
                if fake.fail_puts:
                    self._reply(500, {"message": "LoadingError"})
                    return
                fake.model_id = model_id(Path(body["model_file"]))
                self._reply(204)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fake_model(path: Path, mid: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"model_id": mid}).encode()
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("metadata.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


def fake_candidate(project: Project, name: str, mid: str, batch: int, passed: bool = True) -> Path:
    path = fake_model(project.candidates_dir / f"{name}.tar.gz", mid)
    (project.candidates_dir / f"{name}.json").write_text(json.dumps({"model_id": mid, "batch": batch}))
    gate = {"passed": passed, "reasons": [] if passed else ["整体变差：宏平均 F1 下降 5.0 个百分点"],
            "candidate_sha256": sha256_file(path), "production_sha256": sha256_file(project.production_model),
            "report": f"results/ops/{name}/report.md"}
    (project.candidates_dir / f"{name}.gate.json").write_text(json.dumps(gate, ensure_ascii=False))
    return path


@pytest.fixture
def rasa(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRasa]:
    server = FakeRasa()
    monkeypatch.setenv("RASA_URL", server.url)
    monkeypatch.setenv("RASA_AUTH_TOKEN", TOKEN)
    yield server
    server.stop()


@pytest.fixture
def live(project: Project, rasa: FakeRasa) -> Project:
    fake_model(project.production_model, "original")
    rasa.model_id = "original"
    return project


def test_promote_and_rollback(live: Project, rasa: FakeRasa, operators: Operators) -> None:
    original = live.production_model.read_bytes()
    candidate = fake_candidate(live, "cand1", "new-one", batch=1)
    entry = run_promote(live, candidate, by="bob")
    assert rasa.model_id == "new-one" and rasa.puts == [str(live.production_model)]
    assert live.production_model.read_bytes() == candidate.read_bytes()
    manifest = load_manifest(live)
    assert manifest["current"]["source"] == "cand1" and manifest["current"]["batch"] == 1 == entry["batch"]
    assert manifest["current"]["promoted_by"] == "bob"
    [previous] = manifest["history"]
    assert (live.root / previous["file"]).read_bytes() == original and previous["batch"] == 0

    operators.act_as("approver")
    assert main(["rollback", "--project", str(live.root)]) == 0
    assert rasa.model_id == "original"
    assert live.production_model.read_bytes() == original
    manifest = load_manifest(live)
    assert manifest["history"] == [] and manifest["current"]["model_id"] == "original"
    assert (live.root / manifest["retired"][0]["file"]).read_bytes() == candidate.read_bytes()
    assert [e["action"] for e in manifest["log"]] == ["promote", "rollback"] and manifest["log"][1]["by"] == "approver"
    with pytest.raises(OpsError, match="没有可回滚"):
        run_rollback(live)


@pytest.mark.parametrize("passed, tamper, expected", [
    (False, None, "没有通过评估闸门"),
    (True, "candidate", "评估之后被改动"),
    (True, "production", "生产模型已经变了"),
    (None, None, "还没有评估"),
])
def test_promote_refused_changes_nothing(live: Project, rasa: FakeRasa, passed: object, tamper: object,
                                         expected: str) -> None:
    candidate = fake_candidate(live, "cand1", "new-one", batch=1, passed=bool(passed))
    if passed is None:
        (live.candidates_dir / "cand1.gate.json").unlink()
    if tamper == "candidate":
        fake_model(candidate, "tampered")
    if tamper == "production":
        fake_model(live.production_model, "swapped-by-hand")
    before = live.production_model.read_bytes()
    with pytest.raises(OpsError, match=expected):
        run_promote(live, candidate)
    assert live.production_model.read_bytes() == before
    assert rasa.puts == [] and not live.manifest.exists()


def test_server_failure_restores_the_old_model(live: Project, rasa: FakeRasa) -> None:
    before = live.production_model.read_bytes()
    candidate = fake_candidate(live, "cand1", "new-one", batch=1)
    rasa.fail_puts = True
    with pytest.raises(OpsError, match="恢复原来的模型文件"):
        run_promote(live, candidate)
    assert live.production_model.read_bytes() == before and rasa.model_id == "original"
    assert not live.manifest.exists()
    assert not list(live.history_dir.glob("*.tar.gz"))


def test_second_replica_failure_switches_the_first_back(live: Project, rasa: FakeRasa) -> None:
    broken = FakeRasa()
    broken.fail_puts = True
    try:
        candidate = fake_candidate(live, "cand1", "new-one", batch=1)
        with pytest.raises(OpsError, match="已切回旧模型的服务器"):
            run_promote(live, candidate, urls=f"{rasa.url},{broken.url}")
        assert rasa.model_id == "original" and len(rasa.puts) == 2
    finally:
        broken.stop()


def test_token_required_unless_offline(live: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RASA_AUTH_TOKEN")
    candidate = fake_candidate(live, "cand1", "new-one", batch=1)
    with pytest.raises(OpsError, match="RASA_AUTH_TOKEN"):
        run_promote(live, candidate)
    monkeypatch.setenv("RASA_AUTH_TOKEN", "wrong")
    with pytest.raises(OpsError, match="拒绝了令牌"):
        run_promote(live, candidate)
    monkeypatch.delenv("RASA_AUTH_TOKEN")
    run_promote(live, candidate, offline=True)
    assert live.production_model.read_bytes() == candidate.read_bytes()


def test_status_lists_batches_and_candidates(live: Project, rasa: FakeRasa, capsys: pytest.CaptureFixture) -> None:
    fake_candidate(live, "cand1", "new-one", batch=1)
    assert main(["status", "--project", str(live.root)]) == 0
    out = capsys.readouterr().out
    assert "未经 ops 上线的模型" in out and "cand1" in out and "评估通过" in out


def _importer_of_batch(project: Project, batch: int, who: str) -> None:
    from ops.retrain.ledger import Correction, locked, write_ledger

    with locked(project):
        write_ledger(project, [Correction(batch, "greet", f"你好呀{batch}", "", who, "2026-11-30T10:00:00+08:00")],
                     {"action": "import", "batch": batch, "by": who, "at": "2026-11-30T10:00:00+08:00", "rows": 1})


def _login(project: Project, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real `python -m ops login <name> --password-stdin`."""
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["login", name, "--password-stdin", "--project", str(project.root)]) == 0


def test_four_eyes_trainer_and_importer_cannot_approve(live: Project, rasa: FakeRasa, operators: Operators,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    candidate = fake_candidate(live, "cand1", "new-one", batch=1)
    meta = json.loads((live.candidates_dir / "cand1.json").read_text())
    (live.candidates_dir / "cand1.json").write_text(json.dumps({**meta, "by": "both"}))
    _importer_of_batch(live, 1, "annoapp")
    for who, why in (("both", "训练了这个候选模型"), ("annoapp", "导入了它包含的第 1 批数据")):
        with pytest.raises(OpsError, match=f"四眼原则：{who} {why}"):
            run_promote(live, candidate, by=who)
        # the command line, logged in with the account's password ...
        operators.account(who)
        _login(live, who, monkeypatch)
        assert main(["promote", "--project", str(live.root)]) == 1
        assert f"四眼原则：{who} {why}" in capsys.readouterr().err
        assert main(["logout", "--project", str(live.root)]) == 0
        # ... and behind an OPS_TOKEN issued to it
        operators.act_as(who)
        assert main(["promote", "--project", str(live.root)]) == 1
        assert f"四眼原则：{who} {why}" in capsys.readouterr().err
        operators.nobody()
    # an admin who trained it cannot promote it through a token issued to an approver's account either
    operators.act_as("approver", issuer="both")
    assert main(["promote", "--project", str(live.root)]) == 1
    assert "四眼原则：both（签发这个 OPS_TOKEN 的管理员） 训练了这个候选模型" in capsys.readouterr().err
    assert rasa.puts == [] and not live.manifest.exists()
    refused = audit.entries(live, action="promote_refused")
    assert {(e.who, e.via.split("#")[0]) for e in refused} == {("both", "login"), ("both", "automation"),
                                                             ("annoapp", "login"), ("annoapp", "automation"),
                                                             ("approver", "automation")}
    # another approver, with a token from an uninvolved admin, may
    operators.act_as("approver")
    assert main(["promote", "--project", str(live.root)]) == 0
    assert rasa.model_id == "new-one" and load_manifest(live)["current"]["promoted_by"] == "approver"
    [done] = audit.entries(live, action="promote")
    assert (done.who, done.target) == ("approver", "cand1") and done.os_user and done.host
