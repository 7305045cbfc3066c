"""Width folding for matching user text: full-width to half-width, every space to " ".

Length-preserving on purpose (one character in, one character out), so a position
found in the folded text is a position in the caller's original text.  The number
extractor and the product matcher both fold with this one table.
"""

from __future__ import annotations

_TRANSLATION: dict[int, str] = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
_TRANSLATION.update(
    {
        0x3000: " ",  # ideographic space
        0xFFE5: "¥",  # full-width yen/yuan sign
        0x2010: "-",
        0x2011: "-",
        0x2012: "-",
        0x2013: "-",
        0x2014: "-",
        0x2015: "-",
        0x2212: "-",
    }
)


def normalize(text: str | None) -> str:
    """Full-width to half-width, every kind of whitespace to a plain space.

    Length-preserving on purpose, so offsets stay valid for the original text
    (runs of spaces are therefore not collapsed).
    """
    if not text:
        return ""
    out = text.translate(_TRANSLATION)
    if any(c.isspace() and c != " " for c in out):
        out = "".join(" " if c.isspace() else c for c in out)
    return out
