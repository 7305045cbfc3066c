"""Step 5 — promote an approved candidate into the running server, and roll back.

Promote:
1. the candidate must have a passing gate record (`<name>.gate.json`) for this exact file
   (SHA-256) and for the production model that is live now — otherwise evaluate again;
2. the live model is copied to models/production/history/ (rollback stack in manifest.json);
3. the candidate replaces models/production/model.tar.gz atomically (temp file + rename);
4. every server in RASA_URL (comma-separated for several replicas sharing models/) gets an
   authenticated `PUT /model?token=...` with `{"model_file": "<abs path>"}`; Rasa 3.6 loads
   the new agent first and swaps it in afterwards, so the old model answers until then (no
   downtime); GET /status must then report the new model_id.
Four-eyes: the approver (the account logged in on the command line, behind ``OPS_TOKEN`` or in the
console) must be another account than whoever trained the candidate or imported a batch it brings into
production; so must the admin who issued an ``OPS_TOKEN`` (``accountable``), or an admin who also trains
could promote their own candidate through a token they issued to an approver's account.
If a server refuses or cannot be reached, the old file is put back, servers that already
switched are switched back, and nothing is recorded as promoted. `--offline` only swaps the
file (for a server that is stopped; it loads the stable path when started).

Rollback restores the newest history entry the same way (the rolled-back model is kept
under history/ as "retired").
"""
from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ops.project import OpsError, Project, sha256_file
from ops.retrain.gate import load_gate
from ops.retrain.ledger import current_user, locked, now_iso, read_ledger, read_log
from ops.retrain.store import (
    archive_current,
    atomic_copy,
    current_production,
    find_entry,
    history_path,
    load_manifest,
    prune_history,
    save_manifest,
)
from ops.retrain.train import Candidate, load_candidate, model_id

DEFAULT_URL = "http://localhost:5005"
LOAD_TIMEOUT_S = 600


@dataclass
class RasaServer:
    url: str
    token: str

    def _request(self, method: str, path: str, body: Optional[Dict[str, Any]] = None, timeout: float = 30) -> Any:
        query = urllib.parse.urlencode({"token": self.token})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url.rstrip('/')}{path}?{query}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read().decode() or "null"
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:300]
            if e.code in (401, 403):
                raise OpsError(f"{self.url} 拒绝了令牌（HTTP {e.code}），请检查 RASA_AUTH_TOKEN。") from e
            raise OpsError(f"{self.url}{path} 返回 HTTP {e.code}：{detail}") from e
        except (urllib.error.URLError, OSError) as e:
            raise OpsError(f"连不上 Rasa 服务器 {self.url}：{e}") from e
        return json.loads(raw)

    def status(self) -> Dict[str, Any]:
        return self._request("GET", "/status")

    def load(self, model: Path) -> None:
        self._request("PUT", "/model", {"model_file": str(model.resolve())}, timeout=LOAD_TIMEOUT_S)

    def parse(self, text: str) -> Dict[str, Any]:
        return self._request("POST", "/model/parse", {"text": text})


def servers_from_env(urls: Optional[str] = None, token: Optional[str] = None) -> List[RasaServer]:
    raw = urls or os.environ.get("RASA_URL") or DEFAULT_URL
    token = token or os.environ.get("RASA_AUTH_TOKEN")
    if not token:
        raise OpsError("没有设置 RASA_AUTH_TOKEN（Rasa 服务器 --auth-token 的值），无法通知服务器加载模型。"
                       "如果服务器没在运行，可以加 --offline 只替换模型文件。")
    return [RasaServer(u.strip(), token) for u in raw.split(",") if u.strip()]


def _switch(project: Project, servers: List[RasaServer], new_id: str, previous: Path) -> None:
    """PUT the stable path to every server; on failure restore `previous` everywhere and raise."""
    switched: List[RasaServer] = []
    try:
        for server in servers:
            print(f"通知 {server.url} 加载新模型（旧模型继续服务直到加载完成）……", file=sys.stderr, flush=True)
            server.load(project.production_model)
            live = server.status().get("model_id")
            if live != new_id:
                raise OpsError(f"{server.url} 加载后报告的模型是 {live}，不是 {new_id}。")
            switched.append(server)
    except OpsError as error:
        atomic_copy(previous, project.production_model)
        restored = []
        for server in switched:
            try:
                server.load(project.production_model)
                restored.append(server.url)
            except OpsError:
                pass
        extra = f"已切回旧模型的服务器：{'、'.join(restored)}。" if restored else ""
        raise OpsError(f"{error}\n已恢复原来的模型文件，生产模型没有变化。{extra}") from error


def authors(project: Project, candidate: Candidate, live_batch: int) -> Dict[str, str]:
    """Who made this candidate: its trainer and whoever imported/labelled a batch it brings in."""
    out: Dict[str, str] = {}
    trainer = str(candidate.meta.get("by") or "").strip()
    if trainer:
        out[trainer] = "训练了这个候选模型"
    new_batches = range(live_batch + 1, candidate.batch + 1)
    for entry in read_log(project):
        if entry.get("action") == "import" and int(entry.get("batch") or 0) in new_batches:
            who = str(entry.get("by") or "").strip()
            if who:
                out.setdefault(who, f"导入了它包含的第 {entry.get('batch')} 批数据")
    for correction in read_ledger(project):
        if correction.batch in new_batches and correction.by.strip():
            out.setdefault(correction.by.strip(), f"导入了它包含的第 {correction.batch} 批数据")
    return out


def check_four_eyes(project: Project, candidate: Candidate, live_batch: int, approver: str,
                    accountable: Sequence[str] = ()) -> None:
    """Four-eyes: the approver (and whoever else answers for the act: a token's issuer) must be another
    account than the trainer and the importers."""
    made = authors(project, candidate, live_batch)
    for who in dict.fromkeys([approver, *accountable]):
        if who in made:
            role = "" if who == approver else "（签发这个 OPS_TOKEN 的管理员）"
            raise OpsError(f"四眼原则：{who}{role} {made[who]}，不能自己批准上线，拒绝上线。"
                           "请由另一位有审批权限的同事用自己的账号登录后上线。")


def run_promote(project: Project, candidate_path: Optional[Path] = None, by: Optional[str] = None,
                offline: bool = False, urls: Optional[str] = None, accountable: Sequence[str] = ()) -> Dict[str, Any]:
    with locked(project, "promote"):
        return _promote(project, candidate_path, by, offline, urls, accountable)


def run_rollback(project: Project, by: Optional[str] = None, offline: bool = False, urls: Optional[str] = None,
                 to: Optional[str] = None, reason: Optional[str] = None) -> Dict[str, Any]:
    """``reason``: why (a rise of compliance interceptions after the promote, ops/retrain/guard_rise.py),
    kept in the manifest's log."""
    with locked(project, "promote"):
        return _rollback(project, by, offline, urls, to, reason)


def check_promotable(project: Project, candidate: Candidate, user: str, accountable: Sequence[str] = ()
                     ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Every refusal of promote, without touching anything: (gate record, live production entry)."""
    gate = load_gate(candidate.path)
    if gate is None:
        raise OpsError(f"候选模型 {candidate.name} 还没有评估，拒绝上线。请先运行 python -m ops evaluate。")
    if not gate.get("passed"):
        reasons = "\n  - ".join(gate.get("reasons") or ["（见评估报告）"])
        raise OpsError(f"候选模型 {candidate.name} 没有通过评估闸门，拒绝上线：\n  - {reasons}\n"
                       f"报告：{gate.get('report')}")
    if gate.get("candidate_sha256") != sha256_file(candidate.path):
        raise OpsError("候选模型文件在评估之后被改动过，请重新运行 python -m ops evaluate。")
    live = current_production(project)
    if gate.get("production_sha256") != live["sha256"]:
        raise OpsError("评估之后生产模型已经变了（别人上线或回滚过），请重新运行 python -m ops evaluate。")
    check_four_eyes(project, candidate, int(live.get("batch") or 0), user, accountable)
    return gate, live


def _promote(project: Project, candidate_path: Optional[Path], by: Optional[str], offline: bool,
             urls: Optional[str], accountable: Sequence[str]) -> Dict[str, Any]:
    candidate = load_candidate(project, candidate_path)
    user = current_user(by)
    gate, live = check_promotable(project, candidate, user, accountable)
    servers = [] if offline else servers_from_env(urls)
    manifest = load_manifest(project)
    outgoing = archive_current(project, live, "promoted-over")
    new_id = candidate.meta.get("model_id") or model_id(candidate.path)
    atomic_copy(candidate.path, project.production_model)
    try:
        _switch(project, servers, str(new_id), project.root / outgoing["file"])
    except OpsError:
        (project.root / outgoing["file"]).unlink(missing_ok=True)
        raise
    entry = {"file": project.rel(project.production_model), "source": candidate.name, "model_id": new_id,
             "sha256": sha256_file(project.production_model), "batch": candidate.batch, "promoted_at": now_iso(),
             "promoted_by": user, "gate": gate.get("report")}
    manifest["history"].append(outgoing)
    manifest["current"] = entry
    manifest["log"].append({"action": "promote", "at": entry["promoted_at"], "by": user, "model": candidate.name,
                            "servers": [s.url for s in servers]})
    prune_history(project, manifest)
    save_manifest(project, manifest)
    return entry


def _rollback(project: Project, by: Optional[str], offline: bool, urls: Optional[str],
              to: Optional[str], reason: Optional[str] = None) -> Dict[str, Any]:
    manifest = load_manifest(project)
    history: List[Dict[str, Any]] = manifest["history"]
    if not history:
        raise OpsError("没有可回滚的历史模型（models/production/manifest.json 的历史为空）。")
    index = find_entry(history, to)
    target = history[index]
    source = history_path(project, target)
    servers = [] if offline else servers_from_env(urls)
    user = current_user(by)
    live = current_production(project)
    retired = archive_current(project, live, "rolled-back")
    atomic_copy(source, project.production_model)
    try:
        _switch(project, servers, str(target.get("model_id")), project.root / retired["file"])
    except OpsError:
        (project.root / retired["file"]).unlink(missing_ok=True)
        raise
    manifest["retired"].extend(history[index + 1:])  # models newer than the target leave the stack
    del history[index:]
    source.unlink(missing_ok=True)
    entry = {**target, "file": project.rel(project.production_model), "promoted_at": now_iso(),
             "promoted_by": user}
    manifest["current"] = entry
    manifest["retired"].append(retired)
    manifest["log"].append({"action": "rollback", "at": entry["promoted_at"], "by": user,
                            "from": live.get("source"), "to": target.get("source"),
                            "servers": [s.url for s in servers], **({"reason": reason} if reason else {})})
    prune_history(project, manifest)
    save_manifest(project, manifest)
    return entry
