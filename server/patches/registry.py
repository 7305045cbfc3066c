"""The one registry of hardening patches, and the one way a patch changes Rasa.

Every patch declares, next to its code, the Rasa members it touches (:class:`Member`, with
the sha256 of the member's normalised source in Rasa 3.6.21) and registers itself with
:func:`register`.  A patch changes Rasa only through :func:`replace`, which refuses any
member that no registered patch declares; so the registry is always the complete list of
what the hardening changes, and ``tests/unit/server/test_rasa_fingerprint.py`` (which iterates
the registry) checks every one of them against the installed Rasa.  An upgrade of Rasa
therefore fails that test loudly instead of running our copies over new code.

How a member is touched (:class:`How`):

* ``WRAPPED``: replaced by a function that calls the original (its behaviour is kept);
* ``REPLACED``: replaced by our own code, the original is never called;
* ``COPIED``: replaced by a modified copy of the original body (keep them in step);
* ``VALUE``: a module constant given another value (fingerprinted by its ``repr``);
* ``USED``: not replaced, but our code relies on it (a private helper or the attributes
  an ``__init__`` sets): if it changes, our code may be wrong.
"""
from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Set, Tuple

from server.settings import Settings

Apply = Callable[[Settings], None]  # a patch's apply function


class How(enum.Enum):
    WRAPPED = "wrapped"
    REPLACED = "replaced"
    COPIED = "copied"
    VALUE = "value"
    USED = "used"


@dataclass(frozen=True)
class Member:
    """One Rasa module attribute (``qualname`` without dots) or class attribute (``Class.attr``)."""

    module: str
    qualname: str
    how: How
    sha256: str

    @property
    def key(self) -> str:
        return f"{self.module}:{self.qualname}"

    @property
    def assigned(self) -> bool:
        """Whether the patch assigns this member (everything but ``USED``)."""
        return self.how is not How.USED

    def owner_and_name(self) -> Tuple[Any, str]:
        owner: Any = importlib.import_module(self.module)
        *path, name = self.qualname.split(".")
        for part in path:
            owner = getattr(owner, part)
        return owner, name

    def current(self) -> Any:
        owner, name = self.owner_and_name()
        return getattr(owner, name)


@dataclass(frozen=True)
class Patch:
    """One hardening concern: its name (the ``HARDENING_DISABLE`` step name), what it is
    for, the function that applies it, and the Rasa members it touches."""

    name: str
    purpose: str
    apply: Apply
    members: Tuple[Member, ...]


REGISTRY: Dict[str, Patch] = {}
APPLIED: Set[str] = set()  # names of the patches applied in this process
_ORIGINALS: Dict[str, Any] = {}


def register(name: str, members: Tuple[Member, ...]) -> Callable[[Apply], Apply]:
    """Decorator: register ``apply(settings)`` as the patch ``name`` (its docstring is the purpose)."""

    def decorate(apply: Apply) -> Apply:
        if name in REGISTRY:
            raise ValueError(f"hardening patch {name!r} registered twice")
        purpose = (apply.__doc__ or "").strip().split("\n\n")[0]
        REGISTRY[name] = Patch(name, " ".join(purpose.split()), apply, tuple(members))
        return apply

    return decorate


def declared(member: Member) -> bool:
    return any(member in patch.members for patch in REGISTRY.values())


def original(member: Member) -> Any:
    """The Rasa object behind ``member`` as Rasa defined it, even after :func:`replace`."""
    return _ORIGINALS[member.key] if member.key in _ORIGINALS else member.current()


def unassigned(patch: Patch) -> Tuple[Member, ...]:
    """Members ``patch`` declares as assigned but has not replaced (a patch left half done)."""
    return tuple(m for m in patch.members if m.assigned and m.key not in _ORIGINALS)


def replace(member: Member, new: Any) -> Any:
    """Put ``new`` in place of ``member``; returns the original.  Only declared members."""
    if not declared(member) or not member.assigned:
        raise LookupError(f"{member.key} is not declared as assigned by any registered hardening patch")
    owner, name = member.owner_and_name()
    previous = _ORIGINALS.setdefault(member.key, getattr(owner, name))
    setattr(owner, name, new)
    return previous
