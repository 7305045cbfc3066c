"""Fingerprints of Rasa source: the sha256 of a member's normalised source.

Normalised means tokenised with comments, blank lines and the member's own indentation
left out, so moving a method or reformatting a comment does not change the fingerprint,
but any change of code (a name, a constant, a line added or removed) does.  Constants
(:attr:`How.VALUE`) are fingerprinted by their ``repr``.

``python -m server.patches.fingerprint`` prints the table of every registered member with
its recorded and installed fingerprint (what to paste into a patch module after reviewing
a Rasa upgrade).
"""
from __future__ import annotations

import hashlib
import inspect
import io
import textwrap
import tokenize
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional

from server.patches.registry import How, Member, original

_SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER)


def normalised_source(source: str) -> str:
    """``source`` as one token per item, comments and layout dropped, block structure kept."""
    out: List[str] = []
    for token in tokenize.generate_tokens(io.StringIO(textwrap.dedent(source)).readline):
        if token.type in _SKIPPED:
            continue
        if token.type == tokenize.NEWLINE:
            out.append("\n")
        elif token.type == tokenize.INDENT:
            out.append("<indent>")
        elif token.type == tokenize.DEDENT:
            out.append("<dedent>")
        else:
            out.append(token.string)
    return " ".join(out)


def source_fingerprint(source: str) -> str:
    return hashlib.sha256(normalised_source(source).encode("utf-8")).hexdigest()


def object_fingerprint(obj: Any, how: How) -> str:
    """Fingerprint of a live object: its source, or its ``repr`` for a constant."""
    if how is How.VALUE:
        return hashlib.sha256(repr(obj).encode("utf-8")).hexdigest()
    return source_fingerprint(inspect.getsource(inspect.unwrap(obj)))


@dataclass(frozen=True)
class Mismatch:
    member: Member
    found: Optional[str]  # None: the member no longer exists or has no source
    problem: str

    def __str__(self) -> str:
        return f"{self.member.key} ({self.member.how.value}): {self.problem}"


def check(member: Member) -> Optional[Mismatch]:
    """``None`` when the installed Rasa member still has the recorded fingerprint."""
    try:
        found = object_fingerprint(original(member), member.how)
    except (AttributeError, ImportError, OSError, TypeError) as error:
        return Mismatch(member, None, f"cannot be read: {type(error).__name__}: {error}")
    if found != member.sha256:
        return Mismatch(member, found, f"source changed: recorded {member.sha256[:12]}…, installed {found[:12]}…")
    return None


def mismatches(members: Iterable[Member]) -> List[Mismatch]:
    return [found for found in map(check, members) if found is not None]


def main() -> None:
    from server.patches import REGISTRY

    for patch in REGISTRY.values():
        print(f"# {patch.name}")
        for member in patch.members:
            problem = check(member)
            state = "ok" if problem is None else str(problem)
            found = problem.found if problem and problem.found else member.sha256
            print(f'    Member("{member.module}", "{member.qualname}", How.{member.how.name},\n'
                  f'           "{found}"),  # {state}')


if __name__ == "__main__":
    main()
