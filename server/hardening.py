"""When the hardened server may start: the Rasa version it was written for, and the mode.

The patches (:mod:`server.patches`) replace Rasa members and copy two Rasa method bodies,
all written and fingerprinted against exactly Rasa :data:`RASA_VERSION`, the version the
lock installs (``constraints.txt``; ``tests/unit/server/test_server_hardening.py`` checks they
agree).  Serving customers with part of the hardening missing would give them silence or
lost turns without anyone noticing, so what may happen depends on the mode:

``HARDENING_MODE=production`` (the default, used by ``make run`` and ``python -m server run``)
    Start-up stops, with a Chinese and English message and a non-zero exit, when Rasa is
    not exactly :data:`RASA_VERSION`, when ``HARDENING_DISABLE`` names any step, or when a
    patch fails.  An unknown ``HARDENING_MODE`` value stops start-up in every case.
``HARDENING_MODE=development``
    For development and measurements only: the same problems are logged as warnings and the
    server starts anyway.  ``HARDENING_DISABLE=<step,...>`` switches steps off (names:
    ``python -m server.patches``); on another Rasa version nothing is applied.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional

from server.patches import APPLIED, REGISTRY, Patch
from server.patches.registry import unassigned
from server.settings import Settings

logger = logging.getLogger("server.hardening")

RASA_VERSION = "3.6.21"
MODE_VARIABLE = "HARDENING_MODE"
DISABLE_VARIABLE = "HARDENING_DISABLE"
DEVELOPMENT_HINT = (f"仅限开发或测量：设置 {MODE_VARIABLE}=development 可照常启动（会有警告）。\n"
                    f"For development or measurements only: {MODE_VARIABLE}=development starts anyway, "
                    "with a warning.")


@dataclass(frozen=True)
class Mode:
    name: str
    strict: bool  # a problem stops start-up instead of being a warning


MODES: Dict[str, Mode] = {"production": Mode("production", True), "development": Mode("development", False)}
DEFAULT_MODE = "production"


@dataclass(frozen=True)
class Problem:
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


class HardeningRefused(RuntimeError):
    """Start-up stopped: the hardening would not be fully in place.  ``str()`` is the message."""

    def __init__(self, problems: Iterable[Problem], hint: str = DEVELOPMENT_HINT) -> None:
        self.problems = list(problems)
        lines = ["拒绝启动：加固未完整生效 / refusing to start: the hardening is not fully in place"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join([*lines, hint] if hint else lines))


@dataclass
class Report:
    mode: Mode
    applied: List[str]
    problems: List[Problem] = field(default_factory=list)

    def summary(self) -> str:
        names = ", ".join(self.applied) or "NONE"
        if not self.problems:
            return names
        return f"{names} [{MODE_VARIABLE}={self.mode.name}: 未完整加固 / NOT fully hardened]"


def mode_from(env: Mapping[str, str]) -> Mode:
    raw = (env.get(MODE_VARIABLE) or "").strip().lower() or DEFAULT_MODE
    if raw not in MODES:
        raise HardeningRefused(
            [Problem(f"{MODE_VARIABLE}={raw!r} 无效，可选 {' / '.join(MODES)}",
                     f"{MODE_VARIABLE}={raw!r} is not one of {', '.join(MODES)}")], hint="")
    return MODES[raw]


def disabled_from(env: Mapping[str, str]) -> FrozenSet[str]:
    return frozenset(name.strip() for name in (env.get(DISABLE_VARIABLE) or "").split(",") if name.strip())


def installed_rasa_version() -> str:
    import rasa

    return str(rasa.__version__)


def _problems(disabled: FrozenSet[str], known: Iterable[str], version: str) -> List[Problem]:
    problems: List[Problem] = []
    if disabled:
        listed = ",".join(sorted(disabled))
        problems.append(Problem(f"{DISABLE_VARIABLE}={listed} 关闭了加固步骤",
                                f"{DISABLE_VARIABLE}={listed} switches hardening steps off"))
        unknown = sorted(disabled - set(known))
        if unknown:
            problems.append(Problem(f"没有名为 {', '.join(unknown)} 的加固步骤",
                                    f"no hardening step is called {', '.join(unknown)}"))
    if version != RASA_VERSION:
        problems.append(Problem(f"Rasa 版本为 {version}，加固只针对 {RASA_VERSION} 编写和核对",
                                f"Rasa is {version}; the hardening was written and checked for {RASA_VERSION} only"))
    return problems


def apply(settings: Settings, env: Optional[Mapping[str, str]] = None, patches: Optional[Iterable[Patch]] = None,
          rasa_version: Optional[str] = None) -> Report:
    """Apply every registered patch, or raise :class:`HardeningRefused` (production mode).

    ``patches`` and ``rasa_version`` default to the registry and the installed Rasa (tests
    pass their own)."""
    env = os.environ if env is None else env
    mode = mode_from(env)
    steps = list(REGISTRY.values() if patches is None else patches)
    disabled = disabled_from(env)
    version = installed_rasa_version() if rasa_version is None else rasa_version
    problems = _problems(disabled, (patch.name for patch in steps), version)
    if problems and mode.strict:
        raise HardeningRefused(problems)
    for problem in problems:
        logger.warning("hardening (%s=%s): %s", MODE_VARIABLE, mode.name, problem)
    if version == RASA_VERSION:
        for patch in steps:
            if patch.name in disabled:
                logger.warning("hardening step %r disabled by %s (development and measurements only)",
                               patch.name, DISABLE_VARIABLE)
            elif patch.name not in APPLIED:
                _apply_one(patch, settings, mode, problems)
    else:
        logger.error("hardening written for Rasa %s, found %s: NOT applied", RASA_VERSION, version)
    return Report(mode, sorted(APPLIED), problems)


def _apply_one(patch: Patch, settings: Settings, mode: Mode, problems: List[Problem]) -> None:
    try:
        patch.apply(settings)
        left = ", ".join(member.key for member in unassigned(patch))
        if left:
            raise LookupError(f"{left} not replaced")
    except Exception as error:
        failure = Problem(f"加固步骤 {patch.name} 失败：{type(error).__name__}",
                          f"hardening step {patch.name} failed: {type(error).__name__}: {error}")
        if mode.strict:
            raise HardeningRefused([failure]) from error
        logger.exception("hardening (%s=%s): %s", MODE_VARIABLE, mode.name, failure)
        problems.append(failure)
        return
    APPLIED.add(patch.name)
