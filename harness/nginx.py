"""nginx (Debian's package) in front of Rasa servers, from ``deploy/nginx.conf``.

Also renders that file for a real deployment::

    python -m harness.nginx nginx-conf --listen 80 --prefix /var/lib/rasa-nginx \\
        --upstream 10.0.0.11:5005 --upstream 10.0.0.12:5005
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

from harness.paths import DEPLOY
from harness.procs import Proc, free_port, port_open, start, wait_until
from harness.services import as_service_user, chown_tree


def busy_text() -> str:
    """The polite "busy" reply (same words as server.guard.BUSY, hotline from the catalogue)."""
    from credit.catalogue.loader import load_catalogue

    hotline = load_catalogue().hotline.number
    return f"非常抱歉，系统繁忙，您刚才的消息没有处理成功。请稍后再发一次；如有急事，请拨打客服热线 {hotline}。"


def render_nginx_conf(upstreams: Sequence[str], listen: str, prefix: str,
                      server_options: str = "max_fails=2 fail_timeout=10s", workers: str = "auto") -> str:
    """``deploy/nginx.conf`` for these upstream ``host:port`` servers."""
    template = (DEPLOY / "nginx.conf").read_text().replace("worker_processes auto;", f"worker_processes {workers};")
    servers = "\n        ".join(f"server {u} {server_options};".replace(" ;", ";") for u in upstreams)
    return (template.replace("# @UPSTREAMS@", servers)
            .replace("listen 80;", f"listen {listen};")
            .replace("@PREFIX@", prefix)
            .replace("@BUSY_TEXT@", busy_text()))


@dataclass
class Nginx:
    """nginx in front of ``upstreams`` (round robin), from ``deploy/nginx.conf``."""

    upstreams: List[int]
    workdir: Optional[Path] = None
    port: int = field(default_factory=free_port)
    proc: Optional[Proc] = None

    def start(self, timeout: float = 30) -> "Nginx":
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise RuntimeError("nginx 未安装 (apt-get install nginx)")
        prefix, pw = as_service_user("nobody")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="nginx-"))
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        # one worker, max_fails=0: strict round robin, so the test can check that turns alternate
        conf.write_text(render_nginx_conf([f"127.0.0.1:{p}" for p in self.upstreams], f"127.0.0.1:{self.port}",
                                          str(self.workdir), server_options="max_fails=0", workers="1"))
        chown_tree(self.workdir, pw)
        self.proc = start("nginx", [*prefix, binary, "-p", str(self.workdir), "-c", str(conf),
                                    "-e", str(self.workdir / "logs" / "error.log"), "-g", "daemon off;"],
                          os.environ, self.workdir / "nginx.out")
        wait_until(lambda: port_open(self.port), timeout, "nginx", self.proc)
        return self

    @property
    def access_log(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "logs" / "access.log"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(signal.SIGQUIT)
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.nginx")
    sub = parser.add_subparsers(dest="command", required=True)
    conf = sub.add_parser("nginx-conf", help="print deploy/nginx.conf rendered for these upstreams")
    conf.add_argument("--upstream", action="append", required=True, help="host:port of a Rasa server")
    conf.add_argument("--listen", default="80")
    conf.add_argument("--prefix", default="/var/lib/rasa-nginx")
    args = parser.parse_args(argv)
    print(render_nginx_conf(args.upstream, args.listen, args.prefix))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
