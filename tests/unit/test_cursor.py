import base64

import pytest

from chalicelib.errors import ValidationError
from chalicelib.store import cursor

KEYS = {"id", "gsi_all"}


def test_round_trip():
    lek = {"id": {"S": "01ABC"}, "gsi_all": {"S": "lead"}}
    token = cursor.encode(lek)
    assert token and "=" not in token
    assert cursor.decode(token, KEYS) == lek


def test_no_key_means_no_cursor():
    assert cursor.encode(None) is None
    assert cursor.decode(None, KEYS) is None
    assert cursor.decode("", KEYS) is None


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!!",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(b'{"id":"x"}').decode(),  # missing a key of this index
        base64.urlsafe_b64encode(b'{"id":"x","gsi_all":"lead","extra":"1"}').decode(),
        base64.urlsafe_b64encode(b'{"id":5,"gsi_all":"lead"}').decode(),
        base64.urlsafe_b64encode(b'{"id":"","gsi_all":"lead"}').decode(),
        "A" * 5000,
    ],
)
def test_forged_or_foreign_cursors_are_400(token):
    with pytest.raises(ValidationError):
        cursor.decode(token, KEYS)
