"""A call's outcome in one word, from its statuses and the machine verdict."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chalicelib.domain.outcomes import OUTCOMES, outcome


@dataclass
class C:
    status: str
    lead_leg_status: str | None
    answered_by: str | None = None


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (C("completed", "completed"), "connected"),
        (C("completed", "completed", "human"), "connected"),
        (C("completed", "completed", "unknown"), "connected"),
        (C("completed", "completed", "machine_end_beep"), "voicemail"),
        (C("completed", "completed", "fax"), "voicemail"),
        (C("completed", "busy"), "busy"),
        (C("completed", "no-answer"), "no_answer"),
        (C("completed", "canceled"), "no_answer"),
        (C("completed", "failed"), "failed"),
        (C("busy", "not-connected"), "not_connected"),
        (C("no-answer", None), "not_connected"),
        (C("queued", None), "in_progress"),
        (C("in-progress", "ringing"), "in_progress"),
        (C("completed", "in-progress"), "in_progress"),
        (C("in-progress", "completed", "human"), "connected"),  # the lead leg decides
    ],
)
def test_outcomes(call, word):
    assert outcome(call) == word
    assert word in OUTCOMES
