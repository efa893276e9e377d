"""Point the unmodified `twilio` SDK at another API base (the local Twilio simulator).

The SDK builds absolute `https://api.twilio.com/...` URLs (or `https://api.<edge>.<region>.
twilio.com/...` when an edge or region is configured) and offers no setting to change the host;
it does accept an `http_client`. `RebasingHttpClient(api_base)` is a `TwilioHttpClient` that
rewrites every `https://*.twilio.com` URL onto `api_base` and otherwise behaves exactly like the
stock client, so the rest of the app cannot tell the simulator from Twilio:

    client = twilio.rest.Client(sid, token, http_client=RebasingHttpClient(api_base))

Importing this module is cheap: `twilio.http.http_client` pulls in `requests` and `urllib3`
(well over 100 ms), so the class is built on first use, which in practice is the moment the app
builds its Twilio client, right after importing `twilio.rest` (which loads the same modules).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

# Any host under twilio.com over https, up to the end of the authority. The lookahead makes
# sure a look-alike such as `https://api.twilio.com.example.net/` is left alone.
_TWILIO_ORIGIN = re.compile(r"^https://(?:[a-z0-9-]+\.)*twilio\.com(?::443)?(?=[/?#]|$)", re.I)

__all__ = ["RebasingHttpClient", "rebase_url"]

if TYPE_CHECKING:  # the real class is built lazily below; this is its shape for the checker
    from twilio.http.http_client import TwilioHttpClient

    class RebasingHttpClient(TwilioHttpClient):
        api_base: str

        def __init__(self, api_base: str, **kwargs: Any) -> None: ...


def rebase_url(url: str, api_base: str) -> str:
    """`url` with its `https://*.twilio.com` origin replaced by `api_base`; others unchanged.

    The path and query are kept byte for byte: the simulator routes on them exactly as Twilio
    does, and paging links (`next_page_uri`) come back through here too.
    """
    match = _TWILIO_ORIGIN.match(url)
    if match is None:
        return url
    return api_base.rstrip("/") + url[match.end() :]


@functools.cache
def _rebasing_class() -> type[Any]:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.http.response import Response

    class _RebasingHttpClient(TwilioHttpClient):
        """A `TwilioHttpClient` that sends every Twilio request to `api_base` instead."""

        def __init__(self, api_base: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            if not api_base.startswith(("http://", "https://")):
                raise ValueError(f"api_base must be an http(s) URL, got {api_base!r}")
            self.api_base = api_base.rstrip("/")

        def request(
            self,
            method: str,
            url: str,
            params: dict[str, object] | None = None,
            data: dict[str, object] | None = None,
            headers: dict[str, str] | None = None,
            auth: tuple[str, str] | None = None,
            timeout: float | None = None,
            allow_redirects: bool = False,
        ) -> Response:
            return super().request(
                method,
                rebase_url(url, self.api_base),
                params=params,
                data=data,
                headers=headers,
                auth=auth,
                timeout=timeout,
                allow_redirects=allow_redirects,
            )

    _RebasingHttpClient.__name__ = _RebasingHttpClient.__qualname__ = "RebasingHttpClient"
    _RebasingHttpClient.__module__ = __name__
    return _RebasingHttpClient


def __getattr__(name: str) -> Any:
    # PEP 562: `from chalicelib.telephony.http import RebasingHttpClient` builds the class (and
    # imports twilio.http) only when someone actually asks for it.
    if name == "RebasingHttpClient":
        return _rebasing_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
