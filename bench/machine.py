"""What machine a benchmark ran on, read from /proc: the one place both bench scripts use."""
from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any, Dict


def _proc_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_facts() -> Dict[str, Any]:
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    return {"cpu": _proc_field("/proc/cpuinfo", "model name") or "unknown",
            "cores": os.cpu_count(),
            "memory_gb": round(int(mem_kb.split()[0]) / 2**20, 1) if mem_kb else 0.0,
            "python": platform.python_version(), "os": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
