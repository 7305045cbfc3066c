"""Step 1 — export customer messages worth a human look into a review spreadsheet.

Reads the SQL tracker store that `endpoints.yml` points at (Rasa 3.6 `events` table), over
a date range, conversation by conversation (streamed), and keeps a user message when

* 未识别: the NLU fell back (`nlu_fallback`, or a fallback action answered it);
* 置信度低: the top intent's confidence is below `--min-confidence` (default 0.6);
* 客户换了说法: the next message of the same conversation, within 2 minutes, says nearly the
  same thing again (character similarity >= 0.5, or one contains the other) — the first one
  was probably misunderstood;
* 随后转人工 / 随后投诉: the bot handed off after it (action_handoff / utter_handoff / a
  custom payload `{"type": "handoff"}`), or the customer's next message asked for a human
  or complained — unless the message itself was the request for a human / the complaint.

Texts starting with `/` (buttons, intent payloads) are ignored. Every text is masked
(ops.text.mask_text: ID, mobile, bank card, OTP, names) *before* anything else happens,
then near-identical texts (ops.text.near_key) are merged with an occurrence count.
Rows are ordered by count (desc), then confidence (asc); at most `--max-rows` are written.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import yaml

from ops.project import OpsError, Project
from ops.retrain.sheet import (
    COL_CHANNEL,
    COL_CONFIDENCE,
    COL_COUNT,
    COL_ID,
    COL_INTENT,
    COL_PREDICTED,
    COL_REASON,
    COL_TEXT,
    COL_TIME,
    MAX_ROWS,
    write_csv,
    write_xlsx,
)
from ops.text import mask_text, near_key, normalize

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {"action_default_fallback", "action_fallback", "action_two_stage_fallback"}
HANDOFF_ACTIONS = {"action_handoff", "utter_handoff"}
HUMAN_INTENTS = {"request_human"}
COMPLAINT_INTENTS = {"complain"}
CHANNELS = ("rest", "wx", "kf", "web", "tel", "ivr")
REPHRASE_WINDOW_S = 120
REPHRASE_SIMILARITY = 0.5
DEFAULT_MIN_CONFIDENCE = 0.6
DEFAULT_DAYS = 7

R_FALLBACK = "未识别(兜底)"
R_LOW = "置信度低"
R_REPHRASE = "客户随后换了说法"
R_HANDOFF = "随后转人工"
R_COMPLAINT = "随后投诉"
R_ALL = "全部导出"


@dataclass
class Turn:
    sender_id: str
    text: str
    intent: str
    confidence: float
    timestamp: float
    best_guess: str = ""  # best non-fallback intent when the NLU fell back
    best_guess_confidence: float = 0.0
    after_actions: List[str] = field(default_factory=list)
    handoff_payload: bool = False


@dataclass
class Candidate:
    text: str
    intent: str
    confidence: float
    channel: str
    timestamp: float
    reasons: List[str]
    best_guess: str = ""
    best_guess_confidence: float = 0.0
    count: int = 1
    channels: List[str] = field(default_factory=list)


@dataclass
class ExportResult:
    xlsx: Path
    csv: Path
    messages: int
    flagged: int
    rows: int
    left_out: int


# --------------------------------------------------------------------------- tracker store


def _interpolate(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"\$\{([^}]+)\}", lambda m: os.environ.get(m.group(1), ""), value)
    return value


def tracker_db_url(project: Project, endpoints: Optional[Path] = None) -> str:
    """SQLAlchemy URL of the SQL tracker store configured in endpoints.yml (Rasa's rules)."""
    path = Path(endpoints) if endpoints else project.endpoints
    if not path.exists():
        raise OpsError(f"找不到 {path}，无法确定对话记录数据库。可用 --db-url 直接指定。")
    config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tracker_store") or {}
    config = {k: _interpolate(v) for k, v in config.items()}
    if str(config.get("type", "")).lower() != "sql":
        raise OpsError(f"{path.name} 的 tracker_store 不是 SQL 类型（type: {config.get('type')}），"
                       "导出只支持 SQL 对话记录库。可用 --db-url 直接指定。")
    dialect = config.get("dialect") or "sqlite"
    db = str(config.get("db") or "rasa.db")
    host = config.get("url") or config.get("host")
    if dialect == "sqlite":
        db_path = Path(db) if Path(db).is_absolute() else project.root / db
        return f"sqlite:///{db_path}"
    if host and "://" in str(host):
        return str(host)
    from sqlalchemy.engine.url import URL

    port = config.get("port")
    return str(URL.create(dialect, username=config.get("username"), password=config.get("password"),
                          host=host, port=int(port) if port else None, database=db,
                          query=config.get("query") or {}))


def _engine(db_url: str) -> Any:
    import sqlalchemy as sa

    if db_url.startswith("sqlite:///"):
        file = Path(db_url[len("sqlite:///"):])
        if not file.exists():
            raise OpsError(f"找不到对话记录数据库 {file}（还没有任何对话？）。")
    try:
        engine = sa.create_engine(db_url)
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("events"):
                raise OpsError("对话记录数据库里没有 events 表（不是 Rasa 的 SQL 对话记录库？）。")
    except OpsError:
        raise
    except Exception as e:
        raise OpsError(f"无法连接对话记录数据库：{type(e).__name__}: {e}") from e
    return engine


def channel_of(sender_id: str) -> str:
    prefix, sep, _ = sender_id.partition(":")
    return prefix if sep and prefix in CHANNELS else "rest"


def _events_table() -> Any:
    import sqlalchemy as sa

    return sa.table("events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"),
                    sa.column("timestamp"), sa.column("intent_name"), sa.column("action_name"),
                    sa.column("data"))


def read_conversations(db_url: str, start: float, end: float, progress: bool = True) -> Iterator[List[Turn]]:
    """User turns per conversation (with what followed each), streamed from the events table."""
    import sqlalchemy as sa

    from ops.progress import bar

    engine = _engine(db_url)
    events = _events_table()
    # Look a little past the end for what followed the last messages of the range.
    where = sa.and_(events.c.timestamp >= start, events.c.timestamp < end + 3600,
                    events.c.type_name.in_(["user", "action", "bot"]))
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(events).where(where)).scalar() or 0
        query = (sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.action_name,
                           events.c.data)
                 .where(where).order_by(events.c.sender_id, events.c.timestamp, events.c.id))
        rows = conn.execution_options(stream_results=True).execute(query)
        with bar(total, "读取对话记录", "条事件", enabled=progress) as tick:
            def counted() -> Iterator[Any]:
                for row in rows:
                    tick()
                    yield row

            for sender_id, group in groupby(counted(), key=lambda r: r[0]):
                turns = _turns(sender_id, group, start, end)
                if turns:
                    yield turns


def _turns(sender_id: str, rows: Any, start: float, end: float) -> List[Turn]:
    turns: List[Turn] = []
    current: Optional[Turn] = None
    for _, type_name, timestamp, action_name, raw in rows:
        if type_name == "user":
            current = None
            try:
                data = json.loads(raw or "{}")
            except ValueError:
                continue
            text = str(data.get("text") or "").strip()
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            if not text or text.startswith("/") or not (start <= float(timestamp or 0) < end):
                text = ""  # out of range or a button payload: a turn boundary, never exported
            turn = Turn(sender_id, text, str(intent.get("name") or ""), float(intent.get("confidence") or 0.0),
                        float(timestamp or 0))
            if turn.intent == FALLBACK_INTENT:
                ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
                if ranking:
                    turn.best_guess = str(ranking[0].get("name") or "")
                    turn.best_guess_confidence = float(ranking[0].get("confidence") or 0.0)
            turns.append(turn)
            current = turn
        elif current is not None and type_name == "action" and action_name and action_name != "action_listen":
            current.after_actions.append(action_name)
        elif current is not None and type_name == "bot":
            try:
                data = json.loads(raw or "{}")
            except ValueError:
                continue
            custom = ((data.get("data") or {}).get("custom")) or {}
            if isinstance(custom, dict) and custom.get("type") == "handoff":
                current.handoff_payload = True
    return turns


# --------------------------------------------------------------------------- selection


def similarity(a: str, b: str) -> float:
    """Character similarity of two messages; 1.0 when one contains the other (>= 4 characters)."""
    a, b = normalize(a), normalize(b)
    if not a or not b:
        return 0.0
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 4 and shorter in longer:
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def reasons_for(turns: Sequence[Turn], index: int, min_confidence: float) -> List[str]:
    turn = turns[index]
    reasons: List[str] = []
    if turn.intent == FALLBACK_INTENT or FALLBACK_ACTIONS & set(turn.after_actions):
        reasons.append(R_FALLBACK)
    elif turn.confidence < min_confidence:
        reasons.append(R_LOW)
    following = turns[index + 1] if index + 1 < len(turns) else None
    if following is not None and following.text and following.timestamp - turn.timestamp <= REPHRASE_WINDOW_S \
            and similarity(turn.text, following.text) >= REPHRASE_SIMILARITY:
        reasons.append(R_REPHRASE)
    handed_off = bool(HANDOFF_ACTIONS & set(turn.after_actions)) or turn.handoff_payload
    next_intent = following.intent if following is not None else ""
    if turn.intent not in HUMAN_INTENTS and (handed_off or next_intent in HUMAN_INTENTS):
        reasons.append(R_HANDOFF)
    if turn.intent not in COMPLAINT_INTENTS | HUMAN_INTENTS and next_intent in COMPLAINT_INTENTS:
        reasons.append(R_COMPLAINT)
    return reasons


def select(conversations: Iterator[List[Turn]], min_confidence: float, everything: bool = False
           ) -> Tuple[List[Candidate], int, int]:
    """Flag, mask and merge; returns (candidates, messages seen, messages flagged)."""
    merged: Dict[str, Candidate] = {}
    seen = flagged = 0
    for turns in conversations:
        for index, turn in enumerate(turns):
            if not turn.text:
                continue
            seen += 1
            reasons = reasons_for(turns, index, min_confidence)
            if everything and not reasons:
                reasons = [R_ALL]
            if not reasons:
                continue
            flagged += 1
            masked = mask_text(turn.text)
            channel = channel_of(turn.sender_id)
            key = near_key(masked)
            existing = merged.get(key)
            if existing is None:
                merged[key] = Candidate(masked, turn.intent, turn.confidence, channel, turn.timestamp, reasons,
                                        turn.best_guess, turn.best_guess_confidence, 1, [channel])
                continue
            existing.count += 1
            existing.reasons.extend(r for r in reasons if r not in existing.reasons)
            if channel not in existing.channels:
                existing.channels.append(channel)
            if turn.confidence < existing.confidence:  # show the least confident reading
                existing.intent, existing.confidence = turn.intent, turn.confidence
                existing.best_guess, existing.best_guess_confidence = turn.best_guess, turn.best_guess_confidence
    ordered = sorted(merged.values(), key=lambda c: (-c.count, c.confidence, c.timestamp))
    return ordered, seen, flagged


def to_rows(candidates: Sequence[Candidate]) -> List[Dict[str, object]]:
    rows = []
    for number, c in enumerate(candidates, start=1):
        reason = "；".join(c.reasons)
        if c.best_guess:
            reason += f"；最接近 {c.best_guess} ({c.best_guess_confidence:.2f})"
        rows.append({
            COL_ID: number,
            COL_TEXT: c.text,
            COL_PREDICTED: c.intent,
            COL_CONFIDENCE: round(c.confidence, 3),
            COL_CHANNEL: "/".join(c.channels),
            COL_TIME: dt.datetime.fromtimestamp(c.timestamp).strftime("%Y-%m-%d %H:%M:%S"),
            COL_REASON: reason,
            COL_COUNT: c.count,
            COL_INTENT: "",
        })
    return rows


# --------------------------------------------------------------------------- command


def parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise OpsError(f"日期格式应为 YYYY-MM-DD（收到 {value!r}）。") from e


def run_export(project: Project, since: Optional[str], until: Optional[str], out: Optional[Path],
               min_confidence: float = DEFAULT_MIN_CONFIDENCE, everything: bool = False,
               max_rows: int = 2000, endpoints: Optional[Path] = None, db_url: Optional[str] = None,
               progress: bool = True, by: Optional[str] = None) -> ExportResult:
    if not 0 < max_rows <= MAX_ROWS:
        raise OpsError(f"--max-rows 须在 1 到 {MAX_ROWS} 之间（导入上限是 {MAX_ROWS} 行）。")
    if not 0.0 <= min_confidence <= 1.0:
        raise OpsError("--min-confidence 须在 0 到 1 之间。")
    last = parse_day(until) if until else dt.date.today()
    first = parse_day(since) if since else last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise OpsError(f"开始日期 {first} 晚于结束日期 {last}。")
    start = dt.datetime.combine(first, dt.time()).timestamp()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()).timestamp()
    url = db_url or tracker_db_url(project, endpoints)
    candidates, seen, flagged = select(read_conversations(url, start, end, progress), min_confidence, everything)
    kept = candidates[:max_rows]
    rows = to_rows(kept)
    base = Path(out) if out else project.export_dir / f"review_{first:%Y%m%d}_{last:%Y%m%d}"
    if base.suffix.lower() in (".xlsx", ".csv"):
        base = base.with_suffix("")
    xlsx, csv_path = base.with_suffix(".xlsx"), base.with_suffix(".csv")
    write_xlsx(xlsx, rows, project.intents(), project.intent_labels())
    write_csv(csv_path, rows)
    print(f"{first} 至 {last}：共 {seen} 条客户消息，{flagged} 条值得复核，去重后 {len(candidates)} 条，"
          f"导出 {len(kept)} 条。", file=sys.stderr)
    _audit_export(project, by, first, last, len(kept), xlsx)
    return ExportResult(xlsx, csv_path, seen, flagged, len(kept), len(candidates) - len(kept))


def _audit_export(project: Project, by: Optional[str], first: dt.date, last: dt.date, rows: int, xlsx: Path) -> None:
    """PIPL: every export of customer messages leaves a record of who, when and what range."""
    import json

    from ops.retrain.ledger import current_user

    project.export_audit.parent.mkdir(parents=True, exist_ok=True)
    record = {"who": current_user(by), "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "range": [first.isoformat(), last.isoformat()], "rows": rows, "file": str(xlsx)}
    with open(project.export_audit, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
