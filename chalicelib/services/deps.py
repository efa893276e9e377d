"""What a use case needs from the outside world, handed in as one object: settings, the store,
the clock and Twilio. Built once per container by `chalicelib.providers` (the composition root)
and by tests with fakes (the in-memory store, the recording Twilio, a manual clock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.clock import Clock
from chalicelib.config import Settings
from chalicelib.errors import TelephonyError
from chalicelib.store.base import Store
from chalicelib.telephony.base import PhoneNumber, Telephony, TelephonyFailure

if TYPE_CHECKING:
    from chalicelib.identity.provider import IdentityProvider
    from chalicelib.identity.tokens import TokenVerifier
    from chalicelib.storage import AudioStore

NUMBERS_CACHE_SECONDS = 300


def _no_identity() -> Any:
    from chalicelib.errors import Unauthorized

    raise Unauthorized(
        "sign-in is not configured here (COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID are unset); "
        "use an API key"
    )


@dataclass
class Deps:
    settings: Settings
    store: Store
    clock: Clock
    # Twilio is built on first use: its SDK costs cold start, and routes that never talk to
    # Twilio must not pay for it (nor fail when it is not configured).
    make_telephony: Callable[[], Telephony]
    # The identity provider (Cognito) and the token verifier, built on first use likewise.
    make_identity: Callable[[], IdentityProvider] = _no_identity
    make_verifier: Callable[[], TokenVerifier] = _no_identity
    # Call audio (chalicelib/storage.py), built on first use.
    make_audio: Callable[[], AudioStore] | None = None
    _audio: AudioStore | None = None
    # The moment the compliance rules judge a call or text at: the clock, unless `make dev`'s
    # DEV_NOW moved it (sign-in and everything else keep the clock's time).
    rules_clock: Clock | None = None
    _telephony: Telephony | None = None
    _identity: IdentityProvider | None = None
    _verifier: TokenVerifier | None = None
    # Per container: who a token's `sub` is, and that member as last read (the active-check).
    members_seen: dict[str, tuple[float, Any]] = field(default_factory=dict)
    _numbers: tuple[float, list[PhoneNumber]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rules_now(self) -> datetime:
        return (self.rules_clock or self.clock).now()

    @property
    def audio(self) -> AudioStore:
        if self._audio is None:
            if self.make_audio is not None:
                self._audio = self.make_audio()
            else:
                from chalicelib.storage import audio_store

                self._audio = audio_store(self.settings)
        return self._audio

    @property
    def telephony(self) -> Telephony:
        if self._telephony is None:
            self._telephony = self.make_telephony()
        return self._telephony

    @property
    def identity(self) -> IdentityProvider:
        if self._identity is None:
            self._identity = self.make_identity()
        return self._identity

    @property
    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            self._verifier = self.make_verifier()
        return self._verifier

    def account_numbers(self) -> list[PhoneNumber]:
        """The account's phone numbers (caller IDs and SMS senders), cached a few minutes:
        every call checks its caller ID against them, and Twilio's list is slow."""
        with self._lock:
            cached = self._numbers
        if cached is not None and time.monotonic() - cached[0] < NUMBERS_CACHE_SECONDS:
            return cached[1]
        try:
            numbers = self.telephony.list_numbers()
        except TelephonyFailure as exc:
            raise TelephonyError(
                f"could not list the Twilio account's numbers: {exc.message}",
                {"twilioCode": exc.code},
            ) from None
        with self._lock:
            self._numbers = (time.monotonic(), numbers)
        return numbers

    def forget_numbers(self) -> None:
        with self._lock:
            self._numbers = None
