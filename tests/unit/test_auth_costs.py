"""What authenticating costs a route in DynamoDB requests (bench/bench_auth.py prints the same):
nothing for a member read in the last 30 s, two GetItems otherwise, one for an API key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.bench_auth import CLIENT, ISSUER, keys_and_token
from chalicelib.clock import ManualClock
from chalicelib.config import Settings
from chalicelib.domain.records import ApiKey, Login, TeamMember
from chalicelib.identity import secrets
from chalicelib.identity.tokens import StaticKeys, TokenVerifier
from chalicelib.services import auth
from chalicelib.services.deps import Deps
from chalicelib.store.base import Put
from chalicelib.store.memory import MemoryStore


def test_a_members_request_reads_nothing_while_cached_and_two_items_after():
    jwks, token, now = keys_and_token()
    store = MemoryStore()
    clock = ManualClock(datetime.fromtimestamp(now, UTC))
    verifier = TokenVerifier(ISSUER, CLIENT, StaticKeys(jwks))
    deps = Deps(Settings(), store, clock, lambda: None, make_verifier=lambda: verifier)  # type: ignore[arg-type,return-value]
    stamp = clock.now()
    store.write(Put("m", TeamMember("m1", "Ann", "+14155550100", stamp, stamp)))
    store.write(Put("sub", Login("sub#sub-1", "m1")))

    def cost(header: str) -> int:
        before = store.requests
        auth.authenticate(deps, header)
        return store.requests - before

    assert cost(f"Bearer {token}") == 2  # the sign-in guard and the member
    assert cost(f"Bearer {token}") == 0
    clock.advance(seconds=auth.ACTIVE_CHECK_SECONDS - 1)
    assert cost(f"Bearer {token}") == 0
    clock.set(clock.now() + timedelta(seconds=2))
    assert cost(f"Bearer {token}") == 2  # read again: a deactivation is seen within 30 s
    key_id, key, digest = secrets.new_api_key()
    store.write(Put("k", ApiKey(key_id, "ci", "admin", digest, stamp, "m1")))
    assert cost(f"Bearer {key}") == 1
    assert cost(f"Bearer {key}") == 1  # never cached: revoking bites at once
