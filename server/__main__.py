"""Launcher: ``python -m server run|actions|purge ...`` (see :mod:`server`)."""
from __future__ import annotations

import os
import sys
from typing import List, Optional, Sequence

USAGE = __doc__ + """
  run      Rasa server (`rasa run` arguments) with the hardening of server.patches applied.
           Production mode by default: start-up stops if any of it cannot be applied
           (HARDENING_MODE=development allows it, with a warning; see server.hardening).
           With --enable-api, the API token comes from --auth-token or $RASA_AUTH_TOKEN, or JWT
           from --jwt-secret or $RASA_JWT_SECRET (+ $RASA_JWT_METHOD); the API is never served
           without one.  Secrets taken from the environment never appear on the command line.
  actions  rasa-sdk action server (`rasa run actions` arguments) bound to $ACTION_HOST
           (default 127.0.0.1).
  purge    retention purge (python -m server.purge --help).
"""


def _has(args: Sequence[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") for a in args)


def rasa_run_args(args: Sequence[str], env: "os._Environ[str] | dict" = os.environ) -> List[str]:
    """`rasa run` arguments with API protection from the environment; SystemExit if none."""
    out = list(args)
    if not _has(out, "--enable-api"):
        return out
    if not _has(out, "--auth-token") and (env.get("RASA_AUTH_TOKEN") or "").strip():
        out += ["--auth-token", env["RASA_AUTH_TOKEN"].strip()]
    if not _has(out, "--jwt-secret") and (env.get("RASA_JWT_SECRET") or "").strip():
        out += ["--jwt-secret", env["RASA_JWT_SECRET"].strip()]
        if not _has(out, "--jwt-method") and (env.get("RASA_JWT_METHOD") or "").strip():
            out += ["--jwt-method", env["RASA_JWT_METHOD"].strip()]
    if not (_has(out, "--auth-token") or _has(out, "--jwt-secret")):
        raise SystemExit("拒绝启动：--enable-api 需要 RASA_AUTH_TOKEN 或 RASA_JWT_SECRET "
                         "(refusing to serve the Rasa HTTP API without a token or JWT secret)")
    return out


def run_rasa(args: Sequence[str]) -> None:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    full = rasa_run_args(args)
    from server import hardening
    from server.settings import settings

    try:
        report = hardening.apply(settings())
    except hardening.HardeningRefused as refused:
        raise SystemExit(str(refused)) from None
    print(f">> hardening: {report.summary()}", file=sys.stderr, flush=True)
    sys.argv = ["rasa", "run", *full]
    from rasa.__main__ import main

    main()


def run_actions(args: Sequence[str]) -> None:
    from credit.clock import refuse_fake_clock_in_production

    refuse_fake_clock_in_production()
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    host = (os.environ.get("ACTION_HOST") or "").strip() or (os.environ.get("SANIC_HOST") or "").strip() \
        or "127.0.0.1"
    os.environ["SANIC_HOST"] = host
    from credit.text.masking import install_log_masking

    install_log_masking()
    sys.argv = ["rasa_sdk", *args]
    from rasa_sdk.__main__ import main

    main()


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return
    command, rest = args[0], args[1:]
    if command == "run":
        run_rasa(rest)
    elif command == "actions":
        run_actions(rest)
    elif command == "purge":
        from server.purge import main as purge_main

        raise SystemExit(purge_main(rest))
    else:
        raise SystemExit(f"unknown command {command!r}\n{USAGE}")


if __name__ == "__main__":
    main()
