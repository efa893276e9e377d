"""SMS rules that need no database: opt-out keywords, Twilio's statuses, the status order."""

import pytest

from chalicelib.domain.sms import opt_keyword
from chalicelib.domain.statuses import SMS_FINAL as FINAL
from chalicelib.domain.statuses import sms_rank as rank
from chalicelib.telephony.webhooks import sms_status as twilio_status


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop",
        "  STOP  ",
        "STOP.",
        "stop!!!",
        "¡STOP!",
        "\tSTOP\n",
        "(stop)",
        "_stop_",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit?",
        "REVOKE",
        "revoke.",
        "OPTOUT",
        "OPT OUT",
        "opt out!",
        " Opt  Out ",
    ],
)
def test_stop_words_as_the_whole_message(text):
    assert opt_keyword(text) == "stop"


@pytest.mark.parametrize("text", ["START", "start!", " Yes ", "yes.", "UNSTOP", "unstop"])
def test_start_words(text):
    assert opt_keyword(text) == "start"


@pytest.mark.parametrize("text", ["HELP", "help?", "Info"])
def test_help_words_are_recognised_but_left_to_twilio(text):
    assert opt_keyword(text) == "help"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!",
        "stop it",
        "please stop",
        "STOP STOP",
        "S TOP",
        "s.t.o.p",
        "STOPPED",
        "nonstop",
        "yes please",
        "YESS",
        "ſtop",  # the long s upper-cases to S; Twilio would not read this as STOP
        "ＳＴＯＰ",  # full-width letters
        "STOP\u200bNOW",
        "END 🙂 QUIT",
        "OPT",
        "OPT OUT NOW",
        "O PTOUT",
    ],
)
def test_anything_else_is_a_plain_message(text):
    assert opt_keyword(text) is None


@pytest.mark.parametrize(
    "raw, ours",
    [
        ("queued", "queued"),
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("sending", "sending"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        (" Delivered ", "delivered"),
        ("receiving", None),
        ("received", None),
        ("canceled", None),
        ("partially_delivered", "delivered"),
        ("", None),
        ("bogus", None),
    ],
)
def test_twilio_statuses_map_onto_ours(raw, ours):
    assert twilio_status(raw) == ours


def test_statuses_only_move_forward_and_finals_are_equal():
    order = ["queued", "sending", "sent"]
    assert [rank(s) for s in order] == sorted(rank(s) for s in order)
    assert len({rank(s) for s in order}) == 3
    assert {rank(s) for s in FINAL} == {rank("sent") + 1}
    assert rank(None) < rank("queued")
    assert rank("received") < rank("queued")  # inbound is never "advanced"


@pytest.mark.parametrize(
    "code, text",
    [
        ("30003", "Unreachable destination handset"),
        ("30006", "Landline or unreachable carrier"),
        (30007, "Message filtered"),
        ("21610", "Attempt to send to unsubscribed recipient"),
        ("21614", "'To' number is not a valid mobile number"),
        ("39999", "Twilio error 39999"),
        ("not_placed", "Twilio error not_placed"),
    ],
)
def test_twilio_error_codes_are_described_by_twilio_s_own_words(code, text):
    from chalicelib.domain.twilio_errors import error_message

    assert error_message(code) == text


def test_the_error_table_covers_the_sms_codes_we_meet():
    from chalicelib.domain.twilio_errors import TWILIO_ERRORS

    assert set(range(30001, 30011)) | {21211, 21408, 21610, 21611, 21614} <= set(TWILIO_ERRORS)
    assert all(text and text == text.strip() for text in TWILIO_ERRORS.values())
