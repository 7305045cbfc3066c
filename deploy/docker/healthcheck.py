"""The image's HEALTHCHECK: asks whatever PID 1 serves, read from its command line (stdlib only).

    python -m server run ... [--port N]      GET 127.0.0.1:N/        (default 5005; answers once the model is loaded)
    python -m server actions ... [--port N]  GET 127.0.0.1:N/health  (default 5055)
    python -m ops serve ... [--port N]       GET 127.0.0.1:N/login   (default $OPS_CONSOLE_PORT or 5010)
    anything else (outreach run, credit.seed, server.purge): healthy while it runs; it has no port.

Kubernetes ignores HEALTHCHECK and uses the probes of deploy/k8s/ (the same paths); this is for docker/podman.
"""
from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path
from typing import List, Optional, Tuple

# (module, verb) -> (default port, path)
SERVED = {
    ("server", "run"): (5005, "/"),
    ("server", "actions"): (5055, "/health"),
    ("ops", "serve"): (int(os.environ.get("OPS_CONSOLE_PORT") or 5010), "/login"),
}


def target(argv: List[str]) -> Optional[Tuple[int, str]]:
    if "-m" not in argv:
        return None
    rest = argv[argv.index("-m") + 1:]
    if len(rest) < 2 or (rest[0], rest[1]) not in SERVED:
        return None
    port, path = SERVED[(rest[0], rest[1])]
    for i, arg in enumerate(rest):
        if arg == "--port" and i + 1 < len(rest):
            port = int(rest[i + 1])
        elif arg.startswith("--port="):
            port = int(arg.split("=", 1)[1])
    return port, path


def main() -> int:
    argv = [a for a in Path("/proc/1/cmdline").read_bytes().decode().split("\0") if a]
    probe = target(argv)
    if probe is None:
        return 0
    port, path = probe
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=4) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
