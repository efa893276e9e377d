"""SMS opt-out keywords, as Twilio applies them: the whole message, any case, edge punctuation
ignored, inner spaces as one. We never answer them ourselves (Twilio does, and refuses later
sends with 21610)."""

from __future__ import annotations

import re
from typing import Literal

# Twilio's default opt-out keywords, and the FCC's revocation words (REVOKE, OPT OUT).
STOP_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "OPT OUT",
    }
)
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"\s+")

OptKeyword = Literal["stop", "start", "help"]


def opt_keyword(body: str) -> OptKeyword | None:
    """`stop`, `start` or `help` when the message, as a whole, is one of Twilio's keywords."""
    word = _SPACES.sub(" ", _EDGE_PUNCT.sub("", body.strip()))
    # ASCII only, checked before `.upper()`, which maps a few other letters onto ASCII ones
    # (the long s onto S).
    if not word.isascii():
        return None
    word = word.upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None
