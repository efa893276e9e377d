"""Webhook authenticity: `X-Twilio-Signature` checked with the SDK's RequestValidator over the
public URL (a configured base + path + the query, never the Host header) and the form
parameters, every value of a repeated key included (as Twilio signs them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

Form = Mapping[str, str] | Sequence[tuple[str, str]]


class _MultiForm(dict[str, list[str]]):
    """A form with every value of each key, in the shape the SDK's validator reads
    (Django's `getlist`): a plain dict would sign one value per key."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def _multi(params: Form) -> _MultiForm:
    pairs = params.items() if isinstance(params, Mapping) else params
    form = _MultiForm()
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def is_valid(
    auth_token: str, urls: str | Iterable[str], params: Form, signature: str | None
) -> bool:
    """Whether `signature` is Twilio's for `params` posted to one of `urls`."""
    if not signature or not auth_token:
        return False
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(auth_token)
    form = _multi(params)
    candidates = [urls] if isinstance(urls, str) else urls
    return any(bool(validator.validate(url, form, signature)) for url in candidates)


def sign(auth_token: str, url: str, params: Form) -> str:
    """The signature Twilio would send (tests and the simulator)."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, _multi(params)))
