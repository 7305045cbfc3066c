"""The bare reference bot of the latency benchmark: Rasa's `rasa init` moodbot (bench/moodbot/),
trained once per content and served on plain `rasa run` like the assistant (REST, SQLite
tracker store), without an action server."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional

from harness.paths import RASA, ROOT
from harness.procs import Proc, free_port, rss_mb
from harness.rasa import base_env, sqlite_tracker, start_rasa, write_endpoints
from harness.stacks import TOKEN

MOODBOT = ROOT / "bench" / "moodbot"
BENCH_MODELS = ROOT / "models" / "bench"


def moodbot_model() -> Path:
    """The moodbot model, trained once per content of bench/moodbot (cached)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in MOODBOT.rglob("*.yml") if p.is_file()):
        digest.update(str(path.relative_to(MOODBOT)).encode())
        digest.update(path.read_bytes())
    target = BENCH_MODELS / f"moodbot-{digest.hexdigest()[:12]}.tar.gz"
    if target.exists():
        return target
    BENCH_MODELS.mkdir(parents=True, exist_ok=True)
    print(f">> training the moodbot ({target.name}) ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="moodbot-") as tmp:
        # `rasa train` rewrites config.yml (assistant id, auto-configured defaults): train a copy
        project = Path(tmp) / "moodbot"
        shutil.copytree(MOODBOT, project)
        subprocess.run([RASA, "train", "--config", "config.yml", "--domain", "domain.yml",
                        "--data", "data", "--out", str(BENCH_MODELS), "--fixed-model-name", target.name[:-7]],
                       cwd=project, env=base_env(), check=True, stdout=sys.stderr)
    return target


class MoodbotStack:
    """The bare moodbot on plain `rasa run`: REST, SQLite tracker store, no action server."""

    def __init__(self, model: Path, hardened: bool = False) -> None:
        self.model = model
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-moodbot-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hardened = hardened
        self.rasa: Optional[Proc] = None

    def start(self) -> "MoodbotStack":
        endpoints = write_endpoints(self.workdir / "endpoints.yml", None, sqlite_tracker(self.workdir / "tracker.db"))
        self.rasa = start_rasa(self.model, self.port, endpoints, base_env(), self.workdir / "rasa.log",
                               TOKEN, hardened=self.hardened, credentials=MOODBOT / "credentials.yml")
        return self

    def rss_mb(self) -> Dict[str, Dict[str, float]]:
        return {"rasa_server": rss_mb(self.rasa.pid)} if self.rasa else {}

    def stop(self) -> None:
        if self.rasa is not None:
            self.rasa.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
