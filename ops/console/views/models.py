"""Train → evaluate → promote → rollback as background jobs, with the gate report in the page."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from aiohttp import web

from ops.access import audit
from ops.console import jobs
from ops.console.context import current, settings
from ops.console.render import render
from ops.console.security import client_ip, guard
from ops.project import OpsError, Project
from ops.retrain.gate import load_gate
from ops.retrain.guard_rise import rise_after_promote
from ops.retrain.promote import check_promotable
from ops.retrain.store import current_production, load_manifest, summary
from ops.retrain.train import Candidate, load_candidate

routes = web.RouteTableDef()
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,120}")


def candidates(project: Project, limit: int = 8) -> List[Candidate]:
    paths = sorted(project.candidates_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [load_candidate(project, p) for p in paths[:limit]]


def md_tables(text: str) -> Dict[str, List[List[str]]]:
    """The Markdown tables of report.md by section title (header row first)."""
    out: Dict[str, List[List[str]]] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("|") and not re.fullmatch(r"\|[\s:\-|]+\|", line):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            out.setdefault(section, []).append(cells)
    return out


def gate_view(project: Project, candidate: Candidate) -> Optional[Dict[str, Any]]:
    gate = load_gate(candidate.path)
    if gate is None:
        return None
    report = project.root / str(gate.get("report") or "")
    tables = md_tables(report.read_text(encoding="utf-8")) if report.is_file() else {}
    return {"gate": gate, "tables": tables, "name": candidate.name,
            "images": [n for n in ("confusion_candidate.png", "confusion_production.png")
                       if (report.parent / n).exists()]}


async def _page(request: web.Request, error: str = "", notice: str = "", status: int = 200) -> web.Response:
    project = settings(request).project
    cands = candidates(project)
    shown = request.query.get("candidate", "")
    selected = next((c for c in cands if c.name == shown), cands[0] if cands else None)
    try:
        live: Optional[Dict[str, Any]] = current_production(project)
    except OpsError:
        live = None
    return render(request, "models.html", {
        "summary": summary(project), "live": live, "candidates": cands, "gates": {c.name: load_gate(c.path)
                                                                              for c in cands},
        "selected": selected, "report": gate_view(project, selected) if selected else None,
        "jobs": jobs.recent(project, 10), "running": jobs.running(project),
        "history": list(reversed(load_manifest(project).get("history") or []))[:10],
        "rise": _rise(request), "error": error, "notice": notice}, status)


def _rise(request: web.Request) -> Optional[str]:
    """Why a rollback is advised: a rise of compliance interceptions since the latest promote."""
    s = settings(request)
    try:
        rise = rise_after_promote(s.project, s.credit_url)
    except Exception:  # noqa: BLE001 - an unreadable database hides the hint, not the page
        return None
    return rise.reason() if rise else None


@routes.get("/models")
@guard("models.view")
async def models_page(request: web.Request) -> web.StreamResponse:
    return await _page(request)


def _start(request: web.Request, kind: str, candidate: Optional[str] = None) -> jobs.Job:
    s = settings(request)
    env = {k: v for k, v in (("RASA_URL", s.rasa_urls), ("RASA_AUTH_TOKEN", s.rasa_token),
                             ("DATABASE_URL", s.credit_url)) if v}  # the rollback reads the interceptions there
    me = current(request).username

    def ended(job_id: int, code: int) -> None:
        audit.record(s.project, me, "job_end", f"{jobs.KINDS[kind]} #{job_id}", {"exit_code": code})

    job = jobs.start(s.project, kind, me, candidate, env, ended)
    audit.record(s.project, me, "job_start", f"{jobs.KINDS[kind]} #{job.id}", {"candidate": candidate or ""},
                 client_ip(request))
    return job


async def _candidate_path(request: web.Request) -> Optional[str]:
    form = await request.post()
    name = str(form.get("candidate", "")).strip()
    if not name:
        return None
    if not _NAME.fullmatch(name):
        raise OpsError("候选模型名不合法。")
    path = settings(request).project.candidates_dir / f"{name}.tar.gz"
    if not path.exists():
        raise OpsError(f"没有候选模型 {name}。")
    return str(path)


@routes.post("/models/{kind:train|evaluate}")
@guard("models.train")
async def train(request: web.Request) -> web.StreamResponse:
    kind = request.match_info["kind"]
    try:
        job = _start(request, kind, await _candidate_path(request) if kind == "evaluate" else None)
    except OpsError as e:
        return await _page(request, error=str(e), status=400)
    raise web.HTTPSeeOther(f"/models?job={job.id}")


@routes.post("/models/promote")
@guard("models.promote")
async def promote(request: web.Request) -> web.StreamResponse:
    s = settings(request)
    me = current(request).username
    try:
        path = await _candidate_path(request)
        candidate = load_candidate(s.project, Path(path) if path else None)
        check_promotable(s.project, candidate, me)  # the same refusals as the CLI, before any job starts
        job = _start(request, "promote", str(candidate.path))
    except OpsError as e:
        audit.record(s.project, me, "promote_refused", "", str(e)[:300], client_ip(request))
        return await _page(request, error=str(e), status=403 if "四眼" in str(e) else 400)
    raise web.HTTPSeeOther(f"/models?job={job.id}")


@routes.post("/models/rollback")
@guard("models.promote")
async def rollback(request: web.Request) -> web.StreamResponse:
    try:
        job = _start(request, "rollback")
    except OpsError as e:
        return await _page(request, error=str(e), status=400)
    raise web.HTTPSeeOther(f"/models?job={job.id}")


@routes.get("/jobs/{id:\\d+}.json")
@guard("jobs.view")
async def job_status(request: web.Request) -> web.StreamResponse:
    project = settings(request).project
    job = jobs.get(project, int(request.match_info["id"]))
    if job is None:
        return web.json_response({"error": "没有这个任务。"}, status=404)
    return web.json_response({"id": job.id, "kind": job.label, "state": job.state, "state_label": job.state_label,
                              "exit_code": job.exit_code, "by": job.by, "output": job.output(project)})


@routes.get("/models/report/{name}/{file}")
@guard("models.view")
async def report_file(request: web.Request) -> web.StreamResponse:
    name, file = request.match_info["name"], request.match_info["file"]
    if not _NAME.fullmatch(name) or file not in ("confusion_candidate.png", "confusion_production.png"):
        raise web.HTTPNotFound()
    path = settings(request).project.results_dir / name / file
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "image/png"})
