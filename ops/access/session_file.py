"""Where `python -m ops login` keeps its token: one file for the OS user, readable by them alone.

``$XDG_CONFIG_HOME/credit-ops/sessions.json`` (default ``~/.config/credit-ops/``): the directory is 0700, the
file 0600, written atomically (a temporary file in the same directory, then rename), and refused when
anyone else could read it or it belongs to someone else (as ssh refuses a private key).  One entry per
console database (a path), so logins to two projects on one machine do not meet.  The token is worth
something only until it expires or is revoked on the server (:mod:`ops.access.tokens`).
"""
from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

from ops.project import OpsError

FILE_NAME = "sessions.json"


def directory() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "credit-ops"


def path() -> Path:
    return directory() / FILE_NAME


def _load() -> Dict[str, Any]:
    file = path()
    try:
        info = file.stat()
    except FileNotFoundError:
        return {}
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid():
        raise OpsError(f"登录文件 {file} 的权限过宽或不属于当前系统用户（应为本人所有、权限 600），"
                       "为安全起见已拒绝使用。请删除它后重新登录：python -m ops login")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: Dict[str, Any]) -> None:
    folder = directory()
    try:
        _write(folder, data)
    except OSError as error:  # e.g. a container's read-only home
        raise OpsError(f"无法保存登录：{folder} 不可写（{error.strerror}）。"
                       "可设置 XDG_CONFIG_HOME 到一个只有自己可写的目录（容器里如 /tmp）后重新登录，"
                       "或改用 OPS_TOKEN。") from error


def _write(folder: Path, data: Dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    if not data:
        path().unlink(missing_ok=True)
        return
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".sessions-", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read(key: str) -> Optional[Dict[str, Any]]:
    """The login kept for the console database ``key``: {"token", "username", "expires_at"}, or None."""
    entry = _load().get(key)
    return entry if isinstance(entry, dict) and isinstance(entry.get("token"), str) else None


def write(key: str, entry: Dict[str, Any]) -> None:
    data = _load()
    data[key] = entry
    _save(data)


def forget(key: str) -> Optional[Dict[str, Any]]:
    data = _load()
    entry = data.pop(key, None)
    _save(data)
    return entry if isinstance(entry, dict) else None
